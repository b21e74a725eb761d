"""AI actions on the selected clip: foley lands as one undo step, conform switches the clip to a new
take (one undo step), and the Timeline menu's actions follow the selection."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import pytest

from studio.ai.foley.events import Event
from studio.core.edits.base import with_clips
from studio.core.factory import clip_for_asset, new_project
from studio.core.media_pool import Recipe
from studio.core.timeline import Clip
from studio.jobs import JobState
from studio.media.assets import asset_from_file
from studio.media.probe import probe
from studio.media.synth import write_test_video
from studio.media.synth_scenes import write_bouncing_ball
from studio.ui.ai_actions import clip_events, conform_path, rate_text
from studio.ui.main_window import MainWindow
from tests.ui.conftest import accept_as_is
from tests.ui.test_main_window import temp_qsettings  # noqa: F401 - autouse fixture

WAIT = 60000


def project_with(media: Path, *, size, fps, position=0, source_in=0, duration=None):
    """A project of ``size``/``fps`` with one clip of ``media`` on V1 (and its asset)."""
    asset = asset_from_file(media)
    project = new_project(*size, Fraction(fps), name="AI")
    clip = clip_for_asset(asset, project.fps, position, source_in=source_in, duration=duration)
    v1 = project.sequence.tracks[0]
    tracks = (with_clips(v1, [clip]), *project.sequence.tracks[1:])
    return replace(project.with_tracks(tracks), assets=(asset,)), clip


def menu_actions(window: MainWindow) -> dict[str, object]:
    menus = {a.text(): a.menu() for a in window.menuBar().actions()}
    return {a.text(): a for a in menus["&Timeline"].actions() if a.text()}


@pytest.fixture(scope="module")
def ball(tmp_path_factory):
    # impacts at frames 7, 37 and 67
    return write_bouncing_ball(tmp_path_factory.mktemp("media") / "ball.mp4", width=160, height=90, frames=80)


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    return write_test_video(tmp_path_factory.mktemp("media") / "small.mp4", width=64, height=36, fps=12, frames=24)


def test_add_foley_places_one_pass_as_one_undo_step(make_window, qtbot, ball, tmp_path):
    project, clip = project_with(Path(ball.path), size=(160, 90), fps=25, position=5, source_in=10, duration=60)
    window = make_window(project, tmp_path / "proj" / "film.studio")
    actions = menu_actions(window)
    foley = window.ai_actions.foley_action
    assert actions["Add &Foley to Selected Clip…"] is foley and not foley.isEnabled()
    window.timeline.select([clip.id])
    assert foley.isEnabled()
    before = window.project
    seen = []
    window.ai_actions.ask = lambda dialog: seen.append(dialog) or accept_as_is(dialog)
    foley.trigger()
    # the Foley Sounds dialog was asked, opening on synthesis (nothing used before)
    assert len(seen) == 1 and seen[0].windowTitle() == "Add Foley to Selected Clip"
    assert seen[0].source.currentData() == "synth"
    handle = window.ai_actions.last_foley
    qtbot.waitUntil(lambda: handle.done, timeout=WAIT)
    assert handle.state is JobState.DONE, handle.error
    qtbot.waitUntil(lambda: any(t.name == "Foley" for t in window.project.sequence.tracks), timeout=WAIT)
    tracks = [t for t in window.project.sequence.tracks if t.name.startswith("Foley")]
    clips = sorted(c.position for t in tracks for c in t.clips)
    # only the impacts inside the source range 10..70 (37 and 67), shifted by position - source_in = -5
    assert len(clips) == 2
    for pos, impact in zip(clips, (37, 67), strict=True):
        assert impact - 5 - 1 <= pos <= impact - 5
    assert (tmp_path / "proj" / "film_foley").is_dir()
    assert "2 events, 2 sounds placed (Synthesis)" in window.statusBar().currentMessage()
    window.undo()
    assert window.project == before
    assert not any(t.name.startswith("Foley") for t in window.project.sequence.tracks)

    # running it again replaces the pass, still one undo step each
    window.redo()
    first_pass = window.project
    first = {a.id for a in window.project.assets if a.id.startswith("foley-")}
    window.timeline.select([clip.id])
    window.ai_actions.add_foley()
    handle = window.ai_actions.last_foley
    qtbot.waitUntil(lambda: handle.done, timeout=WAIT)
    qtbot.waitUntil(lambda: bool({a.id for a in window.project.assets if a.id.startswith("foley-")} - first),
                    timeout=WAIT)
    assert len([c for t in window.project.sequence.tracks if t.name.startswith("Foley") for c in t.clips]) == 2
    assert not first & {a.id for a in window.project.assets}
    window.undo()
    assert window.project == first_pass


def test_foley_asks_to_save_an_untitled_project_first(make_window, ball):
    project, clip = project_with(Path(ball.path), size=(160, 90), fps=25)
    window = make_window(project, None)
    window.timeline.select([clip.id])
    window.ai_actions.ask = lambda dialog: pytest.fail("the dialog comes after the checks")
    assert window.ai_actions.add_foley() is None
    assert "Save the project first" in window.statusBar().currentMessage()


def test_cancelling_the_foley_dialog_starts_nothing(make_window, ball, tmp_path):
    project, clip = project_with(Path(ball.path), size=(160, 90), fps=25)
    window = make_window(project, tmp_path / "p.studio")
    window.timeline.select([clip.id])
    before = window.project
    window.ai_actions.ask = lambda dialog: False
    assert window.ai_actions.add_foley() is None
    assert window.ai_actions.last_foley is None and window.project is before
    assert not (tmp_path / "p_foley").exists()


def test_conform_switches_the_clip_to_a_new_take(make_window, qtbot, small, tmp_path):
    project, clip = project_with(Path(small.path), size=(128, 72), fps=24)
    original = project.asset(clip.asset_id)
    project = replace(project, assets=(replace(original, recipe=Recipe("cogvideox", "tiny", "a ball", seed=7)),))
    window = make_window(project, tmp_path / "proj" / "film.studio")
    conform = window.ai_actions.conform_action
    assert menu_actions(window)["&Conform Clip to Project"] is conform and not conform.isEnabled()
    window.timeline.select([clip.id])
    assert conform.isEnabled()
    before = window.project
    conform.trigger()
    handle = window.ai_actions.last_conform
    qtbot.waitUntil(lambda: handle.done, timeout=WAIT)
    assert handle.state is JobState.DONE, handle.error
    qtbot.waitUntil(lambda: window.project.find_clip(clip.id)[1].asset_id != original.id, timeout=WAIT)
    _, now = window.project.find_clip(clip.id)
    asset = window.project.asset(now.asset_id)
    assert Path(asset.path) == tmp_path / "proj" / "conformed" / "small-128x72-24.mp4"
    info = probe(asset.path)
    assert (info.width, info.height, info.fps) == (128, 72, Fraction(24))
    assert now.takes == (original.id, asset.id)
    assert asset.recipe.prompt == "a ball" and asset.recipe.seed == 7  # the source's recipe, plus conform
    assert (asset.recipe.width, asset.recipe.height, asset.recipe.fps) == (128, 72, Fraction(24))
    assert asset.recipe.conform
    assert not conform.isEnabled()  # the clip now matches the project
    assert window.undo_action.text() == "&Undo Conform clip"
    window.undo()
    assert window.project == before
    assert window.project.find_clip(clip.id)[1].asset_id == original.id
    assert conform.isEnabled()


def test_actions_follow_the_selection(make_window, small, ball, tmp_path):
    project, clip = project_with(Path(small.path), size=(64, 36), fps=12)
    window = make_window(project, tmp_path / "p.studio")
    foley, conform = window.ai_actions.foley_action, window.ai_actions.conform_action
    assert not foley.isEnabled() and not conform.isEnabled()
    window.timeline.select([clip.id])
    assert foley.isEnabled() and not conform.isEnabled()  # same rate and size: nothing to conform
    window.timeline.select([])
    assert not foley.isEnabled() and not conform.isEnabled()
    assert window.ai_actions.conform_clip() is None

    project, clip = project_with(Path(ball.path), size=(64, 36), fps=12)
    audio = asset_from_file(ball.path, asset_id="ball-a")
    a1 = project.sequence.tracks[1]
    sound = clip_for_asset(audio, project.fps, 0, duration=10, clip_id="sound")
    project = replace(project.with_tracks((project.sequence.tracks[0], with_clips(a1, [sound]))),
                      assets=(*project.assets, audio))
    window = make_window(project, tmp_path / "q.studio")
    foley, conform = window.ai_actions.foley_action, window.ai_actions.conform_action
    window.timeline.select([clip.id])
    assert foley.isEnabled() and conform.isEnabled()  # 160x90 at 25 fps in a 64x36 12 fps project
    window.timeline.select([clip.id, "sound"])
    assert not foley.isEnabled() and not conform.isEnabled()  # two clips
    window.timeline.select(["sound"])
    assert not foley.isEnabled() and not conform.isEnabled()  # an audio clip (of a video file)


def test_helpers():
    assert rate_text(Fraction(24)) == "24" and rate_text(Fraction(30000, 1001)) == "29.97"
    assert conform_path("/x/p.studio", "clip.mov", (128, 72), Fraction(24)) == Path("/x/conformed/clip-128x72-24.mp4")
    clip = Clip("c", "a", 100, 50, source_in=Fraction(25), speed=Fraction(2))
    events = [Event(t, "impact", 1.0, 0.5) for t in (0.5, 1.5, 4.5, 5.0)]
    # source range 25..125 frames at 25 fps = 1 s .. 5 s; at speed 2, 0.5 s of sequence per source second
    assert [e.time for e in clip_events(events, clip, Fraction(25))] == [0.25, 1.75]
    reverse = replace(clip, speed=Fraction(-1), duration=100)
    assert [e.time for e in clip_events(events, reverse, Fraction(25))] == [3.5, 0.5]


def test_right_click_on_a_clip_selects_it_and_offers_the_actions(make_window, small, tmp_path):
    project, clip = project_with(Path(small.path), size=(128, 72), fps=24, position=10)
    window = make_window(project, tmp_path / "p.studio")
    window.show()
    timeline = window.timeline
    scene = timeline.scene_pos_of(clip.position + 2, window.project.sequence.tracks[0].id)
    timeline.customContextMenuRequested.emit(timeline.mapFromScene(scene))
    assert timeline.selected_clip_ids() == [clip.id]
    menu = window.ai_actions.context_menu
    ai = window.ai_actions
    assert menu.actions() == ai.actions()
    assert all(a.isEnabled() for a in (ai.detect_action, ai.foley_action, ai.conform_action))
    assert not ai.make_action.isEnabled() and not ai.clear_markers_action.isEnabled()  # no foley markers yet
    menu.close()


def test_add_foley_with_a_prompt_that_overrides_the_labels(make_window, qtbot, ball, tmp_path):
    from studio.ai.foley.markers import foley_markers

    project, clip = project_with(Path(ball.path), size=(160, 90), fps=25)
    window = make_window(project, tmp_path / "p.studio")
    window.timeline.select([clip.id])

    def override(dialog) -> bool:
        dialog.select_source("bank")
        dialog.mode.setCurrentIndex(dialog.mode.findData("override"))
        assert not dialog.ok_button.isEnabled()  # an override needs its prompt
        dialog.prompt.setText("metal clang")
        return accept_as_is(dialog)

    window.ai_actions.ask = override
    handle = window.ai_actions.add_foley()
    qtbot.waitUntil(lambda: handle.done, timeout=WAIT)
    assert handle.state is JobState.DONE, handle.error
    qtbot.waitUntil(lambda: any(t.name == "Foley" for t in window.project.sequence.tracks), timeout=WAIT)
    clips = [c for t in window.project.sequence.tracks if t.name.startswith("Foley") for c in t.clips]
    markers = foley_markers(window.project.sequence.markers)
    assert len(clips) == len(markers) == 3  # the ball's three impacts
    assert {c.name for c in clips} == {m.name for m in markers} == {"metal clang"}  # sounds and markers
    assert "(Sample bank)" in window.statusBar().currentMessage()
