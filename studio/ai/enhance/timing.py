"""Exact retiming arithmetic: which source position each output frame shows.

Output frame ``k`` is shown at ``t = k / out_fps`` seconds exactly; it samples the source at
position ``p = t * src_fps`` (a ``Fraction`` in source frames). An integer ``p`` reuses source
frame ``p`` untouched; otherwise frames ``floor(p)`` and ``floor(p) + 1`` are interpolated at
``p - floor(p)``. Positions past the last source frame hold it.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import NamedTuple


class Sample(NamedTuple):
    """Output frame ``index`` at ``time`` seconds: source frames ``a``/``b`` mixed at ``t`` (0 <= t < 1)."""

    index: int
    time: Fraction
    position: Fraction
    a: int
    b: int
    t: Fraction

    @property
    def exact(self) -> bool:
        """True when the output frame is source frame ``a`` untouched."""
        return self.t == 0


def output_frame_count(source_frames: int, src_fps: Fraction, out_fps: Fraction) -> int:
    """Output frames covering the source's duration (``source_frames / src_fps``), to the nearest frame."""
    if source_frames <= 0:
        return 0
    exact = Fraction(source_frames) * Fraction(out_fps) / Fraction(src_fps)
    return max(1, math.floor(exact + Fraction(1, 2)))


def source_position(index: int, src_fps: Fraction, out_fps: Fraction) -> Fraction:
    """Source position (in source frames, exact) sampled by output frame ``index``."""
    return Fraction(index) * Fraction(src_fps) / Fraction(out_fps)


def sample(index: int, src_fps: Fraction, out_fps: Fraction, source_frames: int | None = None) -> Sample:
    """What output frame ``index`` shows; positions past ``source_frames - 1`` hold the last frame."""
    pos = source_position(index, src_fps, out_fps)
    a = math.floor(pos)
    t = pos - a
    if source_frames is not None and a >= source_frames - 1:
        a, t = source_frames - 1, Fraction(0)
    return Sample(index, Fraction(index) / Fraction(out_fps), pos, a, a + (1 if t else 0), t)
