"""Streaming retiming: source frames in, output frames at exact output timestamps out.

``plan(frames, src_fps, out_fps, interpolator)`` yields ``(Sample, make)`` for every output
frame in order, where ``make()`` returns the RGB frame. Making is deferred so a caller can run
the ``make`` calls on a thread pool (pairs compute their flow once, under a lock) while it
encodes in order. Exact positions reuse the source frame untouched; a pair detected as a scene
cut is never blended: the outgoing frame is held until the incoming frame's own timestamp, which is
where the cut is (a source frame is on screen from its timestamp to the next one's, so every instant
between the two still shows the outgoing shot; "nearest" would move the cut half a frame early).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from fractions import Fraction

import numpy as np

from .cuts import CutDetector
from .timing import Sample, output_frame_count, sample

Make = Callable[[], np.ndarray]


def _const(frame: np.ndarray) -> Make:
    return lambda: frame


def _at(pair, t: float) -> Make:
    return lambda: pair.at(t)


def plan(frames: Iterable[np.ndarray], src_fps: Fraction, out_fps: Fraction, interpolator, *,
         cuts: CutDetector | None = None, on_cut: Callable[[int], None] | None = None) -> Iterator[tuple[Sample, Make]]:
    """Yield ``(sample, make)`` for each output frame (see the module docstring).

    ``cuts`` defaults to a fresh ``CutDetector``; ``on_cut(i)`` is told of a cut between source
    frames ``i`` and ``i + 1``.
    """
    src_fps, out_fps = Fraction(src_fps), Fraction(out_fps)
    cuts = CutDetector() if cuts is None else cuts
    prev = None
    k = 0
    n = 0
    for i, frame in enumerate(frames):
        n = i + 1
        if prev is None:
            prev = frame
            continue
        a_index = i - 1
        first = sample(k, src_fps, out_fps)
        if math.floor(first.position) == a_index:  # some output frame lies between prev and frame
            is_cut = cuts.is_cut(prev, frame)
            if is_cut and on_cut is not None:
                on_cut(a_index)
            pair = None
            while True:
                s = sample(k, src_fps, out_fps)
                if math.floor(s.position) != a_index:
                    break
                if s.exact:
                    make = _const(prev)
                elif is_cut:
                    make = _const(prev)
                else:
                    pair = pair or interpolator.pair(prev, frame)
                    make = _at(pair, float(s.t))
                yield s, make
                k += 1
        prev = frame
    total = output_frame_count(n, src_fps, out_fps)
    while k < total:  # from the last source frame to the end: hold it
        yield sample(k, src_fps, out_fps, n), _const(prev)
        k += 1


def retime(frames: Iterable[np.ndarray], src_fps: Fraction, out_fps: Fraction, interpolator, **kw) -> list[np.ndarray]:
    """All output frames of ``plan`` as a list (small inputs and tests)."""
    return [make() for _, make in plan(frames, src_fps, out_fps, interpolator, **kw)]
