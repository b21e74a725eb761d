"""Procedural foley: modal impacts by material, filtered-noise whooshes, steps, zaps, booms.

Every sound starts its transient at sample 0 (``onset = 0``) with no pre-roll, so placement
can put it on an exact sample. Each event gets its own random generator seeded from its
index and kind, which varies pitch, gain, decay and filtering a little: repeated hits never
sound identical, and the same pass renders the same samples every time.
"""

from __future__ import annotations

import zlib

import numpy as np

from ..events import Event
from .base import Sound

#: Modes per material: (frequencies in Hz, decay rates in 1/s, relative amplitudes).
MATERIALS: dict[str, tuple[tuple[float, ...], tuple[float, ...], tuple[float, ...]]] = {
    "rubber": ((95.0, 180.0, 410.0), (28.0, 40.0, 70.0), (1.0, 0.45, 0.15)),
    "wood": ((210.0, 560.0, 1130.0, 1870.0), (30.0, 45.0, 70.0, 95.0), (1.0, 0.6, 0.35, 0.2)),
    "metal": ((523.0, 1411.0, 2693.0, 4122.0, 5517.0), (4.0, 5.5, 7.0, 9.0, 12.0), (1.0, 0.7, 0.5, 0.35, 0.2)),
    "glass": ((1320.0, 3170.0, 5410.0), (9.0, 13.0, 18.0), (1.0, 0.6, 0.4)),
    "stone": ((70.0, 145.0, 300.0, 820.0), (22.0, 30.0, 45.0, 90.0), (1.0, 0.5, 0.3, 0.15)),
}
_KEYWORDS = {
    "metal": ("metal", "steel", "iron", "can", "pipe", "bell", "clang", "sword"),
    "wood": ("wood", "door", "table", "knock", "box", "crate", "plank"),
    "glass": ("glass", "bottle", "window", "ice", "ceramic", "cup"),
    "stone": ("stone", "rock", "concrete", "brick", "ground", "heavy", "thud"),
    "rubber": ("ball", "rubber", "bounce", "soft"),
}


def material_for(prompt: str) -> str:
    words = prompt.lower()
    for material, keys in _KEYWORDS.items():
        if any(k in words for k in keys):
            return material
    return "rubber"


def _rng(event: Event, index: int) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(f"{event.kind}:{index}".encode()))


def spectral_filter(x: np.ndarray, sr: int, lo: float | None = None, hi: float | None = None) -> np.ndarray:
    """Zero-phase filter in the frequency domain (no scipy: importing scipy.signal costs ~2 s).

    Second-order Butterworth magnitudes: high-pass above ``lo``, low-pass below ``hi``. The input
    is zero-padded to twice its length so nothing rings around from the end onto the start.
    """
    n = len(x)
    if n == 0:
        return x
    spectrum = np.fft.rfft(x, 2 * n)
    f = np.fft.rfftfreq(2 * n, 1.0 / sr)
    gain = np.ones_like(f)
    if lo:
        with np.errstate(divide="ignore"):
            gain /= np.sqrt(1.0 + (lo / np.maximum(f, 1e-9)) ** 4)
    if hi:
        gain /= np.sqrt(1.0 + (f / min(hi, sr * 0.475)) ** 4)
    return np.fft.irfft(spectrum * gain, 2 * n)[:n]


def _band(noise: np.ndarray, lo: float, hi: float, sr: int) -> np.ndarray:
    return spectral_filter(noise, sr, max(20.0, lo), hi)


def _normalise(x: np.ndarray, peak: float) -> np.ndarray:
    m = float(np.max(np.abs(x))) if len(x) else 0.0
    return (x * (peak / m)).astype(np.float32) if m > 0 else x.astype(np.float32)


def modal_impact(sr: int, material: str, strength: float, rng: np.random.Generator) -> np.ndarray:
    freqs, decays, amps = MATERIALS[material]
    pitch = 2 ** (rng.uniform(-2.0, 2.0) / 12)  # +-2 semitones
    damp = rng.uniform(0.8, 1.25)
    length = min(2.5, 6.0 / min(decays) / damp)
    t = np.arange(int(length * sr)) / sr
    out = np.zeros_like(t)
    for f, d, a in zip(freqs, decays, amps, strict=True):
        f = f * pitch * rng.uniform(0.98, 1.02)
        if f >= sr / 2:
            continue
        a = a * rng.uniform(0.75, 1.25) * (0.6 + 0.4 * strength) ** (f / freqs[0] / 4)  # soft hits: duller
        out += a * np.exp(-d * damp * t) * np.sin(2 * np.pi * f * t + rng.uniform(0.3, 1.2))
    click = int(0.004 * sr)  # contact noise: the first few milliseconds
    burst = rng.standard_normal(click) * np.exp(-np.arange(click) / (0.0008 * sr))
    out[:click] += 0.6 * _band(burst, 800 * pitch, 9000, sr)
    fade = min(len(out), int(0.01 * sr))
    out[-fade:] *= np.linspace(1, 0, fade)
    return _normalise(out, 0.9)


def whoosh(sr: int, duration: float, strength: float, rng: np.random.Generator) -> np.ndarray:
    n = int(max(0.25, min(1.5, duration + 0.2)) * sr)
    t = np.linspace(0, 1, n)
    env = np.sin(np.pi * t ** rng.uniform(0.6, 0.9)) ** 2
    centre = rng.uniform(500, 1100) * (0.7 + 0.6 * strength)
    out = _band(rng.standard_normal(n), centre * 0.5, centre * 2.2, sr) * env
    out[0] = 0.0
    return _normalise(out, 0.5 + 0.3 * strength)


def step(sr: int, strength: float, rng: np.random.Generator) -> np.ndarray:
    n = int(0.18 * sr)
    t = np.arange(n) / sr
    scuff = _band(rng.standard_normal(n), 300, rng.uniform(2500, 4500), sr) * np.exp(-t * 35)
    thump = np.sin(2 * np.pi * rng.uniform(60, 90) * t) * np.exp(-t * 30)
    return _normalise(0.5 * scuff + thump, 0.5 + 0.4 * strength)


def zap(sr: int, duration: float, strength: float, rng: np.random.Generator) -> np.ndarray:
    n = int(max(0.15, min(0.8, duration + 0.1)) * sr)
    t = np.arange(n) / sr
    f0 = rng.uniform(2500, 4000)
    sweep = np.sin(2 * np.pi * np.cumsum(f0 * np.exp(-t * 8)) / sr)
    crackle = _band(rng.standard_normal(n), 2000, 12000, sr) * (rng.random(n) < 0.2)
    out = (0.6 * sweep + 0.5 * crackle) * np.exp(-t * 10)
    return _normalise(out, 0.4 + 0.4 * strength)


def boom(sr: int, strength: float, rng: np.random.Generator) -> np.ndarray:
    n = int(2.0 * sr)
    t = np.arange(n) / sr
    body = _band(rng.standard_normal(n), 30, rng.uniform(500, 900), sr) * np.exp(-t * 2.5)
    sub = np.sin(2 * np.pi * rng.uniform(40, 55) * t) * np.exp(-t * 4)
    fade = int(0.05 * sr)
    out = body + sub
    out[-fade:] *= np.linspace(1, 0, fade)
    return _normalise(out, 0.6 + 0.35 * strength)


class SynthSource:
    """Procedural sounds; the prompt picks the impact material (``metal``, ``wood``, ``glass``...)."""

    name = "synth"

    def render(self, event: Event, index: int, *, sample_rate: int, prompt: str = "") -> Sound | None:
        rng = _rng(event, index)
        s = event.strength
        if event.kind == "impact":
            x = modal_impact(sample_rate, material_for(prompt + " " + event.label), s, rng)
        elif event.kind == "whoosh":
            x = whoosh(sample_rate, event.duration, s, rng)
        elif event.kind == "step":
            x = step(sample_rate, s, rng)
        elif event.kind == "flash":
            x = zap(sample_rate, event.duration, s, rng) if "explo" not in prompt.lower() else boom(sample_rate, s, rng)
        elif event.kind == "explosion":
            x = boom(sample_rate, s, rng)
        else:
            return None  # cuts get no sound by default
        return Sound(x, sample_rate, 0, f"{event.kind}-{index + 1:03d}")
