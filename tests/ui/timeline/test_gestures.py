"""Real mouse gestures on the timeline viewport become commands (one undo step per drag)."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from studio.core.serialize import project_to_dict

from .conftest import clip, drag, track_id, vp


def test_drag_clip_to_other_track_and_later_is_one_undo_step(view, history):
    before = project_to_dict(history.project)
    steps = len(history)
    v1, v2 = track_id(history, "V1"), track_id(history, "V2")
    # grab br1 (100-160 on V1) in its middle and drop it 300 frames later on V2
    drag(view, vp(view, 130, v1), vp(view, 430, v2), steps=8)
    track, moved = clip(history, "br1")
    assert (track.id, moved.position, moved.duration) == (v2, 400, 60)
    assert len(history) == steps + 1
    assert view.selected_clip_ids() == ["br1"]
    history.undo()
    assert project_to_dict(history.project) == before


def test_move_onto_another_clip_is_refused_without_crashing(view, history):
    v1 = track_id(history, "V1")
    messages = []
    view.status_message.connect(messages.append)
    view.set_snapping(False)
    before = history.project
    drag(view, vp(view, 20, v1), vp(view, 70, v1))  # iv-v (0-100) onto br1 (100-160)
    assert history.project is before
    assert any("taken" in m for m in messages)


def test_moving_linked_video_moves_its_audio_in_time(view, history):
    v1, a1 = track_id(history, "V1"), track_id(history, "A1")
    view.set_snapping(False)
    steps = len(history)
    drag(view, vp(view, 130, v1), vp(view, 140, v1))  # br1 -> 110, out of iv-v's way
    assert clip(history, "br1")[1].position == 110
    drag(view, vp(view, 50, v1), vp(view, 55, v1))  # iv-v 0 -> 5, its linked audio follows on A1
    assert clip(history, "iv-v")[1].position == 5
    track, audio = clip(history, "iv-a")
    assert (track.id, audio.position) == (a1, 5)
    assert len(history) == steps + 2  # two drags, two undo steps


def test_move_snaps_clip_edge_to_the_playhead(view, history):
    v2 = track_id(history, "V2")
    view.set_playhead(300)
    # b2 (200-260) dragged so its head aims 3 px short of the playhead: it lands exactly on 300
    drag(view, vp(view, 230, v2), vp(view, 330, v2) - QPoint(3, 0))
    assert clip(history, "b2")[1].position == 300


def test_razor_tool_cuts_at_the_frame_under_the_cursor(view, history):
    a1 = track_id(history, "A1")
    view.set_tool("razor")
    QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, vp(view, 40, a1))
    v_clips = history.project.track(track_id(history, "V1")).clips
    a_clips = history.project.track(a1).clips
    assert [(c.position, c.duration) for c in a_clips] == [(0, 40), (40, 60)]
    assert [(c.position, c.duration) for c in v_clips][:2] == [(0, 40), (40, 60)]  # linked video cut too
    assert a_clips[1].link == v_clips[1].link and a_clips[1].link != "L1"


def test_trim_with_snapping_lands_exactly_on_a_neighbours_edge(view, history):
    v1 = track_id(history, "V1")
    # br1 (V1, 100-160) tail dragged to 3 px short of b2's head (V2, frame 200): it snaps onto 200
    start = vp(view, 160, v1) - QPoint(2, 0)
    drag(view, start, vp(view, 200, v1) - QPoint(3, 0))
    br1 = clip(history, "br1")[1]
    assert (br1.position, br1.end) == (100, 200)
    steps = len(history)
    history.undo()
    assert clip(history, "br1")[1].end == 160
    assert len(history) == steps - 1


def test_trim_without_snapping_follows_the_mouse(view, history):
    v2 = track_id(history, "V2")
    view.set_snapping(False)
    start = vp(view, 260, v2) - QPoint(2, 0)
    drag(view, start, start - QPoint(round(20 * view.pixels_per_frame()), 0))
    assert clip(history, "b2")[1].end == 240


def test_rubber_band_selects_two_clips(view, history, qtbot):
    v1, v2 = track_id(history, "V1"), track_id(history, "V2")
    seen = []
    view.selection_changed.connect(seen.append)
    # from empty V1 at frame 280 up-left to frame 150 in V2: touches br1 (100-160) and b2 (200-260)
    drag(view, vp(view, 280, v1, dy=0.7), vp(view, 150, v2, dy=0.3))
    assert sorted(view.selected_clip_ids()) == ["b2", "br1"]
    assert seen and sorted(seen[-1]) == ["b2", "br1"]
    assert history.project.find_clip("br1")[1].position == 100  # nothing moved


def test_click_selects_and_ctrl_click_toggles(view, history):
    v1, v2 = track_id(history, "V1"), track_id(history, "V2")
    w = view.viewport()
    QTest.mouseClick(w, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, vp(view, 130, v1))
    assert view.selected_clip_ids() == ["br1"]
    QTest.mouseClick(w, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ControlModifier, vp(view, 230, v2))
    assert view.selected_clip_ids() == ["br1", "b2"]
    QTest.mouseClick(w, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ControlModifier, vp(view, 130, v1))
    assert view.selected_clip_ids() == ["b2"]


def test_playhead_set_outside_the_view_scrolls_to_it(view):
    view.set_zoom(10.0)
    view.set_playhead(2000)
    x = view.timeline_layout().x(2000)
    assert view.scroll_x() <= x <= view.scroll_x() + view.viewport().width()


def test_ruler_click_and_drag_scrub_the_playhead(view):
    seen = []
    view.playhead_changed.connect(seen.append)
    ruler = view.ruler
    ppf = view.pixels_per_frame()
    QTest.mousePress(ruler, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(round(50 * ppf), 10))
    QTest.mouseMove(ruler, QPoint(round(80 * ppf), 10))
    QTest.mouseRelease(ruler, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(round(80 * ppf), 10))
    assert seen[0] == 50
    assert view.playhead() == 80


def test_roll_tool_moves_the_cut(view, history):
    v1 = track_id(history, "V1")
    view.set_tool("roll")
    view.set_snapping(False)
    start = vp(view, 100, v1) - QPoint(2, 0)
    drag(view, start, start - QPoint(round(10 * view.pixels_per_frame()), 0))
    assert clip(history, "iv-v")[1].end == 90
    assert clip(history, "br1")[1].position == 90


def test_slip_tool_changes_the_source_only(view, history):
    v1 = track_id(history, "V1")
    view.set_tool("slip")
    drag(view, vp(view, 130, v1), vp(view, 120, v1))
    br1 = clip(history, "br1")[1]
    assert br1.source_in == 40  # content dragged left: later source
    assert (br1.position, br1.duration) == (100, 60)


def test_slide_tool_moves_a_clip_between_its_neighbours(view, history):
    v1 = track_id(history, "V1")
    view.set_snapping(False)
    before = len(history)
    view.set_tool("slide")
    drag(view, vp(view, 130, v1), vp(view, 120, v1))  # br1 slides 10 left: iv-v shrinks to 90
    assert clip(history, "iv-v")[1].end == 90
    assert (clip(history, "br1")[1].position, clip(history, "br1")[1].duration) == (90, 60)
    assert len(history) == before + 1


def test_ripple_tool_trims_and_closes_the_gap(view, history):
    v1 = track_id(history, "V1")
    view.set_tool("ripple")
    view.set_snapping(False)
    drag(view, vp(view, 100, v1) - QPoint(2, 0), vp(view, 80, v1) - QPoint(2, 0))  # iv-v's tail 20 earlier
    assert clip(history, "iv-v")[1].end == 80
    assert clip(history, "br1")[1].position == 80  # br1 followed
    assert clip(history, "iv-a")[1].end == 80  # linked audio trimmed too


def test_ctrl_wheel_zooms_around_the_mouse(view, qtbot):
    view.set_zoom(6.0)  # wide enough to scroll
    view.horizontalScrollBar().setValue(100)
    assert view.scroll_x() == 100
    pos = QPointF(300, 50)
    frame_under = (view.scroll_x() + pos.x()) / view.pixels_per_frame()
    event = QWheelEvent(pos, view.viewport().mapToGlobal(pos), QPoint(), QPoint(0, 120), Qt.MouseButton.NoButton,
                        Qt.KeyboardModifier.ControlModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(view.viewport(), event)
    assert view.pixels_per_frame() == 7.5
    assert abs((view.scroll_x() + pos.x()) / view.pixels_per_frame() - frame_under) < 1


def test_edit_errors_become_status_messages(view, history):
    messages = []
    view.status_message.connect(messages.append)
    v1 = track_id(history, "V1")
    view.set_tool("razor")
    before = history.project
    QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     vp(view, 100, v1) + QPoint(1, 0))  # on br1's very first frame boundary
    assert history.project is before
    assert messages
