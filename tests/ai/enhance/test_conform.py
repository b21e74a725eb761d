"""`conform`: exact frame count and timestamps on disk, audio carried over, cancel leaves nothing,
a recipe for the asset, and `auto` never picks a learned method without weights and CUDA."""

from __future__ import annotations

import threading
from fractions import Fraction

import av
import numpy as np
import pytest

from studio.ai.enhance import conform as conform_mod
from studio.ai.enhance.conform import ConformError, conform, conform_job, recipe_for, resolve_methods
from studio.jobs import Cancelled, JobContext, Scheduler
from studio.media.probe import MediaError, probe
from studio.media.synth import read_frame_counter, write_test_video


def _pts_seconds(path):
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        return sorted(Fraction(p.pts) * s.time_base for p in c.demux(s) if p.pts is not None)


@pytest.mark.parametrize(("fps", "frames", "suffix"), [(Fraction(16), 16, ".mp4"),
                                                        (Fraction(30000, 1001), 30, ".mp4"),
                                                        (Fraction(24), 24, ".mkv")])
def test_conform_exact_frames_and_timestamps(tmp_path, fps, frames, suffix):
    src = write_test_video(tmp_path / "in.mov", width=64, height=36, fps=fps, frames=frames)
    out = tmp_path / f"out{suffix}"
    seen = []
    result = conform(src.path, out, fps=Fraction(60), size=(128, 72), interp="flow", upscale="lanczos",
                     context=JobContext(on_progress=lambda f, m: seen.append(f)))
    assert result.frames == 60 and result.source_frames == frames
    assert abs(result.duration - src.duration) <= Fraction(1, 60)
    info = probe(out)
    assert (info.width, info.height, info.fps, info.has_audio) == (128, 72, Fraction(60), True)
    pts = _pts_seconds(out)
    if suffix == ".mp4":
        assert pts == [Fraction(k, 60) for k in range(60)]
    else:  # Matroska keeps milliseconds (and shifts everything by the AAC priming)
        assert all(abs((p - pts[0]) - Fraction(k, 60)) <= Fraction(1, 1000) for k, p in enumerate(pts))
    assert seen and seen[-1] == 1.0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.mov", f"out{suffix}"]  # no temp file left
    # Frames at integer source positions are the source frames (the counter survives upscaling).
    with av.open(str(out)) as c:
        decoded = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    assert len(decoded) == 60
    if fps == 16:
        for k in (0, 15, 30, 45):
            assert read_frame_counter(decoded[k][:, :, :]) == k * 16 // 60
    pairs = dict(result.settings)
    assert pairs["interp"] == "flow" and pairs["upscale"] == "lanczos" and pairs["fps"] == "60/1"
    assert pairs["source_fingerprint"] and pairs["source_frames"] == frames
    recipe = recipe_for(result)
    assert recipe.backend == "conform" and recipe.conform == result.settings and recipe.frames == 60


def test_audio_is_reencoded_when_it_cannot_be_copied(tmp_path, monkeypatch):
    src = write_test_video(tmp_path / "in.mp4", width=64, height=36, fps=16, frames=16)
    monkeypatch.setattr(conform_mod, "_COPYABLE", {})
    result = conform(src.path, tmp_path / "o.mp4", fps=60, size=(64, 36), interp="flow", upscale="lanczos")
    assert result.audio == "aac" and probe(tmp_path / "o.mp4").has_audio


def test_cancel_leaves_nothing(tmp_path):
    src = write_test_video(tmp_path.parent / f"{tmp_path.name}-in.mp4", width=64, height=36, fps=16, frames=32)
    ctx = JobContext()
    ctx.on_progress = lambda f, m: ctx.cancel() if f > 0.2 else None
    with pytest.raises(Cancelled):
        conform(src.path, tmp_path / "o.mp4", fps=60, size=(64, 36), context=ctx)
    assert list(tmp_path.iterdir()) == []


def test_bad_input(tmp_path):
    with pytest.raises(MediaError):
        conform(tmp_path / "missing.mp4", tmp_path / "o.mp4")
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00" * 1000)
    with pytest.raises(MediaError):
        conform(bad, tmp_path / "o.mp4")
    with pytest.raises(ConformError, match="even"):
        conform(bad, tmp_path / "o.mp4", size=(101, 50))
    with pytest.raises(ConformError, match="frame rate"):
        conform(bad, tmp_path / "o.mp4", fps=0)
    with pytest.raises(ConformError, match=".mp4"):
        conform(bad, tmp_path / "o.avi")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.mp4"]


def test_auto_needs_weights_and_cuda(tmp_path, monkeypatch):
    monkeypatch.delenv(conform_mod.RIFE_ENV, raising=False)
    monkeypatch.delenv(conform_mod.ESRGAN_ENV, raising=False)
    assert resolve_methods("auto", "auto") == ("flow", "lanczos")
    weights = tmp_path / "w.pth"
    weights.write_bytes(b"x")
    monkeypatch.setattr(conform_mod, "_cuda", lambda: False)
    assert resolve_methods("auto", "auto", weights, weights) == ("flow", "lanczos")
    monkeypatch.setattr(conform_mod, "_cuda", lambda: True)
    assert resolve_methods("auto", "auto", weights, weights) == ("rife", "esrgan")
    with pytest.raises(ConformError, match="STUDIO_RIFE_WEIGHTS"):
        resolve_methods("rife", "auto")
    with pytest.raises(ConformError, match="do not exist"):
        resolve_methods("flow", "esrgan", None, tmp_path / "nope.pth")


def test_conform_job_runs_on_the_scheduler(tmp_path):
    src = write_test_video(tmp_path / "in.mp4", width=64, height=36, fps=24, frames=12, audio=False)
    sched = Scheduler()
    try:
        handle = sched.submit(conform_job(src.path, tmp_path / "o.mp4", Fraction(60), (64, 36), "flow", "lanczos"))
        result = handle.get(60)
    finally:
        sched.shutdown()
    assert result.frames == 30 and result.audio == "none"
    assert probe(tmp_path / "o.mp4").video_frames == 30


def test_esrgan_end_to_end_with_tiny_random_weights(tmp_path):
    torch = pytest.importorskip("torch")
    from safetensors.torch import save_file

    from studio.ai.enhance.srvgg import build_compact

    torch.manual_seed(0)
    model = build_compact(num_feat=4, num_conv=1, upscale=2)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(tmp_path / "tiny.safetensors"))
    src = write_test_video(tmp_path / "in.mp4", width=64, height=36, fps=16, frames=8, audio=False)
    result = conform(src.path, tmp_path / "o.mp4", fps=32, size=(128, 72), interp="flow", upscale="esrgan",
                     esrgan_weights=tmp_path / "tiny.safetensors")
    assert result.upscale == "esrgan" and dict(result.settings)["esrgan_weights"] == "tiny.safetensors"
    assert probe(tmp_path / "o.mp4").video_frames == 16


def test_thread_pool_frames_equal_sequential_frames(tmp_path):
    """Frames made on a pool (as conform does) equal frames made in order (the encoded files may still
    differ: multi-threaded x264 is not bit-exact run to run on tiny frames)."""
    from concurrent.futures import ThreadPoolExecutor

    from studio.ai.enhance.conform import _frames
    from studio.ai.enhance.flow import FlowInterpolator
    from studio.ai.enhance.retime import plan

    src = write_test_video(tmp_path / "in.mp4", width=96, height=54, fps=16, frames=12, audio=False)
    frames = list(_frames(src.path))
    in_order = [make() for _, make in plan(frames, 16, 60, FlowInterpolator())]
    with ThreadPoolExecutor(4) as pool:
        pooled = [f.result() for f in [pool.submit(make) for _, make in plan(frames, 16, 60, FlowInterpolator())]]
    assert len(in_order) == len(pooled) == 45
    assert all(np.array_equal(a, b) for a, b in zip(in_order, pooled, strict=True))
    assert threading.active_count() < 20
