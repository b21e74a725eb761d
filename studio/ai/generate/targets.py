"""Where a shot generated in the editor goes: the empty gap under the playhead or a marked range,
the clip before it (for "Extend"), and the frame count that fills it. Plain data, no Qt, no torch."""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

from studio.core.project import Project
from studio.core.timeline import Clip, Track


@dataclass(frozen=True)
class Target:
    """Frames ``[start, end)`` on ``track_id`` (None: the first free video track, else a new one).
    ``end`` None is an open gap after a track's last clip. ``before`` is the clip ending at or
    before ``start`` on that track (the one "Extend" continues)."""

    track_id: str | None
    start: int
    end: int | None
    before: str | None = None

    @property
    def frames(self) -> int | None:
        """The length in sequence frames, None when open-ended."""
        return None if self.end is None else self.end - self.start


def _video_tracks(project: Project) -> list[Track]:
    return [t for t in project.sequence.tracks_of("video") if not t.locked]


def _before(track: Track, frame: int) -> Clip | None:
    """The clip of ``track`` that ends last at or before ``frame``."""
    return max((c for c in track.clips if c.end <= frame), key=lambda c: c.end, default=None)


def _gap(track: Track, frame: int) -> Target | None:
    """The empty stretch of ``track`` around ``frame`` (None when a clip covers it)."""
    if any(c.position <= frame < c.end for c in track.clips):
        return None
    before = _before(track, frame)
    after = min((c.position for c in track.clips if c.position > frame), default=None)
    return Target(track.id, before.end if before is not None else 0, after, before.id if before else None)


def gap_at(project: Project, frame: int, *, needs_before: bool = False) -> Target | None:
    """The empty stretch around ``frame`` on the first unlocked video track that is empty there:
    from the end of the clip before (or 0) to the start of the clip after (or open). With
    ``needs_before`` only a gap that follows a clip counts. None when every track is busy at ``frame``."""
    frame = max(0, int(frame))
    for track in _video_tracks(project):
        gap = _gap(track, frame)
        if gap is None or (needs_before and gap.before is None):
            continue
        return gap
    return None


def gap_on(project: Project, track_id: str, frame: int) -> Target | None:
    """The gap a click at ``frame`` selects on one track (the timeline's gap selection): as ``gap_at``
    but on exactly that track, locked or not. None when a clip covers ``frame`` or the track is gone."""
    track = project.track(track_id)
    return None if track is None else _gap(track, max(0, int(frame)))


def range_target(project: Project, start: int, end: int, *, needs_before: bool = False) -> Target | None:
    """A marked range ``[start, end)``: on the first unlocked video track free over all of it (with a
    clip before it when ``needs_before``), else on a new track (None when ``needs_before``: nothing to
    extend from). None for an empty range."""
    start, end = max(0, int(start)), int(end)
    if end <= start:
        return None
    for track in _video_tracks(project):
        if any(c.position < end and start < c.end for c in track.clips):
            continue
        before = _before(track, start)
        if needs_before and before is None:
            continue
        return Target(track.id, start, end, before.id if before is not None else None)
    return None if needs_before else Target(None, start, end)


def covering_frames(step: int, offset: int, maximum: int, fps: Fraction | int, seconds: float) -> int:
    """The smallest valid count ``step * N + offset`` (N >= 1) lasting at least ``seconds`` at ``fps``,
    at most ``maximum``'s N: a gap is filled rather than left short by a frame rule's rounding."""
    n = math.ceil((float(seconds) * float(fps) - offset) / step - 1e-9)
    n_max = max(1, (maximum - offset) // step)
    return step * max(1, min(n, n_max)) + offset


def last_frame_time(clip: Clip, fps: Fraction) -> Fraction:
    """Seconds from the media start of the last frame ``clip`` shows (trim, speed and reverse honoured)."""
    return Fraction(clip.source_frame_at(clip.duration - 1)) / Fraction(fps)
