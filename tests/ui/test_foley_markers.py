"""Foley in the editor in two steps: detected events land as markers (one undo step), the user
moves or deletes markers on the ruler, and the sounds are made where the markers are now.

The bouncing ball has its impacts at frames 7, 37 and 67 (ground truth from the renderer)."""

from __future__ import annotations

import json
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from studio.ai.foley.events import Event
from studio.ai.foley.markers import (
    MARKER_COLOR,
    foley_markers,
    is_foley_marker,
    marker_event,
    marker_fields,
    marker_moved,
)
from studio.core.edits import AddMarker, MoveMarker
from studio.core.edits.base import with_clips
from studio.core.factory import clip_for_asset
from studio.core.projectfile import load_project
from studio.core.serialize import project_from_dict, project_to_dict
from studio.core.timebase import frames_to_samples
from studio.core.timeline import Marker
from studio.jobs import JobState
from studio.media.synth_scenes import write_bouncing_ball
from studio.ui.foley_dialog import CHOOSE
from studio.ui.timeline.markers import tooltip
from tests.ui import test_ai_actions as ai_tests
from tests.ui.test_main_window import temp_qsettings  # noqa: F401 - autouse fixture

# the editor fixtures of the AI actions' tests (a window with a real job pool)
project_with, WAIT = ai_tests.project_with, ai_tests.WAIT

FPS = Fraction(25)
SR = 48000
PPF = 8.0  # ruler zoom in the drag tests: 8 px per frame
Y = 18  # the ruler's marker band


@pytest.fixture(scope="module")
def ball(tmp_path_factory):
    return write_bouncing_ball(tmp_path_factory.mktemp("media") / "ball.mp4", width=160, height=90, frames=80)


def markers_of(window) -> list[Marker]:
    return foley_markers(window.project.sequence.markers)


def foley_clips(window) -> list:
    return sorted((c for t in window.project.sequence.tracks if t.name.startswith("Foley") for c in t.clips),
                  key=lambda c: c.position)


def finish(qtbot, handle) -> None:
    assert handle is not None
    qtbot.waitUntil(lambda: handle.done, timeout=WAIT)
    assert handle.state is JobState.DONE, handle.error


def transient_sample(window, clip) -> int:
    """Sequence sample where a placed foley clip's sound starts (first sample above -60 dBFS)."""
    with av.open(window.project.asset(clip.asset_id).path) as f:
        x = np.concatenate([fr.to_ndarray().reshape(-1) for fr in f.decode(audio=0)]).astype(np.float64)
    x = x / 32768.0 if np.abs(x).max() > 1.5 else x
    onset = int(np.flatnonzero(np.abs(x) > 1e-3)[0])
    return frames_to_samples(clip.position, FPS, SR) + onset - round(float(clip.source_in) * SR / FPS)


def ruler_x(timeline, frame: int) -> int:
    return round(frame * timeline.pixels_per_frame() - timeline.scroll_x())


def ruler_drag(timeline, frame: int, to: int) -> None:
    r = timeline.ruler
    start, end = QPoint(ruler_x(timeline, frame), Y), QPoint(ruler_x(timeline, to), Y)
    QTest.mousePress(r, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    for i in range(1, 7):
        p = start + (end - start) * (i / 6)
        QTest.mouseMove(r, QPoint(round(p.x()), Y))
    QTest.mouseRelease(r, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, end)


def show_timeline(window, qtbot):
    window.show()
    qtbot.waitExposed(window)
    t = window.timeline
    t.set_snapping(False)
    t.set_zoom(PPF)
    t.horizontalScrollBar().setValue(0)
    return t


def test_detect_move_delete_make_and_save(make_window, qtbot, ball, tmp_path):
    project, clip = project_with(Path(ball.path), size=(160, 90), fps=FPS, position=10)
    path = tmp_path / "proj" / "film.studio"
    window = make_window(project, path)
    ai, history = window.ai_actions, window.history
    assert not ai.make_action.isEnabled()
    window.timeline.select([clip.id])
    steps = len(history)

    # 1. detect: one marker per impact, in one undo step
    finish(qtbot, ai.detect_foley())
    qtbot.waitUntil(lambda: len(markers_of(window)) == 3, timeout=WAIT)
    markers = markers_of(window)
    assert len(history) == steps + 1 and history.undo_label == "Detect foley events"
    for m, impact in zip(markers, ball.impact_frames, strict=True):
        assert impact + 10 - 1 <= m.frame <= impact + 10  # the frame at or before the contact
        assert abs(marker_event(m, FPS).time * FPS - (impact + 10)) < 0.25  # sub-frame time kept
        assert m.color == MARKER_COLOR and m.name == "impact (floor)"
        assert "strength" in tooltip(m, FPS) and "impact (floor)" in tooltip(m, FPS)
    assert ai.make_action.isEnabled()
    assert "3 foley events" in window.statusBar().currentMessage()
    window.undo()
    assert window.project.sequence.markers == ()
    window.redo()
    assert markers_of(window) == markers

    # 2. move the second marker 6 frames later by a drag on the ruler; click the third and press Delete
    timeline = show_timeline(window, qtbot)
    first, second, third = markers
    ruler_drag(timeline, second.frame, second.frame + 6)
    moved = next(m for m in markers_of(window) if m.id == second.id)
    assert moved.frame == second.frame + 6 and marker_moved(moved)
    assert len(history) == steps + 2  # the whole drag is one step
    QTest.mouseClick(timeline.ruler, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     QPoint(ruler_x(timeline, third.frame), Y))
    assert timeline.selected_marker_id() == third.id
    timeline.activateWindow()
    qtbot.waitUntil(timeline.hasFocus)
    QTest.keyClick(timeline, Qt.Key.Key_Delete)
    assert [m.id for m in markers_of(window)] == [first.id, second.id]
    assert window.project.find_clip(clip.id) is not None  # Delete took the marker, not the clip

    # 3. make: sounds where the markers are now, none for the deleted one; one undo step
    before_make = window.project
    finish(qtbot, ai.make_foley())
    qtbot.waitUntil(lambda: bool(foley_clips(window)), timeout=WAIT)
    clips = foley_clips(window)
    assert [c.position for c in clips] == [first.frame, moved.frame]
    # the unmoved marker keeps its sub-frame time, the moved one sounds exactly on its new frame
    want = [round(marker_event(first, FPS).time * SR), frames_to_samples(moved.frame, FPS, SR)]
    got = [transient_sample(window, c) for c in clips]
    assert all(abs(g - w) <= 2 for g, w in zip(got, want, strict=True)), (got, want)
    assert [m.id for m in markers_of(window)] == [first.id, second.id]  # the markers stay (the spotting list)
    assert "2 sounds" in window.statusBar().currentMessage()
    window.undo()
    assert window.project == before_make
    window.redo()

    # 4. the foley markers survive saving and loading, event data included
    assert window.save()
    loaded = load_project(path)
    assert foley_markers(loaded.sequence.markers) == markers_of(window)
    assert [marker_event(m, FPS) for m in foley_markers(loaded.sequence.markers)] == \
        [marker_event(m, FPS) for m in markers_of(window)]


def test_cancelled_detection_leaves_no_markers(make_window, qtbot, ball, tmp_path):
    project, clip = project_with(Path(ball.path), size=(160, 90), fps=FPS)
    window = make_window(project, None)  # detecting needs no saved project (nothing is written)
    window.timeline.select([clip.id])
    before = window.project
    handle = window.ai_actions.detect_foley()
    seen = []

    def cancel_mid_analysis(fraction, message, eta):
        seen.append(message)
        if "frame" in message:
            handle.cancel()

    handle.on_progress.connect(cancel_mid_analysis)
    qtbot.waitUntil(lambda: handle.done, timeout=WAIT)
    assert handle.state is JobState.CANCELLED
    assert any("frame" in m for m in seen)  # it was stopped during the analysis, not before it
    qtbot.wait(50)
    assert window.project is before and window.project.sequence.markers == ()
    assert "cancelled" in window.statusBar().currentMessage()


def test_range_detection_covers_every_video_clip_in_it(make_window, qtbot, ball, tmp_path, monkeypatch):
    project, a = project_with(Path(ball.path), size=(160, 90), fps=FPS)
    b = replace(clip_for_asset(project.asset(a.asset_id), FPS, 100), id="b")
    v1 = project.sequence.tracks[0]
    project = project.with_tracks((with_clips(v1, [a, b]), *project.sequence.tracks[1:]))
    window = make_window(project, tmp_path / "p.studio")
    ai, history = window.ai_actions, window.history
    history.apply(AddMarker(50, "keep me"))  # an ordinary marker is never touched
    monkeypatch.setattr(window, "in_out", lambda: (20, 120))
    finish(qtbot, ai.detect_foley())  # no clip selected: the range decides
    qtbot.waitUntil(lambda: len(markers_of(window)) == 3, timeout=5000)
    # impacts of a at 37 and 67, of b at 107 (7 is before the range, 137 and 167 after it)
    for m, frame in zip(markers_of(window), (37, 67, 107), strict=True):
        assert frame - 1 <= m.frame <= frame
    first = markers_of(window)
    monkeypatch.setattr(window, "in_out", lambda: (100, 180))
    finish(qtbot, ai.detect_foley())  # again on b's part: b's markers replaced, a's kept
    qtbot.waitUntil(lambda: len(markers_of(window)) == 5, timeout=5000)
    now = markers_of(window)
    assert now[:2] == first[:2] and now[2].id != first[2].id
    for m, frame in zip(now, (37, 67, 107, 137, 167), strict=True):
        assert frame - 1 <= m.frame <= frame
    assert [m.name for m in window.project.sequence.markers if not is_foley_marker(m)] == ["keep me"]

    # the one-shot on clip a replaces a's markers and keeps b's in the pass
    window.timeline.select([a.id])
    steps = len(history)
    finish(qtbot, ai.add_foley())
    qtbot.waitUntil(lambda: len(foley_clips(window)) == 6, timeout=5000)
    assert len(history) == steps + 1
    assert [c.position for c in foley_clips(window)] == [m.frame for m in markers_of(window)]
    # removing the foley markers is one undo step and keeps the sounds
    assert ai.remove_foley_markers()
    assert markers_of(window) == [] and len(foley_clips(window)) == 6
    assert [m.name for m in window.project.sequence.markers] == ["keep me"]
    assert not ai.make_action.isEnabled()
    window.undo()
    assert len(markers_of(window)) == 6


def test_make_without_markers_or_saved_project_says_why(make_window, ball):
    project, clip = project_with(Path(ball.path), size=(160, 90), fps=FPS)
    window = make_window(project, None)
    assert window.ai_actions.make_foley() is None
    assert "Detect Foley Events first" in window.statusBar().currentMessage()
    window.history.apply(AddMarker(**marker_fields(Event(1.0, "impact", 0.5, 0.5, "hit"), FPS)))
    assert window.ai_actions.make_foley() is None
    assert "Save the project first" in window.statusBar().currentMessage()
    window.timeline.select([])
    assert window.ai_actions.detect_foley() is None
    assert "Select one video clip" in window.statusBar().currentMessage()


# --- the marker <-> event mapping and the project file -----------------------------------------
def test_marker_round_trip_keeps_sub_frame_time_unless_moved():
    event = Event(1.4937, "impact", 0.83, 0.31, "impact (floor)", "2,1", 0.04)
    fields = marker_fields(event, FPS)
    assert fields["frame"] == 37 and fields["color"] == MARKER_COLOR and fields["name"] == "impact (floor)"
    m = Marker("m1", **fields)
    assert is_foley_marker(m) and not marker_moved(m)
    back = marker_event(m, FPS)
    assert back == replace(event, time=back.time) and abs(back.time - event.time) < 1e-6
    moved = replace(m, frame=40)
    assert marker_moved(moved) and marker_event(moved, FPS).time == 40 / 25  # exactly on the new frame
    assert not is_foley_marker(Marker("m2", 37, "impact", note="just a note"))
    assert not is_foley_marker(Marker("m3", 37, data="{not json"))
    broken = replace(m, data=json.dumps({"type": "foley-event", "event": {"strength": 1}}))
    with pytest.raises(ValueError, match="malformed"):
        marker_event(broken, FPS)


def test_marker_data_round_trips_through_the_project_file():
    from studio.core.factory import new_project
    from studio.core.history import History

    h = History(new_project(320, 240, FPS))
    h.apply(AddMarker(12, "plain", note="a note"))
    h.apply(AddMarker(**marker_fields(Event(2.0, "whoosh", 0.5, 0.9, "swing"), FPS)))
    h.apply(MoveMarker(h.project.sequence.markers[1].id, 3))
    d = project_to_dict(h.project)
    assert "data" not in d["sequence"]["markers"][0]  # files without tool data stay as they were
    back = project_from_dict(json.loads(json.dumps(d)))
    assert back.sequence.markers == h.project.sequence.markers


# --- the Foley Sounds dialog's sources through Make Foley Sounds ---------------------------------
IMPACTS = (17, 47, 77)  # the ball's impacts (7, 37, 67) with its clip at frame 10


@pytest.fixture
def models_dir(tmp_path, monkeypatch):
    """An empty app models folder and Hugging Face cache: no model is installed unless a test puts one there."""
    folder = tmp_path / "models"
    folder.mkdir()
    monkeypatch.setenv("SHOTLINE_MODELS_DIR", str(folder))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    return folder


def wav(window, clip) -> np.ndarray:
    with av.open(window.project.asset(clip.asset_id).path) as f:
        x = np.concatenate([fr.to_ndarray().reshape(-1) for fr in f.decode(audio=0)]).astype(np.float64)
    return x / 32768.0


def spot(window, frames=IMPACTS) -> list[Marker]:
    """Foley markers exactly on ``frames`` (as if detected there), one undo step each."""
    for f in frames:
        window.history.apply(AddMarker(**marker_fields(Event(f / 25, "impact", 0.8, 0.5, "impact (floor)"), FPS)))
    return markers_of(window)


def spotted_window(make_window, ball, tmp_path):
    project, clip = project_with(Path(ball.path), size=(160, 90), fps=FPS, position=10)
    window = make_window(project, tmp_path / "proj" / "film.studio")
    spot(window)
    return window, clip


@pytest.fixture
def tiny_tta(tmp_path_factory):
    from tests.ai.foley.test_text_to_audio import stable_audio_folder

    return stable_audio_folder(tmp_path_factory)


def folder_filler(folder: Path, seen: list | None = None):
    """An ``ask`` that picks ``folder`` through "Folder…", 2 steps, seed 4, and accepts."""

    def ask(dialog) -> bool:
        if seen is not None:
            seen.append(dialog)
        dialog.source.setCurrentIndex(dialog.source.findData(CHOOSE))  # the injected picker answers
        assert dialog.source.currentData() == f"dir:{folder.resolve()}", dialog.problem.text()
        assert dialog.steps.isEnabled() and dialog.seed.isEnabled()
        dialog.steps.setValue(2)
        dialog.seed.setValue(4)
        assert dialog.ok_button.isEnabled(), dialog.problem_text()
        return True

    return ask


def test_a_text_to_audio_folder_makes_the_sounds_at_the_markers(make_window, qtbot, ball, tmp_path, tiny_tta,
                                                                 models_dir):
    window, _clip = spotted_window(make_window, ball, tmp_path)
    ai, history = window.ai_actions, window.history
    ai.choose_folder = lambda start: str(tiny_tta)
    ai.ask = folder_filler(tiny_tta)
    before, steps = window.project, len(history)
    ai.make_action.trigger()
    handle = ai.last_make
    messages: list[str] = []
    handle.on_progress.connect(lambda fraction, message, eta: messages.append(message))
    finish(qtbot, handle)
    qtbot.waitUntil(lambda: len(foley_clips(window)) == 3, timeout=WAIT)
    assert [c.position for c in foley_clips(window)] == list(IMPACTS)  # each sound's transient on its marker
    # the sounds are the model's: the same folder, seed and steps make the same samples
    from studio.ai.foley.pipeline import design
    from studio.ai.foley.sources.text_to_audio import TextToAudioSource

    events = [marker_event(m, FPS) for m in markers_of(window)]
    want = design(events, fps=FPS, sample_rate=SR, source=TextToAudioSource(tiny_tta, steps=2, seed=4))
    for clip, p in zip(foley_clips(window), want, strict=True):
        x, y = wav(window, clip), p.padded()
        n = min(len(x), len(y))
        assert n > SR // 10 and np.abs(x[:n] - np.clip(y[:n], -1, 1)).max() < 2e-4
    assert any("step 2/2" in m for m in messages), messages  # the model's steps show in the job's progress
    assert f"3 sounds placed on the foley markers ({tiny_tta.resolve().name})" in window.statusBar().currentMessage()
    assert len(history) == steps + 1  # the whole pass is one undo step
    window.undo()
    assert window.project == before
    # the dialog remembered the folder and its settings: it opens on them next time
    from studio.ui.foley_dialog import FoleyDialog

    again = FoleyDialog(settings=window.settings.qsettings, v2a_models={})
    qtbot.addWidget(again)
    assert again.source.currentData() == f"dir:{tiny_tta.resolve()}"
    assert (again.steps.value(), again.seed.value()) == (2, 4)


def test_cancelling_a_model_pass_leaves_nothing(make_window, qtbot, ball, tmp_path, tiny_tta, models_dir):
    window, _clip = spotted_window(make_window, ball, tmp_path)
    ai = window.ai_actions
    ai.choose_folder = lambda start: str(tiny_tta)
    ai.ask = folder_filler(tiny_tta)
    before = window.project
    handle = ai.make_foley()
    seen: list[str] = []

    def cancel_at_a_step(fraction, message, eta):
        seen.append(message)
        if "step" in message:
            handle.cancel()

    handle.on_progress.connect(cancel_at_a_step)
    qtbot.waitUntil(lambda: handle.done, timeout=WAIT)
    assert handle.state is JobState.CANCELLED
    assert any("step 1/" in m for m in seen)  # stopped between the model's steps
    qtbot.wait(50)
    assert window.project is before
    folder = tmp_path / "proj" / "film_foley"
    assert not folder.exists() or not any(folder.iterdir())


def test_a_video_to_audio_plugin_needs_its_licence_accepted(make_window, qtbot, ball, tmp_path, monkeypatch,
                                                           models_dir):
    from studio.ui.foley_jobs import FoleyChoice
    from tests.ai.foley import test_video_to_audio as v2a_tests

    v2a_tests.install(monkeypatch)  # the in-test "clicks" plugin (CC BY-NC 4.0, a click at every event)
    window, clip = spotted_window(make_window, ball, tmp_path)
    ai, history = window.ai_actions, window.history
    before, steps = window.project, len(history)

    def untick(dialog) -> bool:  # the user picks the plugin but does not accept its licence
        assert dialog.select_source("v2a:clicks")
        assert "CC BY-NC 4.0" in dialog.licence.text() and dialog.accept_licence.isVisibleTo(dialog)
        assert not dialog.ok_button.isEnabled()
        return True  # even when OK is forced, nothing runs

    ai.ask = untick
    assert ai.make_foley() is None and ai.last_make is None
    assert "Accept the licence of clicks" in window.statusBar().currentMessage()
    # the job refuses too, before the model runs, when handed an unaccepted choice
    v2a_tests.ClickModel.last = None
    handle = ai.make_foley(FoleyChoice(backend="v2a", model="clicks", name="clicks"))
    qtbot.waitUntil(lambda: handle.done, timeout=WAIT)
    assert handle.state is JobState.FAILED and v2a_tests.ClickModel.last is None
    qtbot.waitUntil(lambda: "failed" in window.statusBar().currentMessage(), timeout=WAIT)
    status = window.statusBar().currentMessage()
    assert "CC BY-NC 4.0" in status and "accept it in the Foley Sounds dialog" in status, status
    assert window.project is before

    def tick(dialog) -> bool:
        assert dialog.select_source("v2a:clicks")
        dialog.accept_licence.setChecked(True)
        assert dialog.ok_button.isEnabled()
        return True

    ai.ask = tick
    v2a_tests.ClickModel.last = None
    finish(qtbot, ai.make_foley())
    qtbot.waitUntil(lambda: bool(foley_clips(window)), timeout=WAIT)
    [placed] = foley_clips(window)  # the clip's whole soundtrack as one sound from its start
    assert placed.position == clip.position and placed.duration >= clip.duration
    request = v2a_tests.ClickModel.last
    assert request.start == 0.0 and abs(request.end - clip.duration / 25) < 1e-9
    assert [round(e.time * 25) for e in request.events] == [f - clip.position for f in IMPACTS]
    # the clicks (one per marker) sound on the markers' frames
    x = wav(window, placed)
    rises = np.flatnonzero(np.diff((np.abs(x) > 0.1).astype(int)) == 1) + 1
    starts = frames_to_samples(placed.position, FPS, SR) + rises
    assert [round(s * 25 / SR) for s in starts] == list(IMPACTS)
    assert len(history) == steps + 1
    window.undo()
    assert window.project == before
    # accepted once: the next dialog opens on the plugin with its licence already accepted
    from studio.ui.foley_dialog import FoleyDialog

    again = FoleyDialog(settings=window.settings.qsettings)
    qtbot.addWidget(again)
    assert again.source.currentData() == "v2a:clicks" and again.accept_licence.isChecked()
    assert again.ok_button.isEnabled()


def test_clip_labels_name_the_sounds(make_window, qtbot, ball, tmp_path, models_dir):
    from studio.ai.foley.labels import KIND_ACTIONS, MATERIALS
    from tests.ai.foley.test_labels import build_clip

    build_clip(models_dir / "clip-vit-base-patch32")  # the catalogue's CLIP id, "installed"
    window, _clip = spotted_window(make_window, ball, tmp_path)

    def with_clip(dialog) -> bool:
        key = "id:clip-vit-base-patch32"
        dialog.labels.setCurrentIndex(dialog.labels.findData(key))
        assert "Zero-shot" in dialog.labels_info.text() and dialog.ok_button.isEnabled()
        return True

    window.ai_actions.ask = with_clip
    finish(qtbot, window.ai_actions.make_foley())
    qtbot.waitUntil(lambda: len(foley_clips(window)) == 3, timeout=WAIT)
    allowed = {f"{m} {a}" for m in MATERIALS for a in KIND_ACTIONS["impact"]}
    names = [c.name for c in foley_clips(window)]
    assert all(n in allowed for n in names), names  # CLIP's "<material> <action>", not the motion label
    assert [c.position for c in foley_clips(window)] == list(IMPACTS)


def test_an_ambience_bed_goes_under_the_clip_on_its_own_track(make_window, qtbot, ball, tmp_path):
    from studio.ui.foley_jobs import FoleyChoice

    project, clip = project_with(Path(ball.path), size=(160, 90), fps=FPS, position=10)
    window = make_window(project, tmp_path / "proj" / "film.studio")
    window.timeline.select([clip.id])
    finish(qtbot, window.ai_actions.detect_foley())
    qtbot.waitUntil(lambda: len(markers_of(window)) == 3, timeout=WAIT)
    steps = len(window.history)
    finish(qtbot, window.ai_actions.make_foley(FoleyChoice(ambience="wind")))
    qtbot.waitUntil(lambda: bool(foley_clips(window)), timeout=WAIT)
    (bed,) = next(t for t in window.project.sequence.tracks if t.name == "Ambience").clips
    assert (bed.position, bed.duration) == (clip.position, clip.duration) and bed.name == "ambience (wind)"
    assert len(foley_clips(window)) == 3 and len(window.history) == steps + 1  # one undo step for all
    window.undo()
    assert not any(t.clips for t in window.project.sequence.tracks if t.name == "Ambience")


def test_markers_follow_their_clip_when_it_moves_and_go_when_trimmed_out(make_window, qtbot, ball, tmp_path):
    """Detect, then move the clip 20 frames later and trim its head past the first impact: Make puts
    the sounds on the picture's moments (markers moved along in the same undo step), and the trimmed
    moment gets no sound and loses its marker."""
    from studio.core.edits import Move, Trim
    from studio.ui.foley_jobs import FoleyChoice

    project, clip = project_with(Path(ball.path), size=(160, 90), fps=FPS, position=10)
    window = make_window(project, tmp_path / "proj" / "film.studio")
    window.timeline.select([clip.id])
    finish(qtbot, window.ai_actions.detect_foley())
    qtbot.waitUntil(lambda: len(markers_of(window)) == 3, timeout=WAIT)
    detected = markers_of(window)
    before = [marker_event(m, FPS).time for m in detected]
    history = window.history
    history.apply(Move([clip.id], 20))
    first_impact = ball.impact_frames[0]
    history.apply(Trim(clip.id, "head", first_impact + 2))  # the first impact is no longer shown
    assert markers_of(window) == detected  # editing the clip leaves the markers alone until Make
    steps, before_make = len(history), window.project
    finish(qtbot, window.ai_actions.make_foley(FoleyChoice()))
    qtbot.waitUntil(lambda: bool(foley_clips(window)), timeout=WAIT)
    shift = 20 / FPS
    want = [t + shift for t in before[1:]]
    got = [marker_event(m, FPS).time for m in markers_of(window)]
    assert got == pytest.approx(want, abs=1e-6)  # sub-frame times kept, 20 frames later
    sounds = [transient_sample(window, c) for c in foley_clips(window)]
    assert all(abs(s - round(t * SR)) <= 2 for s, t in zip(sounds, want, strict=True)), (sounds, want)
    assert len(history) == steps + 1 and "2 markers followed" in window.statusBar().currentMessage()
    assert "1 markers trimmed out" in window.statusBar().currentMessage()
    window.undo()
    assert window.project == before_make


def test_clip_time_maps_a_media_moment_through_position_trim_speed_and_reverse():
    from studio.ai.foley.markers import clip_time
    from studio.core.timeline import Clip

    fps = Fraction(25)
    fwd = Clip("c", "a", position=100, duration=50, source_in=Fraction(25))  # media 1 s .. 3 s at 1x
    assert clip_time(fwd, 1.5, fps) == pytest.approx(4.0 + 0.5)
    assert clip_time(fwd, 0.9, fps) is None and clip_time(fwd, 3.0, fps) is None  # trimmed away
    fast = replace(fwd, speed=Fraction(2))  # media 1 s .. 5 s in 2 s
    assert clip_time(fast, 3.0, fps) == pytest.approx(4.0 + 1.0)
    rev = replace(fwd, speed=Fraction(-1))  # media 3 s .. 1 s backwards
    assert clip_time(rev, 2.5, fps) == pytest.approx(4.0 + 0.5)
