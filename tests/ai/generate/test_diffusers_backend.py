"""The diffusers backend on a tiny random CogVideoX saved in the diffusers layout and loaded
through the same code users run (DESIGN.md fixed point 7)."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from studio.ai.generate.base import GeneratedVideo, GenerateError, GenerateRequest, get_backend
from studio.ai.generate.families import capabilities_of
from studio.jobs import Cancelled, JobContext


def request(folder, **kw) -> GenerateRequest:
    base = dict(seed=1, steps=2, guidance=6.0, width=16, height=16, frames=9, model_path=str(folder))
    base.update(kw)
    return GenerateRequest(kw.pop("prompt", "a cat walks in the rain"), **{k: v for k, v in base.items()
                                                                        if k != "prompt"})


def test_capabilities_come_from_the_folder(tiny_cogvideox):
    caps = capabilities_of(tiny_cogvideox)
    assert caps.family == "cogvideox" and caps.text_to_video and not caps.image_to_video
    assert str(caps.frame_rule) == "8N+1" and caps.fps == 8 and caps.size_multiple == 16


def test_generates_uint8_frames_with_progress(tiny_cogvideox):
    messages = []
    ctx = JobContext(on_progress=lambda f, m: messages.append((f, m)))
    video = get_backend("diffusers").generate(request(tiny_cogvideox), ctx)
    assert isinstance(video, GeneratedVideo)
    assert video.frames.shape == (9, 16, 16, 3) and video.frames.dtype == np.uint8
    assert video.fps == 8 and video.size == (16, 16) and video.count == 9
    steps = [m for _, m in messages if "step" in m]
    assert steps == ["denoising step 1/2", "denoising step 2/2"]
    fractions = [f for f, _ in messages]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0


def test_a_seed_is_deterministic_and_another_differs(tiny_cogvideox):
    backend = get_backend("diffusers")
    a = backend.generate(request(tiny_cogvideox, seed=7), JobContext()).frames
    b = backend.generate(request(tiny_cogvideox, seed=7), JobContext()).frames
    c = backend.generate(request(tiny_cogvideox, seed=8), JobContext()).frames
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_cancel_after_the_first_step_stops(tiny_cogvideox):
    seen = []
    ctx = JobContext()

    def progress(fraction, message):
        seen.append(message)
        if message.endswith("step 1/2"):
            ctx.cancel()

    ctx.on_progress = progress
    with pytest.raises(Cancelled):
        get_backend("diffusers").generate(request(tiny_cogvideox, steps=2), ctx)
    assert "denoising step 2/2" not in seen and "generated" not in seen


def test_pickled_weights_are_refused(tiny_cogvideox, tmp_path):
    bad = tmp_path / "bin-only"
    shutil.copytree(tiny_cogvideox, bad)
    for f in (bad / "transformer").glob("*.safetensors"):
        f.rename(f.with_name("diffusion_pytorch_model.bin"))
    with pytest.raises(GenerateError, match="safetensors only"):
        get_backend("diffusers").generate(request(bad), JobContext())


@pytest.mark.parametrize("kw, match", [
    (dict(width=20), "multiples of 16"),
    (dict(frames=10), "8N\\+1"),
    (dict(image="missing.png"), "text-to-video"),
    (dict(steps=0), "at least 1"),
])
def test_bad_requests_are_one_line_errors(tiny_cogvideox, kw, match):
    with pytest.raises(GenerateError, match=match):
        get_backend("diffusers").check(request(tiny_cogvideox, **kw))


def test_not_a_model_folder(tmp_path):
    with pytest.raises(GenerateError, match="no model_index.json"):
        get_backend("diffusers").check(request(tmp_path))
    (tmp_path / "model_index.json").write_text('{"_class_name": "StableDiffusionPipeline"}')
    with pytest.raises(GenerateError, match="StableDiffusionPipeline"):
        get_backend("diffusers").check(request(tmp_path))


def _has_accelerate() -> bool:
    import importlib.util

    return importlib.util.find_spec("accelerate") is not None


@pytest.fixture(scope="session")
def tiny_wan(tmp_path_factory):
    from .tiny_models import wan_folder

    return wan_folder(tmp_path_factory)


def test_wan_folder_capabilities(tiny_wan):
    caps = capabilities_of(tiny_wan)
    assert caps.family == "wan" and str(caps.frame_rule) == "4N+1" and caps.fps == 16 and caps.size_multiple == 16


def test_wan_generates_deterministically(tiny_wan):
    backend = get_backend("diffusers")
    a = backend.generate(request(tiny_wan, frames=5, seed=2), JobContext())
    b = backend.generate(request(tiny_wan, frames=5, seed=2), JobContext())
    assert a.frames.shape == (5, 16, 16, 3) and a.fps == 16
    assert np.array_equal(a.frames, b.frames)


@pytest.fixture(scope="session")
def tiny_i2v(tmp_path_factory):
    from .tiny_models import cogvideox_i2v_folder

    return cogvideox_i2v_folder(tmp_path_factory)


def test_image_to_video_takes_an_image(tiny_i2v, tmp_path):
    from PIL import Image

    image = tmp_path / "red.png"
    Image.new("RGB", (40, 30), (200, 10, 10)).save(image)
    backend = get_backend("diffusers")
    assert backend.capabilities(request(tiny_i2v)).image_to_video
    with pytest.raises(GenerateError, match="give it --image"):
        backend.check(request(tiny_i2v))
    video = backend.generate(request(tiny_i2v, image=str(image)), JobContext())
    assert video.frames.shape == (9, 16, 16, 3) and video.request.image == str(image)


def test_the_split_latents_safe_decode_gives_the_same_frames(tiny_cogvideox, monkeypatch):
    """A decode too big for free memory runs as its own latents-keeping step (denoise to latents, then
    decode); a small one runs inside the pipeline call. Both give the very same frames."""
    from studio.ai.generate import diffusers_backend
    from studio.ai.models import memory

    backend = get_backend("diffusers")
    fused = backend.generate(request(tiny_cogvideox, seed=5), JobContext()).frames
    calls = []
    real = memory.decode_with_retry
    monkeypatch.setattr(diffusers_backend, "decode_with_retry", lambda *a, **k: calls.append(1) or real(*a, **k))
    monkeypatch.setattr(diffusers_backend, "DECODE_BYTES_PER_PIXEL", 1 << 50)
    messages = []
    split = backend.generate(request(tiny_cogvideox, seed=5), JobContext(on_progress=lambda f, m: messages.append(m)))
    assert calls == [1] and "decoding" in messages
    assert np.array_equal(fused, split.frames)


def test_folder_facts_are_read_once_until_the_folder_changes(tiny_cogvideox, tmp_path):
    from studio.ai.generate import families

    copy = tmp_path / "copy"
    shutil.copytree(tiny_cogvideox, copy)
    first = families.inspect_folder(copy)
    assert families.inspect_folder(copy) is first  # cached: no config read, no weights walk
    assert first.class_name == "CogVideoXPipeline" and first.unsafe is None
    assert dict(first.component_bytes)["transformer"] > 0
    index = copy / "model_index.json"
    index.write_text(index.read_text().replace("CogVideoXPipeline", "CogVideoXImageToVideoPipeline"))
    import os

    st = index.stat()
    os.utime(index, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))  # coarse clocks: make the change visible
    again = families.inspect_folder(copy)
    assert again is not first and again.capabilities.image_to_video


@pytest.fixture(scope="session")
def tiny_ltx(tmp_path_factory):
    from .tiny_models import ltx_folder

    return ltx_folder(tmp_path_factory)


def test_ltx_folder_capabilities(tiny_ltx):
    caps = capabilities_of(tiny_ltx)
    assert caps.family == "ltx" and caps.text_to_video and str(caps.frame_rule) == "8N+1"
    assert caps.size_multiple == 32 and caps.fps == 24  # LTXPipeline refuses sides not divisible by 32
    with pytest.raises(GenerateError, match="multiples of 32"):
        get_backend("diffusers").check(request(tiny_ltx, width=48, height=32))


def test_a_folder_loads_only_as_a_pipeline_of_its_family(tiny_ltx, tiny_cogvideox):
    backend = get_backend("diffusers")
    assert backend.capabilities(request(tiny_ltx, pipeline="LTXImageToVideoPipeline")).image_to_video
    with pytest.raises(GenerateError, match="cannot be loaded as WanPipeline"):
        backend.check(request(tiny_cogvideox, pipeline="WanPipeline"))
