"""The model runtime on a real CUDA device (skipped without one): memory really comes back."""

from __future__ import annotations

import pytest
import torch

from studio.ai.models.memory import OutOfMemory, run_with_oom_guard
from studio.ai.models.runtime import CacheKey, PipelineCache, choose_device_dtype
from studio.jobs import Job, JobState, Scheduler

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


def load_big():
    return torch.nn.Linear(4096, 4096, device="cuda")  # 64 MiB of float32 weights


def test_auto_device_is_cuda_in_a_half_precision():
    device, dtype = choose_device_dtype()
    assert device == "cuda" and dtype in (torch.bfloat16, torch.float16)


def test_unload_returns_cuda_memory():
    torch.cuda.synchronize()
    before = torch.cuda.memory_allocated()
    cache = PipelineCache(budget_bytes=1 << 30)
    key = CacheKey.of("big", None, torch.float32, "cuda")
    cache.get(key, load_big)
    assert torch.cuda.memory_allocated() - before >= 64 * 1024**2
    reserved = torch.cuda.memory_reserved()
    cache.unload(key)
    assert torch.cuda.memory_allocated() == before
    assert torch.cuda.memory_reserved() < reserved  # empty_cache gave it back to the driver


def test_a_real_cuda_oom_in_a_job_unloads_and_the_pool_survives():
    cache = PipelineCache(budget_bytes=1 << 30)
    key = CacheKey.of("big", None, torch.float32, "cuda")
    before = torch.cuda.memory_allocated()
    huge = 1 << 44  # 16 TiB: more than any card has

    def generate(ctx):
        def step():
            cache.get(key, load_big)
            return torch.empty(huge, dtype=torch.uint8, device="cuda")
        return run_with_oom_guard(step, what="generation", cache=cache, key=key,
                                  needs_bytes_by_plan={"none": huge, "sequential_cpu_offload": 1 << 30})

    with Scheduler() as sched:
        handle = sched.submit(Job(generate, gpu=1))
        assert handle.join(30) and handle.state is JobState.FAILED
        assert isinstance(handle.exception, OutOfMemory)
        assert "use the low-memory plan (sequential offload)" in handle.error
        assert key not in cache and torch.cuda.memory_allocated() == before
        assert sched.submit(Job(lambda ctx: torch.ones(4, device="cuda").sum().item(), gpu=1)).get(30) == 4.0
