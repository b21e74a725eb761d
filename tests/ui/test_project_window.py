"""The project window: tracks and clips from a saved project, history wiring, errors that never block."""

from __future__ import annotations

import json
import subprocess
import sys
from fractions import Fraction

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtGui import QColor, QKeySequence, QPalette
from PySide6.QtWidgets import QApplication, QFileDialog

from studio.core.edits import OverwriteClip, RenameTrack
from studio.core.factory import clip_for_asset
from studio.core.projectfile import save_project
from studio.ui import app as app_module
from studio.ui.project_tree import COLUMNS, ID_ROLE, NAME
from studio.ui.project_window import ProjectWindow
from studio.ui.theme import WARNING_COLOR

from .demo_project import build_demo, track_ids


def row(item) -> list[str]:
    return [item.text(c) for c in range(len(COLUMNS))]


def children(item) -> list[list[str]]:
    return [row(item.child(j)) for j in range(item.childCount())]


def top_rows(window: ProjectWindow) -> list[list[str]]:
    return [row(item) for item in window.tree.track_items()]


@pytest.fixture
def errors() -> list[str]:
    return []


@pytest.fixture
def window(qtbot, errors) -> ProjectWindow:
    w = ProjectWindow(report_error=lambda parent, title, message: errors.append(message))
    qtbot.addWidget(w)
    return w


@pytest.fixture
def demo(tmp_path):
    return build_demo(tmp_path)


def test_tracks_and_clips_of_a_saved_project(window, demo, errors):
    _, path = demo
    assert window.open_project(path)
    assert errors == [] and window.last_error is None
    assert window.windowTitle() == "Shotline Studio — Demo cut"
    assert [r[:2] for r in top_rows(window)] == [["V1", "video"], ["V2", "video"], ["A1", "audio"], ["A2", "audio"]]
    v1, v2, a1, a2 = window.tree.track_items()
    assert v1.text(5) == "2 clips · 1 transition"
    assert v2.text(5) == "1 clip · locked"
    assert a2.text(5) == "1 clip · muted"
    # 29.97 fps: drop-frame timecode; the b-roll runs at half speed, so its 150 source frames last 300.
    assert children(v1) == [
        ["interview.mp4", "A/V", "00:00:00;00", "00:00:10;00", "00:00:00;00", "linked to A1"],
        ["⇄ dissolve", "transition", "00:00:09;20", "00:00:00;20", "", "interview.mp4 → broll.mov (10 + 10 frames)"],
        ["broll.mov", "video", "00:00:10;00", "00:00:10;00", "00:00:01;00", "speed 0.5× · media missing"],
    ]
    assert children(v2) == [["broll.mov", "video", "00:00:04;00", "00:00:03;00", "00:00:00;00",
                             "grouped · media missing"]]
    assert children(a1)[0][-1] == "linked to V1"
    assert children(a2) == [["music.wav", "audio", "00:00:00;00", "00:01:02;05", "00:00:00;00", "grouped"]]
    assert v1.child(2).foreground(NAME).color() == QColor(WARNING_COLOR)
    assert v1.child(0).data(NAME, ID_ROLE) == ("clip", "iv-v")
    assert window.tree.item_for("clip", "mu") is a2.child(0)


def test_header_shows_settings_and_missing_media(window, demo):
    _, path = demo
    window.open_project(path)
    text = window.summary.text()
    assert "1920x1080 · 30000/1001 fps · 00:01:02;05" in text
    assert "3 assets" in text and "(1 missing)" in text
    assert "broll.mov <span" in text and f"color:{WARNING_COLOR}\">(missing)" in text
    assert "interview.mp4, " in text  # present files carry no mark


def test_edit_through_history_then_undo_and_redo_actions(window, demo):
    _, path = demo
    window.open_project(path)
    assert not window.undo_action.isEnabled() and not window.redo_action.isEnabled()
    p = window.project
    music = p.asset("music")
    clip = clip_for_asset(music, p.fps, 600, source_in=Fraction(45, 2), duration=90, clip_id="mu2")
    window.history.apply(OverwriteClip(track_ids(p)["A1"], clip))
    a1 = window.tree.track_items()[2]
    assert a1.text(5) == "2 clips"
    assert children(a1)[1] == ["music.wav", "audio", "00:00:20;00", "00:00:03;00", "00:00:00;22 +1/2", ""]
    assert window.undo_action.isEnabled() and window.undo_action.text() == "&Undo Overwrite"

    window.undo_action.trigger()
    assert window.tree.track_items()[2].text(5) == "1 clip"
    assert window.tree.item_for("clip", "mu2") is None
    assert window.redo_action.isEnabled() and not window.undo_action.isEnabled()

    window.redo_action.trigger()
    assert window.tree.item_for("clip", "mu2") is not None
    assert window.history.dirty


def test_track_rename_refreshes_title_rows_and_keeps_collapsed_tracks(window, demo):
    _, path = demo
    window.open_project(path)
    v2 = window.tree.track_items()[1]
    v2.setExpanded(False)
    window.history.apply(RenameTrack(track_ids(window.project)["V2"], "Graphics"))
    v2 = window.tree.track_items()[1]
    assert v2.text(0) == "Graphics" and not v2.isExpanded()
    assert window.tree.track_items()[0].isExpanded()


def test_menus_and_shortcuts(window):
    menus = {a.text(): a.menu() for a in window.menuBar().actions()}
    assert [a.text() for a in menus["&File"].actions() if a.text()] == ["&Open…", "&Reload", "&Quit"]
    assert [a.text() for a in menus["&Edit"].actions()] == ["&Undo", "&Redo"]
    assert window.undo_action.shortcut() == QKeySequence("Ctrl+Z")
    assert window.redo_action.shortcut() == QKeySequence("Ctrl+Shift+Z")
    assert window.quit_action.shortcut() == QKeySequence("Ctrl+Q")
    assert not window.reload_action.isEnabled()  # no file yet


def test_open_dialog_and_reload(window, demo, monkeypatch):
    history, path = demo
    calls = []

    def fake_dialog(parent, caption, folder, filters):
        calls.append(filters)
        return str(path), filters
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(fake_dialog))
    window.open_action.trigger()
    assert "*.studio" in calls[0]
    assert window.path == str(path) and window.reload_action.isEnabled()

    history.apply(RenameTrack(track_ids(history.project)["V1"], "Main"))
    save_project(history.project, path)
    window.reload_action.trigger()
    assert window.tree.track_items()[0].text(0) == "Main"
    assert not window.history.can_undo  # a reload starts a fresh history


def test_corrupt_file_reports_one_line_and_keeps_the_project(window, demo, errors, tmp_path):
    _, path = demo
    window.open_project(path)
    bad = tmp_path / "bad.studio"
    bad.write_text('{"format": "shotline-studio", "version": 1, "project": ')
    assert not window.open_project(bad)
    assert len(errors) == 1 and errors[0] == window.last_error
    assert window.last_error.startswith(f"cannot open '{bad}': not valid JSON")
    assert "\n" not in window.last_error
    assert window.statusBar().currentMessage() == window.last_error
    assert window.windowTitle() == "Shotline Studio — Demo cut"  # still showing what was open
    assert window.path == str(path)


def test_default_error_box_does_not_block(qtbot, tmp_path):
    bad = tmp_path / "bad.studio"
    bad.write_text(json.dumps({"format": "something-else"}))
    w = ProjectWindow()
    qtbot.addWidget(w)
    w.show()
    assert not w.open_project(bad)  # returns: the box is opened, not exec'd
    assert w.error_box is not None and w.error_box.isVisible()
    assert w.error_box.text() == w.last_error and "not a Shotline Studio project" in w.last_error
    w.error_box.close()


def test_run_editor_shows_error_with_empty_project(qtbot, tmp_path):
    bad = tmp_path / "bad.studio"
    bad.write_bytes(b"\xff\xfe garbage")
    seen = {}

    def inspect():
        app = QApplication.instance()
        windows = [w for w in app.topLevelWidgets() if isinstance(w, ProjectWindow) and w.isVisible()]
        w = windows[-1]
        seen.update(error=w.last_error, title=w.windowTitle(), tracks=len(w.tree.track_items()),
                    box=w.error_box is not None and w.error_box.isVisible(),
                    window_color=app.palette().color(QPalette.ColorRole.Window).lightness(),
                    style=app.style().name().lower())
        w.error_box.close()
        w.close()
        w.deleteLater()
        app.quit()

    QTimer.singleShot(0, inspect)
    assert app_module.run_editor(str(bad), window_factory=ProjectWindow) == 0
    assert seen["error"] == f"cannot open '{bad}': not a text file (not UTF-8)"
    assert seen["title"] == "Shotline Studio — Untitled" and seen["tracks"] == 2 and seen["box"]
    assert seen["window_color"] < 80 and seen["style"] == "fusion"


def test_ui_does_not_import_torch_or_ai():
    probe = ("import sys, studio.ui.app, studio.ui.project_window; "
             "print(sorted(m for m in sys.modules if m == 'torch' or m.startswith('studio.ai')))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "[]"
