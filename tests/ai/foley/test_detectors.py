"""Footsteps, explosions and periodicity against synthetic scenes with known ground truth."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from studio.ai.foley.analysis import analyze, periodicity
from studio.ai.foley.events import detect_events
from studio.media.synth_scenes import write_explosion, write_walker

#: name -> (width, height, fps, frames, first contact (frames, sub-frame allowed), step period (frames))
WALKERS = {
    "640x360@25": (640, 360, Fraction(25), 100, 8.0, 12.0),
    "480x270@30 sub-frame": (480, 270, Fraction(30), 100, 8.4, 11.3),
    "320x180@24 slow": (320, 180, Fraction(24), 90, 5.7, 15.5),
}


def _f1(found: list[float], truth: list[float], tol: float = 1.0) -> tuple[float, list[float]]:
    """One-to-one greedy matching within ``tol`` frames: (F1, absolute errors of the matches)."""
    free, errors = list(truth), []
    for t in sorted(found):
        best = min(free, key=lambda u: abs(u - t), default=None)
        if best is not None and abs(best - t) <= tol:
            free.remove(best)
            errors.append(abs(best - t))
    if not found or not truth:
        return 0.0, errors
    p, r = len(errors) / len(found), len(errors) / len(truth)
    return (2 * p * r / (p + r) if p + r else 0.0), errors


@pytest.fixture(scope="module")
def walkers(tmp_path_factory):
    folder = tmp_path_factory.mktemp("walkers")
    return {name: write_walker(folder / f"walker{k}.mp4", width=w, height=h, fps=fps, frames=n, first_contact=c,
                               period=p)
            for k, (name, (w, h, fps, n, c, p)) in enumerate(WALKERS.items())}


@pytest.mark.parametrize("name", list(WALKERS))
def test_steps_found_within_one_frame(walkers, name):
    walker = walkers[name]
    features = analyze(walker.path)
    events = detect_events(features)
    fps = float(walker.fps)
    steps = [e.time * fps for e in events if e.kind == "step"]
    f1, errors = _f1(steps, list(walker.contact_frames))
    assert f1 >= 0.9, (steps, walker.contact_frames)
    assert np.median(errors) < 0.35  # sub-frame timing, not just the nearest frame
    # the contacts are steps, not impacts; and they follow the walker left to right
    assert not [e for e in events if e.kind == "impact"]
    xs = [e.x for e in events if e.kind == "step"]
    assert xs == sorted(xs)
    # periodicity is a per-frame feature: the step period is found where the figure walks
    middle = slice(walker.frames // 4, 3 * walker.frames // 4)
    assert np.all(features.periodicity[middle] > 0.8)
    assert np.all(np.abs(features.period[middle] - walker.step_period) < 0.5)


def test_bouncing_ball_is_impacts_not_steps(balls):
    """The ball bounces periodically too, but it falls further than its own size: impacts."""
    ball = balls["640x360@25"]
    features = analyze(ball.path)
    events = detect_events(features)
    assert [round(e.time * 25) for e in events if e.kind == "impact"] == list(ball.impact_frames) == [7, 37, 67, 97]
    assert not [e for e in events if e.kind == "step"]
    assert abs(float(np.median(features.period[20:80])) - 30) < 1.0


def test_explosion_is_not_a_flash_or_an_impact(tmp_path):
    scene = write_explosion(tmp_path / "boom.mp4", width=480, height=270)
    events = detect_events(analyze(scene.path))
    fps = float(scene.fps)
    explosions = [e for e in events if e.kind == "explosion"]
    assert len(explosions) == 1
    boom = explosions[0]
    assert abs(boom.time * fps - scene.explosion_frame) < 0.5
    assert abs(boom.x - scene.centre[0]) < 0.05 and 0 < boom.strength <= 1 and boom.duration > 0.2
    # the plain flash stays a flash; the fireball is reported once: no flash, impact, whoosh or cut for it
    flashes = [round(e.time * fps) for e in events if e.kind == "flash"]
    assert flashes == [scene.flash_frame]
    assert not [e for e in events if e.kind in ("impact", "whoosh", "cut", "step")], events


def test_periodicity_of_a_signal():
    fps, period = 25.0, 9.6
    t = np.arange(200)
    rng = np.random.default_rng(1)
    x = np.sin(2 * np.pi * t / period) + 0.2 * rng.normal(size=len(t))
    x[:50] = 0.2 * rng.normal(size=50)  # nothing repeats at first
    strength, lag = periodicity(x, fps)
    assert np.all(strength[90:180] > 0.7) and np.all(np.abs(lag[90:180] - period) < 0.3)
    assert np.all(strength[:15] < 0.5)
