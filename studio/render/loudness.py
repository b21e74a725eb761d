"""Loudness (EBU R128 / ITU-R BS.1770) measurement and normalisation of a mix.

* ``integrated_lufs(samples, rate)`` measures an in-memory signal with pyloudnorm.
* ``LoudnessMeter`` is the same measurement, streaming: K-weighting (pyloudnorm's filters)
  with state carried across blocks, 100 ms energy segments, 400 ms gating blocks with 75 %
  overlap, absolute (-70 LUFS) and relative (-10 LU) gates. It also tracks the sample peak
  and a 4x-oversampled ("true-peak-ish") peak.
* Normalising an export is two passes: ``measure_project(mixer, total, block)`` runs the
  mixer once and returns a ``LoudnessMeasurement``; ``normalisation_gain_db`` turns it into
  a gain that reaches the target but never lifts the true peak over the ceiling (-1 dBFS);
  the exporter sets ``mixer.output_gain_db`` to it for the second pass
  (``normalise_mixer`` does both steps).

Channel weights: mono and stereo 1.0; 5.1 (FL FR FC LFE BL BR) 1, 1, 1, 0, 1.41, 1.41.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyloudnorm
import scipy.signal

from .limiter import gain_to_db

#: Common delivery targets, LUFS.
TARGETS = {"web": -14.0, "podcast": -16.0, "broadcast": -23.0}
_ABSOLUTE_GATE = -70.0
_RELATIVE_GATE = -10.0
_OVERSAMPLE = 4
_TAPS = 48  # BS.1770-4 Annex 2 uses a 48-tap, 4-phase interpolator


def _weights(channels: int) -> np.ndarray:
    if channels == 6:
        return np.array([1.0, 1.0, 1.0, 0.0, 1.41, 1.41])
    return np.ones(channels)


def _as_channels_first(samples: np.ndarray) -> np.ndarray:
    x = np.asarray(samples, dtype=np.float64)
    if x.ndim == 1:
        x = x[np.newaxis, :]
    if x.ndim != 2:
        raise ValueError("samples must be (channels, n) or (n,)")
    return x


def integrated_lufs(samples: np.ndarray, sample_rate: int) -> float:
    """Integrated loudness of ``samples`` (``(channels, n)`` or ``(n,)``) in LUFS; -inf for silence.

    Signals shorter than one 400 ms gating block are measured as a single block.
    """
    x = _as_channels_first(samples)
    if x.shape[1] == 0 or not np.any(x):
        return -math.inf
    if x.shape[1] < math.ceil(0.4 * sample_rate):
        meter = LoudnessMeter(sample_rate, x.shape[0])
        meter.add(x)
        return meter.integrated()
    if x.shape[0] == 6:  # pyloudnorm's order is L R C Ls Rs: drop the LFE
        x = x[[0, 1, 2, 4, 5]]
    value = pyloudnorm.Meter(sample_rate).integrated_loudness(x.T)
    return -math.inf if not math.isfinite(value) else float(value)


def normalisation_gain_db(measured_lufs: float, target_lufs: float, *, peak_db: float | None = None,
                          ceiling_db: float = -1.0) -> float:
    """Gain that moves ``measured_lufs`` to ``target_lufs``, capped so ``peak_db`` stays <= ceiling.

    ``peak_db`` is the (true) peak of the measured signal; silence (``-inf``) gets 0 dB.
    Cuts are never capped.
    """
    if not math.isfinite(measured_lufs):
        return 0.0
    gain = target_lufs - measured_lufs
    if peak_db is not None and math.isfinite(peak_db) and gain > 0:
        gain = min(gain, max(0.0, ceiling_db - peak_db))
    return gain


class LoudnessMeter:
    """Streaming integrated loudness and peaks; feed ``add(block)`` in order, then read."""

    def __init__(self, sample_rate: int, channels: int):
        self.sample_rate, self.channels = int(sample_rate), int(channels)
        stages = (pyloudnorm.IIRfilter(4.0, 1 / math.sqrt(2), 1500.0, self.sample_rate, "high_shelf"),
                  pyloudnorm.IIRfilter(0.0, 0.5, 38.0, self.sample_rate, "high_pass"))
        self._filters = [(f.b, f.a, f.passband_gain) for f in stages]
        self._state = [np.zeros((self.channels, 2)) for _ in stages]
        self._weights = _weights(self.channels)
        self._segments: list[np.ndarray] = []  # per 100 ms: energy per channel
        self._lengths: list[int] = []
        self._acc = np.zeros(self.channels)
        self._filled = 0
        self._pos = 0
        self._interp = scipy.signal.firwin(_TAPS, 1.0 / _OVERSAMPLE) * _OVERSAMPLE
        self._context = -(-(_TAPS - 1) // _OVERSAMPLE)
        self._tail = np.zeros((self.channels, self._context))
        self.sample_peak = 0.0
        self.true_peak = 0.0

    def _segment_end(self, index: int) -> int:
        return (index + 1) * self.sample_rate // 10

    def add(self, block: np.ndarray) -> None:
        x = _as_channels_first(block)
        if x.shape[0] != self.channels:
            raise ValueError(f"expected {self.channels} channels, got {x.shape[0]}")
        if x.shape[1] == 0:
            return
        self._peaks(x)
        y = x
        for k, (b, a, gain) in enumerate(self._filters):
            y, self._state[k] = scipy.signal.lfilter(b, a, y, axis=1, zi=self._state[k])
            if gain != 1.0:
                y = y * gain
        sq = y * y
        i, n = 0, sq.shape[1]
        while i < n:
            end = self._segment_end(len(self._segments))
            take = min(n - i, end - self._pos)
            self._acc += sq[:, i : i + take].sum(axis=1)
            self._filled += take
            self._pos += take
            i += take
            if self._pos == end:
                self._segments.append(self._acc)
                self._lengths.append(self._filled)
                self._acc, self._filled = np.zeros(self.channels), 0

    def _peaks(self, x: np.ndarray) -> None:
        self.sample_peak = max(self.sample_peak, float(np.max(np.abs(x))))
        ext = np.concatenate([self._tail, x], axis=1)
        up = scipy.signal.upfirdn(self._interp, ext, up=_OVERSAMPLE, axis=1)
        valid = up[:, _TAPS - 1 : _OVERSAMPLE * ext.shape[1]]
        if valid.size:
            self.true_peak = max(self.true_peak, float(np.max(np.abs(valid))), self.sample_peak)
        self._tail = ext[:, -self._context :]

    def integrated(self) -> float:
        """Gated integrated loudness so far, LUFS (-inf when nothing passes the gates)."""
        segments, lengths = list(self._segments), list(self._lengths)
        if len(segments) < 4:  # shorter than one gating block: one block of what there is
            segments.append(self._acc)
            lengths.append(self._filled)
            energy = np.sum(segments, axis=0)
            count = sum(lengths)
            if count == 0:
                return -math.inf
            return _lufs(self._weights @ (energy / count))
        seg = np.array(segments)  # (n_segments, channels)
        cnt = np.array(lengths, dtype=np.float64)
        kernel = np.ones(4)
        z = np.stack([np.convolve(seg[:, c], kernel, "valid") for c in range(self.channels)], axis=1)
        z /= np.convolve(cnt, kernel, "valid")[:, None]
        power = z @ self._weights
        with np.errstate(divide="ignore"):
            loud = -0.691 + 10.0 * np.log10(power)
        gated = loud >= _ABSOLUTE_GATE
        if not gated.any():
            return -math.inf
        relative = _lufs(z[gated].mean(axis=0) @ self._weights) + _RELATIVE_GATE
        keep = gated & (loud > relative)
        if not keep.any():
            return -math.inf
        return _lufs(z[keep].mean(axis=0) @ self._weights)

    def measurement(self) -> LoudnessMeasurement:
        return LoudnessMeasurement(self.integrated(), gain_to_db(self.sample_peak), gain_to_db(self.true_peak))


def _lufs(power: float) -> float:
    return -math.inf if power <= 0 else -0.691 + 10.0 * math.log10(power)


@dataclass(frozen=True, slots=True)
class LoudnessMeasurement:
    """First-pass result: integrated LUFS, sample peak and oversampled peak in dBFS."""

    integrated_lufs: float
    sample_peak_db: float
    true_peak_db: float

    def gain_to(self, target_lufs: float, ceiling_db: float = -1.0) -> float:
        return normalisation_gain_db(self.integrated_lufs, target_lufs, peak_db=self.true_peak_db,
                                     ceiling_db=ceiling_db)


def measure_project(mixer: Any, total_samples: int, block: int = 48000, *, ctx: Any = None) -> LoudnessMeasurement:
    """Run ``mixer.mix`` over ``[0, total_samples)`` in blocks and measure it.

    ``ctx`` (optional, a ``JobContext``): ``check()`` is called per block, ``progress`` reported.
    """
    meter = LoudnessMeter(mixer.sample_rate, mixer.channels)
    block = max(1, int(block))
    total = max(0, int(total_samples))
    for start in range(0, total, block):
        if ctx is not None:
            ctx.check()
            ctx.progress(start / total, "measuring loudness")
        meter.add(mixer.mix(start, min(block, total - start)))
    if ctx is not None:
        ctx.progress(1.0, "measuring loudness")
    return meter.measurement()


def normalise_mixer(mixer: Any, target_lufs: float, total_samples: int | None = None, block: int = 48000, *,
                    ceiling_db: float = -1.0, ctx: Any = None) -> float:
    """Measure the mix (at 0 dB output gain) and set ``mixer.output_gain_db``; returns the gain."""
    mixer.output_gain_db = 0.0
    total = mixer.duration_samples if total_samples is None else total_samples
    gain = measure_project(mixer, total, block, ctx=ctx).gain_to(target_lufs, ceiling_db)
    mixer.output_gain_db = gain
    return gain


def normalise(samples: np.ndarray, sample_rate: int, target_lufs: float, *,
              ceiling_db: float = -1.0) -> tuple[np.ndarray, float]:
    """An in-memory signal normalised to ``target_lufs`` (peak-capped); returns (signal, gain_db)."""
    x = np.asarray(samples)
    meter = LoudnessMeter(sample_rate, 1 if x.ndim == 1 else x.shape[0])
    meter.add(x)
    gain = meter.measurement().gain_to(target_lufs, ceiling_db)
    return (x * 10.0 ** (gain / 20.0)).astype(np.float32), gain
