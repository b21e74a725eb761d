"""Memory plans for big pipelines, and surviving out-of-memory (DESIGN.md: jobs never take the editor down).

- ``plan_for`` picks the fastest offload plan that fits the free memory with a margin;
  ``apply_plan`` switches it on in a diffusers-like pipeline (duck-typed).
- ``oom_guard`` / ``run_with_oom_guard`` turn an out-of-memory error into an
  ``OutOfMemory`` with an actionable message, after unloading the model from the cache.
- ``decode_with_retry`` keeps the finished latents safe across the VAE decode (on disk first
  when they are big, else written only if the decode fails), retries an
  out-of-memory decode once with VAE tiling, and names the latents file when it gives up.

torch is never imported at module level: functions look at ``sys.modules`` (if torch was
never loaded there is no tensor to free) or import it inside.
"""

from __future__ import annotations

import enum
import gc
import logging
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from studio.core.errors import StudioError

log = logging.getLogger(__name__)

GB = 1024**3


class MemoryPlan(enum.Enum):
    """Where the weights live while a pipeline runs, fastest first."""

    NONE = "none"  # everything on the device
    MODEL_CPU_OFFLOAD = "model_cpu_offload"  # whole sub-models move to the device when used
    SEQUENTIAL_CPU_OFFLOAD = "sequential_cpu_offload"  # layer by layer: least memory, slowest

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def rank(self) -> int:
        return list(MemoryPlan).index(self)


_LABELS = {
    MemoryPlan.NONE: "the full-speed plan (no offload)",
    MemoryPlan.MODEL_CPU_OFFLOAD: "the balanced plan (model CPU offload)",
    MemoryPlan.SEQUENTIAL_CPU_OFFLOAD: "the low-memory plan (sequential offload)",
}


@dataclass(frozen=True)
class Plan:
    """A chosen plan: the offload mode, the VAE flags, and why (for logs and the UI)."""

    offload: MemoryPlan = MemoryPlan.NONE
    vae_tiling: bool = False
    vae_slicing: bool = False
    needs_bytes: int | None = None
    free_bytes: int | None = None
    #: True/False when the needs and free memory were known, None otherwise.
    fits: bool | None = None
    reason: str = ""


class OutOfMemory(StudioError):
    """A job ran out of memory; the message says what to do. Not a MemoryError on purpose,
    so a guard never mistakes it for a fresh out-of-memory to handle again."""

    def __init__(self, message: str, *, needs_bytes: int | None = None, free_bytes: int | None = None,
                 suggestion: MemoryPlan | None = None, latents_path: Path | None = None) -> None:
        super().__init__(message)
        self.needs_bytes = needs_bytes
        self.free_bytes = free_bytes
        self.suggestion = suggestion
        self.latents_path = latents_path


def format_bytes(n: int | None) -> str:
    if n is None:
        return "an unknown amount"
    gb = n / GB
    if gb >= 10:
        return f"{gb:.0f} GB"
    if gb >= 1:
        return f"{gb:.1f} GB"
    return f"{n / 1024**2:.0f} MB"


# --- choosing and applying a plan --------------------------------------------------------------
def _as_plan(value: MemoryPlan | str) -> MemoryPlan:
    return value if isinstance(value, MemoryPlan) else MemoryPlan(str(value).lower().replace("-", "_"))


def _fits(needs: int, free: int, margin: float) -> bool:
    return needs * (1.0 + margin) <= free


def plan_for(needs_bytes_by_plan: Mapping[MemoryPlan | str, int], free_bytes: int | None,
             override: Plan | MemoryPlan | str | None = None, *, margin: float = 0.15) -> Plan:
    """The fastest plan whose need (plus ``margin``, a fraction) fits in ``free_bytes``.

    Plans missing from ``needs_bytes_by_plan`` are not considered. Offloading plans also
    switch on VAE tiling and slicing (memory is tight when offloading is needed). When
    nothing fits, the lightest plan is returned with ``fits=False`` (the run may still
    work; the OOM guard explains if not). ``override`` (a Plan, or a plan name from a
    setting or ``--memory-plan``) wins over the choice.
    """
    needs = {_as_plan(k): int(v) for k, v in needs_bytes_by_plan.items()}
    if override is not None:
        if isinstance(override, Plan):
            return override
        chosen = _as_plan(override)
        need = needs.get(chosen)
        fits = None if need is None or free_bytes is None else _fits(need, free_bytes, margin)
        return _with_vae_flags(chosen, need, free_bytes, fits, f"{chosen.value} chosen by the user")
    if not needs:
        return Plan(free_bytes=free_bytes, reason="no memory estimate: running without offload")
    if free_bytes is None:
        return _with_vae_flags(MemoryPlan.NONE, needs.get(MemoryPlan.NONE), None, None,
                               "free memory unknown: running without offload")
    ordered = sorted(needs, key=lambda p: p.rank)
    for plan in ordered:
        if _fits(needs[plan], free_bytes, margin):
            return _with_vae_flags(plan, needs[plan], free_bytes, True,
                                   f"{plan.value}: needs about {format_bytes(needs[plan])}, "
                                   f"{format_bytes(free_bytes)} free")
    lightest = ordered[-1]
    return _with_vae_flags(lightest, needs[lightest], free_bytes, False,
                           f"nothing fits: {lightest.value} needs about {format_bytes(needs[lightest])}, "
                           f"{format_bytes(free_bytes)} free")


def _with_vae_flags(plan: MemoryPlan, needs: int | None, free: int | None, fits: bool | None, reason: str) -> Plan:
    tight = plan is not MemoryPlan.NONE or fits is False
    return Plan(plan, vae_tiling=tight, vae_slicing=tight, needs_bytes=needs, free_bytes=free, fits=fits,
                reason=reason)


def apply_plan(pipe: Any, plan: Plan | MemoryPlan | str, *, device: str | None = None) -> list[str]:
    """Switch ``plan`` on in ``pipe`` through the diffusers methods it has (duck-typed);
    returns the names of what was applied. A missing method is logged, not an error."""
    if not isinstance(plan, Plan):
        plan = Plan(_as_plan(plan))
    applied: list[str] = []
    kwargs = {"device": device} if device else {}
    if plan.offload is MemoryPlan.MODEL_CPU_OFFLOAD:
        _call(pipe, "enable_model_cpu_offload", applied, **kwargs)
    elif plan.offload is MemoryPlan.SEQUENTIAL_CPU_OFFLOAD:
        _call(pipe, "enable_sequential_cpu_offload", applied, **kwargs)
    if plan.vae_tiling:
        enable_vae_tiling(pipe, applied)
    if plan.vae_slicing:
        vae = getattr(pipe, "vae", None)
        if not _call(pipe, "enable_vae_slicing", applied) and vae is not None:
            _call(vae, "enable_slicing", applied, name="vae.enable_slicing")
    return applied


def enable_vae_tiling(pipe: Any, applied: list[str] | None = None) -> bool:
    """Turn on VAE tiling (``pipe.vae.enable_tiling()``, else ``pipe.enable_vae_tiling()``)."""
    applied = [] if applied is None else applied
    vae = getattr(pipe, "vae", None)
    if vae is not None and _call(vae, "enable_tiling", applied, name="vae.enable_tiling"):
        return True
    return _call(pipe, "enable_vae_tiling", applied)


def _call(obj: Any, method: str, applied: list[str], name: str | None = None, **kwargs: Any) -> bool:
    fn = getattr(obj, method, None)
    if not callable(fn):
        log.info("%s has no %s(); skipped", type(obj).__name__, method)
        return False
    fn(**kwargs)
    applied.append(name or method)
    return True


# --- device memory -------------------------------------------------------------------------
def _loaded_torch() -> Any:
    return sys.modules.get("torch")


def free_memory(device: Any = None) -> None:
    """Return freed memory to the system: collect garbage, then empty the CUDA / MPS caches
    (for ``device``'s kind, or all kinds when None)."""
    gc.collect()
    torch = _loaded_torch()
    if torch is None:
        return
    kind = None if device is None else str(device).split(":")[0]
    try:
        if kind in (None, "cuda") and torch.cuda.is_available():
            torch.cuda.synchronize()
            torch.cuda.empty_cache()
            torch.cuda.ipc_collect()
        mps = getattr(torch, "mps", None)
        if kind in (None, "mps") and mps is not None and torch.backends.mps.is_available():
            mps.empty_cache()
    except RuntimeError as e:  # a broken device must not turn cleanup into a second failure
        log.warning("could not empty the %s cache: %s", kind or "device", e)


def available_bytes(device: Any = "cpu") -> int | None:
    """Free memory on ``device`` in bytes (None when it cannot be told)."""
    kind = str(device).split(":")[0]
    torch = _loaded_torch()
    try:
        if kind == "cuda" and torch is not None and torch.cuda.is_available():
            return int(torch.cuda.mem_get_info(torch.device(device))[0])
        if kind == "mps" and torch is not None and torch.backends.mps.is_available():
            return int(torch.mps.recommended_max_memory() - torch.mps.driver_allocated_memory())
        if kind == "cpu" and hasattr(os, "sysconf"):
            return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (RuntimeError, ValueError, OSError, AttributeError):
        return None
    return None


# --- out of memory -------------------------------------------------------------------------
def is_oom_error(exc: BaseException) -> bool:
    """torch.cuda.OutOfMemoryError, MemoryError, or a RuntimeError saying "out of memory"."""
    if isinstance(exc, OutOfMemory):
        return False
    if isinstance(exc, MemoryError):
        return True
    torch = _loaded_torch()
    oom_type = getattr(getattr(torch, "cuda", None), "OutOfMemoryError", None) if torch is not None else None
    if isinstance(oom_type, type) and isinstance(exc, oom_type):
        return True
    return isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower()


def oom_message(what: str, needs_bytes_by_plan: Mapping[MemoryPlan | str, int] | None, free_bytes: int | None,
                current: MemoryPlan | str | None = None, *, margin: float = 0.15) -> tuple[str, MemoryPlan | None]:
    """The actionable line for an out-of-memory, and the plan it suggests (None: no plan helps)."""
    needs = {_as_plan(k): int(v) for k, v in (needs_bytes_by_plan or {}).items()}
    plan = _as_plan(current) if current is not None else MemoryPlan.NONE
    lighter = [p for p in MemoryPlan if p.rank > plan.rank]
    need_now = needs.get(plan)
    head = f"{what} ran out of memory"
    if need_now is not None:
        head += f": needs about {format_bytes(need_now)}, {format_bytes(free_bytes)} free"
    elif free_bytes is not None:
        head += f" ({format_bytes(free_bytes)} free)"
    if not lighter:
        return (f"{head}: even {plan.label} does not fit; close other programs using the GPU, or lower the "
                "resolution or the number of frames"), None
    if free_bytes is not None:
        for p in lighter:
            if p in needs and _fits(needs[p], free_bytes, margin):
                return f"{head}: use {p.label}", p
        known = [p for p in lighter if p in needs]
        if known:
            last = known[-1]
            return (f"{head}: even {last.label} needs about {format_bytes(needs[last])}; close other programs "
                    "using the GPU, or lower the resolution or the number of frames"), last
    return f"{head}: try {lighter[-1].label}", lighter[-1]


def _release_traceback(exc: BaseException) -> None:
    """Drop the frames' locals held by ``exc`` (they pin the tensors of the failed run)."""
    import traceback

    seen: set[int] = set()
    e: BaseException | None = exc
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        traceback.clear_frames(e.__traceback__)
        e = e.__cause__ or e.__context__


@contextmanager
def oom_guard(*, what: str = "the model", cache: Any = None, key: Any = None,
              needs_bytes_by_plan: Mapping[MemoryPlan | str, int] | None = None,
              plan: MemoryPlan | str | None = None, device: Any = None,
              free_bytes: int | Callable[[], int | None] | None = None) -> Iterator[None]:
    """Turn an out-of-memory inside the block into ``OutOfMemory`` with an actionable
    message, after unloading ``key`` from ``cache`` (a PipelineCache) and freeing memory.
    ``free_bytes`` is a number or a callable measured after the unload (default: the free
    memory of ``device``, or of the key's device)."""
    try:
        yield
    except BaseException as e:
        if not is_oom_error(e):
            raise
        _release_traceback(e)
        dev = device if device is not None else getattr(key, "device", None)
        if cache is not None and key is not None:
            cache.unload(key)
        else:
            free_memory(dev)
        free = free_bytes() if callable(free_bytes) else free_bytes
        if free is None and dev is not None:
            free = available_bytes(dev)
        message, suggestion = oom_message(what, needs_bytes_by_plan, free, plan)
        needs = None
        if needs_bytes_by_plan:
            needs = {_as_plan(k): v for k, v in needs_bytes_by_plan.items()}.get(_as_plan(plan or MemoryPlan.NONE))
        log.warning("%s (%s)", message, e)
        raise OutOfMemory(message, needs_bytes=needs, free_bytes=free, suggestion=suggestion) from e


def run_with_oom_guard(fn: Callable[[], Any], **guard: Any) -> Any:
    """``fn()`` inside ``oom_guard(**guard)``."""
    with oom_guard(**guard):
        return fn()


# --- latents and the VAE decode --------------------------------------------------------------
def save_latents(latents: Any, path: str | os.PathLike[str]) -> Path:
    """Write ``latents`` atomically: a torch tensor with torch.save, an array with numpy."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    torch = _loaded_torch()
    with open(tmp, "wb") as f:
        if torch is not None and isinstance(latents, torch.Tensor):
            torch.save(latents.detach().to("cpu"), f)
        else:
            import numpy as np

            np.save(f, np.asarray(latents), allow_pickle=False)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    return path


def load_latents(path: str | os.PathLike[str]) -> Any:
    """Read latents written by ``save_latents`` (numpy ``.npy`` files or torch files)."""
    path = Path(path)
    with open(path, "rb") as f:
        is_npy = f.read(6) == b"\x93NUMPY"
    if is_npy:
        import numpy as np

        return np.load(path, allow_pickle=False)
    from .runtime import import_torch

    return import_torch().load(path, map_location="cpu", weights_only=True)


#: latents at least this big are written before the decode starts (a decode that big could take the
#: process down, not just raise); smaller ones are written only when the decode fails.
EAGER_SAVE_BYTES = 1024**2


def _nbytes(latents: Any) -> int:
    n = getattr(latents, "nbytes", None)
    if n is None and hasattr(latents, "element_size"):
        n = latents.element_size() * latents.nelement()
    return int(n or 0)


def decode_with_retry(pipe: Any, latents: Any, decode_fn: Callable[[Any, Any], Any],
                      save_latents_to: str | os.PathLike[str], *, keep_latents: bool = False,
                      device: Any = None, save_first: bool | None = None) -> Any:
    """``decode_fn(pipe, latents)``, never losing finished latents.

    The latents are saved to ``save_latents_to`` before the decode when ``save_first`` (None:
    when they are at least ``EAGER_SAVE_BYTES``; small latents decode to small videos that
    cannot exhaust memory, so they are written only if the decode fails: the tensor is still
    in memory then). An out-of-memory decode is retried once with VAE tiling (and slicing)
    switched on; if that fails too (or the pipe cannot tile) an ``OutOfMemory`` names the
    latents file so a later run can decode it (``load_latents``). Any other error gets the
    path added as a note. On success the file is removed unless ``keep_latents`` (which
    always writes it).
    """
    if save_first is None:
        save_first = keep_latents or _nbytes(latents) >= EAGER_SAVE_BYTES
    saved: list[Path] = []

    def path() -> Path:
        if not saved:
            saved.append(save_latents(latents, save_latents_to))
        return saved[0]

    if save_first:
        path()
    first_error: BaseException | None = None
    try:
        frames = decode_fn(pipe, latents)
    except BaseException as e:
        if not is_oom_error(e):
            e.add_note(f"the finished latents are kept in {path()}")
            raise
        _release_traceback(e)
        first_error = e
    if first_error is not None:
        free_memory(device)
        path()
        applied: list[str] = []
        enable_vae_tiling(pipe, applied)
        if "vae.enable_slicing" not in applied:
            vae = getattr(pipe, "vae", None)
            if not _call(pipe, "enable_vae_slicing", applied) and vae is not None:
                _call(vae, "enable_slicing", applied, name="vae.enable_slicing")
        if not any("tiling" in name for name in applied):
            raise OutOfMemory(f"VAE decode ran out of memory and this pipeline cannot tile its VAE; the finished "
                              f"latents are saved in {path()} (decode them later with more free memory)",
                              latents_path=path()) from first_error
        log.warning("VAE decode ran out of memory; retrying with %s", ", ".join(applied))
        first_error = None
        try:
            frames = decode_fn(pipe, latents)
        except BaseException as e:
            if not is_oom_error(e):
                e.add_note(f"the finished latents are kept in {path()}")
                raise
            _release_traceback(e)
            free_memory(device)
            raise OutOfMemory(f"VAE decode ran out of memory even with VAE tiling; the finished latents are saved "
                              f"in {path()} (decode them later with more free memory or the low-memory plan)",
                              latents_path=path()) from e
    if saved and not keep_latents:
        saved[0].unlink(missing_ok=True)
    return frames
