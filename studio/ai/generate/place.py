"""Putting a generated file on the timeline as one undoable step (DESIGN.md fixed points 2, 5)."""

from __future__ import annotations

from studio.core.edits import AddAsset, AddTrack, OverwriteClips, SetTake
from studio.core.factory import clip_for_asset
from studio.core.history import History
from studio.core.media_pool import Asset
from studio.core.timeline import Clip

from .base import GenerateError


def free_video_track(history: History, start: int, end: int) -> str | None:
    """The first unlocked video track with nothing in ``[start, end)``; None when there is none."""
    for track in history.project.sequence.tracks_of("video"):
        if track.locked:
            continue
        if all(c.end <= start or c.position >= end for c in track.clips):
            return track.id
    return None


def place_generated(history: History, asset: Asset, at: int, *, label: str = "Generate shot") -> Clip:
    """Add ``asset`` and place it at frame ``at`` on the first free video track (a new track when
    every one is busy there), as one history entry: one undo removes the shot and its asset."""
    fps = history.project.fps
    clip = clip_for_asset(asset, fps, at)
    if clip.duration < 1:
        raise GenerateError(f"{asset.name} is shorter than one frame at {fps} fps")
    with history.transaction(label):
        history.apply(AddAsset(asset))
        track_id = free_video_track(history, clip.position, clip.end)
        if track_id is None:
            cmd = AddTrack("video")
            history.apply(cmd)
            track_id = cmd.track_id
        history.apply(OverwriteClips([(track_id, clip)]))
    return clip


def add_take(history: History, clip_id: str, asset: Asset, *, label: str = "Regenerate shot") -> None:
    """Add a regenerated file as a new take of a clip and show it (one history entry)."""
    with history.transaction(label):
        history.apply(AddAsset(asset))
        history.apply(SetTake(clip_id, asset.id))
