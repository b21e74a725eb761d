"""Mouse drags on the clip area. Each drag applies merged commands, so it is one undo step.

A drag remembers how much it has applied and, on every mouse move, applies only the
difference between where the mouse says the edit should be and where it is.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QPoint, QRect, QSize
from PySide6.QtWidgets import QApplication, QRubberBand

from studio.core.edits import Command, Move
from studio.core.edits.base import linked_ids
from studio.core.errors import EditError

from .geometry import SNAP_PX, snap_offset, snap_points


class Drag:
    """Base: ``move`` and ``release`` get scene coordinates and keyboard modifiers."""

    def move(self, x: float, y: float) -> None: ...

    def release(self, x: float, y: float) -> None:
        self.view.history.end_merge()

    def cancel(self) -> None:
        self.view.history.end_merge()


class DeltaDrag(Drag):
    """Drag along time: ``make(increment)`` builds the command; ``edges`` snap to neighbours."""

    def __init__(self, view, x0: float, make: Callable[[int], Command], edges: list[int],
                 exclude: set[str], *, min_delta: int | None = None) -> None:
        self.view, self.x0, self.make, self.edges = view, x0, make, edges
        self.applied = 0
        self.min_delta = min_delta
        self.points = snap_points(view.history.project, exclude, self._extra()) if edges else []

    def _extra(self) -> list[int]:
        return [self.view.playhead()]

    def _delta(self, x: float) -> int:
        ppf = self.view.pixels_per_frame()
        delta = round((x - self.x0) / ppf)
        if self.view.snapping() and self.edges:
            delta += snap_offset([e + delta for e in self.edges], self.points, SNAP_PX / ppf)
        if self.min_delta is not None:
            delta = max(self.min_delta, delta)
        return delta

    def _apply(self, command: Command) -> bool:
        try:
            self.view.history.apply(command, merge=True)
        except EditError as e:
            self.view.status_message.emit(str(e))
            return False
        return True

    def move(self, x: float, y: float) -> None:
        delta = self._delta(x)
        if delta != self.applied and self._apply(self.make(delta - self.applied)):
            self.applied = delta


class MoveDrag(DeltaDrag):
    """Move the selection in time and across tracks of the same kind."""

    def __init__(self, view, x0: float, clip_ids: list[str], origin_track_id: str) -> None:
        project = view.history.project
        moving = linked_ids(project, clip_ids, groups=True)
        edges = sorted({e for _, c in project.all_clips() if c.id in moving for e in (c.position, c.end)})
        first = min((c.position for _, c in project.all_clips() if c.id in moving), default=0)
        super().__init__(view, x0, lambda d: Move(clip_ids, d), edges, moving, min_delta=-first)
        self.clip_ids = clip_ids
        track = project.track(origin_track_id)
        assert track is not None
        self.kind = track.kind
        self.origin_index = [t.id for t in project.sequence.tracks_of(self.kind)].index(origin_track_id)
        self.applied_tracks = 0

    def _track_delta(self, y: float) -> int:
        row = self.view.timeline_layout().row_at(y)
        if row is None or row.track.kind != self.kind:
            return self.applied_tracks
        ids = [t.id for t in self.view.history.project.sequence.tracks_of(self.kind)]
        return ids.index(row.track.id) - self.origin_index

    def move(self, x: float, y: float) -> None:
        delta, tracks = self._delta(x), self._track_delta(y)
        if (delta, tracks) == (self.applied, self.applied_tracks):
            return
        if self._apply(Move(self.clip_ids, delta - self.applied, tracks - self.applied_tracks)):
            self.applied, self.applied_tracks = delta, tracks


class RubberBandDrag(Drag):
    """Select the clips a rectangle touches (added to the selection with Ctrl/Shift)."""

    def __init__(self, view, x0: float, y0: float, keep: list[str]) -> None:
        self.view, self.x0, self.y0, self.keep = view, x0, y0, keep
        self.band = QRubberBand(QRubberBand.Shape.Rectangle, view.viewport())
        self.band.setGeometry(QRect(view.mapFromScene(x0, y0), QSize()))
        self.band.show()

    def move(self, x: float, y: float) -> None:
        a, b = self.view.mapFromScene(self.x0, self.y0), self.view.mapFromScene(x, y)
        self.band.setGeometry(QRect(QPoint(min(a.x(), b.x()), min(a.y(), b.y())),
                                    QPoint(max(a.x(), b.x()), max(a.y(), b.y()))))
        if (b - a).manhattanLength() >= QApplication.startDragDistance():
            self.view.select_gap(None)  # a band, not a click on a gap
        self._select(x, y)

    def _select(self, x: float, y: float) -> None:
        hits = self.view.timeline_layout().clips_in(self.x0, self.y0, x, y)
        self.view.select([*self.keep, *(h for h in hits if h not in self.keep)])

    def release(self, x: float, y: float) -> None:
        self._select(x, y)
        self.cancel()

    def cancel(self) -> None:
        self.band.hide()
        self.band.deleteLater()
