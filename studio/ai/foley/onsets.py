"""Every onset in a soundtrack: the hit times a recording's own sound gives (spectral flux).

Used to measure foley against real footage (``bench/foley_real.py``): the original audio's
onsets are the reference hit times, the placed sounds' onsets the predictions. (Finding the
one transient of a generated sound is ``onset.py``'s job.)

``detect_onsets`` in three steps:

1. **Spectral flux**: a Hann-windowed STFT (~21 ms window, a quarter of it as hop), power in
   log-spaced bands in dB (floored 50 dB under the loudest: quiet hits count as well as loud
   ones, room noise does not), and per frame the mean of the largest quarter of the bands'
   rises over the previous frame (see ``spectral_flux``).
2. **Peak picking**: a frame is an onset when its flux is the largest within +-30 ms, exceeds
   the flux's local mean (+-100 ms) by ``threshold`` times the largest flux of the clip, and
   comes at least ``min_gap`` after the previous onset (the stronger one is kept).
3. **Sample timing**: a frame is 5 ms long, not precise enough. Around the peak a 1 ms RMS
   envelope is searched for the strongest rise; the onset is the last sample before that rise
   where the envelope was still within a tenth of the way from the floor (the quietest point
   in the 25 ms before) to the peak.

Each onset carries ``strength`` (its flux peak over the clip's largest, 0..1) and ``peak``
(the largest absolute sample in the 50 ms around it over the clip's largest: CondFoleyGen's
confidence).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


@dataclass(frozen=True, slots=True)
class Onset:
    time: float  # seconds from the start of the samples
    strength: float  # spectral-flux peak over the clip's largest (0..1)
    peak: float  # largest |sample| within +-50 ms over the clip's largest (0..1)


def _mono(samples: np.ndarray) -> np.ndarray:
    x = np.asarray(samples, dtype=np.float64)
    if x.ndim == 2:  # channels first, as PyAV and the mixer hand audio around
        x = x.mean(axis=0) if x.shape[0] <= 8 else x.mean(axis=1)
    return x


def spectral_flux(x: np.ndarray, sample_rate: int, *, bands: int = 40, floor_db: float = 50.0
                  ) -> tuple[np.ndarray, int, int]:
    """``(flux per frame in dB, n_fft, hop)``; frame ``t`` is centred on sample ``t * hop``.

    Power is summed into log-spaced bands (40 Hz up; neighbours sharing one FFT bin merge),
    taken in dB and floored ``floor_db`` below the loudest band of the clip (room noise then
    barely moves). The flux of a frame is the mean of the largest quarter of its bands' dB
    rises: a low thump that lifts a handful of bands scores near a broadband crack, which a
    mean over all bins would drown.
    """
    n_fft = 1 << int(round(np.log2(0.021 * sample_rate)))
    hop = n_fft // 4
    padded = np.pad(x, (n_fft // 2, n_fft // 2 + hop))
    frames = sliding_window_view(padded, n_fft)[::hop][: len(x) // hop + 1]
    power = np.abs(np.fft.rfft(frames * np.hanning(n_fft), axis=1)) ** 2
    edges = np.unique(np.round(np.geomspace(40.0, sample_rate / 2, bands + 1) * n_fft / sample_rate).astype(int))
    edges = edges[edges <= power.shape[1]]
    banded = np.add.reduceat(power, edges[:-1], axis=1) if len(edges) > 1 else power
    db = 10 * np.log10(banded + 1e-20)
    db = np.maximum(db, db.max() - floor_db)
    # the rise over the louder of the two frames before, each band against itself and its two
    # neighbours (SuperFlux's trick: vibrato and noise flicker do not count as rises)
    spread = np.maximum(db, np.maximum(np.roll(db, 1, axis=1), np.roll(db, -1, axis=1)))
    reference = np.maximum(spread, np.concatenate([spread[:1], spread[:-1]]))
    rise = np.maximum(db[1:] - reference[:-1], 0.0)
    top = max(1, rise.shape[1] // 4)
    flux = np.zeros(len(frames))
    flux[1:] = np.sort(rise, axis=1)[:, -top:].mean(axis=1)
    return flux, n_fft, hop


def _moving_rms(x: np.ndarray, w: int) -> np.ndarray:
    c = np.concatenate([[0.0], np.cumsum(x * x)])
    half = w // 2
    lo = np.clip(np.arange(len(x)) - half, 0, len(x))
    hi = np.clip(np.arange(len(x)) + half + 1, 0, len(x))
    return np.sqrt((c[hi] - c[lo]) / np.maximum(1, hi - lo))


def _refine(x: np.ndarray, sr: int, centre: int, n_fft: int, hop: int) -> int:
    """The sample where the rise near frame centre ``centre`` starts (step 3 above)."""
    lo = max(0, centre - n_fft // 2 - hop)
    hi = min(len(x), centre + n_fft // 2)
    if hi - lo < 4:
        return centre
    pre = int(0.025 * sr)
    w = max(3, int(0.001 * sr))
    start = max(0, lo - pre)
    env = _moving_rms(x[start:hi], w)
    region = env[lo - start:]
    # the strongest rise: the envelope's largest gain over the preceding 5 ms
    lag = max(1, int(0.005 * sr))
    before = np.concatenate([np.full(lag, env[0]), env[:-lag]])[lo - start:]
    k_rise = int(np.argmax(region - before))
    # the peak that rise leads to (within 10 ms), and the floor before it
    k_peak = k_rise + int(np.argmax(region[k_rise:k_rise + max(2, int(0.01 * sr))]))
    floor_from = max(0, lo - start + k_peak - pre)
    floor = float(env[floor_from:lo - start + k_peak + 1].min())
    level = floor + 0.1 * (float(region[k_peak]) - floor)
    k = lo - start + k_peak
    while k > 0 and env[k - 1] > level:
        k -= 1
    # the centred window sees the rise half a window early
    return start + k + w // 2


def detect_onsets(samples: np.ndarray, sample_rate: int, *, threshold: float = 0.08,
                  min_gap: float = 0.05) -> list[Onset]:
    """Onsets of ``samples`` (mono, or channels first), in time order."""
    x = _mono(samples)
    if len(x) < 16 or not np.any(x):
        return []
    flux, n_fft, hop = spectral_flux(x, sample_rate)
    # a frame whose window runs past the end sees the recording cut off, not a sound start
    flux[np.arange(len(flux)) * hop + n_fft // 2 > len(x)] = 0.0
    top = float(flux.max())
    if top <= 0:
        return []
    fps = sample_rate / hop
    w_max, w_avg = max(1, int(round(0.03 * fps))), max(1, int(round(0.1 * fps)))
    padded_max = np.pad(flux, w_max, constant_values=-np.inf)
    local_max = sliding_window_view(padded_max, 2 * w_max + 1).max(axis=1)
    c = np.concatenate([[0.0], np.cumsum(flux)])
    idx = np.arange(len(flux))
    lo, hi = np.clip(idx - w_avg, 0, len(flux)), np.clip(idx + w_avg + 1, 0, len(flux))
    local_mean = (c[hi] - c[lo]) / (hi - lo)
    candidates = idx[(flux >= local_max) & (flux >= local_mean + threshold * top) & (flux > 0)]
    chosen: list[int] = []
    gap = min_gap * fps
    for t in sorted(candidates, key=lambda t: -flux[t]):  # strongest first
        if all(abs(t - u) >= gap for u in chosen):
            chosen.append(int(t))
    loudest = float(np.abs(x).max())
    half = int(0.05 * sample_rate)
    onsets = []
    for t in sorted(chosen):
        s = _refine(x, sample_rate, t * hop, n_fft, hop)
        peak = float(np.abs(x[max(0, s - half):s + half]).max()) / loudest
        onsets.append(Onset(time=s / sample_rate, strength=round(float(flux[t] / top), 4), peak=round(peak, 4)))
    return onsets


def load_audio(path: str | os.PathLike[str], sample_rate: int = 48000, stream: int = 0) -> np.ndarray | None:
    """Audio stream ``stream`` of a media file as mono float32 at ``sample_rate`` (None: no audio)."""
    import av

    with av.open(os.fspath(path)) as c:
        if len(c.streams.audio) <= stream:
            return None
        resampler = av.AudioResampler(format="fltp", layout="mono", rate=sample_rate)
        parts = [f.to_ndarray()[0] for fr in c.decode(c.streams.audio[stream]) for f in resampler.resample(fr)]
        parts += [f.to_ndarray()[0] for f in resampler.resample(None)]
    return np.concatenate(parts).astype(np.float32) if parts else np.zeros(0, np.float32)
