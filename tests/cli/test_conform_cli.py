"""`studio conform`: a small clip end to end, bad input exits 2 with one line, Ctrl-C exits 130 and
leaves nothing."""

from __future__ import annotations

import _thread
import threading
import time
from fractions import Fraction

import pytest

from studio.cli.conform_cmd import parse_size
from studio.cli.errors import UsageError
from studio.media.probe import probe
from studio.media.synth import write_test_video
from tests.cli.helpers import assert_bad_input, run


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    folder = tmp_path_factory.mktemp("src")
    return write_test_video(folder / "clip.mp4", width=64, height=36, fps=16, frames=16)


def test_conform_small_clip(clip, tmp_path, capsys):
    out = tmp_path / "out.mp4"
    code, stdout, err = run(capsys, "conform", clip.path, "-o", out, "--size", "128x72", "--interp", "flow",
                            "--upscale", "lanczos")
    assert code == 0, err
    assert "conformed" in stdout and "60 frames from 16" in stdout
    info = probe(out)
    assert (info.width, info.height, info.fps, info.video_frames, info.has_audio) == (128, 72, Fraction(60), 60, True)
    assert abs(info.duration - 1) <= Fraction(1, 60)
    assert [p.name for p in tmp_path.iterdir()] == ["out.mp4"]


def test_defaults_are_4k60(clip, tmp_path, capsys, monkeypatch):
    import studio.ai.enhance.conform as conform_mod

    seen = {}

    def fake(src, out, **kw):
        seen.update(kw)
        raise conform_mod.ConformError("stop here")

    monkeypatch.setattr(conform_mod, "conform", fake)
    code, _, err = run(capsys, "conform", clip.path, "-o", tmp_path / "o.mp4")
    assert code == 2 and err.strip().splitlines()[-1] == "studio: error: stop here"  # after the bar's last line
    assert seen["fps"] == 60 and seen["size"] == (3840, 2160) and seen["interp"] == seen["upscale"] == "auto"


def test_bad_input_is_one_line_and_exit_2(clip, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("STUDIO_RIFE_WEIGHTS", raising=False)
    corrupt = tmp_path / "corrupt.mp4"
    corrupt.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x13" * 500)
    out = tmp_path / "o.mp4"
    cases = [
        ((tmp_path / "missing.mp4", "-o", out), ("missing.mp4",)),
        ((corrupt, "-o", out), ("corrupt.mp4",)),
        ((clip.path, "-o", out, "--size", "12x"), ("--size", "12x")),
        ((clip.path, "-o", out, "--size", "101x50"), ("even",)),
        ((clip.path, "-o", out, "--fps", "abc"), ("--fps",)),
        ((clip.path, "-o", out, "--fps", "0"), ("--fps",)),
        ((clip.path, "-o", tmp_path / "o.avi"), (".mp4",)),
        ((clip.path, "-o", tmp_path / "nodir" / "o.mp4"), ("does not exist",)),
        ((clip.path, "-o", out, "--interp", "rife"), ("STUDIO_RIFE_WEIGHTS",)),
        ((clip.path, "-o", out, "--upscale", "bicubic"), ("invalid choice",)),
        ((clip.path,), ("-o",)),
    ]
    for argv, fragments in cases:
        code, _, err = run(capsys, "conform", *argv)
        assert_bad_input(code, err, *fragments)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corrupt.mp4"]


def test_parse_size():
    assert parse_size("3840x2160") == (3840, 2160)
    assert parse_size(" 1280 X 720 ") == (1280, 720)
    for bad in ("12x", "x720", "abc", "0x0", "3841x2160", "-2x4"):
        with pytest.raises(UsageError):
            parse_size(bad)


def test_ctrl_c_exits_130_and_leaves_nothing(tmp_path, capsys, monkeypatch):
    import studio.ai.enhance.upscale as upscale_mod

    src = write_test_video(tmp_path.parent / f"{tmp_path.name}-long.mp4", width=64, height=36, fps=16, frames=64)
    slow = upscale_mod.LanczosUpscaler.__call__

    def slowly(self, rgb):
        time.sleep(0.01)
        return slow(self, rgb)

    monkeypatch.setattr(upscale_mod.LanczosUpscaler, "__call__", slowly)
    timer = threading.Timer(0.8, _thread.interrupt_main)
    timer.start()
    t0 = time.monotonic()
    try:
        code, _, err = run(capsys, "conform", src.path, "-o", tmp_path / "o.mp4", "--size", "64x36")
    finally:
        timer.cancel()
    assert code == 130
    assert time.monotonic() - t0 < 5.0
    assert "interrupted" in err.strip().splitlines()[-1] and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_conform_with_an_rrdb_esrgan_model(tmp_path, capsys, monkeypatch):
    """`--upscale esrgan` with a Real-ESRGAN RRDBNet file (x2, ``params_ema`` .pth) from STUDIO_ESRGAN_WEIGHTS;
    a file of an unknown architecture is one line naming it, exit 2, nothing written."""
    torch = pytest.importorskip("torch")
    from studio.ai.enhance.rrdb import build_rrdb

    torch.manual_seed(0)
    model = build_rrdb(scale=2, num_feat=8, num_block=2, num_grow_ch=4)
    weights = tmp_path / "RealESRGAN_x2_tiny.pth"
    torch.save({"params_ema": model.state_dict()}, str(weights))
    src = write_test_video(tmp_path / "in.mp4", width=32, height=18, fps=16, frames=3, audio=False)
    monkeypatch.setenv("STUDIO_ESRGAN_WEIGHTS", str(weights))
    out = tmp_path / "out.mp4"
    code, stdout, err = run(capsys, "conform", src.path, "-o", out, "--fps", "16", "--size", "64x36",
                            "--interp", "flow", "--upscale", "esrgan")
    assert code == 0, err
    assert "flow + esrgan" in stdout and "3 frames from 3" in stdout
    info = probe(out)
    assert (info.width, info.height, info.video_frames) == (64, 36, 3)

    unknown = tmp_path / "not_an_upscaler.pth"
    torch.save({"encoder.0.weight": torch.zeros(4, 3, 3, 3)}, str(unknown))
    monkeypatch.setenv("STUDIO_ESRGAN_WEIGHTS", str(unknown))
    bad_out = tmp_path / "bad.mp4"
    code, _, err = run(capsys, "conform", src.path, "-o", bad_out, "--fps", "16", "--size", "64x36",
                       "--interp", "flow", "--upscale", "esrgan")
    last = err.strip().splitlines()[-1]
    assert code == 2 and "not_an_upscaler.pth" in last and "unknown model layout" in last, err
    assert "Traceback" not in err and not bad_out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["RealESRGAN_x2_tiny.pth", "in.mp4", "not_an_upscaler.pth",
                                                          "out.mp4"]
