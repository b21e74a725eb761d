"""Building new model objects the way every caller (CLI, editor, OTIO import) needs them."""

from __future__ import annotations

import math
from fractions import Fraction

from .ids import new_id
from .media_pool import Asset
from .project import Project, ProjectSettings
from .timeline import Clip, Sequence, Track

#: A still image placed on the timeline lasts this long by default.
STILL_SECONDS = 5


def new_project(width: int = 1920, height: int = 1080, fps: Fraction = Fraction(30), name: str = "Untitled",
                sample_rate: int = 48000) -> Project:
    """An empty project with the usual V1, A1 tracks."""
    tracks = (Track(new_id("track"), "video", "V1"), Track(new_id("track"), "audio", "A1"))
    return Project(ProjectSettings(width, height, fps, sample_rate), sequence=Sequence(tracks), name=name)


def clip_for_asset(asset: Asset, fps: Fraction, position: int, *, source_in: Fraction | int = 0,
                   duration: int | None = None, clip_id: str | None = None, link: str | None = None) -> Clip:
    """A clip showing ``asset`` from ``source_in`` to its end (or for ``duration`` frames)."""
    length = asset.length_frames(fps)
    if duration is None:
        if length is None:
            duration = int(STILL_SECONDS * fps)
        else:
            duration = math.floor(length - Fraction(source_in))
    return Clip(id=clip_id or new_id("clip"), asset_id=asset.id, position=position, duration=duration,
                source_in=Fraction(source_in), name=asset.name, link=link)
