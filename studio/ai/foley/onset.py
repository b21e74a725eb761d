"""Finding the transient of a sound, and trimming a generated sound around it.

A model-made sound (text-to-audio) starts with some silence or room tone, and its hit lands
wherever the model put it. Sync needs the sample where the hit starts: ``detect_onset``
finds it in two passes. A coarse RMS envelope (5 ms) locates the strongest rise: the biggest
jump of the envelope over the 20 ms before it, so a hit after a quiet lead-in wins over the
loudest point of a long swell. A fine envelope (0.25 ms peak) then walks back from that
rise to the first sample that stands clear of the noise floor measured before it. On a
synthetic hit over a -60 dB floor this lands within a few samples of the true start.

``trim_around_onset`` keeps a short pre-roll (faded in) before the onset and a tail (faded
out, silence at the end dropped), so the ``Sound`` it makes has ``onset`` pointing at the
transient and placement puts that sample on the event.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

#: Coarse and fine envelope windows (seconds).
COARSE = 0.005
FINE = 0.00025
#: How far back a rise is measured (seconds).
RISE_SPAN = 0.02


def _moving(x: np.ndarray, w: int, how: str) -> np.ndarray:
    """Centred moving mean (``"mean"``) or max (``"max"``) over ``w`` samples."""
    n = len(x)
    w = max(1, min(w, n))
    half = w // 2
    if how == "mean":
        c = np.concatenate([[0.0], np.cumsum(x, dtype=np.float64)])
        lo = np.clip(np.arange(n) - half, 0, n)
        hi = np.clip(np.arange(n) - half + w, 0, n)
        return (c[hi] - c[lo]) / np.maximum(1, hi - lo)
    padded = np.pad(x, (half, w - 1 - half), mode="edge")
    return sliding_window_view(padded, w).max(axis=1)


def envelope(x: np.ndarray, sample_rate: int, window: float = COARSE) -> np.ndarray:
    """RMS over a centred ``window`` (seconds), one value per sample."""
    x = np.asarray(x, np.float64)
    return np.sqrt(_moving(x * x, int(round(window * sample_rate)), "mean"))


def _frames_rms(x: np.ndarray, hop: int, width: int) -> np.ndarray:
    """RMS of ``width`` samples centred on every ``hop``-th sample."""
    return np.sqrt(_moving(x * x, width, "mean"))[::hop]


def detect_onset(samples: np.ndarray, sample_rate: int) -> int:
    """The sample where the main transient of ``samples`` (mono) starts; 0 for silence."""
    x = np.asarray(samples, np.float64).reshape(-1)
    n = len(x)
    if n == 0 or not np.any(x):
        return 0
    hop = max(1, sample_rate // 1000)  # coarse pass on a 1 ms grid
    coarse = _frames_rms(x, hop, int(round(COARSE * sample_rate)))
    span = max(1, int(round(RISE_SPAN * 1000)))
    # quietest level over the span before each point (silence before the sound starts)
    low = sliding_window_view(np.concatenate([np.zeros(span), coarse]), span + 1).min(axis=1)
    rise = coarse - low
    peak = int(np.argmax(rise))
    floor_ref = float(low[peak])
    start = peak
    while start > 0 and coarse[start - 1] > floor_ref + 0.1 * (coarse[peak] - floor_ref):
        start -= 1
    # fine pass: the first sample clearly above the noise before the rise
    width = int(round(COARSE * sample_rate))
    a = max(0, start * hop - 2 * width)
    b = min(n, peak * hop + width + 1)
    pre = np.abs(x[max(0, a - int(RISE_SPAN * sample_rate)):a])
    noise = float(np.percentile(pre, 95)) if len(pre) >= 8 else 0.0
    fine = _moving(np.abs(x[a:b]), max(1, int(round(FINE * sample_rate))), "max")
    top = float(fine.max()) if len(fine) else 0.0
    above = np.nonzero(fine > noise + 0.1 * max(0.0, top - noise))[0]
    return int(a + above[0]) if len(above) else int(start * hop)


def trim_around_onset(samples: np.ndarray, sample_rate: int, onset: int, *, pre_roll: float = 0.02,
                      max_length: float = 4.0, tail_floor_db: float = -45.0) -> tuple[np.ndarray, int]:
    """``(trimmed, new_onset)``: at most ``pre_roll`` seconds kept (faded in) before ``onset``,
    at most ``max_length`` seconds after it, trailing near-silence dropped, a short fade-out."""
    x = np.asarray(samples, np.float32).reshape(-1)
    onset = int(np.clip(onset, 0, max(0, len(x) - 1)))
    start = max(0, onset - int(pre_roll * sample_rate))
    end = min(len(x), onset + int(max_length * sample_rate))
    y = x[start:end].copy()
    new_onset = onset - start
    if len(y) == 0:
        return y, 0
    peak = float(np.abs(y).max())
    if peak > 0:
        env = envelope(y, sample_rate, 0.01)
        loud = np.nonzero(env > peak * 10 ** (tail_floor_db / 20))[0]
        last = int(loud[-1]) + 1 if len(loud) else len(y)
        y = y[:max(new_onset + 1, last)]
    if new_onset > 0:
        y[:new_onset] *= np.linspace(0.0, 1.0, new_onset, endpoint=False, dtype=np.float32) ** 2
    fade = min(len(y) - new_onset, int(0.01 * sample_rate))
    if fade > 1:
        y[-fade:] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)
    return y.astype(np.float32), new_onset
