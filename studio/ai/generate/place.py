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


def place_generated(history: History, asset: Asset, at: int, *, label: str = "Generate shot",
                    track_id: str | None = None, frames: int | None = None) -> Clip:
    """Add ``asset`` and place it at frame ``at`` as one history entry (one undo removes the shot and
    its asset): on ``track_id`` when that track is unlocked and free there, else on the first free
    video track, else on a new one; cut to ``frames`` when the take is longer."""
    fps = history.project.fps
    length = asset.length_frames(fps)
    if length is None or length < 1:
        raise GenerateError(f"{asset.name} is shorter than one frame at {fps} fps")
    duration = int(length) if frames is None else min(int(length), frames)
    clip = clip_for_asset(asset, fps, at, duration=duration)
    with history.transaction(label):
        history.apply(AddAsset(asset))
        track = next((t for t in history.project.sequence.tracks if t.id == track_id), None)
        if track is None or track.locked or any(c.position < clip.end and clip.position < c.end for c in track.clips):
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
