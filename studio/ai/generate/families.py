"""What a diffusers video folder is: its pipeline class (model_index.json ``_class_name``), the
family, and the family's shape rules (frames, size multiple, rate), read from the configs alone.
``inspect_folder`` reads a folder once per (path, modification times), so repeated generations with
one model cost a dozen stat calls instead of config reads and a walk over its weights. No torch here."""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass, field
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


@dataclass(frozen=True)
class FolderInfo:
    """What one look at a diffusers folder tells: pipeline class, capabilities, whether its weights are
    safetensors (the error to raise, or None) and the safetensors bytes per component folder."""

    path: Path  # resolved
    class_name: str
    capabilities: Capabilities
    unsafe: str | None
    component_bytes: tuple[tuple[str, int], ...]
    configs: tuple[dict[str, Any], dict[str, Any]] = field(default=({}, {}), compare=False, repr=False)

    def capabilities_as(self, class_name: str) -> Capabilities:
        """Capabilities when the folder is loaded as ``class_name`` (a pipeline of the same family)."""
        if not class_name or class_name == self.class_name:
            return self.capabilities
        if class_name not in PIPELINES or PIPELINES[class_name][0] != PIPELINES[self.class_name][0]:
            same = [n for n, (f, _) in PIPELINES.items() if f == PIPELINES[self.class_name][0]]
            raise GenerateError(f"{self.path.name} holds a {self.class_name}; it cannot be loaded as {class_name} "
                                f"(only as {' or '.join(same)})")
        return _capabilities_from(class_name, *self.configs)


_MAX_CACHED = 32
_infos: dict[tuple[str, tuple[int, ...]], FolderInfo] = {}
_infos_lock = threading.Lock()


def _signature(folder: Path) -> tuple[int, ...]:
    """Modification times that change when the folder's files or configs change (a dozen stat calls:
    adding, removing or renaming a file changes its folder's mtime; configs are stat'ed themselves)."""
    stamps = [folder.stat().st_mtime_ns]
    with os.scandir(folder) as entries:
        for e in sorted(entries, key=lambda e: e.name):
            if e.name.startswith("."):
                continue
            st = e.stat()
            stamps.append(st.st_mtime_ns)
            if e.is_dir():
                for name in ("config.json", "scheduler_config.json"):
                    try:
                        stamps.append(os.stat(os.path.join(e.path, name)).st_mtime_ns)
                    except OSError:
                        stamps.append(0)
    return tuple(stamps)


def inspect_folder(folder: str | Path) -> FolderInfo:
    """``FolderInfo`` for a diffusers folder, read once per (path, modification times): repeated
    generations with the same model do not re-read its configs or walk its weights.
    GenerateError when the folder is missing or not a supported video pipeline."""
    folder = Path(folder)
    if not folder.is_dir():
        raise GenerateError(f"model folder {str(folder)!r} does not exist")
    real = folder.resolve()
    key = (str(real), _signature(real))
    with _infos_lock:
        info = _infos.get(key)
    if info is not None:
        return info
    name = _pipeline_class(real, shown=folder)
    configs = _json(real / "transformer" / "config.json"), _json(real / "vae" / "config.json")
    info = FolderInfo(real, name, _capabilities_from(name, *configs), _unsafe(real), _component_bytes(real), configs)
    with _infos_lock:
        for old in [k for k in _infos if k[0] == key[0]]:  # an older state of the same folder
            del _infos[old]
        if len(_infos) >= _MAX_CACHED:
            del _infos[next(iter(_infos))]
        _infos[key] = info
    return info


def _pipeline_class(folder: Path, shown: Path) -> str:
    index = folder / "model_index.json"
    if not index.is_file():
        raise GenerateError(f"{str(shown)!r} is not a diffusers model folder (no model_index.json)")
    name = _json(index).get("_class_name")
    if name not in PIPELINES:
        raise GenerateError(f"{str(shown)!r} holds a {name or 'unknown'} pipeline; supported: "
                            f"{', '.join(PIPELINES)}")
    return str(name)


def pipeline_class(folder: str | Path) -> str:
    """The folder's pipeline class name; GenerateError when it is not a supported video pipeline."""
    return inspect_folder(folder).class_name


def _unsafe(folder: Path) -> str | None:
    for sub in sorted(p for p in folder.iterdir() if p.is_dir()):
        files = [f.name for f in sub.iterdir() if f.is_file() and f.name.endswith(WEIGHT_SUFFIXES)]
        if files and not any(f.endswith(".safetensors") for f in files):
            return (f"{str(sub)!r} has only {files[0]}-style pickled weights; Shotline loads "
                    "safetensors only (convert the model or pull a safetensors revision)")
    return None


def check_safetensors(folder: str | Path) -> None:
    """Every component with weights must have them as .safetensors (pickled weights can run code)."""
    problem = inspect_folder(folder).unsafe
    if problem:
        raise GenerateError(problem)


def _component_bytes(folder: Path) -> tuple[tuple[str, int], ...]:
    return tuple((p.name, sum(f.stat().st_size for f in p.rglob("*.safetensors")))
                 for p in sorted(folder.iterdir()) if p.is_dir() and not p.name.startswith("."))


def capabilities_of(folder: str | Path) -> Capabilities:
    """Capabilities of the diffusers folder, derived from its family and configs."""
    return inspect_folder(folder).capabilities


def _capabilities_from(name: str, transformer: dict[str, Any], vae: dict[str, Any]) -> Capabilities:
    family, i2v = PIPELINES[name]
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
    # LTX-Video: the pipelines refuse sides that are not multiples of 32, whatever the VAE's own ratio.
    scaling = vae.get("spatio_temporal_scaling") or (True, True, True, False)
    spatial = vae.get("spatial_compression_ratio") or int(vae.get("patch_size") or 4) * 2 ** sum(map(bool, scaling))
    multiple = max(32, int(spatial) * int(transformer.get("patch_size") or 1))
    return Capabilities("ltx", not i2v, i2v, FrameRule(8, 1), Fraction(24), (768, 512), 121, multiple)
