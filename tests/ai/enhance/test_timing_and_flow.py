"""Retiming lands on exact output timestamps; flow interpolation puts a moving square where it belongs;
nothing is ever blended across a scene cut."""

from __future__ import annotations

import math
from fractions import Fraction

import cv2
import numpy as np
import pytest

from studio.ai.enhance.cuts import CutDetector
from studio.ai.enhance.flow import BlendInterpolator, FlowInterpolator, RepeatInterpolator
from studio.ai.enhance.retime import plan, retime
from studio.ai.enhance.timing import output_frame_count, sample, source_position

from .conftest import centre, square_frame


@pytest.mark.parametrize(("src", "n"), [(Fraction(16), 16), (Fraction(24), 24), (Fraction(30000, 1001), 30),
                                        (Fraction(16), 80)])
def test_exact_output_count_and_timestamps(src, n):
    out = Fraction(60)
    frames = [np.full((8, 8, 3), i, np.uint8) for i in range(n)]
    samples = [s for s, _ in plan(frames, src, out, RepeatInterpolator())]
    m = output_frame_count(n, src, out)
    assert len(samples) == m
    assert [s.index for s in samples] == list(range(m))
    assert all(s.time == Fraction(s.index, 60) for s in samples)  # exact, no float drift
    assert abs(Fraction(m) / out - n / src) <= 1 / out  # duration within one output frame
    for s in samples:
        assert s.position == s.time * src
        if s.a < n - 1:
            assert (s.a, s.t) == (math.floor(s.position), s.position - math.floor(s.position))


def test_16_to_60_counts_and_exact_reuse():
    assert output_frame_count(16, Fraction(16), Fraction(60)) == 60
    assert output_frame_count(30, Fraction(30000, 1001), Fraction(60)) == 60
    assert source_position(15, Fraction(16), Fraction(60)) == 4  # every 15th output frame is a source frame
    assert sample(15, Fraction(16), Fraction(60)).exact
    frames = [square_frame(20 + 2 * i, 32) for i in range(16)]
    out = retime(frames, Fraction(16), Fraction(60), FlowInterpolator())
    for k in range(0, 60, 15):
        assert out[k] is frames[k * 16 // 60]  # integer positions reuse the source frame untouched


@pytest.mark.parametrize("speed", [4, 6, 8])
def test_flow_puts_the_square_within_a_pixel(speed):
    a, b = square_frame(30, 32), square_frame(30 + speed, 32)
    pair = FlowInterpolator().pair(a, b)
    for t in (0.25, 0.5, 0.75):
        truth = centre(square_frame(30 + speed * t, 32)) if float(speed * t).is_integer() else None
        cx, cy = centre(pair.at(t))
        expect_x = centre(a)[0] + speed * t
        assert abs(cx - expect_x) <= 1.0, (t, cx, expect_x)
        assert abs(cy - centre(a)[1]) <= 1.0
        if truth is not None:
            assert abs(cx - truth[0]) <= 1.0


def test_flow_beats_blending_on_motion():
    a, b = square_frame(30, 32), square_frame(38, 32)
    truth = square_frame(34, 32).astype(float)
    flow = FlowInterpolator().pair(a, b).at(0.5).astype(float)
    blend = BlendInterpolator().pair(a, b).at(0.5).astype(float)
    assert np.abs(flow - truth).mean() < 0.5 * np.abs(blend - truth).mean()


def _two_scenes():
    rng = np.random.default_rng(3)
    noise = cv2.GaussianBlur(rng.integers(0, 255, (64, 96, 3), np.uint8), (5, 5), 1.5)
    first = [square_frame(14 + 3 * i, 24) for i in range(8)]
    second = [np.roll(noise, 2 * i, axis=1) for i in range(8)]
    return first + second


def test_no_blend_across_a_cut():
    frames = _two_scenes()
    cuts: list[int] = []
    out = [(s, make()) for s, make in plan(frames, Fraction(16), Fraction(60), FlowInterpolator(),
                                          on_cut=cuts.append)]
    assert cuts == [7]
    across = [(s, img) for s, img in out if s.a == 7]
    assert across
    assert any(s.t > Fraction(1, 2) for s, _ in across)
    for s, img in across:  # between the last frame of scene 1 and the first of scene 2: the outgoing one, untouched
        assert np.array_equal(img, frames[7]), s  # the cut is at frame 8's timestamp, not half a frame before
    for s, img in out:  # every output frame belongs to one scene only
        in_first = s.a <= 7
        scene = frames[:8] if in_first else frames[8:]
        assert abs(float(img.mean()) - float(scene[0].mean())) < 8, s  # no mix of the two scenes' tones


def test_cut_detector_ignores_motion_and_catches_cuts():
    det = CutDetector()
    moving = [square_frame(10 + 5 * i, 32) for i in range(12)]
    assert not any(det.is_cut(x, y) for x, y in zip(moving, moving[1:], strict=False))
    assert det.is_cut(moving[-1], np.full_like(moving[0], 200))
