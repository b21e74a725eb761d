"""The inspector: clip parameters through undoable commands, keyframes at the playhead, project settings."""

from __future__ import annotations

from fractions import Fraction

import pytest

from studio.core.edits import AddAsset, OverwriteClip, SetTrackProperty
from studio.core.factory import clip_for_asset, new_project
from studio.core.history import History
from studio.core.keyframes import Keyframe
from studio.core.media_pool import Asset, MediaInfo
from studio.ui.inspector import Inspector

FPS = Fraction(25)


@pytest.fixture
def history() -> History:
    h = History(new_project(1280, 720, FPS))
    asset = Asset("a", "/nowhere/shot.mp4", "shot.mp4", "av",
                  info=MediaInfo(Fraction(10), True, True, 1280, 720, FPS, sample_rate=48000, channels=2))
    h.apply(AddAsset(asset))
    v1 = h.project.sequence.tracks[0].id
    h.apply(OverwriteClip(v1, clip_for_asset(asset, FPS, 50, duration=100, clip_id="c1")))
    h.mark_saved()
    return h


@pytest.fixture
def inspector(qtbot, history) -> Inspector:
    w = Inspector(history)
    qtbot.addWidget(w)
    w.set_selection(["c1"])
    w.set_playhead(55)
    return w


def clip(history):
    return history.project.find_clip("c1")[1]


def test_shows_the_selected_clip(inspector):
    panel = inspector.clip_panel
    assert panel.position.text() == "00:00:02:00" and panel.position.isReadOnly()
    assert panel.duration.text() == "00:00:04:00"
    assert panel.rows["scale"].spin.value() == 100.0 and panel.rows["opacity"].spin.value() == 100.0
    assert panel.speed.value() == 1.0
    inspector.set_selection([])
    assert not panel.form_host.isEnabled() and panel.title.text() == "No clip selected"


def test_with_no_clip_the_greyed_rows_show_a_new_clips_values(qtbot, history):
    """A fresh inspector with nothing selected: never the spin boxes' minimums (0.000 x, 0.1 %)."""
    w = Inspector(history)
    qtbot.addWidget(w)
    w.set_selection([])
    panel = w.clip_panel
    assert not panel.form_host.isEnabled()
    assert panel.speed.value() == 1.0 and panel.rows["scale"].spin.value() == 100.0
    assert panel.rows["opacity"].spin.value() == 100.0 and panel.rows["gain_db"].spin.value() == 0.0


def test_scale_changes_through_an_undoable_command(inspector, history):
    row = inspector.clip_panel.rows["scale"]
    row.spin.setValue(150.0)  # typed + Enter (keyboard tracking is off)
    row.spin.editingFinished.emit()
    assert clip(history).transform.scale == pytest.approx(1.5)
    assert history.undo_label == "Set scale" and history.dirty
    history.undo()
    assert clip(history).transform.scale == 1.0
    assert row.spin.value() == 100.0  # the inspector follows the history


def test_slider_drag_is_one_undo_step(inspector, history):
    row = inspector.clip_panel.rows["opacity"]
    steps = len(history)
    row.slider.setSliderDown(True)
    for pos in (900, 700, 500):
        row.slider.setValue(pos)
    row.slider.setSliderDown(False)
    row.slider.sliderReleased.emit()
    assert clip(history).opacity == pytest.approx(0.5)
    assert len(history) == steps + 1 and history.undo_label == "Set opacity"
    history.undo()
    assert clip(history).opacity == 1.0


def test_keyframe_toggle_adds_a_key_at_the_playhead_and_buttons_jump(inspector, history):
    panel = inspector.clip_panel
    row = panel.rows["opacity"]
    assert row.key_button.isEnabled() and not row.key_button.isChecked()
    row.key_button.click()
    assert clip(history).curve("opacity") == (Keyframe(5, 1.0),)  # playhead 55 - clip start 50
    assert history.undo_label == "Set keyframe" and row.key_button.isChecked()

    inspector.set_playhead(80)
    assert not row.key_button.isChecked()
    row.spin.setValue(40.0)  # an animated parameter: the value becomes a key at the playhead
    row.spin.editingFinished.emit()
    assert clip(history).curve("opacity") == (Keyframe(5, 1.0), Keyframe(30, 0.4))
    assert clip(history).opacity == 1.0  # the static value is untouched

    jumps = []
    inspector.playhead_requested.connect(jumps.append)
    assert row.prev_button.isEnabled() and not row.next_button.isEnabled()
    row.prev_button.click()
    assert jumps == [55] and panel.playhead == 55 and row.key_button.isChecked()
    row.next_button.click()
    assert jumps == [55, 80]
    row.key_button.click()  # toggle off: removes the key at the playhead
    assert clip(history).curve("opacity") == (Keyframe(5, 1.0),)
    assert history.undo_label == "Remove keyframe"
    history.undo()
    assert len(clip(history).curve("opacity")) == 2

    inspector.set_playhead(10)  # outside the clip: no keys can be toggled
    assert not row.key_button.isEnabled()


def test_speed_and_errors(inspector, history, qtbot):
    panel = inspector.clip_panel
    panel.speed.setValue(2.0)
    panel.speed.editingFinished.emit()
    assert clip(history).speed == 2 and clip(history).duration == 50
    assert history.undo_label == "Change speed"
    messages = []
    inspector.status_message.connect(messages.append)
    history.apply(SetTrackProperty(history.project.sequence.tracks[0].id, "locked", True))
    row = panel.rows["rotation"]
    row.spin.setValue(45.0)
    assert messages and "locked" in messages[-1]
    assert clip(history).transform.rotation == 0.0 and row.spin.value() == 0.0


def test_project_settings_tab(inspector, history):
    panel = inspector.settings_panel
    assert panel.width_box.value() == 1280 and panel.height_box.value() == 720
    assert not panel.fps.isEnabled()  # the timeline has a clip
    assert "only while the timeline is empty" in panel.fps_hint.text()
    panel.width_box.setValue(1920)
    panel.height_box.setValue(1080)
    panel.sample_rate.setCurrentIndex(panel.sample_rate.findData(44100))
    assert panel.apply()
    s = history.project.settings
    assert (s.width, s.height, s.sample_rate, s.fps) == (1920, 1080, 44100, FPS)
    assert history.undo_label == "Project settings"
    history.undo()
    assert panel.width_box.value() == 1280


def test_frame_rate_editable_on_an_empty_timeline(qtbot):
    history = History(new_project(640, 360, FPS))
    w = Inspector(history)
    qtbot.addWidget(w)
    panel = w.settings_panel
    assert panel.fps.isEnabled()
    panel.fps.setCurrentText("30000/1001")
    assert panel.apply()
    assert history.project.settings.fps == Fraction(30000, 1001)
    panel.fps.setCurrentText("fast")
    messages = []
    panel.status_message.connect(messages.append)
    assert not panel.apply() and "bad frame rate" in messages[-1]


def test_takes_of_a_generated_clip_switch_as_one_undo_step(qtbot):
    from studio.core.edits import SetTake
    from studio.core.media_pool import Recipe
    from studio.ui.inspector.takes import recipe_summary

    history = History(new_project(1280, 720, FPS))
    info = MediaInfo(Fraction(4), True, False, 1280, 720, FPS)
    takes = [Asset(f"t{i}", f"/nowhere/t{i}.mp4", f"t{i}.mp4", "video", info=info,
                   recipe=Recipe("diffusers", "cogvideox1.5-5b", "a red car at night", seed=seed, steps=50))
             for i, seed in ((1, 11), (2, 22))]
    plain = Asset("p", "/nowhere/p.mp4", "p.mp4", "video", info=info)
    for a in (*takes, plain):
        history.apply(AddAsset(a))
    v1 = history.project.sequence.tracks[0].id
    history.apply(OverwriteClip(v1, clip_for_asset(takes[0], FPS, 0, duration=50, clip_id="g")))
    history.apply(OverwriteClip(v1, clip_for_asset(plain, FPS, 60, duration=50, clip_id="p")))
    w = Inspector(history)
    qtbot.addWidget(w)
    panel = w.clip_panel
    w.set_selection(["p"])
    assert not panel.form.isRowVisible(panel.takes)  # not generated: no takes row
    w.set_selection(["g"])
    assert panel.form.isRowVisible(panel.takes)
    combo = panel.takes.combo
    assert [combo.itemText(i) for i in range(combo.count())] == [
        "Take 1: cogvideox1.5-5b · seed 11 · “a red car at night”"]
    assert "seed 11" in panel.takes.details.text() and "50 steps" in panel.takes.details.text()

    history.apply(SetTake("g", "t2"))  # what Regenerate does: a second take, shown
    assert combo.count() == 2 and combo.currentIndex() == 1
    assert combo.itemText(1) == "Take 2: " + recipe_summary(takes[1].recipe)
    assert "seed 22" in panel.takes.details.text()
    steps = len(history)
    assert panel.takes.choose(0)
    g = history.project.find_clip("g")[1]
    assert g.asset_id == "t1" and g.takes == ("t1", "t2")
    assert len(history) == steps + 1 and history.undo_label == "Change take"
    assert combo.currentIndex() == 0 and "seed 11" in panel.takes.details.text()
    history.undo()
    assert history.project.find_clip("g")[1].asset_id == "t2" and combo.currentIndex() == 1
    assert not panel.takes.choose(1)  # already showing: nothing to do, no history entry
    assert len(history) == steps
