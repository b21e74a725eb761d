"""`studio import MEDIA... --into PROJECT [--at TIME] [--track NAME]`.

Every file is probed before anything changes; the edits go through one history transaction
and the project is saved atomically, so a bad file leaves the project as it was.
"""

from __future__ import annotations

from pathlib import Path

from studio.core.edits import AddAsset, AddTrack, InsertClips
from studio.core.factory import clip_for_asset
from studio.core.history import History
from studio.core.ids import new_id
from studio.core.media_pool import Asset
from studio.core.project import Project
from studio.core.projectfile import load_project, save_project
from studio.core.timebase import format_timecode, parse_time
from studio.media.assets import asset_from_file

from .errors import UsageError


def _track_named(project: Project, name: str):
    for t in project.sequence.tracks:
        if t.name == name:
            return t
    names = ", ".join(t.name for t in project.sequence.tracks) or "none"
    raise UsageError(f"no track named {name!r} in the project (tracks: {names})")


def _first(history: History, kind: str) -> str:
    tracks = history.project.sequence.tracks_of(kind)
    unlocked = [t for t in tracks if not t.locked]
    if unlocked:
        return unlocked[0].id
    if tracks:
        raise UsageError(f"every {kind} track is locked")
    cmd = AddTrack(kind)
    history.apply(cmd)
    return cmd.track_id


def _targets(history: History, asset: Asset, track_name: str | None) -> tuple[str | None, str | None]:
    """(video track id, audio track id) that this asset's clips go to."""
    chosen = _track_named(history.project, track_name) if track_name else None
    video = audio = None
    if asset.has_video:
        video = chosen.id if chosen is not None and chosen.kind == "video" else _first(history, "video")
    if asset.has_audio:
        audio = chosen.id if chosen is not None and chosen.kind == "audio" else _first(history, "audio")
    if chosen is not None and chosen.id not in (video, audio):
        raise UsageError(f"{asset.name} has no {chosen.kind}: it cannot go on track {chosen.name}")
    return video, audio


def existing_asset(project: Project, asset: Asset) -> Asset | None:
    for a in project.assets:
        if a.path == asset.path and a.fingerprint == asset.fingerprint:
            return a
    return None


def cmd_import(args) -> int:
    project_path = Path(args.into)
    project = load_project(project_path)
    fps = project.settings.fps
    assets = [asset_from_file(m) for m in args.media]  # probe everything first
    history = History(project)
    at = parse_time(args.at, fps) if args.at is not None else None
    if args.track:
        _track_named(project, args.track)
    with history.transaction("Import media"):
        position = at if at is not None else history.project.sequence.duration
        for asset in assets:
            known = existing_asset(history.project, asset)
            if known is None:
                history.apply(AddAsset(asset))
            else:
                asset = known
            video, audio = _targets(history, asset, args.track)
            link = new_id("link") if video and audio else None
            placements = []
            for track_id in (video, audio):
                if track_id is not None:
                    clip = clip_for_asset(asset, fps, position, link=link)
                    if clip.duration < 1:
                        raise UsageError(f"{asset.name} is shorter than one frame at {fps} fps")
                    placements.append((track_id, clip))
            history.apply(InsertClips(placements))
            placed = placements[0][1]
            print(f"{asset.name}: {asset.kind} at {format_timecode(position, fps)} for "
                  f"{format_timecode(placed.duration, fps)} on "
                  f"{' + '.join(history.project.track(t).name for t, _ in placements)}")
            position += placed.duration
    save_project(history.project, project_path)
    return 0
