"""Upscaling an RGB frame to the output size, as an encoder-ready YUV frame.

``lanczos``: one swscale pass (Lanczos scaling + RGB -> BT.709 limited-range YUV).
``esrgan``: an ESRGAN / Real-ESRGAN model (RRDBNet, ``rrdb``; or the compact SRVGGNetCompact,
``srvgg``) run in overlapping tiles (``tiles``), then the same swscale pass to the exact output
size (down or up from the model's scale).
"""

from __future__ import annotations

import os
import threading

import av
import numpy as np
from av.video.reformatter import ColorRange, Interpolation

from studio.render.colour import Colour, convert, output_colour

from .tiles import run_tiled

TILE = 256
OVERLAP = 16


def _to_yuv(rgb: np.ndarray, size: tuple[int, int], pix_fmt: str) -> av.VideoFrame:
    w, h = size
    frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
    return convert(frame, width=w, height=h, format=pix_fmt, src=Colour(None, ColorRange.JPEG),
                   dst=output_colour(w, h, pix_fmt), interpolation=Interpolation.LANCZOS)


class LanczosUpscaler:
    name = "lanczos"

    def __init__(self, size: tuple[int, int], pix_fmt: str = "yuv420p") -> None:
        self.size, self.pix_fmt = size, pix_fmt

    def __call__(self, rgb: np.ndarray) -> av.VideoFrame:
        return _to_yuv(rgb, self.size, self.pix_fmt)


class ModelUpscaler:
    """A torch super-resolution model in tiles, then Lanczos to the exact size."""

    name = "esrgan"

    def __init__(self, model, scale: int, size: tuple[int, int], *, device: str = "cpu", pix_fmt: str = "yuv420p",
                 tile: int = TILE, overlap: int = OVERLAP, half: bool = False) -> None:
        self.model = model.to(device).eval()
        if half:
            self.model = self.model.half()
        self.scale, self.size, self.device, self.pix_fmt = scale, size, device, pix_fmt
        # Models that pixel-unshuffle their input (Real-ESRGAN x2 / x1) need tiles on their grid to match a whole run.
        m = int(getattr(model, "pad_multiple", 1))
        self.tile, self.overlap, self.half = -(-tile // m) * m, -(-overlap // m) * m, half
        self._lock = threading.Lock()  # one model, one forward at a time

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], size: tuple[int, int], *, device: str = "cpu",
                  **kw) -> ModelUpscaler:
        from .srvgg import load_upscaler

        model, scale = load_upscaler(path)
        return cls(model, scale, size, device=device, **kw)

    def enhance(self, rgb: np.ndarray) -> np.ndarray:
        """The model's RGB output (``scale`` times larger) for an RGB uint8 frame."""
        import torch

        with self._lock, torch.inference_mode():
            x = torch.from_numpy(np.ascontiguousarray(rgb)).to(self.device).permute(2, 0, 1)[None]
            x = x.half() / 255.0 if self.half else x.float() / 255.0
            y = run_tiled(self.model, x, self.scale, tile=self.tile, overlap=self.overlap)
            return (y[0].clamp(0, 1) * 255.0 + 0.5).to(torch.uint8).permute(1, 2, 0).cpu().numpy()

    def __call__(self, rgb: np.ndarray) -> av.VideoFrame:
        return _to_yuv(self.enhance(rgb), self.size, self.pix_fmt)
