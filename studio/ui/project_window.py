"""The editor's main window for now: a project's settings, media, tracks and clips at a glance."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QLabel, QMainWindow, QMessageBox, QVBoxLayout, QWidget

from studio.core.changes import Change
from studio.core.errors import StudioError
from studio.core.factory import new_project
from studio.core.history import History
from studio.core.project import Project
from studio.core.projectfile import load_project

from . import describe
from .project_tree import ProjectTree
from .theme import MUTED_COLOR, WARNING_COLOR

log = logging.getLogger(__name__)

APP_NAME = "Shotline Studio"
FILE_FILTER = "Shotline Studio projects (*.studio);;All files (*)"
#: Shows a one-line error to the user: (parent window, title, message).
ErrorReporter = Callable[[QWidget, str, str], None]


class ProjectWindow(QMainWindow):
    """Lists a project's tracks and clips; every change goes through ``history``.

    ``report_error`` replaces the warning box (tests pass a recorder); by default a
    window-modal QMessageBox is opened without blocking (``error_box``).
    """

    def __init__(self, project: Project | None = None, path: str | os.PathLike[str] | None = None, *,
                 report_error: ErrorReporter | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.history = History(project if project is not None else new_project())
        self.path: str | None = os.fspath(path) if path is not None else None
        self.last_error: str | None = None
        self.error_box: QMessageBox | None = None
        self._report_error = report_error or self._show_error_box
        self.resize(1100, 640)

        central = QWidget(self)
        layout = QVBoxLayout(central)
        layout.setContentsMargins(8, 8, 8, 0)
        self.summary = QLabel(central)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.tree = ProjectTree(central)
        layout.addWidget(self.summary)
        layout.addWidget(self.tree, 1)
        self.setCentralWidget(central)
        self.statusBar()
        self._build_menus()

        self.history.changed.connect(self._on_history_changed)
        self.refresh()

    # --- menus ---------------------------------------------------------------------------
    def _action(self, text: str, slot: Callable[[], object], shortcut: QKeySequence | str | None = None) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(lambda _checked=False: slot())
        return action

    def _build_menus(self) -> None:
        self.open_action = self._action("&Open…", self.choose_project, QKeySequence.StandardKey.Open)
        self.reload_action = self._action("&Reload", self.reload, "F5")
        self.quit_action = self._action("&Quit", self.close, "Ctrl+Q")
        self.quit_action.setMenuRole(QAction.MenuRole.QuitRole)
        self.undo_action = self._action("&Undo", self.history.undo, "Ctrl+Z")
        self.redo_action = self._action("&Redo", self.history.redo, "Ctrl+Shift+Z")
        file_menu = self.menuBar().addMenu("&File")
        file_menu.addActions([self.open_action, self.reload_action])
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        edit_menu = self.menuBar().addMenu("&Edit")
        edit_menu.addActions([self.undo_action, self.redo_action])

    # --- state ---------------------------------------------------------------------------
    @property
    def project(self) -> Project:
        return self.history.project

    def refresh(self) -> None:
        """Show the current project: title, header, tree and the Edit/File action states."""
        project = self.project
        self.setWindowTitle(f"{APP_NAME} — {project.name}")
        self.summary.setText(describe.summary_html(project, self.path, WARNING_COLOR, MUTED_COLOR))
        self.tree.set_project(project)
        h = self.history
        self.undo_action.setEnabled(h.can_undo)
        self.undo_action.setText(f"&Undo {h.undo_label}" if h.can_undo else "&Undo")
        self.redo_action.setEnabled(h.can_redo)
        self.redo_action.setText(f"&Redo {h.redo_label}" if h.can_redo else "&Redo")
        self.reload_action.setEnabled(self.path is not None)

    def _on_history_changed(self, change: Change) -> None:
        self.refresh()

    def set_project(self, project: Project, path: str | os.PathLike[str] | None = None) -> None:
        """Show ``project`` (read from ``path``) with a fresh history."""
        self.path = os.fspath(path) if path is not None else None
        self.history.reset(project)  # emits changed -> refresh

    # --- files ---------------------------------------------------------------------------
    def open_project(self, path: str | os.PathLike[str]) -> bool:
        """Load ``path``; on failure keep the current project and report the error in one line."""
        path = os.fspath(path)
        try:
            project = load_project(path)
        except StudioError as e:
            self.show_error(str(e))
            return False
        except Exception as e:  # a bug while reading: still one line for the user, details in the log
            log.exception("unexpected error opening %s", path)
            self.show_error(f"cannot open '{path}': unexpected error ({type(e).__name__}: {e})")
            return False
        self.last_error = None
        self.set_project(project, path)
        self.statusBar().showMessage(f"Opened {path}", 5000)
        return True

    def reload(self) -> bool:
        """Read the current file again (changes since opening are dropped)."""
        if self.path is None:
            self.statusBar().showMessage("Nothing to reload: the project has no file", 5000)
            return False
        return self.open_project(self.path)

    def choose_project(self) -> bool:
        start = os.path.dirname(self.path) if self.path else ""
        path, _ = QFileDialog.getOpenFileName(self, "Open project", start, FILE_FILTER)
        return self.open_project(path) if path else False

    # --- errors --------------------------------------------------------------------------
    def show_error(self, message: str) -> None:
        """Tell the user (status bar + warning box) without raising or blocking."""
        self.last_error = message
        self.statusBar().showMessage(message)
        self._report_error(self, APP_NAME, message)

    def _show_error_box(self, parent: QWidget, title: str, message: str) -> None:
        if self.error_box is None:
            self.error_box = QMessageBox(QMessageBox.Icon.Warning, title, message, QMessageBox.StandardButton.Ok,
                                         parent)
        self.error_box.setText(message)
        self.error_box.open()  # window-modal, returns at once
