"""Real-ESRGAN's compact super-resolution network (SRVGGNetCompact), built and loaded in our code.

The architecture (Wang et al., Real-ESRGAN, ``realesr-animevideov3`` / ``realesr-general-x4v3``):
a plain stack of 3x3 convolutions with an activation after each (``body.0`` conv in -> feat,
``body.1`` act, then ``num_conv`` x (conv feat -> feat, act), then a conv to ``out * scale^2``
channels), a pixel shuffle by ``scale``, plus the input upsampled by nearest neighbour
(the network predicts a residual). State-dict keys are ``body.<i>.weight`` / ``.bias``; PReLU
activations carry a ``weight`` of ``num_feat`` values.

``load_compact(path)`` reads a ``.safetensors`` or ``.pth`` file (bare state dict, or
Real-ESRGAN's ``{"params_ema": ...}`` / ``{"params": ...}``), infers the hyper-parameters from
the tensor shapes and returns the model in eval mode. spandrel, when it imports, is used
first (it knows many more architectures); here it does not import (it needs torchvision), so
our loader does the work.

torch is imported inside functions only (DESIGN.md fixed point 1).
"""

from __future__ import annotations

import functools
import logging
import math
import os
import re
from typing import Any

from studio.core.errors import StudioError

log = logging.getLogger(__name__)


class ModelLoadError(StudioError):
    """A weights file is missing, unreadable, or not of an architecture we know."""


@functools.cache
def _classes() -> dict[str, Any]:
    import torch
    from torch import nn
    from torch.nn import functional as F

    class SRVGGNetCompact(nn.Module):
        def __init__(self, num_in_ch: int = 3, num_out_ch: int = 3, num_feat: int = 64, num_conv: int = 16,
                     upscale: int = 4, act_type: str = "prelu") -> None:
            super().__init__()
            self.num_in_ch, self.num_out_ch, self.num_feat = num_in_ch, num_out_ch, num_feat
            self.num_conv, self.upscale, self.act_type = num_conv, upscale, act_type
            self.body = nn.ModuleList()
            self.body.append(nn.Conv2d(num_in_ch, num_feat, 3, 1, 1))
            self.body.append(self._act(num_feat))
            for _ in range(num_conv):
                self.body.append(nn.Conv2d(num_feat, num_feat, 3, 1, 1))
                self.body.append(self._act(num_feat))
            self.body.append(nn.Conv2d(num_feat, num_out_ch * upscale * upscale, 3, 1, 1))
            self.upsampler = nn.PixelShuffle(upscale)

        def _act(self, n: int) -> nn.Module:
            if self.act_type == "relu":
                return nn.ReLU(inplace=True)
            if self.act_type == "lrelu":
                return nn.LeakyReLU(0.1, inplace=True)
            return nn.PReLU(num_parameters=n)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            out = x
            for layer in self.body:
                out = layer(out)
            out = self.upsampler(out)
            return out + F.interpolate(x, scale_factor=self.upscale, mode="nearest")

    return {"SRVGGNetCompact": SRVGGNetCompact}


def build_compact(*, num_in_ch: int = 3, num_out_ch: int = 3, num_feat: int = 64, num_conv: int = 16,
                  upscale: int = 4, act_type: str = "prelu"):
    """A fresh SRVGGNetCompact (random weights)."""
    return _classes()["SRVGGNetCompact"](num_in_ch, num_out_ch, num_feat, num_conv, upscale, act_type)


def read_state_dict(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Tensors of a ``.safetensors`` or ``.pth``/``.pt`` file (unwrapping ``params_ema``/``params``/``state_dict``)."""
    import torch

    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ModelLoadError(f"weights file {path!r} does not exist")
    try:
        if path.endswith(".safetensors"):
            from safetensors.torch import load_file

            sd = load_file(path)
        else:
            sd = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # any unreadable file: one line for the user
        raise ModelLoadError(f"cannot read weights {path!r}: {e}") from None
    for key in ("params_ema", "params", "state_dict", "model"):
        if isinstance(sd, dict) and key in sd and isinstance(sd[key], dict):
            sd = sd[key]
            break
    if not isinstance(sd, dict):
        raise ModelLoadError(f"{path!r} does not hold a state dict")
    return {k.removeprefix("module."): v for k, v in sd.items()}


def compact_from_state_dict(sd: dict[str, Any]):
    """An SRVGGNetCompact whose hyper-parameters are inferred from ``sd``, with ``sd`` loaded."""
    convs = sorted(int(m.group(1)) for k in sd if (m := re.fullmatch(r"body\.(\d+)\.weight", k))
                   and getattr(sd[k], "ndim", 0) == 4)
    if not convs or convs[0] != 0:
        raise ModelLoadError("not an SRVGGNetCompact state dict (no body.0.weight conv)")
    first, last = sd["body.0.weight"], sd[f"body.{convs[-1]}.weight"]
    num_feat, num_in = int(first.shape[0]), int(first.shape[1])
    num_conv = (convs[-1] - 2) // 2
    act = "prelu" if "body.1.weight" in sd else "lrelu"
    out_ch = num_in
    scale = math.isqrt(int(last.shape[0]) // out_ch)
    if scale * scale * out_ch != int(last.shape[0]):
        raise ModelLoadError(f"cannot infer the scale from {tuple(last.shape)}")
    model = build_compact(num_in_ch=num_in, num_out_ch=out_ch, num_feat=num_feat, num_conv=num_conv,
                          upscale=scale, act_type=act)
    try:
        model.load_state_dict(sd, strict=True)
    except RuntimeError as e:
        raise ModelLoadError(f"weights do not fit SRVGGNetCompact: {str(e).splitlines()[0]}") from None
    return model.eval()


def load_upscaler(path: str | os.PathLike[str], *, use_spandrel: bool = True):
    """``(module, scale)`` for an upscaling model file: through spandrel when it imports, else our loaders.

    Ours pick the architecture from the state-dict keys: RRDBNet (ESRGAN, RealESRGAN_x4plus / x2plus /
    anime_6B, RealESRNet; ``rrdb``) or SRVGGNetCompact (realesr-general-x4v3, realesr-animevideov3).
    Any other layout, or a model that is not RGB in and out, is one ``ModelLoadError`` naming the file.
    """
    if use_spandrel:
        try:
            import spandrel  # noqa: F401  (needs torchvision; absent or broken here)
        except Exception as e:  # ImportError, or torchvision's operator registration failing
            log.info("spandrel unavailable (%s); using the built-in loaders", type(e).__name__)
        else:
            try:
                desc = spandrel.ModelLoader().load_from_file(os.fspath(path))
                return desc.model.eval(), int(desc.scale)
            except Exception as e:
                log.info("spandrel could not load %s (%s); trying the built-in loader", path, e)
    from .rrdb import is_rrdb, rrdb_from_state_dict

    sd = read_state_dict(path)
    try:
        if is_rrdb(sd):
            model = rrdb_from_state_dict(sd)
            scale = model.scale
        elif "body.0.weight" in sd:
            model = compact_from_state_dict(sd)
            scale = model.upscale
        else:
            keys = ", ".join(list(sd)[:3]) or "no tensors"
            raise ModelLoadError(f"unknown model layout (keys {keys}, ...); known: RRDBNet (ESRGAN / Real-ESRGAN) "
                                 "and SRVGGNetCompact (Real-ESRGAN compact)")
        if (model.num_in_ch, model.num_out_ch) != (3, 3):
            raise ModelLoadError(f"a {model.num_in_ch} -> {model.num_out_ch} channel model; "
                                 "upscaling needs RGB (3 -> 3)")
    except ModelLoadError as e:
        raise ModelLoadError(f"{os.fspath(path)!r}: {e}") from None
    return model, scale
