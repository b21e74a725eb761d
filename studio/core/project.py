"""The project: settings, media pool and sequence, one immutable value per state."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from fractions import Fraction

from .media_pool import Asset
from .timeline import Clip, Sequence, Track

CHANNEL_LAYOUTS = {"mono": 1, "stereo": 2, "5.1": 6}


@dataclass(frozen=True, slots=True)
class ProjectSettings:
    """Canvas size, exact frame rate, audio sample rate and channel layout."""

    width: int = 1920
    height: int = 1080
    fps: Fraction = Fraction(30)
    sample_rate: int = 48000
    channel_layout: str = "stereo"

    @property
    def channels(self) -> int:
        return CHANNEL_LAYOUTS[self.channel_layout]


@dataclass(frozen=True, slots=True)
class Project:
    """Everything a project file holds. Edits produce new Projects (see ``history``)."""

    settings: ProjectSettings = field(default_factory=ProjectSettings)
    assets: tuple[Asset, ...] = ()
    sequence: Sequence = field(default_factory=Sequence)
    name: str = "Untitled"

    # --- lookups -------------------------------------------------------------------------
    @property
    def fps(self) -> Fraction:
        return self.settings.fps

    def asset(self, asset_id: str) -> Asset | None:
        for a in self.assets:
            if a.id == asset_id:
                return a
        return None

    def track(self, track_id: str) -> Track | None:
        for t in self.sequence.tracks:
            if t.id == track_id:
                return t
        return None

    def track_index(self, track_id: str) -> int:
        for i, t in enumerate(self.sequence.tracks):
            if t.id == track_id:
                return i
        return -1

    def find_clip(self, clip_id: str) -> tuple[Track, Clip] | None:
        for t in self.sequence.tracks:
            for c in t.clips:
                if c.id == clip_id:
                    return t, c
        return None

    def all_clips(self) -> list[tuple[Track, Clip]]:
        return [(t, c) for t in self.sequence.tracks for c in t.clips]

    # --- structural helpers used by edits ------------------------------------------------
    def with_track(self, track: Track) -> Project:
        tracks = tuple(track if t.id == track.id else t for t in self.sequence.tracks)
        return replace(self, sequence=replace(self.sequence, tracks=tracks))

    def with_tracks(self, tracks: tuple[Track, ...]) -> Project:
        return replace(self, sequence=replace(self.sequence, tracks=tracks))

    @property
    def duration_seconds(self) -> Fraction:
        return Fraction(self.sequence.duration) / self.settings.fps
