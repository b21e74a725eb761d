"""What a diffusers video folder is: its pipeline class (model_index.json ``_class_name``), the
family, and the family's shape rules (frames, size multiple, rate), read from the configs alone.
No torch here."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path
from typing import Any

from .base import Capabilities, FrameRule, GenerateError

#: The pipeline classes we load: class name -> (family, image-to-video).
PIPELINES = {
    "CogVideoXPipeline": ("cogvideox", False),
    "CogVideoXImageToVideoPipeline": ("cogvideox", True),
    "WanPipeline": ("wan", False),
    "WanImageToVideoPipeline": ("wan", True),
    "LTXPipeline": ("ltx", False),
    "LTXImageToVideoPipeline": ("ltx", True),
}
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".gguf")


def _json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as e:
        raise GenerateError(f"{path}: unreadable ({e})") from None
    return data if isinstance(data, dict) else {}


def pipeline_class(folder: str | Path) -> str:
    """The folder's pipeline class name; GenerateError when it is not a supported video pipeline."""
    folder = Path(folder)
    if not folder.is_dir():
        raise GenerateError(f"model folder {str(folder)!r} does not exist")
    index = folder / "model_index.json"
    if not index.is_file():
        raise GenerateError(f"{str(folder)!r} is not a diffusers model folder (no model_index.json)")
    name = _json(index).get("_class_name")
    if name not in PIPELINES:
        raise GenerateError(f"{str(folder)!r} holds a {name or 'unknown'} pipeline; supported: "
                            f"{', '.join(PIPELINES)}")
    return str(name)


def check_safetensors(folder: str | Path) -> None:
    """Every component with weights must have them as .safetensors (pickled weights can run code)."""
    folder = Path(folder)
    for sub in sorted(p for p in folder.iterdir() if p.is_dir()):
        files = [f.name for f in sub.iterdir() if f.is_file() and f.name.endswith(WEIGHT_SUFFIXES)]
        if files and not any(f.endswith(".safetensors") for f in files):
            raise GenerateError(f"{str(sub)!r} has only {files[0]}-style pickled weights; Shotline loads "
                                "safetensors only (convert the model or pull a safetensors revision)")


def capabilities_of(folder: str | Path) -> Capabilities:
    """Capabilities of the diffusers folder, derived from its family and configs."""
    folder = Path(folder)
    name = pipeline_class(folder)
    family, i2v = PIPELINES[name]
    transformer = _json(folder / "transformer" / "config.json")
    vae = _json(folder / "vae" / "config.json")
    if family == "cogvideox":
        v15 = transformer.get("patch_size_t") is not None
        spatial = 2 ** (len(vae.get("block_out_channels", (0,) * 4)) - 1)
        multiple = spatial * int(transformer.get("patch_size", 2))
        if v15:
            return Capabilities("cogvideox", not i2v, i2v, FrameRule(16, 1), Fraction(16), (1360, 768), 81, multiple)
        return Capabilities("cogvideox", not i2v, i2v, FrameRule(8, 1), Fraction(8), (720, 480), 49, multiple)
    if family == "wan":
        spatial = 2 ** len(vae.get("temperal_downsample", (0, 0, 0)))
        patch = transformer.get("patch_size", (1, 2, 2))
        return Capabilities("wan", not i2v, i2v, FrameRule(4, 1), Fraction(16), (832, 480), 81,
                            spatial * int(patch[-1]))
    spatial = int(vae.get("spatial_compression_ratio") or 32) * int(transformer.get("patch_size") or 1)
    return Capabilities("ltx", not i2v, i2v, FrameRule(8, 1), Fraction(24), (704, 480), 121, spatial)
