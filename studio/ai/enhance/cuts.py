"""Scene-cut detection between consecutive frames, so interpolation never blends across a cut.

Each pair is scored on small grey thumbnails: the mean absolute luma difference and the
distance between luma histograms (robust to motion, sensitive to a change of scene), both
0..1. A pair is a cut when the score passes an absolute floor *and* stands well above the
recent scores (an adaptive threshold: fast motion raises the baseline, so it is not taken for
a cut; a cut after calm footage is caught at a lower level).
"""

from __future__ import annotations

from collections import deque

import cv2
import numpy as np

#: Thumbnail width used for scoring.
THUMB_WIDTH = 96
#: A score at or above this is always a cut.
HARD = 0.5
#: A score below this is never a cut.
FLOOR = 0.12
#: ... otherwise a cut when the score exceeds this many times the recent median.
RATIO = 3.0
#: Pairs remembered for the adaptive baseline.
WINDOW = 12


def thumbnail(rgb: np.ndarray) -> np.ndarray:
    """A small float32 grey image (0..1) of an RGB frame."""
    h, w = rgb.shape[:2]
    tw = min(THUMB_WIDTH, w)
    th = max(1, round(h * tw / w))
    grey = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)
    return cv2.resize(grey, (tw, th), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0


def score(a: np.ndarray, b: np.ndarray) -> float:
    """Difference of two thumbnails: histogram distance (0..1) plus a quarter of the mean |luma diff|.

    The histogram barely moves with motion (even of fine texture) and jumps at a change of scene;
    the pixel term separates cuts between scenes of similar tone."""
    diff = float(np.mean(np.abs(a - b)))
    ha = np.histogram(a, bins=32, range=(0.0, 1.0))[0].astype(np.float64)
    hb = np.histogram(b, bins=32, range=(0.0, 1.0))[0].astype(np.float64)
    hist = 0.5 * float(np.abs(ha / max(ha.sum(), 1) - hb / max(hb.sum(), 1)).sum())
    return hist + 0.25 * diff


class CutDetector:
    """Streaming detector: call ``is_cut(prev, next)`` for each consecutive pair, in order."""

    def __init__(self, *, floor: float = FLOOR, hard: float = HARD, ratio: float = RATIO) -> None:
        self.floor, self.hard, self.ratio = floor, hard, ratio
        self._recent: deque[float] = deque(maxlen=WINDOW)
        self.scores: list[float] = []

    def is_cut(self, a: np.ndarray, b: np.ndarray) -> bool:
        s = score(thumbnail(a), thumbnail(b))
        self.scores.append(s)
        baseline = float(np.median(self._recent)) if self._recent else 0.0
        cut = s >= self.hard or (s >= self.floor and s > self.ratio * baseline)
        if not cut:
            self._recent.append(s)  # a cut does not raise the baseline
        return cut
