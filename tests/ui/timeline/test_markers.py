"""Sequence markers on the ruler: drag to move (whole frames, snapping, one undo step), click and
Delete, right-click "Delete Marker", tooltips."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from studio.core.edits import AddMarker, MoveMarker
from studio.core.errors import EditError
from studio.core.serialize import project_to_dict

from .conftest import track_id, vp
from .test_keys_and_drops import focus

Y = 18  # inside the band where the ruler draws markers


def marker(history, name):
    return next(m for m in history.project.sequence.markers if m.name == name)


def ruler_point(view, frame: float) -> QPoint:
    return QPoint(round(frame * view.pixels_per_frame() - view.scroll_x()), Y)


def ruler_drag(view, start: QPoint, end: QPoint, steps: int = 6) -> None:
    r = view.ruler
    QTest.mousePress(r, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    for i in range(1, steps + 1):
        p = start + (end - start) * (i / steps)
        QTest.mouseMove(r, QPoint(round(p.x()), round(p.y())))
    QTest.mouseRelease(r, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, end)


def test_dragging_a_marker_moves_it_by_whole_frames_in_one_undo_step(view, history):
    view.set_snapping(False)
    before = project_to_dict(history.project)
    steps = len(history)
    beat = marker(history, "beat")  # frame 150, 2 px per frame
    # 41 px right is 20.5 frames: the marker lands on a whole frame, 20 or 21 later
    ruler_drag(view, ruler_point(view, 150), ruler_point(view, 150) + QPoint(41, 0), steps=9)
    moved = marker(history, "beat")
    assert moved.id == beat.id and moved.frame in (170, 171)
    assert len(history) == steps + 1
    assert view.selected_marker_id() == beat.id
    assert view.playhead() == 0  # grabbing a marker does not scrub
    history.undo()
    assert project_to_dict(history.project) == before


def test_marker_drag_snaps_to_clip_edges(view, history):
    # br1 ends at 160; aiming 3 px (1.5 frames) short of it lands exactly on it
    ruler_drag(view, ruler_point(view, 150), ruler_point(view, 160) - QPoint(3, 0))
    assert marker(history, "beat").frame == 160


def test_pressing_beside_markers_scrubs_and_clears_the_marker_selection(view, history):
    view.select_marker(marker(history, "beat").id)
    QTest.mouseClick(view.ruler, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, ruler_point(view, 90))
    assert view.playhead() == 90 and view.selected_marker_id() is None
    assert marker(history, "beat").frame == 150


def test_click_a_marker_and_press_delete_removes_only_the_marker(view, history, qtbot):
    focus(view, qtbot)
    view.select(["br1"])
    steps = len(history)
    QTest.mouseClick(view.ruler, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, ruler_point(view, 150))
    assert view.selected_marker_id() == marker(history, "beat").id
    assert view.selected_clip_ids() == []  # a marker selection replaces the clip selection
    qtbot.waitUntil(lambda: view.hasFocus())
    QTest.keyClick(view, Qt.Key.Key_Delete)
    assert history.project.sequence.markers == ()
    assert history.project.find_clip("br1") is not None
    assert len(history) == steps + 1 and view.selected_marker_id() is None
    # selecting a clip afterwards: Delete lifts the clip again
    view.select(["br1"])
    QTest.keyClick(view, Qt.Key.Key_Delete)
    assert history.project.find_clip("br1") is None


def test_right_click_on_a_marker_offers_delete_marker(view, history):
    history.apply(AddMarker(40, "other", "blue"))
    view.ruler.contextMenuEvent(_context_event(view, ruler_point(view, 150)))
    menu = view.ruler.context_menu
    assert [a.text() for a in menu.actions()] == ["Delete Marker"]
    assert view.selected_marker_id() == marker(history, "beat").id
    menu.actions()[0].trigger()
    assert [m.name for m in history.project.sequence.markers] == ["other"]
    menu.close()
    view.ruler.context_menu = None
    view.ruler.contextMenuEvent(_context_event(view, ruler_point(view, 100)))  # no marker there: no menu
    assert view.ruler.context_menu is None


def _context_event(view, pos: QPoint):
    from PySide6.QtGui import QContextMenuEvent

    return QContextMenuEvent(QContextMenuEvent.Reason.Mouse, pos, view.ruler.mapToGlobal(pos))


def test_marker_hit_test_and_tooltip(view, history):
    history.apply(AddMarker(60, "door", "#e45cc0", note="door \u00b7 impact \u00b7 strength 0.80"))
    r = view.ruler
    door = marker(history, "door")
    assert r.marker_at(60 * 2 + 4, Y) == door and r.marker_at(60 * 2 - 4, Y) == door
    assert r.marker_at(60 * 2 + 9, Y) is None  # too far
    assert r.marker_at(60 * 2, 3) is None  # above the marker band: the timecode labels (scrubbing)
    from studio.ui.timeline.markers import tooltip

    assert tooltip(door, history.project.fps) == "door\ndoor \u00b7 impact \u00b7 strength 0.80\n00:00:02:00"
    # hovering the ruler shows it
    from PySide6.QtCore import QEvent
    from PySide6.QtGui import QHelpEvent
    from PySide6.QtWidgets import QApplication, QToolTip

    pos = QPoint(60 * 2 + 1, Y)
    QApplication.sendEvent(r, QHelpEvent(QEvent.Type.ToolTip, pos, r.mapToGlobal(pos)))
    assert QToolTip.text() == tooltip(door, history.project.fps)
    QToolTip.hideText()


def test_clicking_a_clip_clears_the_marker_selection(view, history):
    view.select_marker(marker(history, "beat").id)
    QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     vp(view, 130, track_id(history, "V1")))
    assert view.selected_clip_ids() == ["br1"] and view.selected_marker_id() is None


def test_move_marker_command(history):
    beat = marker(history, "beat")
    history.apply(MoveMarker(beat.id, -50), merge=True)
    history.apply(MoveMarker(beat.id, -10), merge=True)
    history.end_merge()
    assert marker(history, "beat").frame == 90
    with pytest.raises(EditError, match="before the start"):
        history.apply(MoveMarker(beat.id, -91))
    with pytest.raises(EditError, match="no marker"):
        history.apply(MoveMarker("nope", 1))
    history.apply(AddMarker(10, "early"))
    history.apply(MoveMarker(marker(history, "early").id, 200))
    assert [m.name for m in history.project.sequence.markers] == ["beat", "early"]  # kept in time order
    history.undo()
    history.undo()
    history.undo()  # the two merged moves were one step
    assert marker(history, "beat").frame == 150
