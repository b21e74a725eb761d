"""What the compositor plans for one sequence frame: the layers (clips as seen at that frame),
dissolves between them, where a YUV-stacked picture lands, and video tracks indexed for fast
lookups (see :mod:`studio.render.compositor`)."""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from studio.core.timeline import Clip, Track

from . import geometry as geo


@dataclass(slots=True)
class _Layer:
    """One clip as seen at one sequence frame."""

    clip: Clip
    offset: int
    params: geo.Params
    opacity: float
    source: object | None  # VideoSource, or None when offline
    error: str = ""
    still: bool = False
    #: With a proxy: the original's coded size (geometry follows it) and the path to fall back to.
    size: tuple[int, int] | None = None
    original: tuple[str, object] | None = None  # (path, pool slot)

    @property
    def offline(self) -> bool:
        return self.source is None


@dataclass(slots=True)
class _Placed:
    """A layer's picture in the output format (``pic``; None: placeholder, False: not visible),
    its top-left canvas position and the visible part ``[x0, x1) x [y0, y1)`` of it."""

    pic: object
    left: int
    top: int
    x0: int
    y0: int
    x1: int
    y1: int


@dataclass(slots=True)
class _Mix:
    """A dissolve: ``a`` and ``b`` (either may be None: disabled) with b's weight ``p``."""

    a: _Layer | None
    b: _Layer | None
    p: float


class _TrackIndex:
    """A video track prepared for fast lookups at a frame."""

    def __init__(self, track: Track) -> None:
        self.track = track
        self.clips = track.clips
        self.starts = [c.position for c in track.clips]
        self.slot_of = {c.id: (track.id, i % 2) for i, c in enumerate(track.clips)}
        self.transitions = []
        for tr in track.transitions:
            a, b = track.clip(tr.a), track.clip(tr.b)
            if a is None or b is None or tr.duration <= 0:
                continue
            cut = a.end
            self.transitions.append((cut - tr.before, cut + tr.after, a, b))

    def clip_at(self, n: int) -> Clip | None:
        i = bisect.bisect_right(self.starts, n) - 1
        if i >= 0 and n < self.clips[i].end:
            return self.clips[i]
        return None


def _fade(clip: Clip, offset: int) -> float:
    """Opacity factor of the clip's fade in / fade out ramps (1 outside them)."""
    f = 1.0
    if clip.fade_in > 0 and offset < clip.fade_in:
        f = min(f, max(0.0, offset / clip.fade_in))
    if clip.fade_out > 0 and offset >= clip.duration - clip.fade_out:
        f = min(f, max(0.0, (clip.duration - 1 - offset) / clip.fade_out))
    return f
