"""Track list edits: add, remove, reorder, rename, and the header switches."""

from __future__ import annotations

from dataclasses import replace

from ..errors import EditError
from ..project import Project
from ..timeline import TRACK_KINDS, Track
from .base import Command, get_track

TRACK_FLAGS = ("enabled", "locked", "muted", "solo")


def default_track_name(project: Project, kind: str) -> str:
    prefix = "V" if kind == "video" else "A"
    taken = {t.name for t in project.sequence.tracks}
    n = len(project.sequence.tracks_of(kind)) + 1
    while f"{prefix}{n}" in taken:
        n += 1
    return f"{prefix}{n}"


class AddTrack(Command):
    """Add a track; by default video tracks go on top of the video, audio at the bottom."""

    label = "Add track"

    def __init__(self, kind: str, name: str | None = None, index: int | None = None) -> None:
        super().__init__()
        self.kind, self.name, self.index = kind, name, index
        self.track_id = f"track-{self.ids.seed}"

    def _apply(self, project: Project) -> Project:
        if self.kind not in TRACK_KINDS:
            raise EditError(f"track kind must be video or audio, not {self.kind!r}")
        tracks = list(project.sequence.tracks)
        index = self.index
        if index is None:
            videos = [i for i, t in enumerate(tracks) if t.kind == "video"]
            index = (videos[-1] + 1 if videos else 0) if self.kind == "video" else len(tracks)
        if not 0 <= index <= len(tracks):
            raise EditError(f"track index {index} is out of range 0-{len(tracks)}")
        name = self.name or default_track_name(project, self.kind)
        tracks.insert(index, Track(self.track_id, self.kind, name))
        return project.with_tracks(tuple(tracks))


class RemoveTrack(Command):
    label = "Remove track"

    def __init__(self, track_id: str) -> None:
        super().__init__()
        self.track_id = track_id

    def _apply(self, project: Project) -> Project:
        get_track(project, self.track_id)
        return project.with_tracks(tuple(t for t in project.sequence.tracks if t.id != self.track_id))


class MoveTrack(Command):
    label = "Reorder tracks"

    def __init__(self, track_id: str, index: int) -> None:
        super().__init__()
        self.track_id, self.index = track_id, index

    def _apply(self, project: Project) -> Project:
        track = get_track(project, self.track_id, editable=False)
        tracks = [t for t in project.sequence.tracks if t.id != track.id]
        if not 0 <= self.index <= len(tracks):
            raise EditError(f"track index {self.index} is out of range 0-{len(tracks)}")
        tracks.insert(self.index, track)
        return project.with_tracks(tuple(tracks))


class RenameTrack(Command):
    label = "Rename track"

    def __init__(self, track_id: str, name: str) -> None:
        super().__init__()
        self.track_id, self.name = track_id, name

    def _apply(self, project: Project) -> Project:
        track = get_track(project, self.track_id, editable=False)
        name = self.name.strip() if isinstance(self.name, str) else ""
        if not name:
            raise EditError("a track name cannot be empty")
        return project.with_track(replace(track, name=name))


class SetTrackProperty(Command):
    """Flip a header switch (enabled, locked, muted, solo) or set the height."""

    def __init__(self, track_id: str, name: str, value: bool | int) -> None:
        super().__init__()
        self.track_id, self.name, self.value = track_id, name, value
        self.label = f"Set track {name}"
        self.merge_key = ("track", track_id, name)  # a height drag is one undo step

    def _apply(self, project: Project) -> Project:
        track = get_track(project, self.track_id, editable=False)
        if self.name in TRACK_FLAGS:
            if not isinstance(self.value, bool):
                raise EditError(f"{self.name} must be true or false")
        elif self.name == "height":
            if isinstance(self.value, bool) or not isinstance(self.value, int) or not 16 <= self.value <= 400:
                raise EditError("track height must be 16-400 pixels")
        else:
            raise EditError(f"unknown track property {self.name!r}")
        return project.with_track(replace(track, **{self.name: self.value}))
