"""The audio side of an export: block reading with silence past the range, and the loudness
pass that measures exactly the audio the export will encode (for normalise-on-export)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from studio.jobs.context import JobContext

if TYPE_CHECKING:
    from .export import AudioSource, RenderPlan

#: Audio is pulled from the mixer in blocks of at least this many samples.
AUDIO_BLOCK = 8192
#: Share of the progress bar taken by the loudness measuring pass.
MEASURE_SHARE = 0.1
#: Normalisation never lifts the sample peak above this (dBFS); there is no limiter.
PEAK_CEILING_DB = -1.0


# --------------------------------------------------------------------------- audio reading
class AudioReader:
    """Reads the audio source in blocks of at least ``AUDIO_BLOCK``; silence past the range."""

    def __init__(self, source: AudioSource, start: int, available: int, channels: int):
        self._source, self._start, self._available, self._channels = source, start, available, channels
        self._buffer = np.zeros((channels, 0), np.float32)
        self._fetched = 0  # samples read from the source so far (relative to start)
        self._pos = 0  # samples handed out so far

    def _fetch(self, upto: int) -> None:
        parts = [self._buffer]
        while self._fetched < upto:
            count = max(AUDIO_BLOCK, upto - self._fetched)
            inside = max(0, min(count, self._available - self._fetched))
            if inside:
                block = self._checked(self._source(self._start + self._fetched, inside), inside)
            else:
                block = np.zeros((self._channels, count), np.float32)
            parts.append(block)
            self._fetched += block.shape[1]
        self._buffer = np.concatenate(parts, axis=1) if len(parts) > 1 else parts[0]

    def _checked(self, block, count: int) -> np.ndarray:
        block = np.asarray(block, dtype=np.float32)
        if block.ndim == 1 and self._channels == 1:
            block = block[None, :]
        if block.shape != (self._channels, count):
            from .export import RenderError

            raise RenderError(f"the audio source returned {block.shape} samples, expected {(self._channels, count)}")
        return block

    def read_until(self, upto: int) -> np.ndarray:
        """Samples ``[pos, upto)`` relative to the range start."""
        if upto <= self._pos:
            return np.zeros((self._channels, 0), np.float32)
        self._fetch(upto)
        n = upto - self._pos
        out, self._buffer = self._buffer[:, :n], self._buffer[:, n:]
        self._pos = upto
        return out


# --------------------------------------------------------------------------- loudness (pass 1)
def measure(plan: RenderPlan, source: AudioSource, context: JobContext) -> tuple[float, float]:
    """Pass 1: loudness and sample peak of exactly the audio the export will encode."""
    from .loudness import LoudnessMeter  # scipy's import costs ~0.7 s: only when normalising

    reader = AudioReader(source, plan.audio_start, plan.src_available, plan.channels)
    meter = LoudnessMeter(plan.src_sample_rate, plan.channels)
    total = plan.src_samples_until(plan.frames)
    pos = 0
    while pos < total:
        context.check()
        pos = min(total, pos + AUDIO_BLOCK * 4)
        meter.add(reader.read_until(pos))
        context.progress(MEASURE_SHARE * pos / total, "measuring loudness")
    return meter.integrated(), meter.sample_peak


def normalising_gain(target: float, loudness: float, peak: float, context: JobContext) -> float | None:
    if not math.isfinite(loudness):
        context.log("loudness normalisation skipped: the soundtrack is silent")
        return None
    gain = target - loudness
    if peak > 0:
        ceiling = PEAK_CEILING_DB - 20 * math.log10(peak)
        if gain > ceiling:
            context.log(f"loudness target {target:g} LUFS needs {gain:+.1f} dB but the peak allows "
                        f"{ceiling:+.1f} dB; using that (no limiter)")
            gain = ceiling
    return gain


def with_gain(source: AudioSource, gain_db: float) -> AudioSource:
    factor = np.float32(10 ** (gain_db / 20))

    def scaled(start: int, count: int) -> np.ndarray:
        return np.asarray(source(start, count), dtype=np.float32) * factor

    return scaled
