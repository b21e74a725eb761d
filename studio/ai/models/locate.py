"""Finding model weights on this machine, and deriving an entry from any diffusers folder.

Places looked in, in order:

1. the app's models folder: ``$SHOTLINE_MODELS_DIR``, else
   ``platformdirs.user_data_dir("shotline-studio")/models``; ``studio models pull`` writes
   ``<models_dir>/<id>/`` there;
2. the Hugging Face cache (``$HF_HUB_CACHE``, else ``$HF_HOME/hub``, read at call time),
   the entry's repo and its older names, at the entry's revision (else the newest snapshot).

Any folder in the diffusers layout (``model_index.json`` naming a supported pipeline class)
can also be used directly: ``entry_from_folder(path)`` derives a ``ModelEntry`` from its
configs. Weights load only from safetensors: ``check_safetensors_only`` refuses a folder
whose weights are pickles (.bin / .pt / .ckpt) only.

Nothing here touches the network, and huggingface_hub is imported inside functions.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from studio.core.errors import StudioError

from .catalogue import PIPELINES, VIDEO_TASKS, CatalogueError, FrameRule, ModelEntry, get_model

APP_NAME = "shotline-studio"
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl")
WEIGHT_SUFFIXES = (".safetensors", *PICKLE_SUFFIXES)


class ModelNotInstalled(StudioError):
    """A catalogue model has no weights on this machine; the message gives the pull command."""

    def __init__(self, entry: ModelEntry) -> None:
        self.entry = entry
        super().__init__(f"model {entry.id!r} is not installed; get it with: studio models pull {entry.id}")


class UnsafeWeights(StudioError):
    """A model folder holds pickle weights (.bin/.pt/.ckpt) without safetensors."""


class NotAModelFolder(StudioError):
    """A path is not a diffusers folder of a supported video pipeline."""


@dataclass(frozen=True)
class Install:
    """One copy of a model's weights: ``where`` is "models-dir", "hf-cache" or "folder"."""

    where: str
    path: Path


# --------------------------------------------------------------------------- places


def _env_true(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def is_offline() -> bool:
    """HF_HUB_OFFLINE (or TRANSFORMERS_OFFLINE) is set, read at call time."""
    return _env_true("HF_HUB_OFFLINE") or _env_true("TRANSFORMERS_OFFLINE")


def models_dir() -> Path:
    """The app's models folder: $SHOTLINE_MODELS_DIR, else user_data_dir("shotline-studio")/models."""
    env = os.environ.get("SHOTLINE_MODELS_DIR")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME)) / "models"


def hf_cache_dir() -> Path:
    """The Hugging Face hub cache: $HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub."""
    env = os.environ.get("HF_HUB_CACHE") or os.environ.get("HUGGINGFACE_HUB_CACHE")
    if env:
        return Path(env).expanduser()
    home = os.environ.get("HF_HOME")
    if home:
        return Path(home).expanduser() / "hub"
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "huggingface" / "hub"


def app_folder(entry: ModelEntry) -> Path:
    """Where ``studio models pull`` puts an entry's files."""
    return models_dir() / entry.id


def hf_repo_folder(repo: str) -> Path:
    return hf_cache_dir() / ("models--" + repo.replace("/", "--"))


def is_diffusers_folder(path: str | os.PathLike[str]) -> bool:
    return (Path(path) / "model_index.json").is_file()


def marker_file(entry: ModelEntry) -> str:
    """The file that makes a folder a copy of ``entry``: model_index.json, or config.json for a
    transformers model (CLIP)."""
    return "config.json" if entry.layout == "transformers" else "model_index.json"


def _hf_snapshot(repo: str, revision: str, marker: str = "model_index.json") -> Path | None:
    from huggingface_hub import try_to_load_from_cache

    try:
        found = try_to_load_from_cache(repo, marker, cache_dir=hf_cache_dir(), revision=revision)
    except Exception:  # a malformed repo id or cache: not found
        found = None
    if isinstance(found, str):
        return Path(found).parent
    snapshots = hf_repo_folder(repo) / "snapshots"  # a revision with no ref: the newest complete snapshot
    if not snapshots.is_dir():
        return None
    candidates = [p for p in snapshots.iterdir() if (p / marker).is_file()]
    return max(candidates, key=lambda p: p.stat().st_mtime) if candidates else None


def find_installs(entry: ModelEntry) -> list[Install]:
    """Every copy of ``entry`` on this machine, in the order ``locate`` prefers them."""
    found: list[Install] = []
    marker = marker_file(entry)
    if entry.path is not None and (entry.path / marker).is_file():
        found.append(Install("folder", entry.path))
    if entry.repo is not None:
        own = app_folder(entry)
        if (own / marker).is_file():
            found.append(Install("models-dir", own))
        for repo in entry.repos:
            snap = _hf_snapshot(repo, entry.revision, marker)
            if snap is not None:
                found.append(Install("hf-cache", snap))
    return found


def locate(entry: ModelEntry) -> Path | None:
    """A local diffusers folder (with model_index.json) holding ``entry``'s weights, or None."""
    installs = find_installs(entry)
    return installs[0].path if installs else None


def require_local(entry: ModelEntry) -> Path:
    """``locate`` or ``ModelNotInstalled`` (its message has the exact pull command)."""
    path = locate(entry)
    if path is None:
        raise ModelNotInstalled(entry)
    return path


def resolve(model: str | None = None, model_path: str | os.PathLike[str] | None = None) -> tuple[ModelEntry, Path]:
    """``--model ID`` or ``--model-path DIR`` -> (entry, folder), safetensors checked."""
    if model_path is not None:
        entry = entry_from_folder(model_path)
        assert entry.path is not None
        return entry, entry.path
    if model is None:
        raise StudioError("name a model (--model ID) or a diffusers folder (--model-path DIR)")
    if Path(model).expanduser().is_dir():  # a folder given where an id was expected
        return resolve(model_path=model)
    entry = get_model(model)
    path = require_local(entry)
    check_safetensors_only(path)
    return entry, path


# --------------------------------------------------------------------------- safetensors only


def weight_files(folder: str | os.PathLike[str]) -> list[Path]:
    """Weight files under ``folder`` (relative paths), hub bookkeeping (.cache) skipped."""
    root = Path(folder)
    out = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for name in filenames:
            if name.endswith(WEIGHT_SUFFIXES):
                out.append((Path(dirpath) / name).relative_to(root))
    return sorted(out)


def unsafe_weight_files(folder: str | os.PathLike[str]) -> list[Path]:
    """Pickle weight files in a component folder that has no safetensors beside them."""
    files = weight_files(folder)
    safe_dirs = {f.parent for f in files if f.suffix == ".safetensors"}
    return [f for f in files if f.suffix != ".safetensors" and f.parent not in safe_dirs]


def is_safetensors_only(folder: str | os.PathLike[str]) -> bool:
    """True when every component's weights can be loaded from safetensors (and there are some)."""
    files = weight_files(folder)
    return any(f.suffix == ".safetensors" for f in files) and not unsafe_weight_files(folder)


def check_safetensors_only(folder: str | os.PathLike[str]) -> None:
    """Raise ``UnsafeWeights`` (one clear line) unless ``is_safetensors_only(folder)``."""
    bad = unsafe_weight_files(folder)
    if bad:
        names = ", ".join(str(b) for b in bad[:3]) + (f" and {len(bad) - 3} more" if len(bad) > 3 else "")
        raise UnsafeWeights(
            f"{folder}: weights only as pickle files ({names}); Shotline Studio loads safetensors only "
            "(convert them, or download the model's .safetensors files)")
    if not any(f.suffix == ".safetensors" for f in weight_files(folder)):
        raise UnsafeWeights(f"{folder}: no .safetensors weight files found")


# --------------------------------------------------------------------------- folders not in the catalogue

_FAMILY_DEFAULTS: dict[str, dict[str, Any]] = {
    "cogvideox": dict(width=720, height=480, fps=8, frames=FrameRule(8, 1, 49, 49), size_multiple=16,
                      steps=50, guidance=6.0),
    "wan": dict(width=832, height=480, fps=16, frames=FrameRule(4, 1, 81, 81), size_multiple=16,
                steps=50, guidance=5.0),
    "ltx": dict(width=768, height=512, fps=24, frames=FrameRule(8, 1, 121, 257), size_multiple=32,
                steps=50, guidance=3.0),
}


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as e:
        raise CatalogueError(f"{path}: not readable JSON ({e})") from None
    return data if isinstance(data, dict) else {}


def read_model_index(folder: str | os.PathLike[str]) -> dict[str, Any]:
    path = Path(folder) / "model_index.json"
    if not path.is_file():
        raise NotAModelFolder(f"{folder}: not a diffusers model folder (no model_index.json)")
    data = _read_json(path)
    if not isinstance(data.get("_class_name"), str):
        raise NotAModelFolder(f"{path}: _class_name is missing")
    return data


def _vae_scale(folder: Path) -> int:
    vae = _read_json(folder / "vae" / "config.json")
    blocks = vae.get("block_out_channels")
    if isinstance(blocks, list) and blocks:
        return 2 ** (len(blocks) - 1)
    return 8


def _derive(family: str, folder: Path) -> dict[str, Any]:
    d = dict(_FAMILY_DEFAULTS[family])
    tr = _read_json(folder / "transformer" / "config.json")
    if family == "cogvideox":
        if tr.get("patch_size_t"):  # CogVideoX 1.5
            d.update(width=1360, height=768, fps=16, frames=FrameRule(16, 1, 81, 161))
        else:
            scale = _vae_scale(folder)
            w, h = tr.get("sample_width"), tr.get("sample_height")
            if isinstance(w, int) and isinstance(h, int) and w > 0 and h > 0:
                d.update(width=w * scale, height=h * scale)
            n = tr.get("sample_frames")
            if isinstance(n, int) and n > 1:
                frames = (n - 1) * 4 + 1
                if (frames - 1) % 8 == 0:
                    d.update(frames=FrameRule(8, 1, frames, frames))
            d.update(fixed_size=True)
    elif family == "wan":
        vae = _read_json(folder / "vae" / "config.json")
        if vae.get("z_dim") == 48:  # Wan 2.2 TI2V 5B: 16x16 VAE, 24 fps, 720p
            d.update(width=1280, height=704, fps=24, frames=FrameRule(4, 1, 121, 121), size_multiple=32)
    return d


def entry_from_folder(path: str | os.PathLike[str]) -> ModelEntry:
    """A ``ModelEntry`` for any diffusers folder whose model_index.json names a supported pipeline
    (native size and frame rule from its configs where possible, else the family's defaults)."""
    folder = Path(path).expanduser().resolve()
    if not folder.is_dir():
        raise NotAModelFolder(f"{path}: no such folder")
    index = read_model_index(folder)
    cls = index["_class_name"]
    if cls not in PIPELINES or PIPELINES[cls][1] not in VIDEO_TASKS:
        video = [p for p, (_, task) in PIPELINES.items() if task in VIDEO_TASKS]
        raise NotAModelFolder(f"{path}: pipeline {cls!r} is not a supported video pipeline "
                              f"(supported: {', '.join(video)})")
    check_safetensors_only(folder)
    family, task = PIPELINES[cls]
    scheduler = _read_json(folder / "scheduler" / "scheduler_config.json").get("_class_name", "")
    return ModelEntry(
        id=folder.name, name=f"{folder.name} ({cls})", family=family, task=task, pipeline=cls, repo=None,
        revision="local", scheduler=scheduler if isinstance(scheduler, str) else "", path=folder,
        notes=f"derived from {folder}", **_derive(family, folder),
    )


def with_path(entry: ModelEntry, path: Path) -> ModelEntry:
    """``entry`` pinned to a folder (``locate`` then prefers it)."""
    return replace(entry, path=path)


# --------------------------------------------------------------------------- verifying a folder

#: what ``studio models pull`` downloads from each component folder (never pickles, never root checkpoints)
PULL_SUFFIXES = ("safetensors", "json", "txt", "model")


def pull_patterns(index: dict[str, Any] | None = None) -> list[str]:
    """allow_patterns for ``snapshot_download``: model_index.json, LICENSE, and per component folder
    (all folders when ``index`` is None) only safetensors, json, txt and tokenizer .model files."""
    folders = ["*"] if index is None else sorted(k for k, v in index.items() if not k.startswith("_")
                                                   and isinstance(v, list) and v and v[0] is not None)
    return ["model_index.json", "LICENSE*"] + [f"{d}/*.{s}" for d in folders for s in PULL_SUFFIXES]


def transformers_pull_patterns() -> list[str]:
    """allow_patterns for a transformers model folder (CLIP): configs, safetensors, tokenizer files."""
    return ["LICENSE*", *(f"*.{s}" for s in PULL_SUFFIXES)]


def _check_safetensors_file(path: Path) -> str | None:
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="numpy") as f:
            keys = list(f.keys())
    except Exception as e:  # safetensors raises its own SafetensorError and OSError
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        return f"unreadable safetensors header ({first})"
    return None if keys else "no tensors in the file"


def verify_folder(folder: str | os.PathLike[str], entry: ModelEntry | None = None) -> list[str]:
    """Problems with a diffusers folder (empty list: it looks complete): model_index.json readable and
    naming a pipeline of ``entry``'s family, every component folder present, every shard of a sharded
    checkpoint present, every safetensors header readable, no pickle-only weights."""
    root = Path(folder)
    problems: list[str] = []
    if entry is not None and entry.layout == "transformers":
        return _verify_transformers(root)
    try:
        index = read_model_index(root)
    except (NotAModelFolder, CatalogueError) as e:
        return [str(e)]
    cls = index["_class_name"]
    if cls not in PIPELINES:
        problems.append(f"model_index.json: pipeline {cls!r} is not a supported video pipeline")
    elif entry is not None and PIPELINES[cls][0] != entry.family:
        problems.append(f"model_index.json: pipeline {cls!r} is not a {entry.family} pipeline ({entry.id})")
    for name, spec in index.items():
        if name.startswith("_") or not isinstance(spec, list) or not spec or spec[0] is None:
            continue
        if not (root / name).is_dir():
            problems.append(f"{name}/: missing (named in model_index.json)")
    for shard_index in sorted(root.glob("*/*.safetensors.index.json")):
        weight_map = _read_json(shard_index).get("weight_map", {})
        for shard in sorted(set(weight_map.values()) if isinstance(weight_map, dict) else ()):
            if not (shard_index.parent / shard).is_file():
                problems.append(f"{shard_index.parent.name}/{shard}: missing (listed in {shard_index.name})")
    return problems + _weight_problems(root)


def _weight_problems(root: Path) -> list[str]:
    """Unreadable safetensors files, and any weights in another (pickle) format."""
    problems: list[str] = []
    for rel in weight_files(root):
        if rel.suffix == ".safetensors":
            problem = _check_safetensors_file(root / rel)
            if problem:
                problems.append(f"{rel}: {problem}")
    try:
        check_safetensors_only(root)
    except UnsafeWeights as e:
        problems.append(str(e))
    return problems


def _verify_transformers(root: Path) -> list[str]:
    """Problems with a transformers model folder: config.json readable, safetensors only and readable."""
    problems: list[str] = []
    if not (root / "config.json").is_file():
        return [f"{root}: config.json is missing (not a transformers model folder)"]
    try:
        _read_json(root / "config.json")
    except CatalogueError as e:
        problems.append(str(e))
    return problems + _weight_problems(root)
