"""Putting clips on and taking them off tracks: insert, overwrite, lift, extract, razor."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from ..errors import EditError
from ..project import Project
from ..timeline import Clip
from .base import (
    Command,
    check_free,
    check_source,
    clear_range,
    get_clip,
    get_track,
    linked_ids,
    shift_clips,
    split,
    with_clips,
)

Placement = tuple[str, Clip]  # (track id, clip with its position set)


def _validate(project: Project, placements: Sequence[Placement]) -> None:
    if not placements:
        raise EditError("nothing to place")
    for track_id, clip in placements:
        track = get_track(project, track_id)
        if project.find_clip(clip.id) is not None:
            raise EditError(f"a clip with id {clip.id!r} is already on the timeline")
        check_source(project, clip)
        asset = project.asset(clip.asset_id)
        assert asset is not None
        if track.kind == "video" and not asset.has_video:
            raise EditError(f"{asset.name} has no picture: put it on an audio track")
        if track.kind == "audio" and not asset.has_audio:
            raise EditError(f"{asset.name} has no sound: put it on a video track")
        if clip.position < 0:
            raise EditError("a clip cannot start before the beginning of the timeline")


class InsertClips(Command):
    """Insert clips, pushing later material on their tracks right (a ripple insert).

    A clip straddling the insert point is cut there first. Clips placed together (a video
    clip and its linked audio) are inserted as one edit.
    """

    label = "Insert"

    def __init__(self, placements: Iterable[Placement]) -> None:
        super().__init__()
        self.placements = list(placements)

    def _apply(self, project: Project) -> Project:
        _validate(project, self.placements)
        by_track: dict[str, list[Clip]] = {}
        for track_id, clip in self.placements:
            by_track.setdefault(track_id, []).append(clip)
        for track_id, clips in by_track.items():
            track = get_track(project, track_id)
            at = min(c.position for c in clips)
            span = max(c.end for c in clips) - at
            straddling = track.clip_at(at)
            if straddling is not None and straddling.position < at:
                left, right = split(straddling, at - straddling.position, self.ids("clip"), None)
                track = with_clips(track, [c for c in track.clips if c.id != straddling.id] + [left, right])
            track = shift_clips(track, at, span)
            for c in clips:
                check_free(track, c.position, c.end)
                track = with_clips(track, [*track.clips, c])
            project = project.with_track(track)
        return project


class OverwriteClips(Command):
    """Place clips over whatever is there, cutting or removing what they cover."""

    label = "Overwrite"

    def __init__(self, placements: Iterable[Placement]) -> None:
        super().__init__()
        self.placements = list(placements)

    def _apply(self, project: Project) -> Project:
        _validate(project, self.placements)
        for track_id, clip in self.placements:
            track = clear_range(get_track(project, track_id), clip.position, clip.end, self.ids)
            project = project.with_track(with_clips(track, [*track.clips, clip]))
        return project


def InsertClip(track_id: str, clip: Clip) -> InsertClips:  # noqa: N802 - reads as a command
    return InsertClips([(track_id, clip)])


def OverwriteClip(track_id: str, clip: Clip) -> OverwriteClips:  # noqa: N802
    return OverwriteClips([(track_id, clip)])


class RemoveClips(Command):
    """Lift (leave a gap) or extract (ripple delete: close the gap) clips.

    Linked partners go with them unless ``with_linked`` is False.
    """

    def __init__(self, clip_ids: Iterable[str], *, ripple: bool, with_linked: bool = True) -> None:
        super().__init__()
        self.clip_ids = list(clip_ids)
        self.ripple = ripple
        self.with_linked = with_linked
        self.label = "Ripple delete" if ripple else "Lift"

    def _apply(self, project: Project) -> Project:
        if not self.clip_ids:
            raise EditError("no clips selected")
        for cid in self.clip_ids:
            get_clip(project, cid)
        ids = linked_ids(project, self.clip_ids, groups=False) if self.with_linked else set(self.clip_ids)
        for track in project.sequence.tracks:
            doomed = sorted((c for c in track.clips if c.id in ids), key=lambda c: -c.position)
            if not doomed:
                continue
            if track.locked:
                raise EditError(f"track {track.name} is locked")
            track = with_clips(track, [c for c in track.clips if c.id not in ids])
            if self.ripple:
                for c in doomed:  # right to left, so earlier shifts don't move later gaps
                    track = shift_clips(track, c.end, -c.duration)
            project = project.with_track(track)
        return project


def Lift(clip_ids: Iterable[str], with_linked: bool = True) -> RemoveClips:  # noqa: N802
    return RemoveClips(clip_ids, ripple=False, with_linked=with_linked)


def Extract(clip_ids: Iterable[str], with_linked: bool = True) -> RemoveClips:  # noqa: N802
    return RemoveClips(clip_ids, ripple=True, with_linked=with_linked)


class ExtractRange(Command):
    """Remove [start, end) from tracks and close the gap (ripple delete of an in/out range)."""

    label = "Extract range"

    def __init__(self, start: int, end: int, track_ids: Iterable[str] | None = None, *, ripple: bool = True) -> None:
        super().__init__()
        self.start, self.end = start, end
        self.track_ids = list(track_ids) if track_ids is not None else None
        self.ripple = ripple

    def _apply(self, project: Project) -> Project:
        if not 0 <= self.start < self.end:
            raise EditError(f"bad range {self.start}-{self.end}")
        ids = self.track_ids if self.track_ids is not None else [
            t.id for t in project.sequence.tracks if not t.locked]
        for tid in ids:
            track = clear_range(get_track(project, tid), self.start, self.end, self.ids)
            if self.ripple:
                track = shift_clips(track, self.end, self.start - self.end)
            project = project.with_track(track)
        return project


class Razor(Command):
    """Cut clips at a frame: one clip (with its linked partners), or every unlocked track."""

    label = "Razor"

    def __init__(self, frame: int, clip_id: str | None = None) -> None:
        super().__init__()
        self.frame = frame
        self.clip_id = clip_id

    def _apply(self, project: Project) -> Project:
        f = self.frame
        if self.clip_id is not None:
            _, clip = get_clip(project, self.clip_id)
            if not clip.position < f < clip.end:
                raise EditError(f"frame {f} is not inside {clip.name or clip.id}")
            targets = {c.id for _, c in project.all_clips()
                       if c.id in linked_ids(project, [clip.id], groups=False) and c.position < f < c.end}
        else:
            targets = {c.id for t, c in project.all_clips() if not t.locked and c.position < f < c.end}
            if not targets:
                raise EditError(f"no clip to cut at frame {f}")
        new_links: dict[str, str] = {}
        for track in project.sequence.tracks:
            hits = [c for c in track.clips if c.id in targets]
            if not hits:
                continue
            if track.locked:
                raise EditError(f"track {track.name} is locked")
            out = [c for c in track.clips if c.id not in targets]
            for c in hits:
                link = None
                if c.link:
                    link = new_links.setdefault(c.link, self.ids("link"))
                left, right = split(c, f - c.position, self.ids("clip"), link)
                out += [left, right]
            project = project.with_track(with_clips(track, out))
        return project


def place_clip(clip: Clip, position: int) -> Clip:
    return replace(clip, position=position)
