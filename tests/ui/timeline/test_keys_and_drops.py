"""Keyboard actions, header switches and asset drops on the timeline."""

from __future__ import annotations

from PySide6.QtCore import QMimeData, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent, QKeySequence
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from studio.core.serialize import project_to_dict
from studio.ui.timeline import ASSET_MIME

from .conftest import clip, track_id, vp


def focus(view, qtbot):
    view.activateWindow()
    view.setFocus()
    qtbot.waitUntil(lambda: view.hasFocus())


def action(view, name):
    return next(a for a in view.actions() if a.objectName() == name)


def test_actions_have_the_documented_shortcuts(view):
    keys = {a.objectName(): [s.toString() for s in a.shortcuts()] for a in view.actions()}
    assert keys["tool-select"] == ["V"]
    assert keys["tool-razor"] == ["B", "C"]
    assert keys["tool-ripple"] == ["R"] and keys["tool-roll"] == ["N"]
    assert keys["tool-slip"] == ["Y"] and keys["tool-slide"] == ["U"]
    assert keys["toggle-snapping"] == ["S"]
    assert keys["razor-playhead"] == ["Ctrl+K"]
    assert keys["lift"] == ["Del"] and keys["ripple-delete"] == ["Shift+Del"]
    assert keys["copy"] == ["Ctrl+C"] and keys["cut"] == ["Ctrl+X"] and keys["paste"] == ["Ctrl+V"]
    assert keys["select-all"] == ["Ctrl+A"]
    assert keys["zoom-in"][0] == "=" and keys["zoom-out"] == ["-"] and keys["zoom-fit"] == ["Shift+Z"]


def test_shift_delete_ripple_deletes_the_selection(view, history, qtbot):
    view.select(["iv-v"])
    focus(view, qtbot)
    QTest.keyClick(view, Qt.Key.Key_Delete, Qt.KeyboardModifier.ShiftModifier)
    assert history.project.find_clip("iv-v") is None
    assert history.project.find_clip("iv-a") is None  # linked audio goes with it
    assert clip(history, "br1")[1].position == 0  # the gap closed
    assert view.selected_clip_ids() == []


def test_delete_lifts_and_keys_switch_tools(view, history, qtbot):
    focus(view, qtbot)
    view.select(["br1"])
    QTest.keyClick(view, Qt.Key.Key_Delete)
    assert history.project.find_clip("br1") is None
    assert clip(history, "b2")[1].position == 200
    QTest.keyClick(view, Qt.Key.Key_B)
    assert view.tool() == "razor"
    QTest.keyClick(view, Qt.Key.Key_V)
    assert view.tool() == "select"
    QTest.keyClick(view, Qt.Key.Key_S)
    assert not view.snapping()


def test_ctrl_k_cuts_all_tracks_at_the_playhead_and_ctrl_a_selects_all(view, history, qtbot):
    focus(view, qtbot)
    view.set_playhead(50)
    QTest.keySequence(view, QKeySequence("Ctrl+K"))
    assert [c.duration for c in history.project.track(track_id(history, "V1")).clips][:2] == [50, 50]
    assert [c.duration for c in history.project.track(track_id(history, "A1")).clips] == [50, 50]
    QTest.keySequence(view, QKeySequence("Ctrl+A"))
    assert len(view.selected_clip_ids()) == len(history.project.all_clips())


def test_copy_paste_at_the_playhead_makes_new_linked_clips(view, history, qtbot):
    focus(view, qtbot)
    view.select(["iv-v"])
    QTest.keySequence(view, QKeySequence("Ctrl+C"))
    view.set_playhead(300)
    QTest.keySequence(view, QKeySequence("Ctrl+V"))
    pasted = [(t.name, c) for t, c in history.project.all_clips() if c.position == 300]
    assert sorted(name for name, _ in pasted) == ["A1", "V1"]
    assert {c.id for _, c in pasted}.isdisjoint({"iv-v", "iv-a"})
    assert len({c.link for _, c in pasted}) == 1 and pasted[0][1].link not in (None, "L1")
    assert sorted(view.selected_clip_ids()) == sorted(c.id for _, c in pasted)


def test_header_mute_button_sets_muted(view, history):
    a1 = track_id(history, "A1")
    button = view.headers.header(a1).buttons["muted"]
    QTest.mouseClick(button, Qt.MouseButton.LeftButton)
    assert history.project.track(a1).muted is True
    assert view.headers.header(a1).buttons["muted"].isChecked()
    history.undo()
    assert history.project.track(a1).muted is False
    assert not view.headers.header(a1).buttons["muted"].isChecked()


def test_header_lock_then_edits_are_refused(view, history):
    v1 = track_id(history, "V1")
    QTest.mouseClick(view.headers.header(v1).buttons["locked"], Qt.MouseButton.LeftButton)
    assert history.project.track(v1).locked
    messages = []
    view.status_message.connect(messages.append)
    view.set_tool("razor")
    before = history.project
    QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, vp(view, 130, v1))
    assert history.project is before and messages


def _drop(view, asset_id: str, pos, modifiers=Qt.KeyboardModifier.NoModifier):
    data = QMimeData()
    data.setData(ASSET_MIME, asset_id.encode("utf-8"))
    rest = (Qt.DropAction.CopyAction, data, Qt.MouseButton.LeftButton, modifiers)
    try:  # Qt >= 6.12 takes a QPointF (QPoint is deprecated); older versions only a QPoint
        events = (QDragEnterEvent(QPointF(pos), *rest), QDragMoveEvent(QPointF(pos), *rest))
    except TypeError:
        events = (QDragEnterEvent(pos, *rest), QDragMoveEvent(pos, *rest))
    for event in (*events, QDropEvent(QPointF(pos), *rest)):  # the sequence a real drag sends
        QApplication.sendEvent(view.viewport(), event)
        assert event.isAccepted()


def test_drop_of_av_asset_inserts_linked_video_and_audio(view, history):
    v2 = track_id(history, "V2")
    a1 = track_id(history, "A1")
    before = project_to_dict(history.project)
    _drop(view, "iv", vp(view, 300, v2))
    (tv, video), (ta, audio) = [(t, c) for t, c in history.project.all_clips() if c.asset_id == "iv"
                                and c.id not in ("iv-v", "iv-a")]
    assert (tv.id, ta.id) == (v2, a1)
    assert video.position == audio.position == 300
    assert video.duration == audio.duration == 1800
    assert video.link == audio.link and video.link is not None
    assert sorted(view.selected_clip_ids()) == sorted([video.id, audio.id])
    history.undo()
    assert project_to_dict(history.project) == before


def test_drop_snaps_and_ctrl_drop_overwrites(view, history):
    v1 = track_id(history, "V1")
    # 3 px right of the marker at frame 150: snaps onto it, and overwrites the tail of br1 (100-160)
    _drop(view, "br", vp(view, 150, v1) + QPointF(3, 0).toPoint(), Qt.KeyboardModifier.ControlModifier)
    v1_clips = history.project.track(v1).clips
    assert [(c.id, c.position, c.end) for c in v1_clips][:2] == [("iv-v", 0, 100), ("br1", 100, 150)]
    assert v1_clips[2].asset_id == "br" and (v1_clips[2].position, v1_clips[2].duration) == (150, 600)
    assert clip(history, "b2")[1].position == 200  # overwrite does not ripple other tracks


def test_zoom_keys_and_fit(view, history, qtbot):
    focus(view, qtbot)
    ppf = view.pixels_per_frame()
    QTest.keyClick(view, Qt.Key.Key_Equal)
    assert view.pixels_per_frame() > ppf
    QTest.keyClick(view, Qt.Key.Key_Minus)
    assert abs(view.pixels_per_frame() - ppf) < 1e-9
    view.zoom_to_fit()
    assert view.timeline_layout().x(history.project.sequence.duration) <= view.viewport().width()


def test_dragging_a_header_edge_resizes_the_track_in_one_undo_step(view, history):
    from PySide6.QtCore import QPoint

    a1 = track_id(history, "A1")
    before = history.project.track(a1).height
    steps = len(history)
    header = view.headers.header(a1)
    x, bottom = header.width() // 2, header.height() - 2
    QTest.mousePress(header, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(x, bottom))
    for dy in (10, 20, 30, 40):
        QTest.mouseMove(header, QPoint(x, bottom + dy))
    QTest.mouseRelease(header, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(x, bottom + 40))
    assert history.project.track(a1).height == before + 40
    assert len(history) == steps + 1  # the whole drag is one step
    assert view.headers.header(a1).height() == before + 40 - 1
    history.undo()
    assert history.project.track(a1).height == before
