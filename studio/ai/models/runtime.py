"""Where models run: device and dtype choice, a memory-bounded cache of loaded pipelines,
and the bridge from a diffusers step callback to a job's progress and cancellation.

torch is imported inside functions only (fixed point 1): importing this module is free.
"""

from __future__ import annotations

import gc
import logging
import os
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, NamedTuple

from studio.core.errors import StudioError

from .memory import free_memory

log = logging.getLogger(__name__)


_import_lock = threading.Lock()


def import_torch() -> Any:
    """``import torch``, gently for a running editor; use it where a job first needs torch.

    Importing torch from a worker thread stalls the UI thread twice: the dynamic loader
    maps libtorch (~300 ms) while Python holds the GIL, and the ~150k objects torch
    creates make every later full garbage collection long (100-200 ms, GIL held). So on
    Linux the native libraries are first mapped through libc's ``dlopen`` called via
    ctypes (which releases the GIL), in the order and with the flags torch itself uses;
    the import then finds them loaded. The cyclic collector is paused during the import
    and ``gc.freeze()`` then moves everything alive (torch's import-time objects, the
    editor's long-lived ones) out of its sight. Any problem with the preload falls back to
    a plain import. While the libraries map, the loader's lock is taken: a thread that
    imports an extension module meanwhile waits for it holding the GIL, so import the
    modules jobs need (numpy.random is lazy in numpy 2) before starting them.
    """
    torch = sys.modules.get("torch")
    if torch is not None:
        return torch
    with _import_lock:
        if "torch" not in sys.modules:
            collecting = gc.isenabled()
            gc.disable()  # the import's own allocations would trigger full collections of a growing heap
            try:
                _preload_torch_libraries()
                import torch  # noqa: F401

                gc.freeze()
            finally:
                if collecting:
                    gc.enable()
    return sys.modules["torch"]


def _preload_torch_libraries() -> None:
    if not sys.platform.startswith("linux") or os.environ.get("TORCH_USE_RTLD_GLOBAL"):
        return
    try:
        import ctypes
        import glob
        import importlib.util

        spec = importlib.util.find_spec("torch")
        if spec is None or not spec.submodule_search_locations:
            return
        root = list(spec.submodule_search_locations)[0]
        dlopen = ctypes.CDLL(None).dlopen
        dlopen.restype = ctypes.c_void_p
        dlopen.argtypes = [ctypes.c_char_p, ctypes.c_int]
        global_deps = os.path.join(root, "lib", "libtorch_global_deps.so")
        if os.path.exists(global_deps) and not dlopen(global_deps.encode(), os.RTLD_GLOBAL | os.RTLD_NOW):
            return
        for ext in glob.glob(os.path.join(root, "_C.*.so"))[:1]:
            dlopen(ext.encode(), sys.getdlopenflags())
    except (OSError, AttributeError, ImportError, ValueError) as e:
        log.debug("torch library preload skipped: %s", e)


class DeviceError(StudioError):
    """A requested device is not available on this machine."""


def choose_device_dtype(prefer: Any = None) -> tuple[str, Any]:
    """``(device, dtype)`` to run on: CUDA in bfloat16 where the GPU supports it (else
    float16), Apple MPS in float16, otherwise the CPU in float32.

    ``prefer`` ("cuda", "cuda:1", "mps", "cpu", a torch.device, or None/"auto") picks the
    device; asking for one that is missing raises DeviceError.
    """
    torch = import_torch()

    want = "auto" if prefer is None else str(prefer).lower()
    if want == "auto":
        if torch.cuda.is_available():
            want = "cuda"
        elif _mps_available(torch):
            want = "mps"
        else:
            want = "cpu"
    kind = want.split(":")[0]
    if kind == "cuda":
        if not torch.cuda.is_available():
            raise DeviceError(f"device {want!r} requested but CUDA is not available")
        return want, torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if kind == "mps":
        if not _mps_available(torch):
            raise DeviceError(f"device {want!r} requested but Apple MPS is not available")
        return want, torch.float16
    if kind == "cpu":
        return "cpu", torch.float32
    raise DeviceError(f"unknown device {want!r} (use cuda, cuda:N, mps or cpu)")


def _mps_available(torch: Any) -> bool:
    mps = getattr(getattr(torch, "backends", None), "mps", None)
    return bool(mps is not None and mps.is_available())


class CacheKey(NamedTuple):
    """What makes two loaded pipelines the same: model id, revision, dtype and device (as strings)."""

    model_id: str
    revision: str
    dtype: str
    device: str

    @classmethod
    def of(cls, model_id: str, revision: str | None, dtype: Any, device: Any) -> CacheKey:
        return cls(str(model_id), str(revision or "main"), str(dtype).removeprefix("torch."), str(device))


def _torch_modules(pipe: Any) -> Iterator[Any]:
    torch = sys.modules.get("torch")
    if torch is None:  # torch never loaded: nothing here can hold tensors
        return
    module_type = torch.nn.Module
    if isinstance(pipe, module_type):
        yield pipe
        return
    components = getattr(pipe, "components", None)
    if isinstance(components, dict):
        values = list(components.values())
    else:
        values = list(vars(pipe).values()) if hasattr(pipe, "__dict__") else []
    for value in values:
        if isinstance(value, module_type):
            yield value


def pipeline_bytes(pipe: Any) -> int:
    """Bytes held by the parameters and buffers of ``pipe``'s torch modules (a module itself,
    a diffusers pipeline's ``components``, or any object's module attributes); shared
    tensors count once."""
    seen: set[int] = set()
    total = 0
    for module in _torch_modules(pipe):
        for tensor in (*module.parameters(), *module.buffers()):
            if id(tensor) in seen:
                continue
            seen.add(id(tensor))
            total += tensor.numel() * tensor.element_size()
    return total


@dataclass
class _Entry:
    pipe: Any
    size: int
    users: int = 0


class PipelineCache:
    """Loaded pipelines by CacheKey, evicting the least recently used beyond ``budget_bytes``.

    ``get(key, loader)`` returns the cached pipeline or calls ``loader()`` (loads are
    serialized so one model is never loaded twice at once). Inside ``use(key, loader)`` a
    pipeline is not evicted. ``unload(key)`` drops the cache's reference and gives the
    memory back (gc, then the CUDA/MPS cache); callers must not keep their own references
    to a pipeline they want freed.
    """

    def __init__(self, budget_bytes: int) -> None:
        self._budget = int(budget_bytes)
        self._entries: OrderedDict[CacheKey, _Entry] = OrderedDict()  # least recently used first
        self._lock = threading.RLock()
        self._load_lock = threading.Lock()

    # --- reading ----------------------------------------------------------------------------
    @property
    def budget_bytes(self) -> int:
        return self._budget

    @budget_bytes.setter
    def budget_bytes(self, value: int) -> None:
        self._budget = int(value)
        self._release(self._evict_over_budget())

    @property
    def total_bytes(self) -> int:
        with self._lock:
            return sum(e.size for e in self._entries.values())

    def keys(self) -> list[CacheKey]:
        """Cached keys, least recently used first."""
        with self._lock:
            return list(self._entries)

    def size_of(self, key: CacheKey) -> int | None:
        with self._lock:
            entry = self._entries.get(key)
            return None if entry is None else entry.size

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._entries

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    # --- loading ----------------------------------------------------------------------------
    def get(self, key: CacheKey, loader: Callable[[], Any], *, size_bytes: int | None = None,
            expected_bytes: int | None = None) -> Any:
        """The pipeline for ``key``, loading it with ``loader()`` on a miss. ``expected_bytes``
        evicts room before loading (on a GPU the old model must leave first); ``size_bytes``
        overrides the measured size."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
                return entry.pipe
        with self._load_lock:
            with self._lock:
                entry = self._entries.get(key)
                if entry is not None:
                    self._entries.move_to_end(key)
                    return entry.pipe
                evicted = self._evict_over_budget(extra=expected_bytes or 0) if expected_bytes else []
            self._release(evicted)
            pipe = loader()
            size = pipeline_bytes(pipe) if size_bytes is None else int(size_bytes)
            with self._lock:
                self._entries[key] = _Entry(pipe, size)
                evicted = self._evict_over_budget(keep=key)
            self._release(evicted)
            if size > self._budget:
                log.warning("model %s needs %d bytes, more than the whole cache budget (%d)", key.model_id, size,
                            self._budget)
            return pipe

    @contextmanager
    def use(self, key: CacheKey, loader: Callable[[], Any], **kwargs: Any) -> Iterator[Any]:
        """``get`` and keep the pipeline from being evicted until the block ends."""
        while True:
            pipe = self.get(key, loader, **kwargs)
            with self._lock:
                entry = self._entries.get(key)
                if entry is not None and entry.pipe is pipe:
                    entry.users += 1
                    break
        try:
            yield pipe
        finally:
            with self._lock:
                if entry.users > 0:
                    entry.users -= 1
            del pipe
            self._release(self._evict_over_budget())

    # --- freeing ----------------------------------------------------------------------------
    def unload(self, key: CacheKey) -> bool:
        """Forget ``key`` and free its memory; False if it was not cached."""
        with self._lock:
            entry = self._entries.pop(key, None)
        if entry is None:
            return False
        self._release([(key, entry)])
        return True

    def clear(self) -> None:
        with self._lock:
            entries = list(self._entries.items())
            self._entries.clear()
        self._release(entries)

    def _evict_over_budget(self, *, keep: CacheKey | None = None, extra: int = 0) -> list[tuple[CacheKey, _Entry]]:
        evicted: list[tuple[CacheKey, _Entry]] = []
        with self._lock:
            total = sum(e.size for e in self._entries.values()) + extra
            for key in list(self._entries):
                if total <= self._budget:
                    break
                entry = self._entries[key]
                if key == keep or entry.users > 0:
                    continue
                del self._entries[key]
                total -= entry.size
                evicted.append((key, entry))
        return evicted

    def _release(self, evicted: list[tuple[CacheKey, _Entry]]) -> None:
        if not evicted:
            return
        devices = {key.device for key, _ in evicted}
        for key, entry in evicted:
            log.info("unloading %s (%s, %s, %s): %d bytes", key.model_id, key.revision, key.dtype, key.device,
                     entry.size)
            entry.pipe = None
        del evicted, entry
        for device in devices:
            free_memory(device)


def step_callback(context: Any, total_steps: int, *, start: float = 0.0, end: float = 1.0,
                  message: str = "denoising") -> Callable[..., Any]:
    """A diffusers ``callback_on_step_end`` that reports step progress to a JobContext
    (mapped into ``start..end``) and stops the pipeline (raising Cancelled) when the job
    is cancelled or times out."""
    total = max(1, int(total_steps))

    def on_step_end(pipe: Any, step: int, timestep: Any, callback_kwargs: dict[str, Any]) -> dict[str, Any]:
        done = min(total, step + 1)
        context.progress(start + (end - start) * done / total, f"{message} step {done}/{total}")
        context.check()
        return callback_kwargs

    return on_step_end
