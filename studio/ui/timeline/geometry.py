"""Where things are on the timeline: track rows, frame <-> x, hit testing and snapping.

No widgets here, only arithmetic on the immutable model, so gestures and tests share it.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass

from studio.core.project import Project
from studio.core.timeline import Clip, Track

HEADER_WIDTH = 150
RULER_HEIGHT = 30
#: Snap distance and edge grab zone, in screen pixels.
SNAP_PX = 8
EDGE_PX = 6
MIN_PPF, MAX_PPF = 0.01, 60.0


@dataclass(frozen=True, slots=True)
class Row:
    track: Track
    top: float
    height: float

    @property
    def bottom(self) -> float:
        return self.top + self.height


@dataclass(frozen=True, slots=True)
class Hit:
    """What is under a point: a track row, maybe a clip, and which part of it."""

    row: Row | None
    clip: Clip | None = None
    part: str = "none"  # "body", "head", "tail" or "none"
    frame: int = 0


def display_tracks(project: Project) -> list[Track]:
    """Top to bottom: the topmost video track first, then audio A1, A2, ..."""
    tracks = project.sequence.tracks
    return [t for t in reversed(tracks) if t.kind == "video"] + [t for t in tracks if t.kind != "video"]


class Layout:
    """Rows of the current project at ``ppf`` pixels per frame (scene coordinates)."""

    def __init__(self, project: Project, ppf: float) -> None:
        self.ppf = ppf
        self.rows: list[Row] = []
        y = 0.0
        for t in display_tracks(project):
            self.rows.append(Row(t, y, float(t.height)))
            y += t.height
        self.height = y
        self.by_id = {r.track.id: r for r in self.rows}

    def x(self, frame: float) -> float:
        return frame * self.ppf

    def frame(self, x: float) -> int:
        """The frame boundary nearest ``x`` (never before 0)."""
        return max(0, round(x / self.ppf))

    def row_at(self, y: float) -> Row | None:
        for r in self.rows:
            if r.top <= y < r.bottom:
                return r
        return None

    def hit(self, x: float, y: float) -> Hit:
        row = self.row_at(y)
        frame = self.frame(x)
        if row is None:
            return Hit(None, frame=frame)
        ppf = self.ppf
        for c in row.track.clips:
            x0, x1 = c.position * ppf, c.end * ppf
            if x0 <= x < x1:
                zone = min(EDGE_PX, (x1 - x0) / 4)
                part = "head" if x - x0 <= zone else "tail" if x1 - x <= zone else "body"
                return Hit(row, c, part, frame)
        for c in row.track.clips:  # just outside a clip: its edge, if close
            if 0 <= x - c.end * ppf <= EDGE_PX:
                return Hit(row, c, "tail", frame)
            if 0 < c.position * ppf - x <= EDGE_PX:
                return Hit(row, c, "head", frame)
        return Hit(row, frame=frame)

    def clips_in(self, x0: float, y0: float, x1: float, y1: float) -> list[str]:
        """Ids of clips that intersect the scene rectangle."""
        f0, f1 = min(x0, x1) / self.ppf, max(x0, x1) / self.ppf
        top, bottom = min(y0, y1), max(y0, y1)
        return [c.id for r in self.rows if r.top < bottom and top < r.bottom
                for c in r.track.clips if c.position < f1 and f0 < c.end]


def snap_points(project: Project, exclude: Iterable[str] = (), extra: Iterable[int] = ()) -> list[int]:
    """Sorted frames worth snapping to: clip edges (except ``exclude``), markers, ``extra``."""
    skip = set(exclude)
    points = {0, *extra}
    for _, c in project.all_clips():
        if c.id not in skip:
            points.add(c.position)
            points.add(c.end)
    for m in project.sequence.markers:
        points.add(m.frame)
        if m.duration:
            points.add(m.frame + m.duration)
    return sorted(points)


def snap_offset(edges: Iterable[int], points: list[int], tolerance: float) -> int:
    """The smallest shift that puts one of ``edges`` on a point within ``tolerance`` frames, else 0."""
    best: int | None = None
    for e in edges:
        i = bisect.bisect_left(points, e)
        for p in points[max(0, i - 1):i + 1]:
            d = p - e
            if abs(d) <= tolerance and (best is None or abs(d) < abs(best)):
                best = d
    return best or 0
