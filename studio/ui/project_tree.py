"""A tree of the project's tracks, with their clips and transitions as child rows."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTreeWidget, QTreeWidgetItem, QWidget

from studio.core.project import Project
from studio.core.timeline import Track

from . import describe
from .theme import MUTED_COLOR, WARNING_COLOR

COLUMNS = ("Name", "Kind", "Start", "Duration", "Source in", "Details")
NAME, KIND, START, DURATION, SOURCE_IN, DETAILS = range(len(COLUMNS))
#: Item data under this role: ("track" | "clip" | "transition", model id).
ID_ROLE = Qt.ItemDataRole.UserRole


class ProjectTree(QTreeWidget):
    """One top-level row per track; child rows for its clips and transitions in time order."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setColumnCount(len(COLUMNS))
        self.setHeaderLabels(list(COLUMNS))
        self.setAlternatingRowColors(True)
        self.setUniformRowHeights(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.header()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)

    # --- lookups -------------------------------------------------------------------------
    def track_items(self) -> list[QTreeWidgetItem]:
        return [self.topLevelItem(i) for i in range(self.topLevelItemCount())]

    def item_for(self, kind: str, model_id: str) -> QTreeWidgetItem | None:
        """The row showing the track, clip or transition with ``model_id``."""
        for top in self.track_items():
            if top.data(NAME, ID_ROLE) == (kind, model_id):
                return top
            for j in range(top.childCount()):
                child = top.child(j)
                if child.data(NAME, ID_ROLE) == (kind, model_id):
                    return child
        return None

    # --- filling -------------------------------------------------------------------------
    def set_project(self, project: Project) -> None:
        """Rebuild every row; tracks the user collapsed stay collapsed."""
        collapsed = {top.data(NAME, ID_ROLE) for top in self.track_items() if not top.isExpanded()}
        selected = {item.data(NAME, ID_ROLE) for item in self.selectedItems()}
        self.setUpdatesEnabled(False)
        try:
            self.clear()
            for track in project.sequence.tracks:
                top = self._track_item(project, track)
                self.addTopLevelItem(top)
                top.setExpanded(top.data(NAME, ID_ROLE) not in collapsed)
                for item in [top, *(top.child(j) for j in range(top.childCount()))]:
                    if item.data(NAME, ID_ROLE) in selected:
                        item.setSelected(True)
            self._fit_columns()
        finally:
            self.setUpdatesEnabled(True)

    def _fit_columns(self) -> None:
        """Every column but Details fits its contents, and never shrinks below a timecode's width."""
        metrics = self.fontMetrics()
        minimum = {NAME: metrics.horizontalAdvance("M" * 12), KIND: metrics.horizontalAdvance("transition"),
                   START: metrics.horizontalAdvance("00:00:00;00"), DURATION: metrics.horizontalAdvance("00:00:00;00"),
                   SOURCE_IN: metrics.horizontalAdvance("00:00:00;00")}
        for column in range(len(COLUMNS) - 1):
            self.resizeColumnToContents(column)
            self.setColumnWidth(column, max(self.columnWidth(column), minimum[column]) + 16)

    def _track_item(self, project: Project, track: Track) -> QTreeWidgetItem:
        top = QTreeWidgetItem([track.name, track.kind, "", "", "", describe.track_details(track)])
        top.setData(NAME, ID_ROLE, ("track", track.id))
        font = top.font(NAME)
        font.setBold(True)
        top.setFont(NAME, font)
        if not track.enabled or track.muted:
            for column in range(len(COLUMNS)):
                top.setForeground(column, QBrush(QColor(MUTED_COLOR)))
        fps = project.fps
        rows: list[tuple[int, int, QTreeWidgetItem]] = []  # (sort frame, clips first, row)
        for clip in track.clips:
            asset = project.asset(clip.asset_id)
            details = describe.clip_details(project, track, clip)
            item = QTreeWidgetItem([
                describe.clip_name(clip, asset), describe.clip_kind(project, clip),
                describe.timecode(clip.position, fps), describe.timecode(clip.duration, fps),
                describe.timecode(clip.source_in, fps), details,
            ])
            item.setData(NAME, ID_ROLE, ("clip", clip.id))
            if asset is None or describe.asset_missing(asset):
                item.setForeground(NAME, QBrush(QColor(WARNING_COLOR)))
            if asset is not None:
                item.setToolTip(NAME, asset.path + (" (file not found)" if describe.asset_missing(asset) else ""))
            rows.append((clip.position, 0, item))
        for transition in track.transitions:
            span = describe.transition_span(track, transition)
            start, length = span if span is not None else (0, transition.duration)
            a = track.clip(transition.a)
            item = QTreeWidgetItem([
                f"⇄ {transition.kind}", "transition", describe.timecode(start, fps),
                describe.timecode(length, fps), "", describe.transition_details(project, track, transition),
            ])
            item.setData(NAME, ID_ROLE, ("transition", transition.id))
            for column in range(len(COLUMNS)):
                item.setForeground(column, QBrush(QColor(MUTED_COLOR)))
            rows.append((a.position if a is not None else start, 1, item))  # right after clip a
        rows.sort(key=lambda r: (r[0], r[1]))
        top.addChildren([item for _, _, item in rows])
        return top
