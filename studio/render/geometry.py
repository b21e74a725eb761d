"""Where a clip's picture lands on the canvas: fit, keyframed transform, crop, affine maps.

Conventions (pixel centres at integer coordinates, y down):

- a source is first shown upright (display rotation and sample aspect ratio applied), then
  *fitted* inside the canvas preserving its aspect (letterbox / pillarbox);
- ``scale`` multiplies that fitted size, ``x``/``y`` move its centre away from the canvas
  centre in canvas pixels, ``rotation`` turns it clockwise on screen in degrees;
- ``crop_*`` are fractions of the upright source removed from each edge; the rest stays
  where it was (cropping does not recentre) and the removed part is transparent.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from studio.core.timeline import Transform

#: Translations this close to whole pixels are pasted without resampling.
SNAP = 0.05


@dataclass(frozen=True, slots=True)
class Params(Transform):
    """A clip's transform at one frame: the model's ``Transform`` with keyframes evaluated."""

    @property
    def is_identity(self) -> bool:
        return (self.x == 0 and self.y == 0 and self.scale == 1 and self.rotation % 360 == 0
                and not self.has_crop)

    @property
    def has_crop(self) -> bool:
        return any(v > 0 for v in (self.crop_left, self.crop_top, self.crop_right, self.crop_bottom))

    @property
    def crops(self) -> tuple[float, float, float, float]:
        """(left, top, right, bottom), each clamped to [0, 1]."""
        return tuple(min(1.0, max(0.0, v)) for v in (self.crop_left, self.crop_top, self.crop_right,
                                                     self.crop_bottom))


def upright_size(width: int, height: int, sar: float = 1.0, rotation: int = 0) -> tuple[float, float]:
    """Displayed size in square pixels of a ``width`` x ``height`` picture (SAR, rotation)."""
    w, h = width * sar, float(height)
    if rotation % 180 == 90:
        w, h = h, w
    return w, h


def fit_scale(width: float, height: float, canvas_w: int, canvas_h: int) -> float:
    """Scale that fits ``width`` x ``height`` inside the canvas, keeping the aspect."""
    return min(canvas_w / width, canvas_h / height)


def display_rect(width: float, height: float, canvas_w: int, canvas_h: int, p: Params
                 ) -> tuple[float, float, float, float]:
    """(left, top, width, height) on the canvas of an upright picture before rotation/crop."""
    s = fit_scale(width, height, canvas_w, canvas_h) * p.scale
    dw, dh = width * s, height * s
    cx, cy = canvas_w / 2 + p.x, canvas_h / 2 + p.y
    return cx - dw / 2, cy - dh / 2, dw, dh


def covers_canvas(width: float, height: float, canvas_w: int, canvas_h: int, p: Params) -> bool:
    """Whether the transformed picture covers every canvas pixel (no rotation, no crop)."""
    if p.rotation % 360 != 0 or p.has_crop:
        return False
    left, top, dw, dh = display_rect(width, height, canvas_w, canvas_h, p)
    eps = 1e-6
    return left <= eps and top <= eps and left + dw >= canvas_w - eps and top + dh >= canvas_h - eps


def affine(img_w: int, img_h: int, full_w: int, full_h: int, x0: int, y0: int, kx: float, ky: float,
           canvas_w: int, canvas_h: int, p: Params) -> np.ndarray:
    """2x3 matrix from pixel (u, v) of a crop starting at (x0, y0) of a ``full_w`` x ``full_h``
    upright picture, drawn ``kx`` x ``ky`` canvas pixels per picture pixel, to canvas pixels."""
    theta = math.radians(p.rotation)
    c, s = math.cos(theta), math.sin(theta)
    a = np.array([[c * kx, -s * ky], [s * kx, c * ky]], dtype=np.float64)
    centre = np.array([canvas_w / 2 + p.x, canvas_h / 2 + p.y])
    offset = np.array([x0 + 0.5 - full_w / 2, y0 + 0.5 - full_h / 2])
    b = centre + a @ offset - 0.5
    return np.hstack([a, b[:, None]])


def bbox(m: np.ndarray, w: int, h: int, canvas_w: int, canvas_h: int) -> tuple[int, int, int, int] | None:
    """Canvas pixel box (x0, y0, x1, y1) touched by a ``w`` x ``h`` image under ``m``; None if off-canvas."""
    corners = np.array([[-0.5, -0.5, 1], [w - 0.5, -0.5, 1], [-0.5, h - 0.5, 1], [w - 0.5, h - 0.5, 1]])
    pts = corners @ m.T
    x0 = max(0, math.floor(pts[:, 0].min() + 0.5))
    y0 = max(0, math.floor(pts[:, 1].min() + 0.5))
    x1 = min(canvas_w, math.ceil(pts[:, 0].max() + 0.5))
    y1 = min(canvas_h, math.ceil(pts[:, 1].max() + 0.5))
    if x1 <= x0 or y1 <= y0:
        return None
    return x0, y0, x1, y1


def snapped(value: float) -> int | None:
    """``value`` as a whole number when it is within ``SNAP`` of one, else None."""
    r = round(value)
    return int(r) if abs(value - r) < SNAP else None
