"""The command protocol and the small track operations every edit is built from.

A command is a pure function ``Project -> Project``: deterministic for its arguments (ids are
drawn when the command is created), raising ``EditError`` and changing nothing when the edit
is not possible. History stores the states before and after.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import replace
from fractions import Fraction

from ..errors import EditError
from ..ids import IdFactory
from ..keyframes import shifted
from ..project import Project
from ..timeline import Clip, Marker, Track, Transition


class Command:
    """One undoable change. Subclasses implement ``_apply``."""

    label: str = "Edit"
    #: Commands with equal, non-None merge keys merge into one history step while a drag lasts.
    merge_key: Hashable | None = None

    def __init__(self) -> None:
        self.ids = IdFactory()

    def apply(self, project: Project) -> Project:
        self.ids.reset()
        return self._apply(project)

    def _apply(self, project: Project) -> Project:  # pragma: no cover - abstract
        raise NotImplementedError

    def __repr__(self) -> str:
        fields = {k: v for k, v in vars(self).items() if k != "ids"}
        return f"{type(self).__name__}({fields})"


# --- lookups ----------------------------------------------------------------------------
def get_track(project: Project, track_id: str, *, editable: bool = True) -> Track:
    track = project.track(track_id)
    if track is None:
        raise EditError(f"no track with id {track_id!r}")
    if editable and track.locked:
        raise EditError(f"track {track.name} is locked")
    return track


def get_clip(project: Project, clip_id: str, *, editable: bool = True) -> tuple[Track, Clip]:
    found = project.find_clip(clip_id)
    if found is None:
        raise EditError(f"no clip with id {clip_id!r}")
    if editable and found[0].locked:
        raise EditError(f"track {found[0].name} is locked")
    return found


def linked_ids(project: Project, ids: Iterable[str], *, groups: bool = True) -> set[str]:
    """``ids`` plus every clip linked to them (A/V partners) and, optionally, grouped with them."""
    result = set(ids)
    clips = [c for _, c in project.all_clips()]
    while True:
        links = {c.link for c in clips if c.id in result and c.link}
        grps = {c.group for c in clips if c.id in result and c.group} if groups else set()
        grown = {c.id for c in clips if (c.link and c.link in links) or (c.group and c.group in grps)}
        if grown <= result:
            return result
        result |= grown


# --- track rebuilding --------------------------------------------------------------------
def normalize_transitions(track: Track) -> Track:
    """Drop transitions whose clips are gone or no longer adjacent; shorten ones now too long."""
    by_id = {c.id: c for c in track.clips}
    kept: list[Transition] = []
    seen: set[tuple[str, str]] = set()
    for tr in track.transitions:
        a, b = by_id.get(tr.a), by_id.get(tr.b)
        if a is None or b is None or a.end != b.position or (tr.a, tr.b) in seen:
            continue
        limit = min(a.duration, b.duration)
        if tr.duration > limit:
            before = min(tr.before, limit // 2 if tr.after else limit)
            after = min(tr.after, limit - before)
            tr = replace(tr, before=before, after=after)
        if tr.duration >= 1:
            kept.append(tr)
            seen.add((tr.a, tr.b))
    if len(kept) == len(track.transitions) and all(x is y for x, y in zip(kept, track.transitions, strict=False)):
        return track
    return replace(track, transitions=tuple(kept))


def with_clips(track: Track, clips: Iterable[Clip]) -> Track:
    """The track holding ``clips`` (sorted), transitions normalized."""
    ordered = tuple(sorted(clips, key=lambda c: (c.position, c.id)))
    return normalize_transitions(replace(track, clips=ordered))


def clamp_fades(clip: Clip) -> Clip:
    fade_in = min(clip.fade_in, clip.duration)
    fade_out = min(clip.fade_out, clip.duration - fade_in)
    if (fade_in, fade_out) == (clip.fade_in, clip.fade_out):
        return clip
    return replace(clip, fade_in=fade_in, fade_out=fade_out)


def check_source(project: Project, clip: Clip) -> None:
    """Raise EditError unless the clip's source range lies inside its media."""
    asset = project.asset(clip.asset_id)
    if asset is None:
        raise EditError(f"no media with id {clip.asset_id!r} in the project")
    if clip.duration < 1:
        raise EditError(f"clip {clip.name or clip.id} would be shorter than one frame")
    if clip.source_in < 0:
        raise EditError(f"clip {clip.name or clip.id} would start before its media")
    length = asset.length_frames(project.fps)
    if length is not None and clip.source_out > length:
        raise EditError(f"clip {clip.name or clip.id} would run past the end of {asset.name}")


def check_free(track: Track, start: int, end: int, ignore: set[str] = frozenset()) -> None:  # type: ignore[assignment]
    """Raise EditError if any clip (other than ``ignore``) overlaps [start, end)."""
    if start < 0:
        raise EditError("a clip cannot start before the beginning of the timeline")
    for c in track.clips:
        if c.id not in ignore and c.position < end and start < c.end:
            raise EditError(f"{track.name}: the space is taken by {c.name or c.id}")


def trim_head(clip: Clip, delta: int) -> Clip:
    """Move the head edge by ``delta`` frames (positive: later, shorter)."""
    speed = Fraction(clip.speed)
    source_in = Fraction(clip.source_in) + (delta * speed if speed > 0 else 0)
    clip = replace(clip, position=clip.position + delta, duration=clip.duration - delta,
                   source_in=source_in, keyframes=tuple((p, shifted(k, -delta)) for p, k in clip.keyframes),
                   markers=tuple(replace(m, frame=m.frame - delta) for m in clip.markers if m.frame - delta >= 0))
    return clamp_fades(clip)


def trim_tail(clip: Clip, delta: int) -> Clip:
    """Move the tail edge by ``delta`` frames (positive: later, longer)."""
    speed = Fraction(clip.speed)
    source_in = Fraction(clip.source_in) + (delta * speed if speed < 0 else 0)
    return clamp_fades(replace(clip, duration=clip.duration + delta, source_in=source_in))


def split(clip: Clip, offset: int, right_id: str, right_link: str | None) -> tuple[Clip, Clip]:
    """Cut a clip ``offset`` frames in (0 < offset < duration) into two abutting clips."""
    if not 0 < offset < clip.duration:
        raise EditError(f"cannot cut {clip.name or clip.id} at its edge")
    left = trim_tail(clip, offset - clip.duration)
    left = replace(left, fade_out=0, markers=tuple(m for m in clip.markers if m.frame < offset))
    right = trim_head(replace(clip, id=right_id, link=right_link), offset)
    right = replace(right, fade_in=0)
    return clamp_fades(left), clamp_fades(right)


def shift_clips(track: Track, from_frame: int, delta: int) -> Track:
    """Move every clip starting at or after ``from_frame`` by ``delta`` frames (ripple)."""
    if delta == 0:
        return track
    moved = [replace(c, position=c.position + delta) if c.position >= from_frame else c for c in track.clips]
    if any(c.position < 0 for c in moved):
        raise EditError(f"{track.name}: the ripple would move clips before the start")
    result = with_clips(track, moved)
    for a, b in zip(result.clips, result.clips[1:], strict=False):
        if b.position < a.end:
            raise EditError(f"{track.name}: the ripple would make clips overlap")
    return result


def clear_range(track: Track, start: int, end: int, ids: IdFactory) -> Track:
    """Empty [start, end) on a track, cutting clips that straddle its edges (overwrite/lift)."""
    out: list[Clip] = []
    for c in track.clips:
        if c.end <= start or c.position >= end:
            out.append(c)
            continue
        if c.position < start:
            left, rest = split(c, start - c.position, ids("clip"), None)
            out.append(left)
            c = rest
        if c.end > end:
            _, right = split(c, end - c.position, ids("clip"), None)
            out.append(right)
    return with_clips(track, out)


def shift_marker(marker: Marker, delta: int) -> Marker:
    return replace(marker, frame=marker.frame + delta)
