"""Ambience beds: a quiet, continuous sound under the spot effects (room tone, wind, rain).

Spot effects alone sound pasted onto silence; a bed glues them to the picture. The beds are
procedural, so they work with no model and no sample:

- noise is shaped in the frequency domain over one period of ``PERIOD`` seconds (one inverse FFT),
  which makes it circular: tiled to any length it has no loop seam;
- ``room``: pink noise between 40 Hz and 2 kHz (air and distant hum of an interior);
- ``wind``: brown noise between 80 Hz and 1.2 kHz under a slow random gust envelope;
- ``rain``: hiss above 1 kHz plus sparse droplets (Poisson clicks, shaped with the hiss);
- a fade in and out (``FADE`` seconds, less for short beds) so the bed never starts with a click.

Samples are normalised to ``RMS_DB`` and the bed clip gets ``LEVEL_DB`` of gain, so it sits well
under the hits and the user rides it like any clip. ``ambience_item`` lays one bed out as a
``Placed`` item of kind ``ambience`` spanning the range; ``FoleyPass`` puts it on the
``Ambience`` track and a later pass replaces it with the rest of the pass.
"""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

import numpy as np

from .events import Event
from .placement import Placed, layout
from .sources.base import Sound

KINDS = ("room", "wind", "rain")
KIND = "ambience"
#: Seconds of one noise period (circular, tiled without a seam).
PERIOD = 12.0
FADE = 0.5
RMS_DB = -20.0
LEVEL_DB = -18.0


class AmbienceError(ValueError):
    """An unknown bed or an impossible length."""


def _band(f: np.ndarray, low: float, high: float, slope: float) -> np.ndarray:
    """Amplitude ``f ** -slope`` between ``low`` and ``high`` Hz with gentle (2nd-order-like) skirts."""
    f = np.maximum(f, 1.0)
    hp = (f / low) ** 2 / (1 + (f / low) ** 2)
    lp = 1 / (1 + (f / high) ** 2)
    return f ** -slope * hp * lp


def _period(kind: str, n: int, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
    """One circular period of ``n`` samples of the bed's noise."""
    f = np.fft.rfftfreq(n, 1.0 / sample_rate)
    if kind == "room":
        spec = rng.standard_normal(len(f)) + 1j * rng.standard_normal(len(f))
        return np.fft.irfft(spec * _band(f, 40.0, 2000.0, 0.5), n)
    if kind == "wind":
        spec = rng.standard_normal(len(f)) + 1j * rng.standard_normal(len(f))
        return np.fft.irfft(spec * _band(f, 80.0, 1200.0, 1.0), n)
    # rain: droplets (sparse signed clicks, ~150 a second) and hiss, both shaped above 1 kHz
    clicks = np.zeros(n)
    count = rng.poisson(150 * n / sample_rate)
    clicks[rng.integers(0, n, count)] = rng.standard_normal(count) * rng.uniform(0.2, 1.0, count) ** 3
    hiss = rng.standard_normal(n) * 0.02
    return np.fft.irfft(np.fft.rfft(clicks + hiss) * _band(f, 1000.0, 9000.0, 0.0), n)


def _gusts(n: int, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
    """A slow random envelope between ~0.25 and 1 (a new target every ~1.5 s, smoothly joined)."""
    knots = max(2, int(n / sample_rate / 1.5) + 2)
    values = rng.uniform(0.25, 1.0, knots)
    x = np.linspace(0, knots - 1, n)
    i = np.minimum(x.astype(np.int64), knots - 2)
    t = x - i
    t = t * t * (3 - 2 * t)  # smoothstep between knots
    return values[i] * (1 - t) + values[i + 1] * t


def render_ambience(kind: str, seconds: float, sample_rate: int = 48000, *, seed: int = 0) -> np.ndarray:
    """``seconds`` of the bed as mono float32 at ``RMS_DB``, faded in and out."""
    if kind not in KINDS:
        raise AmbienceError(f"unknown ambience {kind!r}; choose one of: {', '.join(KINDS)}")
    n = int(round(float(seconds) * sample_rate))
    if n < 1:
        raise AmbienceError(f"an ambience bed needs a length, not {seconds!r} s")
    rng = np.random.default_rng([seed, KINDS.index(kind)])
    period = min(n, int(PERIOD * sample_rate))
    x = np.resize(_period(kind, period, sample_rate, rng), n)  # circular: tiles without a seam
    if kind == "wind":
        x = x * _gusts(n, sample_rate, rng)
    rms = float(np.sqrt(np.mean(x * x))) or 1.0
    x = x * (10 ** (RMS_DB / 20) / rms)
    fade = min(int(FADE * sample_rate), n // 4)
    if fade:
        ramp = np.linspace(0.0, 1.0, fade)
        x[:fade] *= ramp
        x[-fade:] *= ramp[::-1]
    return x.astype(np.float32)


def ambience_item(kind: str, start: float, seconds: float, *, fps: Fraction, sample_rate: int = 48000,
                  offset: int = 0, level_db: float = LEVEL_DB, seed: int = 0) -> Placed:
    """One bed from ``start`` seconds for ``seconds``, laid out like the spot sounds (``offset``: the
    sequence frame of the clip's time 0), at ``level_db`` of clip gain, centred."""
    samples = render_ambience(kind, seconds, sample_rate, seed=seed)
    event = Event(time=float(start), kind=KIND, strength=1.0, x=0.5, label=f"ambience ({kind})",
                  duration=float(seconds))
    sound = Sound(samples, sample_rate, 0, f"ambience-{kind}")
    (placed,) = layout([event], [sound], fps=fps, sample_rate=sample_rate, offset=offset)
    return replace(placed, gain_db=float(level_db), pan=0.0)
