"""Sequence markers on the ruler: hit testing, the drag that moves one, and its tooltip text.

A marker drag is one undo step (merged ``MoveMarker`` commands), lands on whole frames and
snaps, when snapping is on, to clip edges, the playhead and the other markers.
"""

from __future__ import annotations

from dataclasses import replace

from studio.core.edits import MoveMarker, RemoveMarker
from studio.core.timebase import format_timecode
from studio.core.timeline import Marker

from .geometry import snap_points
from .gestures import DeltaDrag

#: How far (screen pixels) from a marker's line a press still grabs it.
GRAB_PX = 5
#: The band of the ruler (widget y) where markers are drawn and can be grabbed; elsewhere the ruler scrubs.
GRAB_TOP, GRAB_BOTTOM = 9, 26


def marker_at(markers: tuple[Marker, ...], x: float, y: float, ppf: float, left: float) -> Marker | None:
    """The marker drawn nearest to ruler point (x, y) within :data:`GRAB_PX`, or None.

    ``left`` is the horizontal scroll (scene x at the ruler's left edge).
    """
    if not GRAB_TOP <= y <= GRAB_BOTTOM:
        return None
    best, best_d = None, GRAB_PX + 0.5
    for m in markers:
        d = abs(m.frame * ppf - left - x)
        if d < best_d:
            best, best_d = m, d
    return best


def tooltip(marker: Marker, fps) -> str:
    """Name, note and time of a marker (for the ruler's tooltip)."""
    lines = [marker.name or "Marker"]
    if marker.note:
        lines.append(marker.note)
    when = format_timecode(marker.frame, fps)
    if marker.duration:
        when += f" - {format_timecode(marker.frame + marker.duration, fps)}"
    lines.append(when)
    return "\n".join(lines)


class MarkerDrag(DeltaDrag):
    """Move one sequence marker along time (scene x), snapped to whole frames and, optionally, to edges."""

    def __init__(self, view, x0: float, marker: Marker) -> None:
        self.marker_id = marker.id
        super().__init__(view, x0, lambda d: MoveMarker(marker.id, d), [marker.frame], set(),
                         min_delta=-marker.frame)
        project = view.history.project
        others = tuple(m for m in project.sequence.markers if m.id != marker.id)
        # snap to everything but the marker's own (moving) position
        self.points = snap_points(replace(project, sequence=replace(project.sequence, markers=others)),
                                  extra=self._extra())


class MarkerSelection:
    """The marker half of ``TimelineView``'s selection (a mixin: it uses the view's ``history``,
    ``_marker``, ``select``, ``select_gap``, ``apply``, ``ruler`` and ``viewport``)."""

    def selected_marker_id(self) -> str | None:
        return self._marker

    def select_marker(self, marker_id: str | None) -> None:
        """Select one sequence marker (clicked on the ruler), or none; it replaces the clip selection,
        so Delete acts on what was clicked last."""
        if marker_id is not None and not any(m.id == marker_id for m in self.history.project.sequence.markers):
            marker_id = None
        if marker_id == self._marker:
            return
        self._marker = marker_id
        if marker_id is not None:
            self.select([])
            self.select_gap(None)
        self.ruler.update()
        self.viewport().update()

    def delete_marker(self, marker_id: str) -> bool:
        """Remove a sequence marker (one undo step)."""
        return self.apply(RemoveMarker(marker_id))
