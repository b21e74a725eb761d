"""Run an image-to-image model in overlapping tiles, so memory stays bounded at any frame size.

Each tile is read with ``overlap`` extra input pixels on every side (clamped to the image), run
through the model, and only its centre (the part away from the tile's own borders, where the
receptive field saw real neighbours) is written to the output. With an overlap at least the
model's receptive-field radius the result equals a whole-image run up to float rounding, so no
seams show.
"""

from __future__ import annotations

from typing import Any


def run_tiled(model: Any, image: Any, scale: int, *, tile: int = 256, overlap: int = 16) -> Any:
    """``model(image)`` for an ``(N, C, H, W)`` tensor, computed tile by tile; returns ``(N, C', H*s, W*s)``."""
    import torch

    n, _, h, w = image.shape
    if h <= tile and w <= tile:
        return model(image)
    out = None
    for y0 in range(0, h, tile):
        for x0 in range(0, w, tile):
            y1, x1 = min(h, y0 + tile), min(w, x0 + tile)
            py0, px0 = max(0, y0 - overlap), max(0, x0 - overlap)
            py1, px1 = min(h, y1 + overlap), min(w, x1 + overlap)
            res = model(image[:, :, py0:py1, px0:px1])
            if out is None:
                out = torch.empty((n, res.shape[1], h * scale, w * scale), dtype=res.dtype, device=res.device)
            cy, cx = (y0 - py0) * scale, (x0 - px0) * scale
            out[:, :, y0 * scale:y1 * scale, x0 * scale:x1 * scale] = \
                res[:, :, cy:cy + (y1 - y0) * scale, cx:cx + (x1 - x0) * scale]
    return out
