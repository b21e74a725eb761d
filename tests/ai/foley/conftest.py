"""Bouncing-ball clips with known impact frames, made once per session (small and fast)."""

from __future__ import annotations

from fractions import Fraction

import pytest

from studio.media.synth_scenes import write_bouncing_ball

#: (width, height, fps, frames, first_impact, period): size and rate vary a little.
BALLS = {
    "640x360@25": (640, 360, Fraction(25), 100, 37, 30),
    "320x240@30": (320, 240, Fraction(30), 90, 20, 25),
    "480x270@24": (480, 270, Fraction(24), 80, 12, 22),
}


@pytest.fixture(scope="session")
def balls(tmp_path_factory):
    folder = tmp_path_factory.mktemp("balls")
    return {name: write_bouncing_ball(folder / f"{name.replace('@', '_')}.mp4", width=w, height=h, fps=fps,
                                      frames=n, first_impact=first, period=period)
            for name, (w, h, fps, n, first, period) in BALLS.items()}
