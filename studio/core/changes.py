"""What an edit changed: which frame range of which track, and what else.

Computed by comparing two immutable project states, so it is right for every command,
including undo and redo, without each command having to report it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .project import Project
from .timeline import Clip, Track


@dataclass(frozen=True, slots=True)
class TrackRange:
    """Frames [start, end) of a track whose picture or sound changed."""

    track_id: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Change:
    ranges: tuple[TrackRange, ...] = ()
    #: Tracks added, removed, reordered, renamed, or header switches flipped.
    tracks_changed: bool = False
    assets_changed: bool = False
    settings_changed: bool = False
    markers_changed: bool = False
    track_ids: frozenset[str] = field(default_factory=frozenset)

    @property
    def empty(self) -> bool:
        return not (self.ranges or self.tracks_changed or self.assets_changed
                    or self.settings_changed or self.markers_changed)


def _extent(clips: list[Clip]) -> tuple[int, int] | None:
    if not clips:
        return None
    return min(c.position for c in clips), max(c.end for c in clips)


def _track_range(old: Track, new: Track) -> TrackRange | None:
    old_ids = {id(c) for c in old.clips}
    new_ids = {id(c) for c in new.clips}
    touched = [c for c in old.clips if id(c) not in new_ids] + [c for c in new.clips if id(c) not in old_ids]
    if old.transitions != new.transitions:
        by_id = {c.id: c for c in (*old.clips, *new.clips)}
        for tr in set(old.transitions) ^ set(new.transitions):
            touched += [by_id[x] for x in (tr.a, tr.b) if x in by_id]
    ext = _extent(touched)
    return TrackRange(new.id, *ext) if ext else None


def diff(before: Project, after: Project) -> Change:
    """The change from ``before`` to ``after``."""
    if before is after:
        return Change()
    ranges: list[TrackRange] = []
    old_tracks = {t.id: t for t in before.sequence.tracks}
    new_tracks = {t.id: t for t in after.sequence.tracks}
    header = lambda t: (t.id, t.kind, t.name, t.enabled, t.locked, t.muted, t.solo, t.height)  # noqa: E731
    tracks_changed = [header(t) for t in before.sequence.tracks] != [header(t) for t in after.sequence.tracks]
    touched_ids: set[str] = set()
    for tid, new in new_tracks.items():
        old = old_tracks.get(tid)
        if old is None:
            if new.clips:
                ranges.append(TrackRange(tid, new.clips[0].position, new.end))
            touched_ids.add(tid)
        elif old is not new:
            r = _track_range(old, new)
            if r:
                ranges.append(r)
            touched_ids.add(tid)
    for tid, old in old_tracks.items():
        if tid not in new_tracks:
            if old.clips:
                ranges.append(TrackRange(tid, old.clips[0].position, old.end))
            touched_ids.add(tid)
    return Change(
        ranges=tuple(ranges),
        tracks_changed=tracks_changed,
        assets_changed=before.assets != after.assets,
        settings_changed=before.settings != after.settings,
        markers_changed=before.sequence.markers != after.sequence.markers,
        track_ids=frozenset(touched_ids),
    )
