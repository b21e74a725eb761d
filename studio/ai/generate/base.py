"""The generator interface: a request, what a backend can do, and the video it returns.

A backend is any object with ``name``, ``capabilities(request)`` and ``generate(request,
context) -> GeneratedVideo``. Backends are found as plugins of the entry-point group
``studio.generators`` (each entry point names a backend class or factory), with an in-tree
registry as the fallback, so ``studio generate`` works from a source checkout too.
No torch here: importing this module is free.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Protocol, runtime_checkable

from studio.core.errors import StudioError

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "studio.generators"
#: In-tree backends: name -> "module:attribute" (loaded on first use).
BUILTIN = {"diffusers": "studio.ai.generate.diffusers_backend:DiffusersVideoBackend"}


class GenerateError(StudioError):
    """Bad generation input or a model that cannot be used (one line for the user)."""


@dataclass(frozen=True)
class FrameRule:
    """Valid frame counts are ``step * N + offset`` (N >= 1), e.g. 8N+1 or 4N+1."""

    step: int
    offset: int = 1

    def snap(self, frames: int) -> int:
        """The valid count nearest ``frames`` (ties go up), at least ``step + offset``."""
        n = max(1, round((int(frames) - self.offset) / self.step + 1e-9))
        return n * self.step + self.offset

    def valid(self, frames: int) -> bool:
        return frames > self.offset and (frames - self.offset) % self.step == 0

    def __str__(self) -> str:
        return f"{self.step}N+{self.offset}"


@dataclass(frozen=True)
class Capabilities:
    """What one model behind a backend does, and the shapes it takes."""

    family: str  # "cogvideox", "wan", "ltx", ...
    text_to_video: bool = True
    image_to_video: bool = False
    frame_rule: FrameRule = FrameRule(8, 1)
    fps: Fraction = Fraction(16)
    default_size: tuple[int, int] = (720, 480)
    default_frames: int = 49
    size_multiple: int = 16
    max_frames: int | None = None
    negative_prompt: bool = True

    def check_size(self, width: int, height: int) -> None:
        m = self.size_multiple
        if width <= 0 or height <= 0 or width % m or height % m:
            raise GenerateError(f"size {width}x{height} does not suit {self.family}: width and height must be "
                                f"positive multiples of {m}")


@dataclass(frozen=True)
class GenerateRequest:
    """One generation. ``width``/``height``/``frames`` 0 mean the model's defaults."""

    prompt: str
    negative_prompt: str = ""
    seed: int = 0
    steps: int = 50
    guidance: float = 6.0
    width: int = 0
    height: int = 0
    frames: int = 0
    fps: Fraction | None = None  # None: the model's rate
    image: str | None = None  # source image for image-to-video
    model_id: str = ""  # catalogue id (or a label for a folder)
    model_path: str | None = None  # a local diffusers folder
    revision: str = ""
    device: str | None = None  # None: auto (CUDA, MPS, else CPU)
    #: the pipeline class to load the folder with ("": the one its model_index.json names); a catalogue
    #: entry sets it where one folder serves two tasks (LTX-Video image-to-video from the LTXPipeline folder)
    pipeline: str = ""
    extra: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)


@dataclass
class GeneratedVideo:
    """Frames as uint8 RGB ``(T, H, W, 3)`` at ``fps``, and how they were made."""

    frames: Any  # numpy.ndarray
    fps: Fraction
    request: GenerateRequest
    backend: str
    model_id: str = ""
    revision: str = ""
    seconds: float = 0.0

    @property
    def size(self) -> tuple[int, int]:
        return int(self.frames.shape[2]), int(self.frames.shape[1])

    @property
    def count(self) -> int:
        return int(self.frames.shape[0])


@runtime_checkable
class GeneratorBackend(Protocol):
    name: str

    def capabilities(self, request: GenerateRequest) -> Capabilities: ...

    def generate(self, request: GenerateRequest, context: Any) -> GeneratedVideo: ...


_registry: dict[str, Callable[[], GeneratorBackend]] = {}


def register_backend(name: str, factory: Callable[[], GeneratorBackend]) -> None:
    """Register a backend in-process (tests, embedding apps); wins over plugins of the same name."""
    _registry[name] = factory


def _load(spec: str) -> Any:
    import importlib

    module, _, attr = spec.partition(":")
    obj: Any = importlib.import_module(module)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


def _plugins() -> dict[str, Any]:
    from importlib.metadata import entry_points

    try:
        return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}
    except Exception as e:  # a broken installation must not take the command down
        log.warning("could not read %s entry points: %s", ENTRY_POINT_GROUP, e)
        return {}


def backend_names() -> list[str]:
    return sorted({*BUILTIN, *_plugins(), *_registry})


def get_backend(name: str = "diffusers") -> GeneratorBackend:
    """The backend called ``name``: registered, then a ``studio.generators`` plugin, then in-tree."""
    if name in _registry:
        return _registry[name]()
    plugins = _plugins()
    if name in plugins:
        try:
            return plugins[name].load()()
        except Exception as e:
            if name not in BUILTIN:
                raise GenerateError(f"generator plugin {name!r} failed to load: {e}") from e
            log.warning("generator plugin %r failed to load (%s); using the in-tree one", name, e)
    if name in BUILTIN:
        return _load(BUILTIN[name])()
    raise GenerateError(f"unknown generator backend {name!r} (available: {', '.join(backend_names())})")
