"""Learned frame interpolation: RIFE's IFNet (Practical-RIFE 4.x, the v4.6 layout), in our own torch code.

Architecture (Huang et al., "Real-Time Intermediate Flow Estimation", ECCV 2022; Practical-RIFE
v4.6): four ``IFBlock``s refine, coarse to fine (scales 8, 4, 2, 1), a bidirectional flow from
time ``t`` to both frames plus a blending mask. Each block downsamples its input by the scale,
applies two stride-2 convs (``conv0``), eight residual convs with a learned per-channel
``beta`` (``convblock``), and a transposed conv + pixel shuffle back to the input scale
(``lastconv``) that yields 4 flow channels and 1 mask channel (plus one unused). Block 0 sees
both frames and the time plane (7 channels); later blocks also see the two frames warped by
the current flow, the mask and the flow (3+3+1+1+4 = 12). The output mixes both warped
frames with ``sigmoid(mask)``.

Weights are not bundled: the user supplies Practical-RIFE's ``flownet.pkl`` (keys prefixed
``module.`` are accepted) or a ``.safetensors`` conversion. Widths are inferred from the file.
Input sides must be multiples of 32 (``interpolate`` pads and crops).

torch is imported inside functions only (DESIGN.md fixed point 1).
"""

from __future__ import annotations

import functools
import os
import threading
from typing import Any

import numpy as np

from .srvgg import ModelLoadError, read_state_dict

#: Practical-RIFE v4.6 block widths.
WIDTHS = (192, 128, 96, 64)
SCALES = (8, 4, 2, 1)


@functools.cache
def _classes() -> dict[str, Any]:
    import torch
    from torch import nn
    from torch.nn import functional as F

    def conv(cin: int, cout: int, stride: int = 1) -> nn.Module:
        return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=True), nn.LeakyReLU(0.2, True))

    class ResConv(nn.Module):
        def __init__(self, c: int) -> None:
            super().__init__()
            self.conv = nn.Conv2d(c, c, 3, 1, 1)
            self.beta = nn.Parameter(torch.ones((1, c, 1, 1)))
            self.relu = nn.LeakyReLU(0.2, True)

        def forward(self, x):
            return self.relu(self.conv(x) * self.beta + x)

    class IFBlock(nn.Module):
        def __init__(self, in_planes: int, c: int) -> None:
            super().__init__()
            self.conv0 = nn.Sequential(conv(in_planes, c // 2, 2), conv(c // 2, c, 2))
            self.convblock = nn.Sequential(*[ResConv(c) for _ in range(8)])
            self.lastconv = nn.Sequential(nn.ConvTranspose2d(c, 4 * 6, 4, 2, 1), nn.PixelShuffle(2))

        def forward(self, x, flow, scale: float):
            x = F.interpolate(x, scale_factor=1.0 / scale, mode="bilinear", align_corners=False)
            if flow is not None:
                flow = F.interpolate(flow, scale_factor=1.0 / scale, mode="bilinear", align_corners=False) / scale
                x = torch.cat((x, flow), 1)
            feat = self.convblock(self.conv0(x))
            tmp = F.interpolate(self.lastconv(feat), scale_factor=scale, mode="bilinear", align_corners=False)
            return tmp[:, :4] * scale, tmp[:, 4:5]

    def warp(img, flow):
        n, _, h, w = img.shape
        ys, xs = torch.meshgrid(torch.arange(h, device=img.device, dtype=img.dtype),
                                torch.arange(w, device=img.device, dtype=img.dtype), indexing="ij")
        gx = (xs + flow[:, 0]) * (2.0 / max(w - 1, 1)) - 1.0
        gy = (ys + flow[:, 1]) * (2.0 / max(h - 1, 1)) - 1.0
        grid = torch.stack((gx, gy), dim=-1)
        return F.grid_sample(img, grid, mode="bilinear", padding_mode="border", align_corners=True)

    class IFNet(nn.Module):
        def __init__(self, widths=WIDTHS) -> None:
            super().__init__()
            self.widths = tuple(widths)
            self.block0 = IFBlock(7, widths[0])
            self.block1 = IFBlock(8 + 4, widths[1])
            self.block2 = IFBlock(8 + 4, widths[2])
            self.block3 = IFBlock(8 + 4, widths[3])

        def forward(self, img0, img1, timestep, scales=SCALES):
            """Frames ``(N, 3, H, W)`` in 0..1 and ``timestep`` ``(N, 1, H, W)``: the frame at that time."""
            blocks = (self.block0, self.block1, self.block2, self.block3)
            flow = mask = None
            w0, w1 = img0, img1
            for block, scale in zip(blocks, scales, strict=True):
                if flow is None:
                    flow, mask = block(torch.cat((img0, img1, timestep), 1), None, scale)
                else:
                    f, m = block(torch.cat((w0, w1, timestep, mask), 1), flow, scale)
                    flow, mask = flow + f, mask + m
                w0, w1 = warp(img0, flow[:, :2]), warp(img1, flow[:, 2:4])
            m = torch.sigmoid(mask)
            return w0 * m + w1 * (1 - m)

    return {"IFNet": IFNet}


def build_ifnet(widths=WIDTHS):
    """A fresh IFNet (random weights); tests use tiny widths."""
    return _classes()["IFNet"](widths)


def ifnet_from_state_dict(sd: dict[str, Any]):
    sd = {k.removeprefix("module."): v for k, v in sd.items()}
    try:
        widths = tuple(int(sd[f"block{i}.conv0.1.0.weight"].shape[0]) for i in range(4))
    except KeyError:
        raise ModelLoadError("not a RIFE 4.x IFNet state dict (no block0..3.conv0 weights)") from None
    model = build_ifnet(widths)
    try:
        model.load_state_dict(sd, strict=True)
    except RuntimeError as e:
        raise ModelLoadError(f"weights do not fit RIFE IFNet v4.6: {str(e).splitlines()[0]}") from None
    return model.eval()


def load_ifnet(path: str | os.PathLike[str]):
    return ifnet_from_state_dict(read_state_dict(path))


def _to_tensor(rgb: np.ndarray, device):
    import torch

    return torch.from_numpy(np.ascontiguousarray(rgb)).to(device).permute(2, 0, 1)[None].float() / 255.0


class _RifePair:
    def __init__(self, owner: RifeInterpolator, a: np.ndarray, b: np.ndarray) -> None:
        self.owner, self.a, self.b = owner, a, b

    def at(self, t: float) -> np.ndarray:
        return self.owner.interpolate(self.a, self.b, t)


class RifeInterpolator:
    """``pair(a, b).at(t)`` with a loaded IFNet (one forward pass per output frame, serialised)."""

    name = "rife"

    def __init__(self, model, device: str = "cpu") -> None:
        self.model = model.to(device)
        self.device = device
        self._lock = threading.Lock()

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], device: str = "cpu") -> RifeInterpolator:
        return cls(load_ifnet(path), device)

    def interpolate(self, a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
        import torch
        from torch.nn import functional as F

        h, w = a.shape[:2]
        ph, pw = (-h) % 32, (-w) % 32
        with self._lock, torch.inference_mode():
            x0, x1 = _to_tensor(a, self.device), _to_tensor(b, self.device)
            if ph or pw:
                x0 = F.pad(x0, (0, pw, 0, ph), mode="replicate")
                x1 = F.pad(x1, (0, pw, 0, ph), mode="replicate")
            ts = torch.full_like(x0[:, :1], float(t))
            out = self.model(x0, x1, ts)[0, :, :h, :w]
            return (out.clamp(0, 1) * 255.0 + 0.5).to(torch.uint8).permute(1, 2, 0).cpu().numpy()

    def pair(self, a: np.ndarray, b: np.ndarray) -> _RifePair:
        return _RifePair(self, a, b)
