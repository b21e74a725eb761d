"""The main window: docks and menus, title and dirty mark, files, recovery, unsaved-changes prompts,
recent projects, autosave, the jobs panel, and a start-up that never imports torch."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtGui import QKeySequence

from studio.core.autosave import list_autosaves, write_autosave
from studio.core.edits import AddAsset, RenameTrack
from studio.core.factory import new_project
from studio.core.media_pool import Asset, MediaInfo
from studio.core.projectfile import save_project
from studio.jobs import Job
from studio.media.cache import CacheStore
from studio.ui.jobs_panel import JobsPanel, format_eta
from studio.ui.main_window import MainWindow
from studio.ui.session import SessionSettings

WAIT = 10000


class FakePrompts:
    """Answers instead of dialogs; records what was asked."""

    def __init__(self) -> None:
        self.asked: list[str] = []
        self.unsaved = "cancel"
        self.recover_answer = True
        self.open_path = ""
        self.save_path = ""
        self.errors: list[str] = []

    def unsaved_changes(self, name: str) -> str:
        self.asked.append(f"unsaved:{name}")
        return self.unsaved

    def recover(self, project_path: str, autosave) -> bool:
        self.asked.append(f"recover:{os.path.basename(project_path)}")
        return self.recover_answer

    def open_project_path(self, start: str) -> str:
        return self.open_path

    def save_project_path(self, start: str) -> str:
        return self.save_path

    def import_media_paths(self, start: str) -> list[str]:
        return []

    def relink_folder(self, start: str) -> str:
        return ""

    def export_path(self, start: str, file_filter: str) -> str:
        return ""

    def error(self, title: str, message: str) -> None:
        self.errors.append(message)


@pytest.fixture(autouse=True)
def temp_qsettings(tmp_path):
    """Default QSettings (org "Shotline", app "Studio") go to a temp folder, never to $HOME."""
    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, str(tmp_path / "qsettings"))
    yield


@pytest.fixture
def prompts() -> FakePrompts:
    return FakePrompts()


@pytest.fixture
def settings(tmp_path) -> SessionSettings:
    return SessionSettings.at(tmp_path / "settings.ini")


@pytest.fixture
def window(qtbot, prompts, settings, jobs, tmp_path) -> MainWindow:
    w = MainWindow(prompts=prompts, settings=settings, jobs=jobs, store=CacheStore(tmp_path / "cache"),
                   autosave_interval=3600)
    qtbot.addWidget(w)
    yield w
    w.history.mark_saved()
    w._force_dirty = False
    w.close()


def saved_project(tmp_path, name="Cut") -> Path:
    path = tmp_path / "proj" / "cut.studio"
    path.parent.mkdir(exist_ok=True)
    save_project(new_project(640, 360, Fraction(25), name=name), path)
    return path


def rename_v1(window: MainWindow, name: str = "Main") -> None:
    window.history.apply(RenameTrack(window.project.sequence.tracks[0].id, name))


def test_docks_menus_and_shortcuts(window):
    assert window.bin_dock.widget() is window.bin and window.inspector_dock.widget() is window.inspector
    assert window.jobs_dock.widget() is window.jobs_panel
    menus = {a.text(): a.menu() for a in window.menuBar().actions()}
    assert {"&File", "&Edit", "&View"} <= set(menus)
    file_items = [a.text() for a in menus["&File"].actions() if a.text()]
    assert file_items == ["&New", "&Open…", "Open &Recent", "&Save", "Save &As…", "&Import Media…", "&Export…",
                          "&Quit"]
    assert window.undo_action.shortcut() == QKeySequence("Ctrl+Z")
    assert window.redo_action.shortcut() == QKeySequence("Ctrl+Shift+Z")
    assert window.import_action.shortcut() == QKeySequence("Ctrl+I")
    assert not window.recent_menu.isEnabled()
    view_items = [a.text() for a in menus["&View"].actions()]
    assert "Media" in view_items and "Inspector" in view_items and "Jobs" in view_items
    for dock in (window.bin_dock, window.inspector_dock, window.timeline_dock, window.jobs_dock):
        assert dock.objectName()  # saveState needs names


def test_title_dirty_mark_and_undo_labels(window):
    assert window.windowTitle() == "Untitled — Shotline Studio"
    assert not window.undo_action.isEnabled()
    rename_v1(window)
    assert window.windowTitle() == "Untitled* — Shotline Studio" and window.isWindowModified()
    assert window.undo_action.text() == "&Undo Rename track" and window.undo_action.isEnabled()
    window.undo_action.trigger()
    assert window.windowTitle() == "Untitled — Shotline Studio"
    assert window.redo_action.text() == "&Redo Rename track"
    window.redo_action.trigger()
    assert window.history.dirty


def test_save_as_open_and_recent_list(window, prompts, settings, tmp_path):
    rename_v1(window)
    prompts.save_path = str(tmp_path / "new.studio")
    assert window.save()  # no path yet: asks where
    assert window.path == str(tmp_path / "new.studio") and not window.dirty
    assert window.windowTitle() == "Untitled — Shotline Studio"
    other = saved_project(tmp_path)
    assert window.open_project(other)
    assert window.project.name == "Cut" and window.windowTitle() == "Cut — Shotline Studio"
    assert settings.recent_projects() == [str(other), str(tmp_path / "new.studio")]
    recent = [a.data() for a in window.recent_menu.actions() if a.data()]
    assert recent == [str(other), str(tmp_path / "new.studio")] and window.recent_menu.isEnabled()
    recent_action = next(a for a in window.recent_menu.actions() if a.data() == str(tmp_path / "new.studio"))
    recent_action.trigger()
    assert window.path == str(tmp_path / "new.studio")
    assert window.project.sequence.tracks[0].name == "Main"


def test_open_error_is_one_line_and_keeps_the_project(window, prompts, tmp_path):
    bad = tmp_path / "bad.studio"
    bad.write_text("{")
    assert not window.open_project(bad)
    assert len(prompts.errors) == 1 and "\n" not in prompts.errors[0] and "not valid JSON" in prompts.errors[0]
    assert window.windowTitle() == "Untitled — Shotline Studio" and window.path is None


def test_recovery_prompt_after_a_crash(window, prompts, tmp_path):
    path = saved_project(tmp_path)
    crashed = replace(new_project(640, 360, Fraction(25), name="Cut"), name="Cut (unsaved work)")
    autosave = write_autosave(crashed, path)
    later = time.time() + 30
    os.utime(autosave, (later, later))  # newer than the project file
    prompts.recover_answer = True
    assert window.open_project(path)
    assert prompts.asked == ["recover:cut.studio"]
    assert window.project.name == "Cut (unsaved work)" and window.dirty
    assert window.windowTitle() == "Cut (unsaved work)* — Shotline Studio"
    assert autosave.exists() and [a.path for a in list_autosaves(path)] == [autosave]  # never deleted
    window.undo_action.trigger()  # back to the saved version
    assert window.project.name == "Cut" and not window.dirty


def test_open_saved_version_instead_of_recovering(window, prompts, tmp_path):
    path = saved_project(tmp_path)
    autosave = write_autosave(replace(new_project(), name="Other"), path)
    later = time.time() + 30
    os.utime(autosave, (later, later))
    prompts.recover_answer = False
    assert window.open_project(path)
    assert prompts.asked == ["recover:cut.studio"] and window.project.name == "Cut" and not window.dirty
    assert autosave.exists()


def test_no_prompt_when_the_autosave_is_older(window, prompts, tmp_path):
    path = saved_project(tmp_path)
    autosave = write_autosave(replace(new_project(), name="Other"), path)
    earlier = time.time() - 60
    os.utime(autosave, (earlier, earlier))
    assert window.open_project(path) and prompts.asked == [] and window.project.name == "Cut"


def test_unsaved_changes_prompt_on_close_new_and_open(window, prompts, tmp_path):
    window.show()
    rename_v1(window)
    prompts.unsaved = "cancel"
    assert not window.close() and window.isVisible()
    assert prompts.asked == ["unsaved:Untitled"]
    assert not window.new_project() and window.history.dirty
    assert not window.open_project(saved_project(tmp_path))
    assert window.project.sequence.tracks[0].name == "Main"
    prompts.unsaved = "save"
    prompts.save_path = str(tmp_path / "kept.studio")
    assert window.new_project()
    assert (tmp_path / "kept.studio").exists() and window.project.sequence.tracks[0].name == "V1"
    rename_v1(window, "Again")
    prompts.unsaved = "discard"
    assert window.close() and not window.isVisible()


def test_close_remembers_the_layout(window, settings, prompts):
    window.close()
    assert settings.qsettings.value("window/geometry") is not None
    assert settings.qsettings.value("window/state") is not None


def test_autosave_runs_only_with_a_path(window, tmp_path):
    assert window.autosave.autosaver is None
    path = saved_project(tmp_path)
    window.open_project(path)
    assert window.autosave.path == str(path) and window.autosave.autosaver.interval == 3600
    rename_v1(window)
    written = window.autosave.save_now()
    assert written is not None and written.parent.name == ".cut.studio.autosave"


def test_bin_import_lands_in_the_window_history(qtbot, window, tmp_path):
    from studio.media.synth import write_test_video
    media = tmp_path / "clip.mp4"
    write_test_video(media, frames=5)
    window.import_media([str(media)])
    qtbot.waitUntil(lambda: len(window.project.assets) == 1, timeout=WAIT)
    qtbot.waitUntil(lambda: window.undo_action.text() == "&Undo Import media", timeout=WAIT)  # after the transaction
    qtbot.waitUntil(lambda: "Imported 1 file" in window.statusBar().currentMessage(), timeout=WAIT)


def test_status_messages_and_audio_notice_once(window):
    window.notice_once("No audio device: playing silently")
    assert window.statusBar().currentMessage() == "No audio device: playing silently"
    window.show_status("something else")
    window.notice_once("No audio device: playing silently")
    assert window.statusBar().currentMessage() == "something else"
    if window.viewer is not None:
        window.viewer.audio_notice.emit("once more")
        assert window.statusBar().currentMessage() == "once more"


def test_export_dialog_opens_non_modal(window):
    window.history.apply(AddAsset(Asset("a", "/x/a.mp4", "a.mp4", "video", info=MediaInfo(Fraction(1), True))))
    dlg = window.show_export_dialog()
    assert dlg.isVisible() and not dlg.isModal()
    assert dlg.in_out_button.isEnabled() == (window.in_out() is not None)
    dlg.close()


# --- jobs panel ---------------------------------------------------------------------------------
def test_jobs_panel_shows_progress_and_cancel_works(qtbot, jobs):
    panel = JobsPanel(jobs, linger_ms=50)
    qtbot.addWidget(panel)
    reported = threading.Event()

    def work(ctx):
        ctx.progress(0.25, "step 1 of 4")
        reported.set()
        while not ctx.cancelled:
            time.sleep(0.01)
        ctx.check()

    handle = jobs.submit(Job(work, name="slow job"))
    qtbot.waitUntil(lambda: handle.id in panel.rows and panel.rows[handle.id].bar.value() == 250, timeout=WAIT)
    row = panel.rows[handle.id]
    assert row.title.text() == "<b>slow job</b>" and row.message.text() == "step 1 of 4"
    assert row.cancel_button.isVisibleTo(panel) and panel.running_count() == 1
    row.cancel_button.click()
    qtbot.waitUntil(lambda: row.state == "cancelled", timeout=WAIT)
    assert handle.state.value == "cancelled" and not row.cancel_button.isVisibleTo(panel)
    qtbot.waitUntil(lambda: handle.id not in panel.rows, timeout=WAIT)  # cancelled rows go
    assert panel.empty_label.isVisibleTo(panel)


def test_jobs_panel_failure_details(qtbot, jobs):
    panel = JobsPanel(jobs)
    qtbot.addWidget(panel)

    def broken(ctx):
        raise ValueError("the model file is damaged\nsecond line")

    handle = jobs.submit(Job(broken, name="generate"))
    qtbot.waitUntil(lambda: handle.id in panel.rows and panel.rows[handle.id].state == "failed", timeout=WAIT)
    row = panel.rows[handle.id]
    assert row.message.text() == "the model file is damaged"
    assert row.details_button.isVisibleTo(panel)
    dialog = row.show_details()
    assert dialog.isVisible() and "ValueError" in row.details_text.toPlainText()
    dialog.close()
    row.dismiss_button.click()
    assert handle.id not in panel.rows


def test_format_eta():
    assert format_eta(None) == "" and format_eta(4.4) == "4 s left"
    assert format_eta(125) == "2 min 05 s left" and format_eta(3720) == "1 h 02 min left"


# --- start-up -----------------------------------------------------------------------------------
def test_main_window_start_never_imports_torch(tmp_path):
    probe = (
        "import os, sys\n"
        "os.environ['QT_QPA_PLATFORM'] = 'offscreen'\n"
        "from PySide6.QtCore import QSettings\n"
        f"QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, {str(tmp_path)!r})\n"
        "from studio.ui.app import application\n"
        "import studio.ui.main_window as mw\n"
        "app = application()\n"
        "w = mw.MainWindow()\n"
        "w.show(); app.processEvents()\n"
        "print(sorted(m for m in sys.modules if m == 'torch' or m.startswith('studio.ai')))\n"
        "w.close()\n"
    )
    env = dict(os.environ, SHOTLINE_CACHE_DIR=str(tmp_path / "cache"))
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_run_editor_opens_the_main_window_and_reports_errors(qtbot, tmp_path, monkeypatch):
    from PySide6.QtCore import QTimer
    from PySide6.QtGui import QPalette
    from PySide6.QtWidgets import QApplication

    from studio.ui import app as app_module

    monkeypatch.setenv("SHOTLINE_CACHE_DIR", str(tmp_path / "cache"))
    bad = tmp_path / "bad.studio"
    bad.write_bytes(b"\xff\xfe garbage")
    seen = {}

    def inspect():
        app = QApplication.instance()
        try:
            w = [w for w in app.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()][-1]
            box = w.prompts.error_box
            seen.update(error=w.last_error, title=w.windowTitle(), box=box is not None and box.isVisible(),
                        dark=app.palette().color(QPalette.ColorRole.Window).lightness() < 80)
            box.close()
            w.close()
            w.deleteLater()
        finally:
            app.quit()

    QTimer.singleShot(0, inspect)
    assert app_module.run_editor(str(bad)) == 0
    assert seen == {"error": f"cannot open '{bad}': not a text file (not UTF-8)",
                    "title": "Untitled — Shotline Studio", "box": True, "dark": True}


def test_shortcuts_page_lists_every_menu_shortcut(window):
    from studio.ui.shortcuts_help import shortcut_rows

    rows = shortcut_rows(window.menuBar())
    keys = {(menu.split(" ›")[0], text): k for menu, text, k in rows}
    assert keys[("Edit", "Undo")] == "Ctrl+Z" and keys[("File", "Import Media…")] == "Ctrl+I"
    assert any(menu == "Playback" and k == "Space" for menu, _, k in rows)
    assert any(menu == "Timeline" and "Shift+Del" in k for menu, _, k in rows)
    window.shortcuts_action.trigger()
    dialog = window.shortcuts_dialog
    assert dialog.isVisible() and not dialog.isModal()
    listed = sum(dialog.tree.topLevelItem(i).childCount() for i in range(dialog.tree.topLevelItemCount()))
    assert listed == len(rows) >= 25
