"""The model catalogue: models known by name (``resources/models/catalogue.json``).

Mostly video models; the foley models (text-to-audio pipelines, CLIP for event labels) live in
the same file so ``studio models`` lists, pulls and verifies them too. Their entries need no
size, frame rate or frame rule (``is_video`` is false); CLIP is a transformers folder
(``config.json``) rather than a diffusers one (``layout``).

``load_catalogue()`` reads and validates the data (a bad file raises one ``CatalogueError``
naming the field), ``get_model(id)`` finds an entry (``UnknownModel`` lists close ids),
``frames_for_seconds`` / ``snap_size`` snap a request to a model's frame and size rules.

Nothing heavy is imported here: the catalogue is plain data.
"""

from __future__ import annotations

import difflib
import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from studio.core.errors import StudioError

from .memory import GB, MemoryPlan

FAMILIES = ("cogvideox", "wan", "ltx", "audioldm2", "stable-audio", "clip")
VIDEO_TASKS = ("text-to-video", "image-to-video")
TASKS = (*VIDEO_TASKS, "text-to-audio", "zero-shot-image-classification")

#: diffusers pipeline class -> (family, task)
PIPELINES: dict[str, tuple[str, str]] = {
    "CogVideoXPipeline": ("cogvideox", "text-to-video"),
    "CogVideoXImageToVideoPipeline": ("cogvideox", "image-to-video"),
    "WanPipeline": ("wan", "text-to-video"),
    "WanImageToVideoPipeline": ("wan", "image-to-video"),
    "LTXPipeline": ("ltx", "text-to-video"),
    "LTXImageToVideoPipeline": ("ltx", "image-to-video"),
    # foley (studio.ai.foley): sounds from text, labels for events
    "AudioLDM2Pipeline": ("audioldm2", "text-to-audio"),
    "StableAudioPipeline": ("stable-audio", "text-to-audio"),
    "CLIPModel": ("clip", "zero-shot-image-classification"),
}
#: model classes stored as a transformers folder (config.json + weights) instead of a diffusers one
TRANSFORMERS_PIPELINES = ("CLIPModel",)

CATALOGUE_VERSION = 1


class CatalogueError(StudioError):
    """The catalogue file (or a model folder's configs) is not valid; the message names the field."""


class UnknownModel(StudioError, KeyError):
    """No catalogue entry has this id; the message lists close ids."""

    def __init__(self, model_id: str, close: list[str], known: list[str]) -> None:
        self.model_id, self.close, self.known = model_id, close, known
        hint = f"; did you mean {', '.join(close)}?" if close else f"; known models: {', '.join(known)}"
        super().__init__(f"unknown model {model_id!r}{hint} (see studio models list)")

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


@dataclass(frozen=True)
class Licence:
    name: str
    url: str
    verified: bool = True
    note: str = ""


@dataclass(frozen=True)
class FrameRule:
    """Valid frame counts are ``step * N + offset`` for N >= 1, up to ``max``."""

    step: int
    offset: int
    default: int
    max: int

    def valid(self, frames: int) -> bool:
        return frames >= self.step + self.offset and (frames - self.offset) % self.step == 0 and frames <= self.max

    def __str__(self) -> str:
        return f"{self.step}N+{self.offset}"


#: the frame rule of an entry that makes no video (audio and label models: size 0x0, fps 1), so
#: frame arithmetic on any entry stays defined
NO_FRAMES = FrameRule(1, 0, 1, 1)


@dataclass(frozen=True)
class ModelEntry:
    id: str
    name: str
    family: str
    task: str
    pipeline: str
    repo: str | None
    revision: str
    width: int
    height: int
    fps: int
    frames: FrameRule
    size_multiple: int = 16
    fixed_size: bool = False
    sizes: tuple[tuple[int, int], ...] = ()
    steps: int = 50
    guidance: float = 6.0
    scheduler: str = ""
    licence: Licence | None = None
    size_gb: float | None = None
    size_verified: bool = False
    revision_pinned: bool = False
    aliases: tuple[str, ...] = ()
    #: approximate peak GPU memory in GB per memory plan value (none / model_cpu_offload / ...)
    memory_gb: tuple[tuple[str, float], ...] = ()
    notes: str = ""
    #: where an entry derived from a folder (``entry_from_folder``) came from; None for catalogue entries
    path: Path | None = field(default=None, compare=False)

    @property
    def is_video(self) -> bool:
        return self.task in VIDEO_TASKS

    @property
    def layout(self) -> str:
        """"diffusers" (model_index.json) or "transformers" (config.json)."""
        return "transformers" if self.pipeline in TRANSFORMERS_PIPELINES else "diffusers"

    @property
    def repos(self) -> tuple[str, ...]:
        """The Hugging Face repo and its older names."""
        return ((self.repo,) if self.repo else ()) + self.aliases

    def memory_bytes(self) -> dict[MemoryPlan, int]:
        """``memory_gb`` in the form ``memory.plan_for`` takes."""
        return {MemoryPlan(k): int(v * GB) for k, v in self.memory_gb}

    def describe_frames(self, seconds: float) -> str:
        frames, actual = frames_for_seconds(self, seconds)
        return f"{actual:.2f} s = {frames} frames at {self.fps} fps"


# --------------------------------------------------------------------------- snapping


def frames_for_seconds(entry: ModelEntry, seconds: float) -> tuple[int, float]:
    """The valid frame count nearest to ``seconds`` and its exact length in seconds.

    CogVideoX 1.5 (16N+1 at 16 fps): 5 s -> (81, 5.0625). Clamped to the rule's range.
    """
    if not math.isfinite(seconds) or seconds <= 0:
        raise StudioError(f"a clip length must be a positive number of seconds, not {seconds!r}")
    rule = entry.frames
    n = round((seconds * entry.fps - rule.offset) / rule.step)
    n_max = (rule.max - rule.offset) // rule.step
    n = max(1, min(n, n_max))
    frames = rule.step * n + rule.offset
    return frames, frames / entry.fps


def snap_size(entry: ModelEntry, width: int, height: int) -> tuple[int, int]:
    """The nearest size the model accepts: its native size when it has only one, else each side
    rounded to the model's multiple (at least one multiple)."""
    if entry.fixed_size:
        return entry.width, entry.height
    m = entry.size_multiple

    def snap(v: int) -> int:
        return max(m, int(math.floor(v / m + 0.5)) * m)

    return snap(width), snap(height)


# --------------------------------------------------------------------------- loading


def catalogue_path() -> Path:
    """$SHOTLINE_RESOURCES/models/catalogue.json, else the one beside the ``studio`` package."""
    env = os.environ.get("SHOTLINE_RESOURCES")
    if env:
        return Path(env) / "models" / "catalogue.json"
    import studio

    return Path(studio.__file__).resolve().parent.parent / "resources" / "models" / "catalogue.json"


class _Fields:
    """Typed access to one JSON object; every failure names ``where.field``."""

    def __init__(self, data: Any, where: str) -> None:
        if not isinstance(data, Mapping):
            raise CatalogueError(f"{where}: expected an object, got {type(data).__name__}")
        self.data, self.where = data, where

    def _fail(self, key: str, what: str) -> CatalogueError:
        value = self.data.get(key, None)
        got = "missing" if key not in self.data else f"got {value!r}"
        return CatalogueError(f"{self.where}.{key}: expected {what}, {got}")

    def text(self, key: str, *, choices: tuple[str, ...] | None = None, default: Any = ...) -> Any:
        if key not in self.data and default is not ...:
            return default
        v = self.data.get(key)
        if not isinstance(v, str) or not v.strip():
            raise self._fail(key, "a non-empty string")
        if choices is not None and v not in choices:
            raise self._fail(key, f"one of {', '.join(choices)}")
        return v

    def integer(self, key: str, *, minimum: int = 1, default: Any = ...) -> Any:
        if key not in self.data and default is not ...:
            return default
        v = self.data.get(key)
        if isinstance(v, bool) or not isinstance(v, int) or v < minimum:
            raise self._fail(key, f"an integer >= {minimum}")
        return v

    def number(self, key: str, *, default: Any = ..., positive: bool = True) -> Any:
        if key not in self.data and default is not ...:
            return default
        v = self.data.get(key)
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) or (positive and v <= 0):
            raise self._fail(key, "a positive number" if positive else "a number")
        return float(v)

    def flag(self, key: str, default: bool) -> bool:
        v = self.data.get(key, default)
        if not isinstance(v, bool):
            raise self._fail(key, "true or false")
        return v

    def obj(self, key: str) -> _Fields:
        if not isinstance(self.data.get(key), Mapping):
            raise self._fail(key, "an object")
        return _Fields(self.data[key], f"{self.where}.{key}")


def _frame_rule(f: _Fields) -> FrameRule:
    step, offset = f.integer("step"), f.integer("offset", minimum=0)
    rule = FrameRule(step, offset, f.integer("default"), f.integer("max"))
    for key in ("default", "max"):
        value = getattr(rule, key)
        if value < step + offset or (value - offset) % step:
            raise f._fail(key, f"a frame count of the form {step}N+{offset}")
    if rule.default > rule.max:
        raise f._fail("default", f"at most max ({rule.max})")
    return rule


def entry_from_dict(data: Any, where: str = "model") -> ModelEntry:
    """Validate one catalogue entry (raises ``CatalogueError`` naming the field)."""
    f = _Fields(data, where)
    model_id = f.text("id")
    f.where = f"{where} ({model_id})"
    pipeline = f.text("pipeline", choices=tuple(PIPELINES))
    family = f.text("family", choices=FAMILIES)
    task = f.text("task", choices=TASKS)
    if PIPELINES[pipeline][0] != family:
        same = ", ".join(p for p, v in PIPELINES.items() if v[0] == family)
        raise f._fail("pipeline", f"a {family} pipeline ({same})")
    repo = f.text("repo")
    if repo.count("/") != 1:
        raise f._fail("repo", "a Hugging Face repo id 'org/name'")
    lic = f.obj("licence")
    licence = Licence(lic.text("name"), lic.text("url"), lic.flag("verified", True), lic.text("note", default=""))
    aliases = data.get("aliases", [])
    if not isinstance(aliases, list) or not all(isinstance(a, str) and a.count("/") == 1 for a in aliases):
        raise f._fail("aliases", "a list of repo ids 'org/name'")
    sizes_raw = data.get("sizes", [])
    if not isinstance(sizes_raw, list) or not all(
        isinstance(s, list) and len(s) == 2 and all(isinstance(v, int) and v > 0 for v in s) for s in sizes_raw
    ):
        raise f._fail("sizes", "a list of [width, height] pairs")
    mem = f.obj("memory_gb")
    memory = tuple((plan.value, mem.number(plan.value)) for plan in MemoryPlan)
    multiple = f.integer("size_multiple", default=16)
    video = task in VIDEO_TASKS  # audio and label models have no size, frame rate or frame rule
    width, height = f.integer("width", default=... if video else 0), f.integer("height", default=... if video else 0)
    for key, value in (("width", width), ("height", height)):
        if value % multiple:
            raise f._fail(key, f"a multiple of size_multiple ({multiple})")
    diffusion = pipeline not in TRANSFORMERS_PIPELINES  # CLIP has no steps, guidance or scheduler
    return ModelEntry(
        id=model_id, name=f.text("name", default=model_id), family=family, task=task, pipeline=pipeline,
        repo=repo, revision=f.text("revision"), revision_pinned=f.flag("revision_pinned", False),
        width=width, height=height, fps=f.integer("fps", default=... if video else 1),
        frames=_frame_rule(f.obj("frames")) if video or "frames" in data else NO_FRAMES,
        size_multiple=multiple, fixed_size=f.flag("fixed_size", False),
        sizes=tuple((w, h) for w, h in sizes_raw), steps=f.integer("steps", default=... if diffusion else 1),
        guidance=f.number("guidance", default=... if diffusion else 1.0),
        scheduler=f.text("scheduler", default=... if diffusion else "none"), licence=licence,
        size_gb=f.number("size_gb"),
        size_verified=f.flag("size_verified", False), aliases=tuple(aliases), memory_gb=memory,
        notes=f.text("notes", default=""),
    )


def parse_catalogue(data: Any, source: str = "catalogue") -> dict[str, ModelEntry]:
    """Validate a whole catalogue document; ids are unique (case-insensitively)."""
    top = _Fields(data, source)
    if data.get("version") != CATALOGUE_VERSION:
        raise top._fail("version", f"{CATALOGUE_VERSION}")
    models = data.get("models")
    if not isinstance(models, list) or not models:
        raise top._fail("models", "a non-empty list")
    out: dict[str, ModelEntry] = {}
    for i, item in enumerate(models):
        entry = entry_from_dict(item, f"{source}: models[{i}]")
        if entry.id.lower() in {k.lower() for k in out}:
            raise CatalogueError(f"{source}: models[{i}].id: {entry.id!r} is used twice")
        out[entry.id] = entry
    return out


@lru_cache(maxsize=8)
def _load(path: str, mtime_ns: int) -> dict[str, ModelEntry]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as e:
        raise CatalogueError(f"model catalogue {path}: {e.strerror or e}") from None
    except ValueError as e:
        raise CatalogueError(f"model catalogue {path}: not valid JSON ({e})") from None
    return parse_catalogue(data, f"model catalogue {path}")


def load_catalogue(path: str | os.PathLike[str] | None = None) -> dict[str, ModelEntry]:
    """id -> ModelEntry, in file order (cached until the file changes)."""
    p = Path(path) if path is not None else catalogue_path()
    try:
        mtime = p.stat().st_mtime_ns
    except OSError as e:
        raise CatalogueError(f"model catalogue {p}: {e.strerror or e}") from None
    return dict(_load(str(p), mtime))


def get_model(model_id: str, catalogue: Mapping[str, ModelEntry] | None = None) -> ModelEntry:
    """The entry for ``model_id`` (case-insensitive; a repo id such as ``Wan-AI/...`` also works)."""
    cat = load_catalogue() if catalogue is None else catalogue
    wanted = model_id.strip().lower()
    for entry in cat.values():
        if entry.id.lower() == wanted:
            return entry
    for entry in cat.values():  # by repo: the first entry (the text-to-video one when two share a repo)
        if wanted in (r.lower() for r in entry.repos):
            return entry
    ids = list(cat)
    lowered = {i.lower(): i for i in ids}
    close = [lowered[c] for c in difflib.get_close_matches(wanted, list(lowered), n=3, cutoff=0.5)]
    if not close:
        close = [i for i in ids if wanted and (wanted in i.lower() or i.lower() in wanted)][:3]
    raise UnknownModel(model_id, close, ids)
