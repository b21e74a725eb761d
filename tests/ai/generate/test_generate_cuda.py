"""The diffusers backend on a real CUDA device (skipped without one): half precision, a seeded
generator on the device, the same frames for the same seed, the memory plan applied."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from studio.ai.generate.base import GenerateRequest
from studio.ai.generate.diffusers_backend import DiffusersVideoBackend
from studio.ai.models.runtime import PipelineCache
from studio.jobs import JobContext

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


def test_tiny_cogvideox_on_cuda_is_half_precision_and_deterministic(tiny_cogvideox):
    cache = PipelineCache(1 << 30)
    backend = DiffusersVideoBackend(cache)
    req = GenerateRequest("a cat", seed=5, steps=2, width=16, height=16, frames=9, model_path=str(tiny_cogvideox))
    a = backend.generate(req, JobContext())
    b = backend.generate(req, JobContext())
    (key,) = cache.keys()
    assert key.device == "cuda" and key.dtype in ("bfloat16", "float16")
    assert a.frames.shape == (9, 16, 16, 3) and a.frames.dtype == np.uint8
    assert np.array_equal(a.frames, b.frames)
    cache.clear()
