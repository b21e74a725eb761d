"""A look-ahead brick-wall peak limiter, stateless over a bounded window.

The gain for sample ``n`` is a function of the input in ``[n - history, n + lookahead]``
only, so the output does not depend on how a render is cut into blocks (a seek, a
sequential export and a preview give the very same samples). Construction:

1. ``r[i] = target / peak[i]`` where the peak (over channels) exceeds the ceiling, else 1;
2. ``m[j] = min(r[j - hold .. j + lookahead])``: a look-ahead minimum with a hold;
3. two box averages of ``W`` samples (``lookahead = 2W - 2``) turn the steps of ``m`` into
   smooth S-shaped ramps of ``2W - 1`` samples (no clicks).

Every ``m[j]`` averaged into the gain of sample ``n`` comes from a window that contains
``n``, so the gain never exceeds ``r[n]``: a true brick wall on sample peaks. A window
whose peaks do not exceed the ceiling passes through bit-exact.
"""

from __future__ import annotations

import math

import numpy as np

#: Relative margin below the ceiling, so that float32 rounding of the output cannot cross it.
_MARGIN = 1.0 - 2.0**-20
#: Gains are smoothed as integers in units of 2**-24 (rounded down, so never above the exact value).
_UNIT = float(1 << 24)


def db_to_gain(db: float) -> float:
    return 0.0 if db == -math.inf else 10.0 ** (db / 20.0)


def gain_to_db(gain: float) -> float:
    return -math.inf if gain <= 0 else 20.0 * math.log10(gain)


def _box(units: np.ndarray, width: int) -> np.ndarray:
    """Valid moving average, rounded down: ``out[k] = floor(sum(units[k : k + width]) / width)``.

    Integer arithmetic, so a sample's value depends on its window alone, never on where
    the array (a render block) begins: that is what makes the output independent of chunking.
    """
    if width == 1:
        return units.copy()
    c = np.concatenate((np.zeros(1, dtype=np.int64), np.cumsum(units, dtype=np.int64)))
    return (c[width:] - c[:-width]) // width


class PeakLimiter:
    """Brick-wall limiter at ``ceiling_db`` dBFS (sample peak) with ``attack_ms`` look-ahead.

    ``process(x)`` takes ``history`` samples before and ``lookahead`` samples after the
    wanted range and returns the wanted range; ``limit(x)`` treats a whole signal (silence
    around it).
    """

    def __init__(self, sample_rate: int, ceiling_db: float = -1.0, *, attack_ms: float = 5.0,
                 hold_ms: float = 20.0):
        if sample_rate <= 0:
            raise ValueError("sample rate must be positive")
        self.sample_rate = int(sample_rate)
        self.ceiling_db = float(ceiling_db)
        self.ceiling = db_to_gain(self.ceiling_db)
        self._target = self.ceiling * _MARGIN
        self._width = max(1, round(attack_ms / 2000.0 * self.sample_rate))
        self.lookahead = 2 * self._width - 2
        self.hold = max(0, round(hold_ms / 1000.0 * self.sample_rate))
        self.history = self.hold + self.lookahead

    def process(self, x: np.ndarray) -> np.ndarray:
        """Limit ``x[:, history : -lookahead]`` using the context around it; float32 out."""
        x = np.asarray(x, dtype=np.float32)
        if x.ndim == 1:
            x = x[np.newaxis, :]
        total = x.shape[1]
        n = total - self.history - self.lookahead
        if n < 0:
            raise ValueError(f"need at least {self.history + self.lookahead} samples of context")
        out = x[:, self.history : self.history + n].copy()
        if n == 0 or x.shape[0] == 0:
            return out
        peak = np.max(np.abs(x), axis=0).astype(np.float64)
        if not peak.max() > self.ceiling:
            return out
        over = peak > self.ceiling
        r = np.ones(total, dtype=np.float64)
        r[over] = self._target / peak[over]
        size = self.hold + self.lookahead + 1
        from scipy.ndimage import minimum_filter1d  # ~0.3 s to import: only once something is loud

        # centred minimum filter: out[i] = min(r[i - size // 2 : i - size // 2 + size]); take the valid part
        m = minimum_filter1d(r, size, mode="nearest")[size // 2 : size // 2 + total - size + 1]
        units = np.floor(m * _UNIT).astype(np.int64)
        gain = _box(_box(units, self._width), self._width) / _UNIT
        gain = np.minimum(gain, r[self.history : self.history + n])  # guards float rounding only
        cut = gain < 1.0
        if cut.any():
            out[:, cut] = (out[:, cut] * gain[cut]).astype(np.float32)
        return out

    def limit(self, x: np.ndarray) -> np.ndarray:
        """Limit a whole signal ``(channels, n)`` (or ``(n,)``) with silence around it."""
        x = np.asarray(x, dtype=np.float32)
        squeeze = x.ndim == 1
        if squeeze:
            x = x[np.newaxis, :]
        padded = np.zeros((x.shape[0], x.shape[1] + self.history + self.lookahead), dtype=np.float32)
        padded[:, self.history : self.history + x.shape[1]] = x
        y = self.process(padded)
        return y[0] if squeeze else y
