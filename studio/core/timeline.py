"""The sequence: tracks of clips, transitions and markers, as immutable values.

Immutability is what makes history exact and cheap: an edit builds a new project that shares
every untouched track and clip with the old one, and undo simply restores the old value.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from fractions import Fraction

from .keyframes import Keyframe, evaluate

TRACK_KINDS = ("video", "audio")
TRANSITION_KINDS = ("dissolve", "crossfade")

#: Clip parameters stored on the clip itself / in its transform, all animatable.
CLIP_PARAMS = ("opacity", "gain_db", "pan")
TRANSFORM_PARAMS = ("x", "y", "scale", "rotation", "crop_left", "crop_top", "crop_right",
                    "crop_bottom")
ANIMATABLE = CLIP_PARAMS + TRANSFORM_PARAMS


@dataclass(frozen=True, slots=True)
class Transform:
    """Placement on the canvas: offset in pixels from centre, scale, degrees, crop fractions."""

    x: float = 0.0
    y: float = 0.0
    scale: float = 1.0
    rotation: float = 0.0
    crop_left: float = 0.0
    crop_top: float = 0.0
    crop_right: float = 0.0
    crop_bottom: float = 0.0


@dataclass(frozen=True, slots=True)
class Marker:
    """A named point (or span) in time; on a clip its frame is relative to the clip start.

    ``note`` is the user's text; ``data`` is a tool's machine-readable payload (JSON text, e.g. a
    detected foley event), kept apart so neither can garble the other and both survive saving.
    """

    id: str
    frame: int
    name: str = ""
    color: str = "red"
    duration: int = 0
    note: str = ""
    data: str = ""


@dataclass(frozen=True, slots=True)
class Clip:
    """A use of an asset on a track.

    ``position`` and ``duration`` are frames of the sequence rate. ``source_in`` is the first
    source frame used, counted at the sequence rate from the media start; it is a Fraction
    because speed changes can cut between source frames. A negative ``speed`` plays reversed.
    """

    id: str
    asset_id: str
    position: int
    duration: int
    source_in: Fraction = Fraction(0)
    speed: Fraction = Fraction(1)
    name: str = ""
    enabled: bool = True
    gain_db: float = 0.0
    pan: float = 0.0
    opacity: float = 1.0
    fade_in: int = 0
    fade_out: int = 0
    transform: Transform = field(default_factory=Transform)
    keyframes: tuple[tuple[str, tuple[Keyframe, ...]], ...] = ()
    link: str | None = None
    group: str | None = None
    markers: tuple[Marker, ...] = ()
    #: Asset ids of every take of a generated clip (the active one is ``asset_id``).
    takes: tuple[str, ...] = ()

    @property
    def end(self) -> int:
        return self.position + self.duration

    @property
    def source_extent(self) -> Fraction:
        """Source frames consumed: duration times the absolute speed."""
        return self.duration * abs(Fraction(self.speed))

    @property
    def source_out(self) -> Fraction:
        return Fraction(self.source_in) + self.source_extent

    def source_frame_at(self, offset: int) -> Fraction:
        """Source position shown at ``offset`` frames into the clip (reverse-aware)."""
        speed = Fraction(self.speed)
        if speed > 0:
            return Fraction(self.source_in) + offset * speed
        return self.source_out + (offset + 1) * speed

    def static_value(self, name: str) -> float:
        if name in CLIP_PARAMS:
            return getattr(self, name)
        return getattr(self.transform, name)

    def curve(self, name: str) -> tuple[Keyframe, ...]:
        for param, keys in self.keyframes:
            if param == name:
                return keys
        return ()

    def value_at(self, name: str, offset: float) -> float:
        """Value of a parameter ``offset`` frames into the clip: keyframes win over static."""
        return evaluate(self.curve(name), offset, self.static_value(name))

    def with_curve(self, name: str, keys: tuple[Keyframe, ...]) -> Clip:
        rest = [(p, k) for p, k in self.keyframes if p != name]
        if keys:
            rest.append((name, keys))
        return replace(self, keyframes=tuple(sorted(rest)))


@dataclass(frozen=True, slots=True)
class Transition:
    """A dissolve (video) or crossfade (audio) across the cut between clips ``a`` and ``b``.

    It covers ``before`` frames before the cut and ``after`` frames after it.
    """

    id: str
    a: str
    b: str
    before: int
    after: int
    kind: str = "dissolve"

    @property
    def duration(self) -> int:
        return self.before + self.after


@dataclass(frozen=True, slots=True)
class Track:
    """An ordered lane of non-overlapping clips (sorted by position)."""

    id: str
    kind: str
    name: str
    enabled: bool = True
    locked: bool = False
    muted: bool = False
    solo: bool = False
    height: int = 60
    clips: tuple[Clip, ...] = ()
    transitions: tuple[Transition, ...] = ()

    @property
    def end(self) -> int:
        return self.clips[-1].end if self.clips else 0

    def clip(self, clip_id: str) -> Clip | None:
        for c in self.clips:
            if c.id == clip_id:
                return c
        return None

    def clip_at(self, frame: int) -> Clip | None:
        for c in self.clips:
            if c.position <= frame < c.end:
                return c
        return None


@dataclass(frozen=True, slots=True)
class Sequence:
    """Tracks in order: video tracks bottom to top, then audio tracks; plus sequence markers."""

    tracks: tuple[Track, ...] = ()
    markers: tuple[Marker, ...] = ()
    #: The sequence lasts at least this many frames (e.g. an imported timeline's trailing gap).
    min_length: int = 0

    @property
    def content_end(self) -> int:
        """Frames up to the end of the last clip on any track."""
        return max((t.end for t in self.tracks), default=0)

    @property
    def duration(self) -> int:
        """Frames up to the end of the last clip on any track, or ``min_length`` if longer."""
        return max(self.content_end, self.min_length)

    def tracks_of(self, kind: str) -> tuple[Track, ...]:
        return tuple(t for t in self.tracks if t.kind == kind)


def clip_transform_replace(clip: Clip, name: str, value: float) -> Clip:
    """A clip with one static parameter changed (clip field or transform field)."""
    if name in CLIP_PARAMS:
        return replace(clip, **{name: value})
    return replace(clip, transform=replace(clip.transform, **{name: value}))
