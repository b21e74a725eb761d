"""Edits the timeline's keys and drops make: clipboard, razor at the playhead, asset drops.

Pure functions of the project returning commands (or clips), so they are easy to test.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from studio.core.edits import Command, ExtractRange, OverwriteClips, Razor
from studio.core.edits.base import linked_ids
from studio.core.errors import EditError
from studio.core.factory import clip_for_asset
from studio.core.ids import new_id
from studio.core.project import Project
from studio.core.timeline import Clip, Track

ASSET_MIME = "application/x-studio-asset"


@dataclass(frozen=True, slots=True)
class Copied:
    """Clips on the clipboard with their track ids, positions relative to the first one."""

    clips: tuple[tuple[str, Clip], ...]


def copy_clips(project: Project, clip_ids: list[str]) -> Copied:
    """The selection and its linked partners, ready to paste anywhere in time."""
    ids = linked_ids(project, clip_ids, groups=False)
    found = [(t.id, c) for t, c in project.all_clips() if c.id in ids]
    if not found:
        raise EditError("nothing selected to copy")
    start = min(c.position for _, c in found)
    return Copied(tuple((tid, replace(c, position=c.position - start)) for tid, c in found))


def paste_command(project: Project, copied: Copied, at: int) -> tuple[Command, list[str]]:
    """An overwrite of fresh copies at frame ``at`` on their original tracks; also the new ids."""
    links: dict[str, str] = {}
    groups: dict[str, str] = {}
    placements = []
    for tid, c in copied.clips:
        if project.track(tid) is None:
            continue
        link = links.setdefault(c.link, new_id("link")) if c.link else None
        group = groups.setdefault(c.group, new_id("group")) if c.group else None
        placements.append((tid, replace(c, id=new_id("clip"), position=c.position + at, link=link, group=group)))
    if not placements:
        raise EditError("the copied clips' tracks are gone")
    return OverwriteClips(placements), [c.id for _, c in placements]


def razor_commands(project: Project, frame: int, clip_ids: list[str]) -> list[Command]:
    """Razor the selected clips the frame falls inside (partners follow), or every track."""
    if not clip_ids:
        return [Razor(frame)]
    commands: list[Command] = []
    done: set[str] = set()
    for cid in clip_ids:
        found = project.find_clip(cid)
        if found is None or cid in done or not found[1].position < frame < found[1].end:
            continue
        done |= linked_ids(project, [cid], groups=False)
        commands.append(Razor(frame, cid))
    if not commands:
        raise EditError("the playhead is not inside a selected clip")
    return commands


def drop_placements(project: Project, asset_id: str, track: Track, frame: int) -> list[tuple[str, Clip]]:
    """Clips for dropping an asset on ``track`` at ``frame``: A/V media gets linked video and audio."""
    asset = project.asset(asset_id)
    if asset is None:
        raise EditError(f"no media with id {asset_id!r} in the project")
    fps = project.fps
    video_track = track if track.kind == "video" else next(iter(project.sequence.tracks_of("video")), None)
    audio_track = track if track.kind == "audio" else next(iter(project.sequence.tracks_of("audio")), None)
    wants = [k for k, ok in (("video", asset.has_video), ("audio", asset.has_audio)) if ok]
    if track.kind not in wants:
        raise EditError(f"{asset.name} has no {'picture' if track.kind == 'video' else 'sound'} "
                        f"for track {track.name}")
    link = new_id("link") if len(wants) == 2 else None
    placements = []
    for kind, dest in (("video", video_track), ("audio", audio_track)):
        if kind in wants and dest is not None:
            placements.append((dest.id, clip_for_asset(asset, fps, frame, link=link)))
    if len(placements) == 1 and link:
        placements = [(tid, replace(c, link=None)) for tid, c in placements]
    return placements


def close_gap_command(project: Project, track_id: str, start: int, end: int | None) -> Command:
    """Ripple-delete the empty ``[start, end)`` of a track: later clips move left by its length.

    Clips linked to the ones that move (A/V partners) move with them on their own tracks, so
    picture and sound stay in sync; that needs their tracks empty over the gap too."""
    track = project.track(track_id)
    if track is None:
        raise EditError("the gap's track is gone")
    if end is None:
        raise EditError("a gap after the last clip cannot be closed: nothing follows it")
    if track.locked:
        raise EditError(f"track {track.name} is locked")
    if any(c.position < end and start < c.end for c in track.clips):
        raise EditError(f"{track.name}: the gap is no longer empty")
    moving = {c.id for c in track.clips if c.position >= end}
    partners = linked_ids(project, moving, groups=False) - moving
    tracks = [track_id]
    for t, c in project.all_clips():
        if c.id not in partners or t.id in tracks:
            continue
        if t.locked:
            raise EditError(f"cannot close the gap: linked clips on {t.name} would slip, and it is locked")
        blocked = any(o.position < end and start < o.end for o in t.clips) or any(
            o.position < end for o in t.clips if o.id in partners)
        if blocked:
            raise EditError(f"cannot close the gap: something on {t.name} is in the way of the clips "
                            "linked to the ones after it")
        tracks.append(t.id)
    command = ExtractRange(start, end, tracks)
    command.label = "Close gap"
    return command
