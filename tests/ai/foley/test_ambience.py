"""Ambience beds: the right length and level, the character of each kind, no seam, faded ends,
deterministic, laid out over the range."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from studio.ai.foley.ambience import KINDS, LEVEL_DB, PERIOD, RMS_DB, AmbienceError, ambience_item, render_ambience

SR = 48000


def band_share(x: np.ndarray, low: float, high: float) -> float:
    """Share of the signal's energy between ``low`` and ``high`` Hz."""
    p = np.abs(np.fft.rfft(x)) ** 2
    f = np.fft.rfftfreq(len(x), 1 / SR)
    return float(p[(f >= low) & (f < high)].sum() / p.sum())


def envelope(x: np.ndarray, window: float = 0.25) -> np.ndarray:
    w = int(window * SR)
    return np.sqrt(np.mean(x[: len(x) // w * w].reshape(-1, w) ** 2, axis=1))


@pytest.mark.parametrize("kind", KINDS)
def test_length_level_fades_and_determinism(kind):
    x = render_ambience(kind, 6.0, SR, seed=3)
    assert x.dtype == np.float32 and len(x) == 6 * SR and np.isfinite(x).all()
    body = x[SR:-SR]
    assert 20 * np.log10(np.sqrt(np.mean(body.astype(np.float64) ** 2))) == pytest.approx(RMS_DB, abs=3.0)
    assert x[0] == 0 and x[-1] == 0 and np.abs(x[:100]).max() < np.abs(body).max() / 20  # faded, no click
    assert np.array_equal(x, render_ambience(kind, 6.0, SR, seed=3))
    assert not np.array_equal(x, render_ambience(kind, 6.0, SR, seed=4))


def test_each_kind_has_its_character():
    room, wind, rain = (render_ambience(k, 8.0, SR, seed=1) for k in ("room", "wind", "rain"))
    assert band_share(rain, 1000, 20000) > 0.9  # hiss and droplets
    assert band_share(room, 1000, 20000) < 0.5 and band_share(wind, 0, 1000) > 0.8  # low air / rumble
    # wind gusts: its short-term level moves far more than the steady room tone's
    cv = {name: float(np.std(e) / np.mean(e)) for name, e in (("room", envelope(room[SR:-SR])),
                                                                ("wind", envelope(wind[SR:-SR])))}
    assert cv["wind"] > 3 * cv["room"]
    # rain's droplets make it spiky (a high crest factor), unlike the Gaussian room tone
    crest = {name: float(np.abs(x).max() / np.sqrt(np.mean(x.astype(np.float64) ** 2)))
             for name, x in (("room", room[SR:-SR]), ("rain", rain[SR:-SR]))}
    assert crest["rain"] > 1.5 * crest["room"]


def test_a_bed_longer_than_one_period_has_no_seam():
    """The noise is one circular period tiled: exactly periodic, and the wrap-around step is an
    ordinary step of the signal (the last sample of a period flows into the first)."""
    x = render_ambience("room", PERIOD * 2 + 1, SR, seed=2).astype(np.float64)
    n = int(PERIOD * SR)
    body = slice(SR, n - SR)
    assert np.array_equal(x[body], x[n + SR: 2 * n - SR])
    steps = np.abs(np.diff(x[SR:-SR]))
    assert abs(x[n] - x[n - 1]) <= np.percentile(steps, 99)


def test_bad_input_is_one_clear_error():
    with pytest.raises(AmbienceError, match="unknown ambience 'jungle'; choose one of: room, wind, rain"):
        render_ambience("jungle", 2.0, SR)
    with pytest.raises(AmbienceError, match="needs a length"):
        render_ambience("room", 0.0, SR)


def test_item_spans_the_range_at_the_bed_level():
    fps = Fraction(25)
    item = ambience_item("wind", 1.0, 4.0, fps=fps, sample_rate=SR, offset=50)
    assert item.event.kind == "ambience" and item.event.label == "ambience (wind)"
    assert item.position == 50 + 25 and item.lead == 0 and item.duration == 100
    assert item.gain_db == LEVEL_DB and item.pan == 0.0
    assert len(item.padded()) >= 4 * SR
