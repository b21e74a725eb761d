"""Model runtime: device/dtype choice, the LRU pipeline cache with a memory budget, step callbacks."""

from __future__ import annotations

import gc
import threading
import weakref

import pytest
import torch

from studio.ai.models.runtime import (
    CacheKey,
    DeviceError,
    PipelineCache,
    choose_device_dtype,
    pipeline_bytes,
    step_callback,
)
from studio.jobs import Cancelled, JobContext

LINEAR_BYTES = (16 * 16 + 16) * 4  # nn.Linear(16, 16) in float32


def key(name: str) -> CacheKey:
    return CacheKey.of(name, None, torch.float32, "cpu")


class Loader:
    """Builds a tiny model, remembering only weak references to what it built."""

    def __init__(self) -> None:
        self.built: dict[str, weakref.ref] = {}
        self.calls: list[str] = []

    def __call__(self, name: str):
        def load():
            self.calls.append(name)
            module = torch.nn.Linear(16, 16)
            self.built[name] = weakref.ref(module)
            return module
        return load

    def alive(self, name: str) -> bool:
        gc.collect()
        return self.built[name]() is not None


# --- device and dtype -----------------------------------------------------------------------
def test_cpu_runs_in_float32():
    assert choose_device_dtype("cpu") == ("cpu", torch.float32)


def test_auto_choice(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert choose_device_dtype() == ("cpu", torch.float32)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert choose_device_dtype() == ("mps", torch.float16)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)
    assert choose_device_dtype(None) == ("cuda", torch.bfloat16)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: False)
    assert choose_device_dtype("cuda:1") == ("cuda:1", torch.float16)


def test_missing_or_unknown_device_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(DeviceError, match="CUDA is not available"):
        choose_device_dtype("cuda")
    with pytest.raises(DeviceError, match="unknown device"):
        choose_device_dtype("tpu")


# --- sizes ------------------------------------------------------------------------------------
def test_pipeline_bytes_counts_parameters_and_buffers_once():
    assert pipeline_bytes(torch.nn.Linear(16, 16)) == LINEAR_BYTES
    norm = torch.nn.BatchNorm1d(8)  # 2x8 parameters + 2x8 float buffers + 1 int64 counter
    assert pipeline_bytes(norm) == 16 * 4 + 16 * 4 + 8
    shared = torch.nn.Linear(16, 16)

    class FakePipeline:  # diffusers pipelines list their parts in .components
        def __init__(self):
            self.components = {"transformer": shared, "text_encoder": shared, "vae": norm, "scheduler": object()}

    assert pipeline_bytes(FakePipeline()) == LINEAR_BYTES + pipeline_bytes(norm)
    half = torch.nn.Linear(16, 16).to(torch.float16)
    assert pipeline_bytes(half) == LINEAR_BYTES // 2
    assert CacheKey.of("m", None, torch.bfloat16, torch.device("cpu")) == ("m", "main", "bfloat16", "cpu")


# --- the cache --------------------------------------------------------------------------------
def test_lru_eviction_by_budget_really_frees_the_model():
    cache = PipelineCache(budget_bytes=2 * LINEAR_BYTES)
    load = Loader()
    assert isinstance(cache.get(key("a"), load("a")), torch.nn.Linear)
    cache.get(key("b"), load("b"))
    cache.get(key("a"), load("a"))  # a hit: "a" becomes the most recently used
    assert load.calls == ["a", "b"] and cache.total_bytes == 2 * LINEAR_BYTES
    cache.get(key("c"), load("c"))  # over budget: the least recently used ("b") goes
    assert cache.keys() == [key("a"), key("c")]
    assert not load.alive("b") and load.alive("a") and load.alive("c")
    assert cache.size_of(key("a")) == LINEAR_BYTES and cache.total_bytes <= cache.budget_bytes


def test_unload_frees_memory():
    cache = PipelineCache(budget_bytes=10 * LINEAR_BYTES)
    load = Loader()
    cache.get(key("a"), load("a"))
    assert load.alive("a")
    assert cache.unload(key("a"))
    assert key("a") not in cache and not load.alive("a")
    assert not cache.unload(key("a"))


def test_shrinking_the_budget_evicts_and_clear_empties():
    cache = PipelineCache(budget_bytes=10 * LINEAR_BYTES)
    load = Loader()
    for name in "abc":
        cache.get(key(name), load(name))
    cache.budget_bytes = LINEAR_BYTES
    assert cache.keys() == [key("c")] and not load.alive("a")
    cache.clear()
    assert len(cache) == 0 and not load.alive("c")


def test_a_model_in_use_is_not_evicted():
    cache = PipelineCache(budget_bytes=LINEAR_BYTES)
    load = Loader()
    with cache.use(key("a"), load("a")) as model:
        assert isinstance(model, torch.nn.Linear)
        cache.get(key("b"), load("b"))  # does not fit, but "a" is busy
        assert key("a") in cache
        del model
    assert cache.keys() == [key("b")] and not load.alive("a")


def test_a_model_bigger_than_the_budget_still_loads_alone():
    cache = PipelineCache(budget_bytes=LINEAR_BYTES // 2)
    load = Loader()
    cache.get(key("a"), load("a"))
    cache.get(key("b"), load("b"))
    assert cache.keys() == [key("b")]


def test_expected_bytes_makes_room_before_loading():
    cache = PipelineCache(budget_bytes=2 * LINEAR_BYTES)
    load = Loader()
    cache.get(key("a"), load("a"))
    seen_alive = []

    def load_big():
        seen_alive.append(load.alive("a"))
        return torch.nn.Linear(16, 16)

    cache.get(key("big"), load_big, expected_bytes=2 * LINEAR_BYTES)
    assert seen_alive == [False]


def test_concurrent_gets_load_once():
    cache = PipelineCache(budget_bytes=10 * LINEAR_BYTES)
    load = Loader()
    results = []
    threads = [threading.Thread(target=lambda: results.append(cache.get(key("a"), load("a")))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert load.calls == ["a"] and all(r is results[0] for r in results)


# --- diffusers step callback -------------------------------------------------------------------
def test_step_callback_reports_progress_and_stops_on_cancel():
    seen = []
    ctx = JobContext(on_progress=lambda f, m: seen.append((round(f, 3), m)))
    cb = step_callback(ctx, 4, start=0.0, end=0.8)
    kwargs = {"latents": 1}
    assert cb(None, 0, 999, kwargs) is kwargs
    cb(None, 1, 500, kwargs)
    assert seen == [(0.2, "denoising step 1/4"), (0.4, "denoising step 2/4")]
    ctx.cancel()
    with pytest.raises(Cancelled):
        cb(None, 2, 100, kwargs)
