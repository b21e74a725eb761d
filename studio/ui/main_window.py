"""The editor's main window: menus, docks (bin, viewer, inspector, timeline, jobs), files and sessions.

Every project change goes through ``self.history``; every heavy step (probing, thumbnails, relink,
export) runs in the job pool (``self.jobs``). Questions to the user go through ``self.prompts``
(``session.Prompts``), which tests replace. Nothing here imports torch or ``studio.ai``.
"""

from __future__ import annotations

import importlib
import logging
import os
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, QUrl
from PySide6.QtGui import QAction, QCloseEvent, QDesktopServices, QKeySequence
from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow, QMenu, QWidget

from studio.core.autosave import newer_autosave, recover
from studio.core.changes import Change
from studio.core.errors import StudioError
from studio.core.factory import new_project
from studio.core.history import History
from studio.core.project import Project
from studio.core.projectfile import load_project, save_project
from studio.jobs import Scheduler
from studio.media.cache import CacheStore

from .ai_actions import AiActions
from .bin import MediaBin
from .export_dialog import ExportDialog
from .generate_actions import GenerateActions
from .inspector import Inspector
from .jobs_adapter import JobsAdapter
from .jobs_panel import JobsPanel
from .session import AutosaveController, Prompts, RestoreSnapshot, SessionSettings
from .theme import MUTED_COLOR

log = logging.getLogger(__name__)

APP_NAME = "Shotline Studio"
STATUS_MS = 6000
#: Edits are shown in the viewer after this quiet time (ms): one engine rebuild per burst of edits.
VIEWER_REFRESH_MS = 120


def placeholder(text: str, parent: QWidget | None = None) -> QLabel:
    label = QLabel(text, parent)
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.setStyleSheet(f"color: {MUTED_COLOR}; background: #1c1c1e;")
    label.setMinimumSize(200, 80)
    return label


def _load(module: str, name: str):
    """A class from a sibling panel package, or None when it is absent or broken (logged)."""
    try:
        return getattr(importlib.import_module(module), name)
    except Exception as e:  # a panel being built elsewhere must not keep the editor from starting
        log.warning("%s.%s unavailable (%s: %s); showing a placeholder", module, name, type(e).__name__, e)
        return None


class MainWindow(QMainWindow):
    """The editor. ``prompts``, ``settings`` and ``jobs`` are injectable (tests); ``presets`` and
    ``store`` go to the export dialog and the thumbnail cache."""

    def __init__(self, project: Project | None = None, path: str | os.PathLike[str] | None = None, *,
                 prompts: Prompts | None = None, settings: SessionSettings | None = None,
                 jobs: JobsAdapter | None = None, store: CacheStore | None = None, presets=None,
                 autosave_interval: float = 60.0, open_url: Callable[[QUrl], object] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("MainWindow")
        self.history = History(project if project is not None else new_project())
        self.path: str | None = os.path.abspath(os.fspath(path)) if path is not None else None
        self.prompts = prompts if prompts is not None else Prompts(self)
        self.settings = settings if settings is not None else SessionSettings()
        self._owns_jobs = jobs is None
        self.jobs = jobs if jobs is not None else JobsAdapter(Scheduler(name="editor"), self)
        self.presets, self.open_url = presets, open_url or QDesktopServices.openUrl
        self.export_dialog: ExportDialog | None = None
        self.ai_actions: AiActions | None = None  # foley and conform on the selected clip (Timeline menu)
        self.generate_actions: GenerateActions | None = None  # generate / extend / regenerate shots
        self.last_error: str | None = None
        self._force_dirty = False
        self._syncing = False
        self._notices: set[str] = set()
        self.autosave = AutosaveController(lambda: self.history.project, autosave_interval, self)
        self.autosave.error.connect(self.show_status)
        self.resize(1600, 1000)

        self._build_panels(store)
        self._build_menus()
        self._viewer_timer = QTimer(self)
        self._viewer_timer.setSingleShot(True)
        self._viewer_timer.setInterval(VIEWER_REFRESH_MS)
        self._viewer_timer.timeout.connect(self._refresh_viewer)
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(0)
        self._refresh_timer.timeout.connect(self.refresh)
        self.history.changed.connect(self._on_changed)
        self.settings.restore_window(self)
        self._project_loaded()

    # --- panels ------------------------------------------------------------------------------
    def _dock(self, title: str, name: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)  # saveState/restoreState key
        dock.setWidget(widget)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable
                         | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self.addDockWidget(area, dock)
        return dock

    def _build_panels(self, store: CacheStore | None) -> None:
        timeline_cls = _load("studio.ui.timeline", "TimelineView")
        viewer_cls = _load("studio.ui.viewer", "ViewerWidget")
        previews_cls = _load("studio.ui.timeline.previews", "MediaPreviews") if timeline_cls else None
        previews = previews_cls(store, self.jobs, self) if previews_cls else None  # filmstrips, waveforms
        self.timeline = timeline_cls(self.history, self, previews=previews) if timeline_cls else None
        self.viewer = viewer_cls(self) if viewer_cls else None
        self.bin = MediaBin(self.history, self.jobs, prompts=self.prompts, store=store, parent=self)
        self.inspector = Inspector(self.history, self)
        self.jobs_panel = JobsPanel(self.jobs, self)

        viewer_widget = self.viewer if self.viewer is not None else placeholder("Viewer (not available)", self)
        viewer_widget.setMinimumSize(320, 200)
        self.setCentralWidget(viewer_widget)
        timeline_widget = self.timeline if self.timeline is not None else placeholder("Timeline (not available)")
        self.setCorner(Qt.Corner.BottomLeftCorner, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.BottomDockWidgetArea)
        area = Qt.DockWidgetArea
        self.bin_dock = self._dock("Media", "bin", self.bin, area.LeftDockWidgetArea)
        self.inspector_dock = self._dock("Inspector", "inspector", self.inspector, area.RightDockWidgetArea)
        self.timeline_dock = self._dock("Timeline", "timeline", timeline_widget, area.BottomDockWidgetArea)
        self.jobs_dock = self._dock("Jobs", "jobs", self.jobs_panel, area.BottomDockWidgetArea)
        self.splitDockWidget(self.timeline_dock, self.jobs_dock, Qt.Orientation.Vertical)
        self.resizeDocks([self.bin_dock, self.inspector_dock], [330, 370], Qt.Orientation.Horizontal)
        self.resizeDocks([self.timeline_dock, self.jobs_dock], [340, 70], Qt.Orientation.Vertical)

        for source in (self.bin, self.inspector, self.timeline):
            if source is not None and hasattr(source, "status_message"):
                source.status_message.connect(self.show_status)
        self.inspector.playhead_requested.connect(self.set_playhead)
        if self.timeline is not None:
            self.timeline.playhead_changed.connect(self._timeline_playhead)
            self.timeline.selection_changed.connect(self.inspector.set_selection)
        if self.viewer is not None:
            self.viewer.frame_changed.connect(self._viewer_frame)
            self.viewer.audio_notice.connect(self.notice_once)

    # --- menus -------------------------------------------------------------------------------
    def _action(self, text: str, slot: Callable[[], object], shortcut=None, name: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.setObjectName(name or text)
        action.triggered.connect(lambda _checked=False: slot())
        self.addAction(action)
        return action

    def _build_menus(self) -> None:
        K = QKeySequence.StandardKey  # noqa: N806
        self.new_action = self._action("&New", self.new_project, K.New)
        self.open_action = self._action("&Open…", self.open_project, K.Open)
        self.save_action = self._action("&Save", self.save, K.Save)
        self.save_as_action = self._action("Save &As…", self.save_as, "Ctrl+Shift+S")
        self.import_action = self._action("&Import Media…", self.bin.choose_and_import, "Ctrl+I")
        self.export_action = self._action("&Export…", self.show_export_dialog, "Ctrl+E")
        self.quit_action = self._action("&Quit", self.close, "Ctrl+Q")
        self.quit_action.setMenuRole(QAction.MenuRole.QuitRole)
        self.undo_action = self._action("&Undo", self.undo, "Ctrl+Z")
        self.redo_action = self._action("&Redo", self.redo, "Ctrl+Shift+Z")
        self.bin.import_action.setShortcut(QKeySequence())  # the window's action owns Ctrl+I

        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addActions([self.new_action, self.open_action])
        self.recent_menu = QMenu("Open &Recent", self)
        file_menu.addMenu(self.recent_menu)
        file_menu.addSeparator()
        file_menu.addActions([self.save_action, self.save_as_action])
        file_menu.addSeparator()
        file_menu.addActions([self.import_action, self.export_action])
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        edit_menu = bar.addMenu("&Edit")
        edit_menu.addActions([self.undo_action, self.redo_action])
        if self.timeline is not None:
            timeline_menu = bar.addMenu("&Timeline")
            timeline_menu.addActions(self.timeline.actions())
            self.ai_actions = AiActions(self)
            timeline_menu.addSeparator()
            timeline_menu.addActions(self.ai_actions.actions())
            self.generate_actions = GenerateActions(self)
            timeline_menu.addSeparator()
            timeline_menu.addActions(self.generate_actions.actions())
        if self.viewer is not None:
            playback_menu = bar.addMenu("&Playback")
            for action in self.viewer.actions():
                action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
                self.addAction(action)
            playback_menu.addActions(self.viewer.actions())
        self.view_menu = bar.addMenu("&View")
        for dock in (self.bin_dock, self.inspector_dock, self.timeline_dock, self.jobs_dock):
            self.view_menu.addAction(dock.toggleViewAction())
        self.view_menu.addSeparator()
        grid = self._action("Media as &Grid", lambda: self.bin.set_grid(True))
        listing = self._action("Media as &List", lambda: self.bin.set_grid(False))
        self.view_menu.addActions([grid, listing])
        if self.timeline is not None:
            self.view_menu.addAction(self._action("&Zoom Timeline to Fit", self.timeline.zoom_to_fit))
        help_menu = bar.addMenu("&Help")
        self.shortcuts_action = self._action("&Keyboard Shortcuts", self.show_shortcuts, "F1")
        help_menu.addAction(self.shortcuts_action)
        self._rebuild_recent()

    def show_shortcuts(self) -> None:
        """The shortcuts page, built from the live menus (non-modal)."""
        from .shortcuts_help import ShortcutsDialog

        self.shortcuts_dialog = ShortcutsDialog(self.menuBar(), self)
        self.shortcuts_dialog.show()

    def _rebuild_recent(self) -> None:
        self.recent_menu.clear()
        recent = self.settings.recent_projects()
        for path in recent:
            action = self.recent_menu.addAction(os.path.basename(path))
            action.setToolTip(path)
            action.setData(path)
            action.triggered.connect(lambda _checked=False, p=path: self.open_project(p))
        if recent:
            self.recent_menu.addSeparator()
            clear = self.recent_menu.addAction("Clear List")
            clear.triggered.connect(lambda _checked=False: (self.settings.clear_recent(), self._rebuild_recent()))
        self.recent_menu.setEnabled(bool(recent))

    # --- state -------------------------------------------------------------------------------
    @property
    def project(self) -> Project:
        return self.history.project

    @property
    def dirty(self) -> bool:
        return self.history.dirty or self._force_dirty

    def refresh(self) -> None:
        """Title (name, * when unsaved) and the Edit/File action states."""
        self.setWindowTitle(f"{self.project.name}{'*' if self.dirty else ''} — {APP_NAME}")
        self.setWindowModified(self.dirty)
        h = self.history
        self.undo_action.setEnabled(h.can_undo)
        self.undo_action.setText(f"&Undo {h.undo_label}" if h.can_undo else "&Undo")
        self.redo_action.setEnabled(h.can_redo)
        self.redo_action.setText(f"&Redo {h.redo_label}" if h.can_redo else "&Redo")

    def undo(self) -> None:
        self.history.end_merge()
        self.history.undo()

    def redo(self) -> None:
        self.history.end_merge()
        self.history.redo()

    def _on_changed(self, change: Change) -> None:
        self.refresh()
        # Inside a transaction the undo entry does not exist yet (can_undo is False) and History
        # emits nothing when it closes: look again once the current event is done.
        self._refresh_timer.start()
        if self.viewer is not None and (change.ranges or change.tracks_changed or change.assets_changed
                                        or change.settings_changed):
            self._viewer_timer.start()

    def _project_loaded(self) -> None:
        """After a project was put in place (new, open, recover): panels, autosave, title."""
        self.autosave.set_path(self.path)
        self.inspector.set_selection([])
        self._viewer_timer.stop()
        self._refresh_viewer(keep_frame=False)
        if self.timeline is not None:
            QTimer.singleShot(0, self, self._fit_timeline)
        self.refresh()

    def _fit_timeline(self) -> None:
        if self.timeline is not None and self.project.sequence.duration > 0:
            self.timeline.zoom_to_fit()

    def _set_project(self, project: Project, path: str | None) -> None:
        self.path = path
        self._force_dirty = False
        self.history.reset(project)
        self._project_loaded()

    # --- viewer and playhead -------------------------------------------------------------------
    def _refresh_viewer(self, keep_frame: bool = True) -> None:
        viewer = self.viewer
        if viewer is None:
            return
        engine = getattr(viewer, "engine", None)
        frame = viewer.current_frame if keep_frame and engine is not None else 0
        marks = (engine.in_point, engine.out_point) if keep_frame and engine is not None else (None, None)
        playing = bool(engine is not None and engine.playing)
        try:
            viewer.set_project(self.project)
            engine = viewer.engine
            if engine is not None:
                engine.set_in(marks[0])
                engine.set_out(marks[1])
                if frame:
                    viewer.seek(min(frame, max(0, engine.duration - 1)))
                if playing:
                    viewer.play()
        except Exception as e:  # the viewer must never take the editor down
            log.exception("viewer could not show the project")
            self.show_status(f"viewer: {e}")

    def set_playhead(self, frame: int) -> None:
        """Move the playhead everywhere (timeline, viewer, inspector)."""
        if self._syncing:
            return
        self._syncing = True
        try:
            if self.timeline is not None:
                self.timeline.set_playhead(frame)
            if self.viewer is not None:
                self.viewer.seek(frame)
            self.inspector.set_playhead(frame)
        finally:
            self._syncing = False

    def playhead(self) -> int:
        if self.timeline is not None:
            return self.timeline.playhead()
        return self.inspector.clip_panel.playhead

    def _timeline_playhead(self, frame: int) -> None:
        self.inspector.set_playhead(frame)
        if not self._syncing and self.viewer is not None:
            self._syncing = True
            try:
                self.viewer.seek(frame)
            finally:
                self._syncing = False

    def _viewer_frame(self, frame: int) -> None:
        self.inspector.set_playhead(frame)
        if not self._syncing and self.timeline is not None:
            self._syncing = True
            try:
                self.timeline.set_playhead(frame)
            finally:
                self._syncing = False

    def in_out(self) -> tuple[int, int] | None:
        """The marked range (start, end exclusive) from the viewer, or None."""
        engine = getattr(self.viewer, "engine", None) if self.viewer is not None else None
        if engine is None or (engine.in_point is None and engine.out_point is None):
            return None
        start = engine.in_point or 0
        end = engine.out_point + 1 if engine.out_point is not None else self.project.sequence.duration
        return (start, end) if end > start else None

    # --- messages ----------------------------------------------------------------------------
    def show_status(self, message: str) -> None:
        self.statusBar().showMessage(message, STATUS_MS)

    def notice_once(self, message: str) -> None:
        """A notice shown the first time only (the viewer's "no audio device")."""
        if message not in self._notices:
            self._notices.add(message)
            self.statusBar().showMessage(message, 2 * STATUS_MS)

    def show_error(self, message: str) -> None:
        self.last_error = message
        self.statusBar().showMessage(message)
        self.prompts.error(APP_NAME, message)

    # --- files -------------------------------------------------------------------------------
    def maybe_save(self) -> bool:
        """Ask about unsaved changes; True when it is fine to drop the current project."""
        if not self.dirty:
            return True
        answer = self.prompts.unsaved_changes(self.project.name)
        if answer == "save":
            return self.save()
        return answer == "discard"

    def new_project(self) -> bool:
        if not self.maybe_save():
            return False
        self._set_project(new_project(), None)
        self.show_status("New project")
        return True

    def open_project(self, path: str | os.PathLike[str] | None = None) -> bool:
        """Open ``path`` (asked when None), offering a newer autosave; errors leave the current project."""
        if path is None:
            path = self.prompts.open_project_path(self.settings.last_dir("projects"))
            if not path:
                return False
        if not self.maybe_save():
            return False
        path = os.path.abspath(os.fspath(path))
        recovered = None
        autosave = newer_autosave(path)
        if autosave is not None and self.prompts.recover(path, autosave):
            try:
                recovered = recover(autosave)
            except StudioError as e:
                self.show_error(f"cannot recover {autosave.path.name}: {e}")
        try:
            project = load_project(path)
        except StudioError as e:
            if recovered is None:
                self.show_error(str(e))
                if path in self.settings.recent_projects() and not os.path.exists(path):
                    self.settings.remove_recent(path)
                    self._rebuild_recent()
                return False
            project = None
        except Exception as e:  # a bug while reading: one line for the user, details in the log
            log.exception("unexpected error opening %s", path)
            self.show_error(f"cannot open '{path}': unexpected error ({type(e).__name__}: {e})")
            return False
        self.last_error = None
        self._set_project(project if project is not None else recovered, path)
        if recovered is not None and project is not None:
            self.history.apply(RestoreSnapshot(recovered))  # undo goes back to the saved version
        elif recovered is not None:
            self._force_dirty = True
            self.refresh()
        self.settings.add_recent(path)
        self.settings.set_last_dir("projects", path)
        self._rebuild_recent()
        self.show_status(f"Recovered the autosave of {path}" if recovered is not None else f"Opened {path}")
        return True

    def save(self) -> bool:
        return self.save_as(self.path) if self.path else self.save_as()

    def save_as(self, path: str | os.PathLike[str] | None = None) -> bool:
        if path is None:
            start = self.path or os.path.join(self.settings.last_dir("projects"), f"{self.project.name}.studio")
            path = self.prompts.save_project_path(start)
            if not path:
                return False
        path = os.path.abspath(os.fspath(path))
        try:
            save_project(self.project, path)
        except (StudioError, OSError) as e:
            self.show_error(f"cannot save '{path}': {getattr(e, 'strerror', None) or e}")
            return False
        self.history.mark_saved()
        self._force_dirty = False
        if path != self.path:
            self.path = path
            self.autosave.set_path(path)
        self.settings.add_recent(path)
        self.settings.set_last_dir("projects", path)
        self._rebuild_recent()
        self.refresh()
        self.show_status(f"Saved {path}")
        return True

    def import_media(self, paths: list[str]):
        return self.bin.import_files(paths)

    def show_export_dialog(self) -> ExportDialog:
        """Open the (non-modal) export dialog for the project as it is now."""
        if self.export_dialog is not None and self.export_dialog.running:
            self.export_dialog.show()
            self.export_dialog.raise_()
            return self.export_dialog
        folder = Path(self.path).parent if self.path else Path(self.settings.last_dir("exports") or Path.home())
        dialog = ExportDialog(self.project, self.jobs, out_path=folder / (self.project.name or "export"),
                              in_out=self.in_out(), presets=self.presets,
                              ask_path=self.prompts.export_path, open_url=self.open_url, parent=self)
        dialog.finished_export.connect(lambda result: self.show_status(f"Exported {result.path}"))
        self.export_dialog = dialog
        dialog.show()
        return dialog

    # --- closing -----------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt API
        if not self.maybe_save():
            event.ignore()
            return
        self.settings.save_window(self)
        self.autosave.stop()
        self._viewer_timer.stop()
        if self.viewer is not None:
            self.viewer.close()
        if self._owns_jobs:
            self.jobs.shutdown()
        event.accept()
