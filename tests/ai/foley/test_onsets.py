"""Onsets of a soundtrack (spectral flux) against hits placed at known samples."""

from __future__ import annotations

import numpy as np

from studio.ai.foley.onsets import detect_onsets, load_audio

SR = 48000


def _hits(seed: int = 3) -> tuple[np.ndarray, list[float]]:
    """4 s: room noise at -60 dB, a quiet steady hum, and six hits of different kinds."""
    rng = np.random.default_rng(seed)
    n = 4 * SR
    x = 0.001 * rng.normal(size=n) + 0.01 * np.sin(2 * np.pi * 60 * np.arange(n) / SR)
    t = np.arange(int(0.4 * SR)) / SR
    kinds = [
        0.8 * np.exp(-t * 40) * np.sin(2 * np.pi * 110 * t),  # a thump (the demo ball's)
        0.5 * np.exp(-t * 25) * rng.normal(size=len(t)),  # a noise burst
        0.6 * np.exp(-t * 9) * np.sin(2 * np.pi * 1320 * t),  # a ringing (glass) hit
        0.08 * np.exp(-t * 60) * np.sin(2 * np.pi * 523 * t),  # a quiet (-20 dB) knock
        0.9 * np.exp(-t * 400) * rng.normal(size=len(t)),  # a click
        0.5 * np.exp(-t * 30) * np.sin(2 * np.pi * 210 * t),  # a hit on the previous one's tail
    ]
    times = [0.3137, 0.9021, 1.5503, 2.2248, 2.8011, 2.9512]
    for at, sound in zip(times, kinds, strict=True):
        s = int(round(at * SR))
        m = min(len(sound), n - s)
        x[s:s + m] += sound[:m]
    return x.astype(np.float32), times


def test_known_onsets_found_within_5_ms():
    x, times = _hits()
    onsets = detect_onsets(x, SR)
    assert len(onsets) == len(times), [o.time for o in onsets]
    for o, truth in zip(onsets, times, strict=True):
        assert abs(o.time - truth) < 0.005, (o.time, truth)
        assert 0 < o.strength <= 1 and 0 < o.peak <= 1
    # the loud hits have larger peaks than the quiet knock
    assert onsets[3].peak < 0.2 < min(onsets[k].peak for k in (0, 1, 2, 4))


def test_stereo_and_scale_do_not_matter():
    x, times = _hits(seed=5)
    quiet = np.stack([0.05 * x, 0.05 * x])  # channels first, 26 dB down
    found = [o.time for o in detect_onsets(quiet, SR)]
    assert len(found) == len(times) and max(abs(a - b) for a, b in zip(found, times, strict=True)) < 0.005


def test_silence_and_steady_sound_have_no_onsets():
    assert detect_onsets(np.zeros(SR, np.float32), SR) == []
    assert detect_onsets(np.zeros(0, np.float32), SR) == []
    n = np.arange(2 * SR)
    hum = 0.3 * np.sin(2 * np.pi * 220 * n / SR) * np.minimum(1, n / (0.2 * SR))  # fades in, then steady
    assert len(detect_onsets(hum.astype(np.float32), SR)) <= 1


def test_onsets_of_the_demo_ball_soundtrack(tmp_path):
    from studio.media.synth_scenes import write_bouncing_ball

    ball = write_bouncing_ball(tmp_path / "ball.mp4", width=160, height=90, frames=80)
    audio = load_audio(ball.path, SR)
    found = [o.time for o in detect_onsets(audio, SR)]
    truth = [float(t) for t in ball.impact_seconds()]
    assert len(found) == len(truth) and max(abs(a - b) for a, b in zip(found, truth, strict=True)) < 0.005
    assert load_audio(tmp_path / "ball.mp4", SR, stream=1) is None
