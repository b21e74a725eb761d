"""Selecting a gap on a video track: a click on empty space between clips selects exactly that gap
(highlighted), a click on a clip, a rubber band or Escape clears it, Delete closes it as one undo step
(linked audio follows), a gap after the last clip is refused, and the right-click menu offers it."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from studio.ai.generate.targets import Target
from studio.core.edits import InsertClips, Move, SetTrackProperty
from studio.core.factory import clip_for_asset
from studio.core.serialize import project_to_dict
from studio.ui.timeline.items import GapItem

from .conftest import FPS, build_history, clip, drag, track_id, vp
from .test_keys_and_drops import focus


@pytest.fixture
def history():
    """The conftest timeline with br1 moved 40 frames later: V1 = iv-v (0-100) | gap 100-140 | br1 (140-200);
    V2 = gap 0-200 | b2 (200-260)."""
    h = build_history()
    h.apply(Move(["br1"], 40))
    return h


def click(view, point: QPoint, button=Qt.MouseButton.LeftButton) -> None:
    QTest.mouseClick(view.viewport(), button, Qt.KeyboardModifier.NoModifier, point)


def gap_items(view) -> list[GapItem]:
    return [i for i in view.scene().items() if isinstance(i, GapItem) and i.isVisible()]


def test_click_between_clips_selects_exactly_that_gap_and_highlights_it(view, history):
    v1 = track_id(history, "V1")
    seen = []
    view.gap_changed.connect(seen.append)
    click(view, vp(view, 120, v1))
    assert view.selected_gap() == Target(v1, 100, 140, "iv-v")
    assert seen == [Target(v1, 100, 140, "iv-v")] and view.selected_clip_ids() == []
    (item,) = gap_items(view)
    rect = item.sceneBoundingRect()
    row = view.timeline_layout().by_id[v1]
    ppf = view.pixels_per_frame()
    assert abs(rect.left() - (100 * ppf - 1)) < 0.01 and abs(rect.right() - (140 * ppf + 1)) < 0.01
    assert row.top <= rect.top() and rect.bottom() <= row.bottom
    # a gap before the first clip runs from 0, one after the last is open
    v2 = track_id(history, "V2")
    click(view, vp(view, 50, v2))
    assert view.selected_gap() == Target(v2, 0, 200, None)
    click(view, vp(view, 400, v1))
    assert view.selected_gap() == Target(v1, 200, None, "br1") and len(gap_items(view)) == 1


def test_a_click_on_a_clip_escape_or_a_band_clears_the_gap(view, history, qtbot):
    v1, a2 = track_id(history, "V1"), track_id(history, "A2")
    click(view, vp(view, 120, v1))
    assert view.selected_gap() is not None
    click(view, vp(view, 170, v1))  # on br1
    assert view.selected_gap() is None and view.selected_clip_ids() == ["br1"] and gap_items(view) == []
    click(view, vp(view, 120, v1))
    assert view.selected_gap() is not None and view.selected_clip_ids() == []
    focus(view, qtbot)
    QTest.keyClick(view, Qt.Key.Key_Escape)
    assert view.selected_gap() is None and gap_items(view) == []
    click(view, vp(view, 120, v1))
    drag(view, vp(view, 120, v1), vp(view, 300, a2))  # a rubber band from the gap selects clips instead
    assert view.selected_gap() is None and "br1" in view.selected_clip_ids()
    click(view, vp(view, 50, a2))  # empty audio: no gap (generation is for picture)
    assert view.selected_gap() is None


def test_delete_closes_an_inner_gap_as_one_undo_step(view, history, qtbot):
    v1 = track_id(history, "V1")
    before = project_to_dict(history.project)
    steps = len(history)
    click(view, vp(view, 120, v1))
    focus(view, qtbot)
    QTest.keyClick(view, Qt.Key.Key_Delete)
    assert clip(history, "br1")[1].position == 100 and clip(history, "iv-v")[1].position == 0
    assert clip(history, "b2")[1].position == 200  # other tracks stay
    assert len(history) == steps + 1 and history.undo_label == "Close gap"
    assert view.selected_gap() is None and gap_items(view) == []  # the gap is gone, so is its selection
    history.undo()
    assert project_to_dict(history.project) == before


def test_shift_delete_closes_a_leading_gap_and_linked_audio_follows(view, history, qtbot):
    v1, a1 = track_id(history, "V1"), track_id(history, "A1")
    history.apply(Move(["iv-v"], 20))  # iv-v and its linked audio iv-a: 20-120; V1 gap 0-20
    assert clip(history, "iv-a")[1].position == 20
    click(view, vp(view, 10, v1))
    assert view.selected_gap() == Target(v1, 0, 20, None)
    focus(view, qtbot)
    QTest.keyClick(view, Qt.Key.Key_Delete, Qt.KeyboardModifier.ShiftModifier)
    assert [(c.id, c.position) for c in history.project.track(v1).clips] == [("iv-v", 0), ("br1", 120)]
    assert [(c.id, c.position) for c in history.project.track(a1).clips] == [("iv-a", 0)]


def test_closing_is_refused_with_a_reason(view, history, qtbot):
    v1, a1 = track_id(history, "V1"), track_id(history, "A1")
    messages = []
    view.status_message.connect(messages.append)
    before = history.project
    click(view, vp(view, 400, v1))  # after the last clip
    focus(view, qtbot)
    QTest.keyClick(view, Qt.Key.Key_Delete)
    assert history.project is before and "after the last clip cannot be closed" in messages[-1]
    # linked audio that cannot move with its picture (music in the way on A1) refuses, changing nothing
    history.apply(Move(["iv-v"], 20))
    mu = history.project.asset("mu")
    history.apply(InsertClips([(a1, clip_for_asset(mu, FPS, 0, duration=10, clip_id="m"))]))
    history.apply(Move(["m"], 5))  # m: 5-15 on A1, in the way of iv-a (20 -> 0)
    before = history.project
    click(view, vp(view, 10, v1))
    assert view.selected_gap() == Target(v1, 0, 20, None)
    QTest.keyClick(view, Qt.Key.Key_Delete)
    assert history.project is before and "A1" in messages[-1]
    assert view.selected_gap() is not None  # still selected: nothing happened
    # a locked track: no gap is selected on it
    history.apply(SetTrackProperty(v1, "locked", True))
    click(view, vp(view, 300, v1))
    assert view.selected_gap() is None


def test_an_edit_that_fills_the_gap_clears_it(view, history):
    v1 = track_id(history, "V1")
    click(view, vp(view, 120, v1))
    history.apply(Move(["br1"], -20))  # br1 now 120-200: the gap is 100-120, not the one selected
    assert view.selected_gap() is None and gap_items(view) == []
    click(view, vp(view, 110, v1))
    history.undo()  # the gap changes under the selection again
    assert view.selected_gap() is None


def menu_entries(view) -> dict[str, bool]:
    menu = view.gap_menu
    assert menu is not None
    return {a.text(): a.isEnabled() for a in menu.actions() if a.text()}


def test_right_click_in_empty_space_selects_the_gap_and_offers_close_gap(view, history):
    v1, a2 = track_id(history, "V1"), track_id(history, "A2")
    view.customContextMenuRequested.emit(vp(view, 120, v1))
    assert view.selected_gap() == Target(v1, 100, 140, "iv-v")
    assert menu_entries(view) == {"Close Gap": True}
    view.gap_menu.close()
    view.customContextMenuRequested.emit(vp(view, 400, v1))  # open-ended: nothing to close
    assert view.selected_gap() == Target(v1, 200, None, "br1") and menu_entries(view) == {"Close Gap": False}
    view.gap_menu.close()
    view.customContextMenuRequested.emit(vp(view, 50, a2))
    assert view.selected_gap() is None and menu_entries(view) == {"Close Gap": False}
    view.gap_menu.close()
    view.gap_menu = None
    view.customContextMenuRequested.emit(vp(view, 170, v1))  # a clip: the clip menu's business, not ours
    assert view.gap_menu is None
