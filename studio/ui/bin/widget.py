"""The media bin: import (dialog or drop), list/grid of assets with thumbnails, relink, drag to the timeline."""

from __future__ import annotations

import os

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt, Signal
from PySide6.QtGui import QAction, QColor, QDragEnterEvent, QDropEvent, QFont, QKeySequence, QPainter, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QHBoxLayout,
    QListView,
    QMenu,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from studio.core.edits import AddAsset, RelinkAssets, RemoveAsset
from studio.core.errors import StudioError
from studio.core.history import History
from studio.media.cache import CacheStore

from ..jobs_adapter import JobsAdapter
from ..theme import MUTED_COLOR, WARNING_COLOR
from .importer import ProbeResult, probe_job, relink_job
from .model import ASSET_ID_ROLE, BADGES_ROLE, DETAILS_ROLE, MISSING_ROLE, SHORT_DETAILS_ROLE, BinModel
from .thumbnails import THUMB_HEIGHT, THUMB_WIDTH, ThumbnailCache

_Index = QModelIndex | QPersistentModelIndex
BADGE_COLORS = {"MISSING": QColor(WARNING_COLOR), "VFR": QColor(230, 160, 40), "AI": QColor(150, 110, 240)}


class BinDelegate(QStyledItemDelegate):
    """Thumbnail, name, details line and badges; grid cells or list rows after the view's mode."""

    def __init__(self, view: QListView) -> None:
        super().__init__(view)
        self.view = view

    def grid(self) -> bool:
        return self.view.viewMode() == QListView.ViewMode.IconMode

    def sizeHint(self, option: QStyleOptionViewItem, index: _Index) -> QSize:  # noqa: N802 - Qt API
        return QSize(THUMB_WIDTH + 16, THUMB_HEIGHT + 44) if self.grid() else QSize(200, 52)

    def paint(self, p: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        p.save()
        style = option.widget.style() if option.widget else None
        if style is not None:
            style.drawPrimitive(QStyle.PrimitiveElement.PE_PanelItemViewItem, option, p, option.widget)
        r: QRect = option.rect
        icon = index.data(Qt.ItemDataRole.DecorationRole)
        missing = bool(index.data(MISSING_ROLE))
        if self.grid():
            thumb = QRect(r.x() + (r.width() - THUMB_WIDTH) // 2, r.y() + 6, THUMB_WIDTH, THUMB_HEIGHT)
            text = QRect(r.x() + 4, thumb.bottom() + 4, r.width() - 8, r.bottom() - thumb.bottom() - 6)
        else:
            th = r.height() - 8
            thumb = QRect(r.x() + 4, r.y() + 4, th * 16 // 9, th)
            text = QRect(thumb.right() + 8, r.y() + 4, r.right() - thumb.right() - 12, th)
        if icon is not None:
            icon.paint(p, thumb)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        name_color = QColor(WARNING_COLOR) if missing else option.palette.color(
            QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text)
        font = QFont(option.font)
        font.setBold(True)
        p.setFont(font)
        p.setPen(name_color)
        line = p.fontMetrics().height()
        name = p.fontMetrics().elidedText(str(index.data(Qt.ItemDataRole.DisplayRole) or ""),
                                          Qt.TextElideMode.ElideMiddle, text.width())
        align = Qt.AlignmentFlag.AlignHCenter if self.grid() else Qt.AlignmentFlag.AlignLeft
        p.drawText(QRect(text.x(), text.y(), text.width(), line), align | Qt.AlignmentFlag.AlignVCenter, name)
        font.setBold(False)
        font.setPointSizeF(max(6.0, font.pointSizeF() * 0.85))
        p.setFont(font)
        p.setPen(QColor(MUTED_COLOR))
        role = SHORT_DETAILS_ROLE if self.grid() else DETAILS_ROLE
        details = p.fontMetrics().elidedText(str(index.data(role) or ""), Qt.TextElideMode.ElideRight,
                                             text.width())
        p.drawText(QRect(text.x(), text.y() + line + 2, text.width(), line), align | Qt.AlignmentFlag.AlignVCenter,
                   details)
        self._badges(p, thumb, list(index.data(BADGES_ROLE) or []))
        p.restore()

    @staticmethod
    def _badges(p: QPainter, thumb: QRect, badges: list[str]) -> None:
        x = thumb.x() + 3
        fm = p.fontMetrics()
        for badge in badges:
            w = fm.horizontalAdvance(badge) + 8
            box = QRect(x, thumb.y() + 3, w, fm.height() + 2)
            p.fillRect(box, BADGE_COLORS.get(badge, QColor(80, 80, 80)))
            p.setPen(QColor(255, 255, 255))
            p.drawText(box, Qt.AlignmentFlag.AlignCenter, badge)
            x += w + 3


class BinView(QListView):
    """Drags items out (asset ids as ``application/x-studio-asset``); drops land on the bin itself."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.setDefaultDropAction(Qt.DropAction.CopyAction)
        self.setUniformItemSizes(True)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.setItemDelegate(BinDelegate(self))
        self.set_grid(False)

    def set_grid(self, grid: bool) -> None:
        self.setViewMode(QListView.ViewMode.IconMode if grid else QListView.ViewMode.ListMode)
        self.setFlow(QListView.Flow.LeftToRight if grid else QListView.Flow.TopToBottom)
        self.setWrapping(grid)
        self.setSpacing(4 if grid else 0)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)  # IconMode would turn on internal moves
        self.setMovement(QListView.Movement.Static)


class MediaBin(QWidget):
    """The project's media. Every change goes through ``history`` (imports are one undo step).

    ``prompts`` asks for files and folders (``import_media_paths(start)``, ``relink_folder(start)``);
    ``status_message(str)`` reports results in one line; ``imported(list)`` gives new asset ids.
    """

    status_message = Signal(str)
    imported = Signal(list)

    def __init__(self, history: History, jobs: JobsAdapter, *, prompts=None, store: CacheStore | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.history, self.jobs, self.prompts = history, jobs, prompts
        self.start_dir = ""
        self.thumbnails = ThumbnailCache(jobs, store, self)
        self.model = BinModel(self.thumbnails, self)
        self.view = BinView(self)
        self.view.setModel(self.model)
        self.view.customContextMenuRequested.connect(self._context_menu)
        self.setAcceptDrops(True)

        self.import_action = QAction("Import Media…", self)
        self.import_action.setShortcut(QKeySequence("Ctrl+I"))
        self.import_action.triggered.connect(lambda _=False: self.choose_and_import())
        self.relink_action = QAction("Relink…", self)
        self.relink_action.triggered.connect(lambda _=False: self.relink(self._selected_or_missing()))
        self.remove_action = QAction("Remove from Project", self)
        self.remove_action.triggered.connect(lambda _=False: self.remove_selected())

        bar = QHBoxLayout()
        bar.setContentsMargins(4, 4, 4, 0)
        import_button = QToolButton(self)
        import_button.setDefaultAction(self.import_action)
        import_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.list_button, self.grid_button = QToolButton(self), QToolButton(self)
        modes = QButtonGroup(self)
        for button, text, grid in ((self.list_button, "List", False), (self.grid_button, "Grid", True)):
            button.setText(text)
            button.setCheckable(True)
            button.toggled.connect(lambda on, g=grid: on and self.set_grid(g))
            modes.addButton(button)
        self.list_button.setChecked(True)
        bar.addWidget(import_button)
        bar.addStretch(1)
        bar.addWidget(self.list_button)
        bar.addWidget(self.grid_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addLayout(bar)
        layout.addWidget(self.view, 1)

        history.changed.connect(self._on_changed)
        self.refresh()

    # --- model ----------------------------------------------------------------------------
    def refresh(self) -> None:
        self.model.set_project(self.history.project)
        missing = [a for a in self.history.project.assets if self.model.is_missing(a.id)]
        self.relink_action.setEnabled(bool(missing))

    def _on_changed(self, change) -> None:
        if change.assets_changed or change.empty:
            self.refresh()

    def set_grid(self, grid: bool) -> None:
        self.view.set_grid(grid)
        (self.grid_button if grid else self.list_button).setChecked(True)

    def selected_ids(self) -> list[str]:
        rows = sorted(i.row() for i in self.view.selectionModel().selectedIndexes())
        return [self.model.index(r).data(ASSET_ID_ROLE) for r in rows]

    def select(self, asset_id: str) -> None:
        row = self.model.row_of(asset_id)
        if row >= 0:
            self.view.setCurrentIndex(self.model.index(row))

    def _selected_or_missing(self) -> list[str] | None:
        chosen = [a for a in self.selected_ids() if self.model.is_missing(a)]
        return chosen or None

    # --- import ---------------------------------------------------------------------------
    def choose_and_import(self):
        if self.prompts is None:
            return None
        paths = self.prompts.import_media_paths(self.start_dir)
        return self.import_files(paths) if paths else None

    def import_files(self, paths: list[str]):
        """Probe ``paths`` in a job; the readable ones land as AddAsset commands in one undo step."""
        known = {os.path.abspath(a.path) for a in self.history.project.assets}
        fresh, seen = [], set()
        for p in paths:
            ap = os.path.abspath(p)
            if os.path.isfile(ap) and ap not in known and ap not in seen:
                fresh.append(ap)
                seen.add(ap)
        skipped = len(paths) - len(fresh)
        if not fresh:
            self.status_message.emit("Nothing to import" + (" (already in the bin or not files)" if paths else ""))
            return None
        self.start_dir = os.path.dirname(fresh[0])
        self.status_message.emit(f"Importing {len(fresh)} file{'s' if len(fresh) != 1 else ''}…")
        return self.jobs.submit(probe_job(fresh), on_done=lambda result: self._land(result, skipped))

    def _land(self, result: ProbeResult, skipped: int = 0) -> None:
        known = {os.path.abspath(a.path) for a in self.history.project.assets}
        assets = [a for a in result.assets if os.path.abspath(a.path) not in known]
        if assets:
            label = "Import media" if len(assets) == 1 else f"Import {len(assets)} media files"
            with self.history.transaction(label):
                for a in assets:
                    self.history.apply(AddAsset(a))
        parts = [f"Imported {len(assets)} file{'s' if len(assets) != 1 else ''}"]
        if skipped:
            parts.append(f"{skipped} already in the bin")
        if result.errors:
            parts.append(f"{len(result.errors)} unreadable ({'; '.join(result.errors[:3])})")
        self.status_message.emit(", ".join(parts))
        if assets:
            self.imported.emit([a.id for a in assets])

    # --- drops from the file manager ------------------------------------------------------
    @staticmethod
    def _local_files(event) -> list[str]:
        mime = event.mimeData()
        if not mime.hasUrls():
            return []
        return [u.toLocalFile() for u in mime.urls() if u.isLocalFile() and os.path.isfile(u.toLocalFile())]

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt API
        if self._local_files(event):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:  # noqa: N802 - Qt API
        if self._local_files(event):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt API
        files = self._local_files(event)
        if files:
            event.acceptProposedAction()
            self.import_files(files)

    # --- relink and remove ----------------------------------------------------------------
    def relink(self, asset_ids: list[str] | None = None, folder: str | None = None):
        """Look for missing media (``asset_ids`` or all) under ``folder`` (asked if None) in a job;
        found files are relinked with one RelinkAssets command."""
        if folder is None:
            if self.prompts is None:
                return None
            folder = self.prompts.relink_folder(self.start_dir)
            if not folder:
                return None
        self.status_message.emit(f"Looking for missing media in {folder}…")
        wanted = asset_ids

        def land(found: dict[str, str]) -> None:
            missing = [a for a in (wanted or [x.id for x in self.history.project.assets]) if self.model.is_missing(a)]
            if found:
                self.history.apply(RelinkAssets(found))
            left = len([a for a in missing if a not in found])
            self.status_message.emit(f"Relinked {len(found)} file{'s' if len(found) != 1 else ''}"
                                     + (f", {left} still missing" if left else ""))
        return self.jobs.submit(relink_job(self.history.project, folder, asset_ids), on_done=land)

    def remove_selected(self) -> None:
        ids = self.selected_ids()
        if not ids:
            return
        try:
            with self.history.transaction("Remove media"):
                for aid in ids:
                    self.history.apply(RemoveAsset(aid))
        except StudioError as e:
            self.status_message.emit(str(e))

    def _context_menu(self, pos) -> None:
        menu = QMenu(self)
        selected = self.selected_ids()
        self.relink_action.setEnabled(any(self.model.is_missing(a) for a in selected)
                                      or any(self.model.is_missing(a.id) for a in self.history.project.assets))
        self.remove_action.setEnabled(bool(selected))
        menu.addActions([self.import_action, self.relink_action, self.remove_action])
        menu.popup(self.view.viewport().mapToGlobal(pos))
