"""Synthetic frames with known motion for the enhance tests."""

from __future__ import annotations

import numpy as np

BG = (30, 30, 40)
FG = (230, 180, 90)


def square_frame(cx: float, cy: float, w: int = 96, h: int = 64, side: int = 12, bg=BG) -> np.ndarray:
    """A ``side`` x ``side`` square centred on (cx, cy) (integer-aligned) on a flat background."""
    img = np.empty((h, w, 3), np.uint8)
    img[:] = bg
    x0, y0 = int(round(cx - side / 2)), int(round(cy - side / 2))
    img[max(0, y0):y0 + side, max(0, x0):x0 + side] = FG
    return img


def centre(img: np.ndarray) -> tuple[float, float]:
    """Centre of mass of the square's mask (bright red channel)."""
    ys, xs = np.nonzero(img[..., 0] > 130)
    return float(xs.mean()), float(ys.mean())
