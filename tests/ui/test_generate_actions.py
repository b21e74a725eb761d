"""Generating shots in the editor with tiny random CogVideoX pipelines (built in code, loaded from their
folders like a user's): Generate fills the gap under the playhead (or the marked range) as one undo step
with the file in the project's media folder and its recipe; auto-conform on/off; cancel leaves nothing;
Extend starts from the last frame the previous clip shows; Regenerate adds a take the inspector switches."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QPointF

from studio.ai.generate.output import encode_mp4
from studio.core.edits.base import with_clips
from studio.core.factory import clip_for_asset, new_project
from studio.jobs import JobState
from studio.media.assets import asset_from_file
from studio.media.probe import probe
from studio.ui.session import SessionSettings
from tests.ai.generate.tiny_models import cogvideox_folder, cogvideox_i2v_folder
from tests.ui.test_main_window import temp_qsettings  # noqa: F401 - autouse fixture

WAIT = 120000
LEVELS = [12 * i + 20 for i in range(16)]  # the grey level of each frame of the ramp clip


@pytest.fixture(autouse=True)
def no_installed_models(tmp_path, monkeypatch):
    monkeypatch.setenv("SHOTLINE_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))


@pytest.fixture(scope="module")
def t2v(tmp_path_factory):
    return cogvideox_folder(tmp_path_factory)


@pytest.fixture(scope="module")
def i2v(tmp_path_factory):
    return cogvideox_i2v_folder(tmp_path_factory)


@pytest.fixture(scope="module")
def ramp(tmp_path_factory):
    """16 frames of 16x16 at 8 fps, frame i a flat grey of LEVELS[i]."""
    frames = np.stack([np.full((16, 16, 3), v, np.uint8) for v in LEVELS])
    return encode_mp4(frames, Fraction(8), tmp_path_factory.mktemp("media") / "ramp.mp4")


def project_with(media, *, size, fps, spans):
    """A project with clips of ``media`` on V1 at (position, duration, source_in) ``spans``."""
    asset = asset_from_file(media)
    project = new_project(*size, Fraction(fps), name="Gen")
    clips = [clip_for_asset(asset, project.fps, pos, duration=dur, source_in=src, clip_id=f"c{i}")
             for i, (pos, dur, src) in enumerate(spans)]
    v1 = project.sequence.tracks[0]
    return replace(project.with_tracks((with_clips(v1, clips), *project.sequence.tracks[1:])), assets=(asset,))


def filler(folder, prompt="a cat walks in the rain", seed=5, seconds=None, seen=None):
    """An ``ask`` that fills the dialog in (a local model folder, 2 steps) and accepts it."""

    def ask(dialog) -> bool:
        if seen is not None:
            seen.append(dialog)
        if folder is not None:
            assert dialog.set_folder(folder), dialog.problem.text()
        if prompt is not None:
            dialog.prompt.setPlainText(prompt)
        dialog.seed.setValue(seed)
        dialog.steps.setValue(2)
        if seconds is not None:
            dialog.duration.setValue(seconds)
        assert dialog.ok_button.isEnabled(), dialog.problem_text()
        return True

    return ask


def finish(qtbot, window, before_assets: int):
    handle = window.generate_actions.last_job
    qtbot.waitUntil(lambda: handle.done, timeout=WAIT)
    assert handle.state is JobState.DONE, handle.error
    qtbot.waitUntil(lambda: len(window.project.assets) > before_assets, timeout=WAIT)
    return handle


def generated_clips(window):
    return [(t, c) for t in window.project.sequence.tracks_of("video") for c in t.clips
            if window.project.asset(c.asset_id).recipe is not None]


def menu_actions(window) -> dict[str, object]:
    menus = {a.text(): a.menu() for a in window.menuBar().actions()}
    return {a.text(): a for a in menus["&Timeline"].actions() if a.text()}


def test_generate_fills_the_gap_conformed_as_one_undo_step(make_window, qtbot, t2v, ramp, tmp_path):
    # a 32x32 16 fps project; the tiny model makes 16x16 at 8 fps; a 2 s gap on V1 from frame 16 to 48
    project = project_with(ramp, size=(32, 32), fps=16, spans=[(0, 16, 0), (48, 16, 0)])
    window = make_window(project)
    actions = window.generate_actions
    assert menu_actions(window)["&Generate Shot…"] is actions.generate_action
    assert actions.auto_conform and actions.auto_conform_action.isChecked()  # on by default
    window.set_playhead(30)
    before = window.project
    seen = []
    actions.ask = filler(t2v, seen=seen)
    actions.generate_action.trigger()
    assert seen[0].header.text() == "Into 00:00:01:00–00:00:03:00 on V1 (2.00 s)"
    assert seen[0].frames() == 17  # 2 s at 8 fps (8N+1): 17 frames = 2.125 s covers the gap
    finish(qtbot, window, len(before.assets))
    ((track, clip),) = generated_clips(window)
    assert track.id == before.sequence.tracks[0].id
    assert (clip.position, clip.duration) == (16, 32)  # exactly the gap (2.125 s cut to 2 s)
    asset = window.project.asset(clip.asset_id)
    assert Path(asset.path).parent == tmp_path / "proj" / "generated"
    assert Path(asset.path).name == "a-cat-walks-in-the-rain-take1-32x32.mp4"
    info = probe(asset.path)
    assert (info.width, info.height, info.fps) == (32, 32, Fraction(16))
    r = asset.recipe
    assert (r.prompt, r.seed, r.steps, r.model_id, r.backend) == ("a cat walks in the rain", 5, 2, t2v.name,
                                                                  "diffusers")
    assert (r.width, r.height, r.fps) == (32, 32, Fraction(16)) and dict(r.conform)
    assert "conformed from 16x16 at 8 fps" in window.statusBar().currentMessage()
    assert window.undo_action.text() == "&Undo Generate shot"
    window.undo()
    assert window.project == before
    window.redo()
    assert len(generated_clips(window)) == 1
    window.save()
    from studio.core.projectfile import load_project

    saved = load_project(window.path)  # the recipe travels with the project
    assert saved.asset(clip.asset_id).recipe.seed == 5


def test_auto_conform_off_places_the_take_as_made_in_the_marked_range(make_window, qtbot, t2v, ramp, tmp_path):
    project = project_with(ramp, size=(32, 32), fps=16, spans=[(0, 16, 0)])
    window = make_window(project)
    actions = window.generate_actions
    actions.auto_conform_action.trigger()  # off, and remembered
    assert not actions.auto_conform
    assert SessionSettings.at(tmp_path / "settings.ini").qsettings.value("generate/auto_conform", type=bool) is False
    engine = window.viewer.engine
    engine.set_in(2)  # in/out marked: they win over the playhead, and V1 is busy there -> V2
    engine.set_out(13)
    window.set_playhead(100)
    actions.ask = filler(t2v, seconds=1.0)
    actions.generate()
    finish(qtbot, window, 1)
    ((track, clip),) = generated_clips(window)
    assert track.id != window.project.sequence.tracks[0].id
    asset = window.project.asset(clip.asset_id)
    info = probe(asset.path)
    assert (info.width, info.height, info.fps) == (16, 16, Fraction(8)) and info.video_frames == 9
    assert not asset.recipe.conform and Path(asset.path).name == "a-cat-walks-in-the-rain-take1.mp4"
    assert (clip.position, clip.duration) == (2, 12)  # 9 frames at 8 fps = 18 project frames, cut to the range


def test_cancel_leaves_no_file_and_no_clip(make_window, qtbot, t2v, ramp, tmp_path):
    project = project_with(ramp, size=(16, 16), fps=8, spans=[(0, 8, 0)])
    window = make_window(project)
    before = window.project
    seen = []

    def cancel_at_first_step(handle, fraction, message, eta):  # on the worker, so the timing is exact
        seen.append(message)
        if "step 1/" in message:
            handle.cancel()

    window.jobs.scheduler.on_progress.connect(cancel_at_first_step)
    window.set_playhead(20)
    window.generate_actions.ask = filler(t2v)
    handle = window.generate_actions.generate()
    qtbot.waitUntil(lambda: handle.done, timeout=WAIT)
    assert handle.state is JobState.CANCELLED and handle.join(30)
    assert any("step 1/2" in m for m in seen) and not any("step 2/2" in m for m in seen)
    qtbot.waitUntil(lambda: "cancelled" in window.statusBar().currentMessage(), timeout=WAIT)
    folder = tmp_path / "proj" / "generated"
    assert not folder.exists() or list(folder.iterdir()) == []
    assert window.project == before and not window.history.can_undo


def test_extend_starts_from_the_last_frame_the_previous_clip_shows(make_window, qtbot, t2v, i2v, ramp):
    # the clip shows source frames 2..9 of the ramp: its last frame is level LEVELS[9], not the media's last
    project = project_with(ramp, size=(16, 16), fps=8, spans=[(0, 8, 2)])
    window = make_window(project)
    window.set_playhead(30)
    actions = window.generate_actions
    refused = []

    def t2v_then_i2v(dialog):
        refused.append(dialog.set_folder(t2v))  # a text-to-video model cannot extend
        return filler(i2v, prompt="the camera keeps moving", seconds=1.0)(dialog)

    actions.ask = t2v_then_i2v
    actions.extend_action.trigger()
    assert refused == [False]
    finish(qtbot, window, 1)
    ((track, clip),) = generated_clips(window)
    assert clip.position == 8 and track.id == window.project.sequence.tracks[0].id  # right after the clip
    recipe = window.project.asset(clip.asset_id).recipe
    start = Path(recipe.source_image)
    assert start.parent == Path(window.path).parent / "generated" and start.suffix == ".png"
    assert abs(float(np.asarray(Image.open(start)).mean()) - LEVELS[9]) < 4
    assert window.undo_action.text() == "&Undo Extend shot"


def test_regenerate_adds_a_take_and_the_inspector_switches_takes(make_window, qtbot, t2v, ramp):
    project = project_with(ramp, size=(16, 16), fps=8, spans=[(0, 8, 0)])
    window = make_window(project)
    actions = window.generate_actions
    window.set_playhead(10)
    actions.ask = filler(t2v, seed=3, seconds=1.0)
    actions.generate()
    finish(qtbot, window, 1)
    ((_, clip),) = generated_clips(window)
    first = clip.asset_id
    assert window.timeline.selected_clip_ids() == [clip.id]  # the new shot is selected
    assert actions.regenerate_action.isEnabled()
    seen = []
    actions.ask = filler(None, prompt=None, seen=seen, seed=9)  # the recipe fills the rest in
    actions.regenerate_action.trigger()
    d = seen[0]
    assert d.prompt.toPlainText() == "a cat walks in the rain" and d.entry().id == t2v.name and d.frames() == 9
    finish(qtbot, window, 2)
    _, clip = window.project.find_clip(clip.id)
    second = clip.asset_id
    assert clip.takes == (first, second) and second != first
    assert window.project.asset(second).recipe.seed == 9 and window.project.asset(first).recipe.seed == 3
    assert Path(window.project.asset(second).path).name == "a-cat-walks-in-the-rain-take2.mp4"
    assert window.undo_action.text() == "&Undo Regenerate shot"

    takes = window.inspector.clip_panel.takes
    assert takes.combo.count() == 2 and takes.combo.currentIndex() == 1 and "seed 9" in takes.combo.itemText(1)
    assert takes.choose(0)
    assert window.project.find_clip(clip.id)[1].asset_id == first
    assert window.undo_action.text() == "&Undo Change take"
    window.undo()
    assert window.project.find_clip(clip.id)[1].asset_id == second
    window.undo()  # the regenerate step: back to one take
    assert window.project.find_clip(clip.id)[1].takes in ((), (first,))


def test_refusals_say_why(make_window, ramp, t2v):
    project = project_with(ramp, size=(16, 16), fps=8, spans=[(0, 40, 0)])
    window = make_window(project, None)
    actions = window.generate_actions
    actions.ask = filler(t2v)
    assert not actions.regenerate_action.isEnabled()
    assert actions.regenerate() is None and "Select one generated clip" in window.statusBar().currentMessage()
    window.set_playhead(60)
    assert actions.generate() is None and "Save the project first" in window.statusBar().currentMessage()
    window.set_playhead(10)  # on the only video track's clip: no room
    assert actions.generate() is None and "No room here" in window.statusBar().currentMessage()
    window.set_playhead(100)
    empty = project_with(ramp, size=(16, 16), fps=8, spans=[(50, 8, 0)])
    window = make_window(empty)
    window.set_playhead(10)  # a gap, but no clip before it
    assert window.generate_actions.extend() is None
    assert "Nothing to extend" in window.statusBar().currentMessage()


def test_generate_fills_the_selected_gap_before_the_marked_range_and_the_playhead(make_window, qtbot, t2v, ramp):
    # V1: clips at 0-16, 48-64, 100-116 (16 fps): gaps 16-48 and 64-100; the playhead and in/out point elsewhere
    project = project_with(ramp, size=(32, 32), fps=16, spans=[(0, 16, 0), (48, 16, 0), (100, 16, 0)])
    window = make_window(project)
    actions, timeline = window.generate_actions, window.timeline
    v1 = window.project.sequence.tracks[0].id
    window.set_playhead(80)
    window.viewer.engine.set_in(120)
    window.viewer.engine.set_out(140)
    assert not actions.generate_gap_action.isEnabled() and not actions.extend_gap_action.isEnabled()
    gap = timeline.select_gap_at(v1, 30)
    assert gap is not None and (gap.track_id, gap.start, gap.end, gap.before) == (v1, 16, 48, "c0")
    assert actions.generate_gap_action.isEnabled() and actions.extend_gap_action.isEnabled()
    assert actions.target() == gap and actions.target(extend=True) == gap
    seen = []
    actions.ask = filler(t2v, seen=seen)
    actions.generate_gap_action.trigger()
    assert seen[0].header.text() == "Into 00:00:01:00–00:00:03:00 on V1 (2.00 s)"
    finish(qtbot, window, 1)
    ((track, clip),) = generated_clips(window)
    assert (track.id, clip.position, clip.duration) == (v1, 16, 32)  # exactly the selected gap
    assert timeline.selected_gap() is None and timeline.selected_clip_ids() == [clip.id]
    assert not actions.generate_gap_action.isEnabled()


def test_the_gap_menu_offers_generate_extend_and_close(make_window, ramp, t2v):
    project = project_with(ramp, size=(16, 16), fps=8, spans=[(20, 8, 0), (40, 8, 0)])
    window = make_window(project)
    timeline, actions = window.timeline, window.generate_actions
    v1 = window.project.sequence.tracks[0].id
    a1 = window.project.sequence.tracks_of("audio")[0].id

    def right_click(frame: int, track: str) -> dict[str, bool]:
        row = timeline.timeline_layout().by_id[track]
        point = QPointF((frame + 0.5) * timeline.pixels_per_frame(), row.top + row.height / 2)
        timeline.customContextMenuRequested.emit(timeline.mapFromScene(point))
        menu = timeline.gap_menu
        entries = {a.text(): a.isEnabled() for a in menu.actions() if a.text()}
        menu.close()
        return entries

    assert right_click(32, v1) == {"&Generate Shot in Gap…": True, "E&xtend Shot into Gap…": True, "Close Gap": True}
    assert right_click(10, v1) == {"&Generate Shot in Gap…": True, "E&xtend Shot into Gap…": False,
                                   "Close Gap": True}  # nothing before the first clip to extend
    assert timeline.selected_gap().start == 0 and timeline.selected_gap().end == 20
    actions.ask = filler(t2v)
    assert actions.extend() is None and "the selected gap has no clip before it" in window.statusBar().currentMessage()
    assert right_click(60, v1) == {"&Generate Shot in Gap…": True, "E&xtend Shot into Gap…": True,
                                   "Close Gap": False}  # after the last clip: open, nothing to close
    assert right_click(10, a1) == {"&Generate Shot in Gap…": False, "E&xtend Shot into Gap…": False,
                                   "Close Gap": False}  # no gap selected on audio
    right_click(32, v1)
    before = len(window.history)
    next(a for a in timeline.gap_menu.actions() if a.text() == "Close Gap").trigger()
    assert [c.position for c in window.project.sequence.tracks[0].clips] == [20, 28]  # 40 -> 28: the gap is closed
    assert len(window.history) == before + 1 and window.undo_action.text() == "&Undo Close gap"
