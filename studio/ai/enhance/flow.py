"""Classical frame interpolation: DIS optical flow both ways, backward warping, occlusion-aware blending.

For a pair of frames ``a`` (time 0) and ``b`` (time 1), ``FlowInterpolator.pair(a, b)``
computes OpenCV's DIS optical flow ``a -> b`` and ``b -> a`` on a downscaled grey image
(once per pair, however many frames are made between them) and a forward/backward
consistency map for each direction (near 1 where the flows agree, near 0 where a pixel is
occluded or the flow is unreliable). ``pair.at(t)`` approximates the flows from time ``t``
back to both frames (Super SloMo's quadratic approximation), backward-warps both frames
there with ``cv2.remap`` and blends them with weights ``(1 - t) * consistency_a`` and
``t * consistency_b``.

cv2 releases the GIL, DIS instances are per thread and a pair's flow is computed once under
a lock, so pairs and output frames can be computed on a thread pool.

Simpler interpolators share the ``pair(a, b).at(t)`` interface: ``BlendInterpolator``
(cross-fade) and ``RepeatInterpolator`` (nearest frame), used as baselines.
"""

from __future__ import annotations

import threading

import cv2
import numpy as np

#: Flow is computed on a grey image at most this wide (then upscaled with the flow vectors).
FLOW_WIDTH = 480
#: Consistency tolerance (Sundaram et al.): |f + b|^2 < REL * (|f|^2 + |b|^2) + ABS, in flow pixels.
REL = 0.01
ABS = 0.5


def _grey(rgb: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    grey = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)
    if (grey.shape[1], grey.shape[0]) != size:
        grey = cv2.resize(grey, size, interpolation=cv2.INTER_AREA)
    return grey


def _grid(w: int, h: int) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    return xs, ys


def _sample(img: np.ndarray, fx: np.ndarray, fy: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    return cv2.remap(img, xs + fx, ys + fy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def _consistency(f: np.ndarray, b: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """How well flow ``f`` (a -> b) and ``b`` (b -> a) agree at each pixel of a (0..1, float32)."""
    bw = _sample(b, f[..., 0], f[..., 1], xs, ys)
    err = np.sum((f + bw) ** 2, axis=-1)
    tol = REL * (np.sum(f ** 2, axis=-1) + np.sum(bw ** 2, axis=-1)) + ABS
    return np.exp(-err / tol).astype(np.float32)


class FlowPair:
    """Flows between two frames; ``at(t)`` makes the frame at ``0 < t < 1``."""

    def __init__(self, a: np.ndarray, b: np.ndarray, owner: FlowInterpolator) -> None:
        self.a, self.b = a, b
        self._owner = owner
        self._lock = threading.Lock()
        self._ready = False

    def _compute(self) -> None:
        with self._lock:
            if self._ready:
                return
            h, w = self.a.shape[:2]
            scale = min(1.0, self._owner.flow_width / w)
            sw, sh = max(8, round(w * scale)), max(8, round(h * scale))
            ga, gb = _grey(self.a, (sw, sh)), _grey(self.b, (sw, sh))
            dis = self._owner._dis()
            f01 = dis.calc(ga, gb, None)
            f10 = dis.calc(gb, ga, None)
            xs, ys = _grid(sw, sh)
            self.c0 = _consistency(f01, f10, xs, ys)
            self.c1 = _consistency(f10, f01, xs, ys)
            self.f01, self.f10 = f01, f10
            self.small = (sw, sh)
            self.ratio = (w / sw, h / sh)
            self._ready = True

    def at(self, t: float) -> np.ndarray:
        self._compute()
        h, w = self.a.shape[:2]
        t = float(t)
        ft0 = -(1 - t) * t * self.f01 + t * t * self.f10
        ft1 = (1 - t) * (1 - t) * self.f01 - t * (1 - t) * self.f10
        sw, sh = self.small
        xs, ys = _grid(sw, sh)
        # Consistency of the pixel each warp reads, at flow resolution, then both maps to full size.
        c0 = (1 - t) * _sample(self.c0, ft0[..., 0], ft0[..., 1], xs, ys) + 1e-3
        c1 = t * _sample(self.c1, ft1[..., 0], ft1[..., 1], xs, ys) + 1e-3
        weight0 = c0 / (c0 + c1)
        rx, ry = self.ratio
        ft0 = ft0 * np.array([rx, ry], np.float32)
        ft1 = ft1 * np.array([rx, ry], np.float32)
        if (sw, sh) != (w, h):
            ft0 = cv2.resize(ft0, (w, h), interpolation=cv2.INTER_LINEAR)
            ft1 = cv2.resize(ft1, (w, h), interpolation=cv2.INTER_LINEAR)
            weight0 = cv2.resize(weight0, (w, h), interpolation=cv2.INTER_LINEAR)
        gx, gy = self._owner._full_grid(w, h)
        w0 = _sample(self.a, ft0[..., 0], ft0[..., 1], gx, gy)
        w1 = _sample(self.b, ft1[..., 0], ft1[..., 1], gx, gy)
        return cv2.blendLinear(w0, w1, weight0, 1.0 - weight0)


class FlowInterpolator:
    """DIS optical-flow interpolation (see the module docstring)."""

    name = "flow"

    def __init__(self, *, flow_width: int = FLOW_WIDTH, preset: int = cv2.DISOPTICAL_FLOW_PRESET_MEDIUM) -> None:
        self.flow_width = flow_width
        self.preset = preset
        self._local = threading.local()
        self._grids: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}

    def _dis(self):
        dis = getattr(self._local, "dis", None)
        if dis is None:
            dis = cv2.DISOpticalFlow_create(self.preset)
            self._local.dis = dis
        return dis

    def _full_grid(self, w: int, h: int) -> tuple[np.ndarray, np.ndarray]:
        grid = self._grids.get((w, h))
        if grid is None:
            grid = self._grids[(w, h)] = _grid(w, h)
        return grid

    def pair(self, a: np.ndarray, b: np.ndarray) -> FlowPair:
        return FlowPair(a, b, self)


class _SimplePair:
    def __init__(self, a: np.ndarray, b: np.ndarray, blend: bool) -> None:
        self.a, self.b, self.blend = a, b, blend

    def at(self, t: float) -> np.ndarray:
        if not self.blend:
            return self.a if t < 0.5 else self.b
        return cv2.addWeighted(self.a, 1.0 - float(t), self.b, float(t), 0.0)


class BlendInterpolator:
    """Cross-fade between neighbours (a baseline)."""

    name = "blend"

    def pair(self, a: np.ndarray, b: np.ndarray) -> _SimplePair:
        return _SimplePair(a, b, True)


class RepeatInterpolator:
    """The nearest source frame (frame repetition, a baseline)."""

    name = "repeat"

    def pair(self, a: np.ndarray, b: np.ndarray) -> _SimplePair:
        return _SimplePair(a, b, False)
