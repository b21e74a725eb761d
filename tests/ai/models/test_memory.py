"""Memory plans and surviving out-of-memory: plan choice, applying it, the OOM guard, VAE decode retry."""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest
import torch

from studio.ai.models.memory import (
    GB,
    MemoryPlan,
    OutOfMemory,
    Plan,
    apply_plan,
    available_bytes,
    decode_with_retry,
    free_memory,
    is_oom_error,
    load_latents,
    oom_message,
    plan_for,
    run_with_oom_guard,
)
from studio.ai.models.runtime import CacheKey, PipelineCache
from studio.jobs import Job, JobState, Scheduler

NEEDS = {
    MemoryPlan.NONE: 19 * GB,
    MemoryPlan.MODEL_CPU_OFFLOAD: 13 * GB,
    MemoryPlan.SEQUENTIAL_CPU_OFFLOAD: 6 * GB,
}


def cuda_oom() -> BaseException:
    return torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")


# --- choosing a plan --------------------------------------------------------------------------
@pytest.mark.parametrize(("free_gb", "expected", "fits"), [
    (40, MemoryPlan.NONE, True),
    (16, MemoryPlan.MODEL_CPU_OFFLOAD, True),
    (11, MemoryPlan.SEQUENTIAL_CPU_OFFLOAD, True),
    (4, MemoryPlan.SEQUENTIAL_CPU_OFFLOAD, False),
])
def test_plan_for_picks_the_fastest_plan_that_fits(free_gb, expected, fits):
    plan = plan_for(NEEDS, free_gb * GB)
    assert plan.offload is expected and plan.fits is fits
    assert plan.vae_tiling is plan.vae_slicing is (expected is not MemoryPlan.NONE)
    assert plan.needs_bytes == NEEDS[expected] and plan.free_bytes == free_gb * GB and plan.reason


def test_plan_for_keeps_a_margin():
    needs = {"none": 10 * GB, "sequential_cpu_offload": 2 * GB}
    assert plan_for(needs, 11 * GB).offload is MemoryPlan.SEQUENTIAL_CPU_OFFLOAD  # 10 GB + 15% > 11 GB
    assert plan_for(needs, 12 * GB).offload is MemoryPlan.NONE
    assert plan_for(needs, 11 * GB, margin=0.05).offload is MemoryPlan.NONE


def test_plan_for_override_and_unknowns():
    chosen = plan_for(NEEDS, 40 * GB, override="sequential-cpu-offload")
    assert chosen.offload is MemoryPlan.SEQUENTIAL_CPU_OFFLOAD and "user" in chosen.reason and chosen.fits
    custom = Plan(MemoryPlan.MODEL_CPU_OFFLOAD, vae_tiling=False)
    assert plan_for(NEEDS, 1, override=custom) is custom
    assert plan_for(NEEDS, None).offload is MemoryPlan.NONE and plan_for(NEEDS, None).fits is None
    assert plan_for({}, 8 * GB).offload is MemoryPlan.NONE
    with pytest.raises(ValueError):
        plan_for(NEEDS, 8 * GB, override="turbo")


class FakePipe:
    def __init__(self, with_vae: bool = True) -> None:
        self.calls: list[str] = []
        if with_vae:
            self.vae = FakeVae(self.calls)

    def enable_model_cpu_offload(self, device=None):
        self.calls.append(f"model_offload:{device}")

    def enable_sequential_cpu_offload(self, device=None):
        self.calls.append("sequential_offload")

    def enable_vae_slicing(self):
        self.calls.append("vae_slicing")


class FakeVae:
    def __init__(self, calls):
        self.calls = calls
        self.tiling = False

    def enable_tiling(self):
        self.tiling = True
        self.calls.append("vae_tiling")


def test_apply_plan_calls_what_the_pipe_has():
    pipe = FakePipe()
    applied = apply_plan(pipe, plan_for(NEEDS, 16 * GB), device="cuda")
    assert pipe.calls == ["model_offload:cuda", "vae_tiling", "vae_slicing"]
    assert applied == ["enable_model_cpu_offload", "vae.enable_tiling", "enable_vae_slicing"]
    pipe = FakePipe()
    assert apply_plan(pipe, "sequential_cpu_offload") == ["enable_sequential_cpu_offload"]
    assert apply_plan(object(), plan_for(NEEDS, 11 * GB)) == []  # nothing to call: no error


# --- out of memory ------------------------------------------------------------------------------
def test_what_counts_as_out_of_memory():
    assert is_oom_error(cuda_oom())
    assert is_oom_error(RuntimeError("MPS backend out of memory (MPS allocated: 9 GB)"))
    assert is_oom_error(MemoryError())
    assert not is_oom_error(RuntimeError("shape mismatch"))
    assert not is_oom_error(ValueError("out of range"))
    assert not is_oom_error(OutOfMemory("already explained"))


def test_oom_message_is_actionable():
    message, plan = oom_message("generation", NEEDS, 11 * GB)
    assert message == ("generation ran out of memory: needs about 19 GB, 11 GB free: "
                       "use the low-memory plan (sequential offload)")
    assert plan is MemoryPlan.SEQUENTIAL_CPU_OFFLOAD
    message, plan = oom_message("generation", NEEDS, 16 * GB)
    assert "use the balanced plan (model CPU offload)" in message
    message, plan = oom_message("generation", NEEDS, 3 * GB, MemoryPlan.MODEL_CPU_OFFLOAD)
    assert "needs about 13 GB, 3.0 GB free" in message and "even the low-memory plan" in message
    message, plan = oom_message("generation", NEEDS, 3 * GB, "sequential_cpu_offload")
    assert "even the low-memory plan (sequential offload) does not fit" in message and plan is None
    message, plan = oom_message("generation", None, None)
    assert message == "generation ran out of memory: try the low-memory plan (sequential offload)"


def test_oom_in_a_job_fails_clearly_unloads_the_model_and_the_pool_keeps_working():
    cache = PipelineCache(budget_bytes=1 << 30)
    k = CacheKey.of("tiny-video", "abc123", torch.float32, "cpu")
    refs = []

    def load():
        model = torch.nn.Sequential(torch.nn.Linear(8, 8), torch.nn.Linear(8, 8))
        refs.append(weakref.ref(model))
        return model

    def fake_backend(model, fail):
        model(torch.zeros(1, 8))
        if fail:
            raise cuda_oom()
        return "frames"

    def generate(ctx, fail=True):
        return run_with_oom_guard(lambda: fake_backend(cache.get(k, load), fail), what="generation",
                                  cache=cache, key=k, needs_bytes_by_plan=NEEDS, free_bytes=11 * GB)

    with Scheduler(gpu_slots=1, cpu_slots=2) as sched:
        handle = sched.submit(Job(generate, name="generate", gpu=1))
        assert handle.join(5)
        assert handle.state is JobState.FAILED
        assert handle.error == ("generation ran out of memory: needs about 19 GB, 11 GB free: "
                                "use the low-memory plan (sequential offload)")
        assert "OutOfMemoryError" in handle.traceback
        assert k not in cache
        gc.collect()
        assert refs[0]() is None, "the model that ran out of memory is still alive"
        # the pool and the cache keep working
        again = sched.submit(Job(lambda ctx: generate(ctx, fail=False), name="generate again", gpu=1))
        assert again.get(5) == "frames" and k in cache


def test_guard_leaves_other_errors_alone():
    with pytest.raises(ValueError, match="bad prompt"):
        run_with_oom_guard(lambda: (_ for _ in ()).throw(ValueError("bad prompt")))
    with pytest.raises(OutOfMemory) as info:
        run_with_oom_guard(lambda: (_ for _ in ()).throw(MemoryError()), what="upscale", free_bytes=lambda: 2 * GB)
    assert str(info.value) == "upscale ran out of memory (2.0 GB free): try the low-memory plan (sequential offload)"


def test_free_memory_and_available_bytes_on_cpu():
    free_memory("cpu")
    free_memory(None)
    free = available_bytes("cpu")
    assert free is None or free > 0
    assert available_bytes("cuda:0") is None or torch.cuda.is_available()


# --- VAE decode ----------------------------------------------------------------------------------
def test_vae_decode_oom_is_retried_with_tiling(tmp_path):
    pipe = FakePipe()
    latents = torch.randn(1, 4, 2, 8, 8)
    path = tmp_path / "take1.latents.pt"
    attempts = []

    def decode(p, lat):
        attempts.append(path.exists())  # saved before any decode
        if not p.vae.tiling:
            raise cuda_oom()
        return lat * 2

    frames = decode_with_retry(pipe, latents, decode, path, save_first=True)
    assert torch.equal(frames, latents * 2)
    assert attempts == [True, True] and pipe.vae.tiling and "vae_slicing" in pipe.calls
    assert not path.exists()  # decoded: no need to keep them


def test_small_latents_are_written_only_when_the_decode_fails(tmp_path):
    """Small latents cost no disk write on success; an out-of-memory first try writes them before the retry."""
    latents = torch.randn(1, 4, 2, 8, 8)
    path = tmp_path / "lat.pt"
    seen = []

    def fine(p, lat):
        seen.append(path.exists())
        return lat + 1

    assert torch.equal(decode_with_retry(FakePipe(), latents, fine, path), latents + 1)
    assert seen == [False] and not path.exists()
    seen.clear()

    def oom_once(p, lat):
        seen.append(path.exists())
        if not p.vae.tiling:
            raise cuda_oom()
        return lat

    decode_with_retry(FakePipe(), latents, oom_once, path)
    assert seen == [False, True] and not path.exists()


def test_big_latents_are_on_disk_before_the_decode(tmp_path):
    from studio.ai.models.memory import EAGER_SAVE_BYTES

    latents = torch.zeros(EAGER_SAVE_BYTES // 4)  # float32: exactly the threshold
    path = tmp_path / "lat.pt"
    seen = []
    decode_with_retry(FakePipe(), latents, lambda p, lat: seen.append(path.exists()) or lat, path)
    assert seen == [True] and not path.exists()


def test_final_decode_failure_keeps_the_latents_and_names_the_file(tmp_path):
    pipe = FakePipe()
    latents = torch.randn(1, 4, 2, 8, 8)
    path = tmp_path / "take1.latents.pt"

    def decode(p, lat):
        raise RuntimeError("CUDA out of memory. Tried to allocate 8.00 GiB")

    with pytest.raises(OutOfMemory, match="even with VAE tiling") as info:
        decode_with_retry(pipe, latents, decode, path)
    assert str(path) in str(info.value) and info.value.latents_path == path
    assert torch.equal(load_latents(path), latents)


def test_a_pipe_that_cannot_tile_fails_at_once_with_the_path(tmp_path):
    path = tmp_path / "lat.npy"
    latents = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    calls = []

    def decode(p, lat):
        calls.append(1)
        raise MemoryError()

    with pytest.raises(OutOfMemory, match="cannot tile") as info:
        decode_with_retry(FakePipe(with_vae=False), latents, decode, path)
    assert calls == [1] and str(path) in str(info.value)
    np.testing.assert_array_equal(load_latents(path), latents)


def test_other_decode_errors_keep_the_latents_too(tmp_path):
    path = tmp_path / "lat.pt"

    def decode(p, lat):
        raise ValueError("bad latent shape")

    with pytest.raises(ValueError, match="bad latent shape") as info:
        decode_with_retry(FakePipe(), torch.zeros(2), decode, path, keep_latents=True)
    assert any(str(path) in note for note in info.value.__notes__) and path.exists()
