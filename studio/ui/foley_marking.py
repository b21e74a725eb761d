"""Foley markers in the project: reading them, replacing them after a detection (anchored to the
picture), the clips under them, and the markers that follow their clips in a pass (Qt-free).

``studio.ai`` is loaded only when some marker carries tool data, so the editor starts without it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction

from studio.core.edits import AddMarker, RemoveMarker
from studio.core.history import History
from studio.core.project import Project
from studio.core.timeline import Marker

from .foley_jobs import FoleyTarget, media_seconds, target_at, targets_in_range


@dataclass
class Follow:
    """Foley markers that follow their clips in a Make Foley Sounds pass: ``moves`` (marker id, the
    ``AddMarker`` fields of its new place) and ``gone`` (ids of markers trimmed out of their clips)."""

    moves: list[tuple[str, dict]] = field(default_factory=list)
    gone: list[str] = field(default_factory=list)


def foley_markers_of(project: Project) -> list[Marker]:
    """The project's foley markers (``studio.ai`` is loaded only when some marker carries tool data)."""
    if not any(m.data for m in project.sequence.markers):
        return []
    from studio.ai.foley.markers import foley_markers

    return foley_markers(project.sequence.markers)


def replace_markers(history: History, spans: list[tuple[int, int]], events: list, fps: Fraction,
                    targets: Sequence[FoleyTarget] = ()) -> int:
    """Inside a transaction: remove the foley markers in ``spans`` and add one per event, anchored to
    the moment of the target clip it was seen in (so it follows that clip later). Returns how many
    were removed."""
    from studio.ai.foley.markers import marker_fields

    old = [m for m in foley_markers_of(history.project) if any(a <= m.frame < b for a, b in spans)]
    for m in old:
        history.apply(RemoveMarker(m.id))
    for e in events:
        t = target_at(targets, e.time, fps)
        anchor = (t.clip.id, media_seconds(t, e.time, fps)) if t is not None else None
        history.apply(AddMarker(**marker_fields(e, fps, anchor)))
    return len(old)


def markers_targets(project: Project, markers: list[Marker]) -> list[FoleyTarget]:
    """The video clips under the markers (each once, in time order): what labels and video-to-audio
    models look at."""
    found: dict[str, FoleyTarget] = {}
    for m in markers:
        for t in targets_in_range(project, m.frame, m.frame + 1):
            found.setdefault(t.clip.id, t)
    return sorted(found.values(), key=lambda t: t.clip.position)
