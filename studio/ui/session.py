"""What outlives one window: settings (recent projects, geometry), autosave, crash recovery, and the
questions the main window asks the user (``Prompts``, replaceable in tests).

Recovery never deletes an autosave (DESIGN.md fixed point 4): choosing "Recover" loads the
autosave on top of the saved version as one undoable step, so "Undo" returns to the file on disk
and the autosave files stay where they are.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QByteArray, QObject, QSettings, Qt, Signal
from PySide6.QtWidgets import QFileDialog, QMainWindow, QMessageBox, QWidget

from studio.core.autosave import AutosaveFile, Autosaver
from studio.core.edits.base import Command
from studio.core.project import Project

ORGANIZATION = "Shotline"
APPLICATION = "Studio"
MAX_RECENT = 10
PROJECT_FILTER = "Shotline Studio projects (*.studio);;All files (*)"
MEDIA_FILTER = ("Media (*.mp4 *.mov *.mkv *.webm *.avi *.m4v *.mxf *.wav *.mp3 *.flac *.ogg *.m4a *.aac "
                "*.png *.jpg *.jpeg *.tif *.tiff *.bmp *.webp);;All files (*)")


class SessionSettings:
    """Recent projects, last folders, window geometry and dock layout in QSettings.

    The default store is QSettings("Shotline", "Studio"); tests pass their own (an ini file).
    """

    def __init__(self, settings: QSettings | None = None) -> None:
        self.qsettings = settings if settings is not None else QSettings(ORGANIZATION, APPLICATION)

    @classmethod
    def at(cls, path: str | os.PathLike[str]) -> SessionSettings:
        """Settings kept in the ini file ``path`` (tests, portable installs)."""
        return cls(QSettings(os.fspath(path), QSettings.Format.IniFormat))

    # --- recent projects -----------------------------------------------------------------
    def recent_projects(self) -> list[str]:
        value = self.qsettings.value("recent/projects", [])
        if isinstance(value, str):  # QSettings returns a lone entry as a string
            value = [value] if value else []
        return [str(v) for v in (value or [])][:MAX_RECENT]

    def add_recent(self, path: str | os.PathLike[str]) -> list[str]:
        path = os.path.abspath(os.fspath(path))
        recent = [path] + [p for p in self.recent_projects() if p != path]
        self.qsettings.setValue("recent/projects", recent[:MAX_RECENT])
        return recent[:MAX_RECENT]

    def remove_recent(self, path: str) -> None:
        self.qsettings.setValue("recent/projects", [p for p in self.recent_projects() if p != path])

    def clear_recent(self) -> None:
        self.qsettings.setValue("recent/projects", [])

    # --- folders ------------------------------------------------------------------------
    def last_dir(self, kind: str) -> str:
        return str(self.qsettings.value(f"dirs/{kind}", "") or "")

    def set_last_dir(self, kind: str, path: str | os.PathLike[str]) -> None:
        p = Path(path)
        self.qsettings.setValue(f"dirs/{kind}", str(p if p.is_dir() else p.parent))

    # --- window -------------------------------------------------------------------------
    def save_window(self, window: QMainWindow) -> None:
        self.qsettings.setValue("window/geometry", window.saveGeometry())
        self.qsettings.setValue("window/state", window.saveState())
        self.qsettings.sync()

    def restore_window(self, window: QMainWindow) -> bool:
        """Restore geometry and dock layout; False when nothing (valid) was stored."""
        geometry, state = self.qsettings.value("window/geometry"), self.qsettings.value("window/state")
        ok = False
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            ok = window.restoreGeometry(geometry)
        if isinstance(state, QByteArray) and not state.isEmpty():
            ok = window.restoreState(state) and ok
        return ok

    def sync(self) -> None:
        self.qsettings.sync()


class RestoreSnapshot(Command):
    """Replace the whole project with ``project`` (recovering an autosave): one undo step."""

    def __init__(self, project: Project, label: str = "Recover autosave") -> None:
        super().__init__()
        self.project, self.label = project, label

    def _apply(self, project: Project) -> Project:
        return self.project


class AutosaveController(QObject):
    """Runs an ``Autosaver`` for the current project file (none while the project has no path).

    The autosaver's thread only reads immutable project states; a write error reaches the UI
    thread through ``error`` (queued).
    """

    error = Signal(str)
    _error_posted = Signal(str)

    def __init__(self, get_project: Callable[[], Project], interval: float = 60.0,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.get_project, self.interval = get_project, interval
        self.autosaver: Autosaver | None = None
        self._error_posted.connect(self.error, Qt.ConnectionType.QueuedConnection)

    @property
    def path(self) -> str | None:
        return os.fspath(self.autosaver.project_path) if self.autosaver is not None else None

    def set_path(self, path: str | os.PathLike[str] | None) -> None:
        """Autosave beside ``path`` from now on (changes after this call), or stop (None)."""
        self.stop()
        if path is None:
            return
        self.autosaver = Autosaver(self.get_project, os.fspath(path), self.interval,
                                   on_error=lambda e: self._error_posted.emit(f"autosave failed: {e}"))
        self.autosaver.start()

    def save_now(self) -> Path | None:
        return self.autosaver.save_now() if self.autosaver is not None else None

    def stop(self) -> None:
        if self.autosaver is not None:
            self.autosaver.stop()
            self.autosaver = None


class Prompts:
    """Every question and file dialog of the main window. Tests replace the methods.

    ``unsaved_changes`` returns "save", "discard" or "cancel"; ``recover`` True to load the
    autosave; the file dialogs return paths (empty when cancelled); ``error`` never blocks.
    """

    def __init__(self, parent: QWidget) -> None:
        self.parent = parent
        self.error_box: QMessageBox | None = None

    def unsaved_changes(self, name: str) -> str:
        box = QMessageBox(QMessageBox.Icon.Warning, "Unsaved changes", f"Save the changes to “{name}”?",
                          QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                          | QMessageBox.StandardButton.Cancel, self.parent)
        box.setDefaultButton(QMessageBox.StandardButton.Save)
        answer = box.exec()
        return {QMessageBox.StandardButton.Save: "save",
                QMessageBox.StandardButton.Discard: "discard"}.get(QMessageBox.StandardButton(answer), "cancel")

    def recover(self, project_path: str, autosave: AutosaveFile) -> bool:
        box = QMessageBox(QMessageBox.Icon.Question, "Recover unsaved work",
                          f"An autosave of “{os.path.basename(project_path)}” is newer than the saved file "
                          "(the editor may have closed unexpectedly).", QMessageBox.StandardButton.NoButton,
                          self.parent)
        box.setInformativeText(f"Autosave: {autosave.path.name}\nThe autosave files are kept either way.")
        recover = box.addButton("Recover", QMessageBox.ButtonRole.AcceptRole)
        box.addButton("Open saved version", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(recover)
        box.exec()
        return box.clickedButton() is recover

    def open_project_path(self, start: str) -> str:
        return QFileDialog.getOpenFileName(self.parent, "Open project", start, PROJECT_FILTER)[0]

    def save_project_path(self, start: str) -> str:
        path = QFileDialog.getSaveFileName(self.parent, "Save project as", start, PROJECT_FILTER)[0]
        if path and not path.endswith(".studio"):
            path += ".studio"
        return path

    def import_media_paths(self, start: str) -> list[str]:
        return QFileDialog.getOpenFileNames(self.parent, "Import media", start, MEDIA_FILTER)[0]

    def relink_folder(self, start: str) -> str:
        return QFileDialog.getExistingDirectory(self.parent, "Find missing media in folder", start)

    def export_path(self, start: str, file_filter: str) -> str:
        return QFileDialog.getSaveFileName(self.parent, "Export to", start, file_filter)[0]

    def error(self, title: str, message: str) -> None:
        if self.error_box is None:
            self.error_box = QMessageBox(QMessageBox.Icon.Warning, title, message, QMessageBox.StandardButton.Ok,
                                         self.parent)
        self.error_box.setWindowTitle(title)
        self.error_box.setText(message)
        self.error_box.open()  # window-modal, returns at once
