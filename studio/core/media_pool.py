"""Media pool: assets (files on disk) with probe info and, for generated media, a recipe."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

ASSET_KINDS = ("video", "audio", "av", "image")


@dataclass(frozen=True, slots=True)
class MediaInfo:
    """What a probe found in a file; ``duration`` is exact seconds, ``None`` for stills/unknown."""

    duration: Fraction | None = None
    has_video: bool = False
    has_audio: bool = False
    width: int = 0
    height: int = 0
    fps: Fraction | None = None
    vfr: bool = False
    sample_rate: int = 0
    channels: int = 0
    is_still: bool = False


@dataclass(frozen=True, slots=True)
class Recipe:
    """How a generated file was made (DESIGN.md fixed point 5): enough to make it again."""

    backend: str
    model_id: str
    prompt: str
    revision: str = ""
    negative_prompt: str = ""
    seed: int = 0
    steps: int = 0
    guidance: float = 0.0
    width: int = 0
    height: int = 0
    frames: int = 0
    fps: Fraction = Fraction(16)
    source_image: str = ""
    #: Conform settings as sorted (key, value) pairs of JSON scalars.
    conform: tuple[tuple[str, str | int | float | bool], ...] = ()


@dataclass(frozen=True, slots=True)
class Asset:
    """A media file in the pool. ``path`` is absolute in memory, relative in project files."""

    id: str
    path: str
    name: str
    kind: str
    fingerprint: str = ""
    info: MediaInfo = field(default_factory=MediaInfo)
    recipe: Recipe | None = None

    def length_frames(self, rate: Fraction) -> Fraction | None:
        """Length in frames of ``rate``, exact; ``None`` when unbounded (stills) or unknown."""
        if self.info.is_still or self.info.duration is None:
            return None
        return self.info.duration * rate

    @property
    def has_video(self) -> bool:
        return self.kind in ("video", "av", "image")

    @property
    def has_audio(self) -> bool:
        return self.kind in ("audio", "av")
