"""ESRGAN / Real-ESRGAN's RRDBNet, built and loaded in our code (spandrel needs torchvision, absent here).

The architecture (Wang et al., ESRGAN 2018 and Real-ESRGAN 2021; BasicSR's ``RRDBNet``):
``conv_first`` -> ``body`` = ``num_block`` RRDBs, each three ResidualDenseBlocks ``rdb1..rdb3``
(``conv1..conv5``, dense concatenation, LeakyReLU 0.2, residual scaled by 0.2), the RRDB itself
residual-scaled by 0.2 -> ``conv_body`` added to the trunk's input -> per x2 step a nearest
upsample and ``conv_up<k>`` + LeakyReLU -> ``conv_hr`` + LeakyReLU -> ``conv_last``. Real-ESRGAN's
x2 and x1 models pixel-unshuffle the input by 2 or 4 first (so ``conv_first`` takes 4x or 16x the
channels); the two x2 steps bring it back to x2 / x1.

The module keeps the released files' state-dict key names (``conv_first.weight``,
``body.0.rdb1.conv1.weight``, ``conv_body``, ``conv_up1``, ``conv_up2``, ``conv_hr``,
``conv_last``) so RealESRGAN_x4plus, RealESRGAN_x4plus_anime_6B, RealESRGAN_x2plus, RealESRNet and
BasicSR's ESRGAN load unchanged. The older layouts (original ESRGAN ``model.0`` /
``model.1.sub.N.RDB1.conv1.0`` ...; BSRGAN/RealSR ``RRDB_trunk`` / ``trunk_conv`` / ``upconv1`` /
``HRconv``) are renamed to it first. All hyper-parameters come from the tensor shapes.

torch is imported inside functions only (DESIGN.md fixed point 1).
"""

from __future__ import annotations

import functools
import re
from typing import Any

from .srvgg import ModelLoadError

_BODY = re.compile(r"body\.(\d+)\.rdb[123]\.conv[1-5]\.(?:weight|bias)")
_UP = re.compile(r"conv_up(\d+)\.weight")


@functools.cache
def _classes() -> dict[str, Any]:
    import torch
    from torch import nn
    from torch.nn import functional as F

    class ResidualDenseBlock(nn.Module):
        def __init__(self, num_feat: int, num_grow_ch: int) -> None:
            super().__init__()
            g = num_grow_ch
            self.conv1 = nn.Conv2d(num_feat, g, 3, 1, 1)
            self.conv2 = nn.Conv2d(num_feat + g, g, 3, 1, 1)
            self.conv3 = nn.Conv2d(num_feat + 2 * g, g, 3, 1, 1)
            self.conv4 = nn.Conv2d(num_feat + 3 * g, g, 3, 1, 1)
            self.conv5 = nn.Conv2d(num_feat + 4 * g, num_feat, 3, 1, 1)
            self.lrelu = nn.LeakyReLU(0.2, inplace=True)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            x1 = self.lrelu(self.conv1(x))
            x2 = self.lrelu(self.conv2(torch.cat((x, x1), 1)))
            x3 = self.lrelu(self.conv3(torch.cat((x, x1, x2), 1)))
            x4 = self.lrelu(self.conv4(torch.cat((x, x1, x2, x3), 1)))
            x5 = self.conv5(torch.cat((x, x1, x2, x3, x4), 1))
            return x5 * 0.2 + x

    class RRDB(nn.Module):
        def __init__(self, num_feat: int, num_grow_ch: int) -> None:
            super().__init__()
            self.rdb1 = ResidualDenseBlock(num_feat, num_grow_ch)
            self.rdb2 = ResidualDenseBlock(num_feat, num_grow_ch)
            self.rdb3 = ResidualDenseBlock(num_feat, num_grow_ch)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.rdb3(self.rdb2(self.rdb1(x))) * 0.2 + x

    class RRDBNet(nn.Module):
        """``scale`` is the output/input size ratio; ``num_upsample`` the number of x2 steps (2 in
        every released Real-ESRGAN model); the input is pixel-unshuffled by ``2**num_upsample / scale``."""

        def __init__(self, num_in_ch: int = 3, num_out_ch: int = 3, scale: int = 4, num_feat: int = 64,
                     num_block: int = 23, num_grow_ch: int = 32, num_upsample: int = 2) -> None:
            super().__init__()
            if scale < 1 or (2 ** num_upsample) % scale:
                raise ValueError(f"scale {scale} does not divide 2**{num_upsample}")
            self.num_in_ch, self.num_out_ch, self.scale = num_in_ch, num_out_ch, scale
            self.num_feat, self.num_block, self.num_grow_ch = num_feat, num_block, num_grow_ch
            self.num_upsample = num_upsample
            self.shuffle = 2 ** num_upsample // scale
            #: Tiles should start on multiples of this, so the unshuffle grid matches a whole-frame run.
            self.pad_multiple = self.shuffle
            self.conv_first = nn.Conv2d(num_in_ch * self.shuffle ** 2, num_feat, 3, 1, 1)
            self.body = nn.Sequential(*(RRDB(num_feat, num_grow_ch) for _ in range(num_block)))
            self.conv_body = nn.Conv2d(num_feat, num_feat, 3, 1, 1)
            for k in range(1, num_upsample + 1):  # attributes, not a list: the released key names
                setattr(self, f"conv_up{k}", nn.Conv2d(num_feat, num_feat, 3, 1, 1))
            self.conv_hr = nn.Conv2d(num_feat, num_feat, 3, 1, 1)
            self.conv_last = nn.Conv2d(num_feat, num_out_ch, 3, 1, 1)
            self.lrelu = nn.LeakyReLU(0.2, inplace=True)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            h, w = x.shape[-2:]
            s = self.shuffle
            ph, pw = (-h) % s, (-w) % s
            if ph or pw:  # any size in: pad to the unshuffle grid as Real-ESRGAN's inference does, crop after
                x = F.pad(x, (0, pw, 0, ph), mode="reflect" if h > ph and w > pw else "replicate")
            feat = F.pixel_unshuffle(x, s) if s > 1 else x
            feat = self.conv_first(feat)
            feat = feat + self.conv_body(self.body(feat))
            for k in range(1, self.num_upsample + 1):
                conv = getattr(self, f"conv_up{k}")
                feat = self.lrelu(conv(F.interpolate(feat, scale_factor=2, mode="nearest")))
            out = self.conv_last(self.lrelu(self.conv_hr(feat)))
            if ph or pw:
                out = out[..., :h * self.scale, :w * self.scale]
            return out

    return {"RRDBNet": RRDBNet}


def build_rrdb(*, num_in_ch: int = 3, num_out_ch: int = 3, scale: int = 4, num_feat: int = 64, num_block: int = 23,
               num_grow_ch: int = 32, num_upsample: int = 2):
    """A fresh RRDBNet (random weights); the defaults are RealESRGAN_x4plus's."""
    return _classes()["RRDBNet"](num_in_ch, num_out_ch, scale, num_feat, num_block, num_grow_ch, num_upsample)


def is_rrdb(sd: dict[str, Any]) -> bool:
    """Whether ``sd``'s keys are an RRDBNet's, in any of the layouts ``rrdb_from_state_dict`` reads."""
    new = "conv_first.weight" in sd and ("body.0.rdb1.conv1.weight" in sd or "RRDB_trunk.0.RDB1.conv1.weight" in sd)
    return new or ("model.0.weight" in sd and "model.1.sub.0.RDB1.conv1.0.weight" in sd)


def _from_old_esrgan(sd: dict[str, Any]) -> dict[str, Any]:
    """The original ESRGAN layout (a flat ``model`` Sequential) renamed to BasicSR's."""
    out: dict[str, Any] = {}
    blocks: set[int] = set()
    tail: dict[int, dict[str, Any]] = {}
    for k, v in sd.items():
        if m := re.fullmatch(r"model\.1\.sub\.(\d+)\.RDB([123])\.conv([1-5])\.0\.(weight|bias)", k):
            blocks.add(int(m.group(1)))
            out[f"body.{m.group(1)}.rdb{m.group(2)}.conv{m.group(3)}.{m.group(4)}"] = v
        elif m := re.fullmatch(r"model\.0\.(weight|bias)", k):
            out[f"conv_first.{m.group(1)}"] = v
        elif m := re.fullmatch(r"model\.(\d+)\.(weight|bias)", k):
            tail.setdefault(int(m.group(1)), {})[m.group(2)] = v
        elif not re.fullmatch(r"model\.1\.sub\.\d+\.(weight|bias)", k):
            raise ModelLoadError(f"unexpected key {k!r} in an ESRGAN (old layout) state dict")
    nb = max(blocks) + 1
    for kind in ("weight", "bias"):
        if (key := f"model.1.sub.{nb}.{kind}") in sd:
            out[f"conv_body.{kind}"] = sd[key]
    # After the trunk: (upsample, conv, act) per x2 step at 3, 6, ..., then conv_hr at +2, act, conv_last at +4.
    idx = sorted(tail)
    n_up = len(idx) - 2
    if n_up < 0 or idx != [3 * k for k in range(1, n_up + 1)] + [3 * n_up + 2, 3 * n_up + 4]:
        raise ModelLoadError(f"ESRGAN (old layout) with layers model.{idx}: not the upsample/hr/last pattern")
    names = [f"conv_up{k}" for k in range(1, n_up + 1)] + ["conv_hr", "conv_last"]
    for i, name in zip(idx, names, strict=True):
        for kind, v in tail[i].items():
            out[f"{name}.{kind}"] = v
    return out


def _from_bsrgan(sd: dict[str, Any]) -> dict[str, Any]:
    """BSRGAN / RealSR's names (``RRDB_trunk``, ``trunk_conv``, ``upconv<k>``, ``HRconv``) renamed to BasicSR's."""
    out = {}
    for k, v in sd.items():
        k = re.sub(r"^RRDB_trunk\.(\d+)\.RDB([123])\.", r"body.\1.rdb\2.", k)
        k = re.sub(r"^trunk_conv\.", "conv_body.", k)
        k = re.sub(r"^upconv(\d+)\.", r"conv_up\1.", k)
        k = re.sub(r"^HRconv\.", "conv_hr.", k)
        out[k] = v
    return out


def rrdb_from_state_dict(sd: dict[str, Any]):
    """An RRDBNet whose hyper-parameters are inferred from ``sd``'s shapes, with ``sd`` loaded (eval mode)."""
    if "model.0.weight" in sd and "model.1.sub.0.RDB1.conv1.0.weight" in sd:
        sd = _from_old_esrgan(sd)
    elif "RRDB_trunk.0.RDB1.conv1.weight" in sd:
        sd = _from_bsrgan(sd)
    for key in ("conv_first.weight", "body.0.rdb1.conv1.weight", "conv_body.weight", "conv_hr.weight",
                "conv_last.weight"):
        if key not in sd:
            raise ModelLoadError(f"not an RRDBNet state dict (no {key})")
    first, last = sd["conv_first.weight"], sd["conv_last.weight"]
    num_feat, in_ch, out_ch = int(first.shape[0]), int(first.shape[1]), int(last.shape[0])
    num_block = max(int(m.group(1)) for k in sd if (m := _BODY.fullmatch(k))) + 1
    num_grow_ch = int(sd["body.0.rdb1.conv1.weight"].shape[0])
    ups = sorted(int(m.group(1)) for k in sd if (m := _UP.fullmatch(k)))
    if ups != list(range(1, len(ups) + 1)):
        raise ModelLoadError(f"upsampling convs conv_up{ups} are not numbered 1..n")
    num_upsample = len(ups)
    # Real-ESRGAN x2 / x1: the input was pixel-unshuffled by 2 / 4 (4x / 16x the channels of the output).
    shuffle = 4 if in_ch == 16 * out_ch else 2 if in_ch == 4 * out_ch else 1
    num_in = in_ch // shuffle ** 2
    if (2 ** num_upsample) % shuffle or 2 ** num_upsample < shuffle:
        raise ModelLoadError(f"{num_upsample} x2 step(s) after a pixel-unshuffle by {shuffle}: not an upscaler")
    scale = 2 ** num_upsample // shuffle
    model = build_rrdb(num_in_ch=num_in, num_out_ch=out_ch, scale=scale, num_feat=num_feat, num_block=num_block,
                       num_grow_ch=num_grow_ch, num_upsample=num_upsample)
    try:
        model.load_state_dict(sd, strict=True)
    except RuntimeError as e:
        lines = [ln.strip() for ln in str(e).splitlines() if ln.strip()]
        raise ModelLoadError(f"weights do not fit RRDBNet ({num_feat} feat, {num_block} blocks, "
                             f"{num_grow_ch} grow, x{scale}): {(' '.join(lines[1:2]) or lines[0])[:200]}") from None
    return model.eval()
