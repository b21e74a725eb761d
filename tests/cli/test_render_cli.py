"""`studio render`: bad input exits 2 with one line, Ctrl-C exits 130 leaving nothing, and a real
end-to-end render of `studio demo` (through the compositor and the mixer) probes right."""

from __future__ import annotations

import _thread
import json
import math
import subprocess
import sys
import threading
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from studio.cli.main import main
from studio.cli.render_cmd import parse_range
from studio.media.probe import probe
from studio.media.synth import draw_frame, read_frame_counter
from tests.cli.helpers import assert_bad_input, run

TINY = {
    "name": "Tiny CLI",
    "format": "mp4",
    "extension": ".mp4",
    "faststart": True,
    "video": {"codec": "libx264", "width": 320, "height": 180, "fps": 60, "pix_fmt": "yuv420p", "crf": 20,
              "speed": "ultrafast"},
    "audio": {"codec": "aac", "sample_rate": 48000, "bitrate": "128k"},
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """`studio demo`: 1280x720, 25 fps, 12 s, synthetic media (made once for this module)."""
    preset = tmp_path_factory.mktemp("preset") / "tiny.json"
    preset.write_text(json.dumps(TINY))
    folder = tmp_path_factory.mktemp("demo")
    assert main(["demo", "-o", str(folder), "--preset", str(preset)]) == 0  # builds, then renders
    return folder / "demo.studio", preset


def test_demo_renders_itself(demo):
    project, tiny = demo
    (rendered,) = [p for p in project.parent.iterdir() if p.suffix == ".mp4"]
    info = probe(rendered)
    assert rendered.name == "demo-tiny-cli.mp4"
    assert (info.width, info.height, info.fps) == (320, 180, 60)
    assert abs(info.duration - 12) <= Fraction(1, 60) and info.has_audio


def outputs(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.suffix in (".mp4", ".mov", ".wav"))


# --------------------------------------------------------------------------- bad input
def test_bad_input_is_one_line_and_exit_2(demo, tmp_path, capsys):
    project, tiny = demo
    out = tmp_path / "o.mp4"
    cases = [
        (["render", tmp_path / "missing.studio", "-o", out], ["missing.studio", "no such file"]),
        (["render", project, "-o", out, "--preset", "8K120"], ["unknown preset '8K120'", "'4K60 H.264'",
                                                                "'Audio only (WAV)'"]),
        (["render", project, "-o", out, "--range", "5-2"], ["bad --range '5-2'", "end must come after"]),
        (["render", project, "-o", out, "--range", "abc"], ["bad --range 'abc'"]),
        (["render", project, "-o", out, "--range", "1-xyz"], ["bad --range '1-xyz'", "bad time"]),
        (["render", project, "-o", out, "--range", "20-30"], ["sequence ends at 12.000 s"]),
        (["render", project, "-o", tmp_path / "nope" / "o.mp4"], ["output folder", "does not exist"]),
        (["render", project, "-o", tmp_path / "o.mov"], ["does not end in .mp4"]),
        (["render", project, "-o", out, "--crf", "99"], ["crf 99 is out of range"]),
        (["render", project, "-o", out, "--crf", "high"], ["invalid int value"]),
        (["render", project, "-o", out, "--speed", "warp"], ["unknown speed 'warp'"]),
        (["render", project, "-o", out, "--vcodec", "nonesuch"], ["no video encoder 'nonesuch'"]),
        (["render", project, "-o", out, "--normalize", "5"], ["--normalize"]),
        (["render", project, "-o", tmp_path / "a.wav", "--preset", "audio-only-wav", "--crf", "20"], ["has no video"]),
        (["render", project], ["-o/--output"]),
    ]
    for argv, fragments in cases:
        code, _, err = run(capsys, *argv)
        assert_bad_input(code, err, *fragments)
    assert outputs(tmp_path) == []


def test_empty_project_and_missing_media(tmp_path, capsys):
    empty = tmp_path / "empty.studio"
    assert run(capsys, "new", empty)[0] == 0
    code, _, err = run(capsys, "render", empty, "-o", tmp_path / "o.mp4")
    assert_bad_input(code, err, "nothing to render")

    from studio.cli.demo_cmd import make_demo
    from studio.core.projectfile import load_project

    project = make_demo(tmp_path / "d")
    loaded = load_project(project)
    second = sorted(loaded.sequence.tracks[0].clips, key=lambda c: c.position)[1]
    asset = loaded.asset(second.asset_id)
    Path(asset.path).unlink()
    code, _, err = run(capsys, "render", project, "-o", tmp_path / "o.mp4")
    assert_bad_input(code, err, f"missing media: {asset.name}")
    assert outputs(tmp_path) == []
    # only clips inside the range count: the second shot starts seconds later
    tiny = tmp_path / "tiny.json"
    tiny.write_text(json.dumps(TINY))
    code, _, err = run(capsys, "render", project, "-o", tmp_path / "o.mp4", "--range", "0-0.5", "--preset", tiny)
    assert code == 0, err
    assert outputs(tmp_path) == ["o.mp4"]


def test_parse_range():
    r = Fraction(25)
    assert parse_range("1-2", r, 300) == (25, 50)
    assert parse_range("00:00:01:00-00:00:02:12", r, 300) == (25, 62)
    assert parse_range("0.5-100", r, 300) == (12, 300)  # clamped to the sequence
    assert parse_range("10f-20f", r, 300) == (10, 20)


# --------------------------------------------------------------------------- with synthetic sources
def _fake_sources(delay=0.0):
    """Replacement for export._default_sources: a counter picture and silence (no media decoding)."""

    def factory(project, preset, need_video, need_audio):
        v = preset.video

        def video(n):
            if delay:
                time.sleep(delay)
            return av.VideoFrame.from_ndarray(draw_frame(n, v.width, v.height, 1 << 12), "rgb24")

        def audio(start, count):
            return np.zeros((project.settings.channels, count), np.float32)

        return (video if need_video else None), (audio if need_audio else None), lambda: None

    return factory


def test_render_with_overrides_and_progress(demo, tmp_path, capsys, monkeypatch):
    import studio.render.export as export_mod

    monkeypatch.setattr(export_mod, "_default_sources", _fake_sources())
    project, tiny = demo
    out = tmp_path / "o"  # the preset's extension is added
    code, stdout, err = run(capsys, "render", project, "-o", out, "--preset", tiny, "--range", "2-3",
                            "--crf", "30", "--speed", "superfast")
    assert code == 0, err
    assert "rendered" in stdout and str(out) + ".mp4" in stdout
    assert "render: done" in err  # plain progress lines (stderr is not a terminal here)
    info = probe(str(out) + ".mp4")
    assert (info.width, info.height, info.fps, info.duration) == (320, 180, 60, 1)
    with av.open(str(out) + ".mp4") as c:
        first = next(c.decode(video=0))
    assert read_frame_counter(first.to_ndarray(format="rgb24")) == 50  # the range starts at sequence frame 50


def test_ctrl_c_cancels_cleanly(demo, tmp_path, capsys, monkeypatch):
    import studio.render.export as export_mod

    monkeypatch.setattr(export_mod, "_default_sources", _fake_sources(delay=0.01))
    project, tiny = demo
    timer = threading.Timer(0.8, _thread.interrupt_main)
    timer.start()
    t0 = time.monotonic()
    try:
        code, _, err = run(capsys, "render", project, "-o", tmp_path / "o.mp4", "--preset", tiny)
    finally:
        timer.cancel()
    assert code == 130
    assert time.monotonic() - t0 < 4.0
    assert "interrupted" in err.strip().splitlines()[-1] and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []  # neither the output nor a partial file


# --------------------------------------------------------------------------- end to end
def test_render_the_demo_end_to_end(demo, tmp_path, capsys):
    """`studio demo` then `studio render` through the real compositor and mixer (a small preset)."""
    project, tiny = demo
    out = tmp_path / "demo.mp4"
    code, stdout, err = run(capsys, "render", project, "-o", out, "--preset", tiny, "--range", "0-0.8")
    assert code == 0, err
    info = probe(out)
    assert (info.width, info.height, info.fps) == (320, 180, 60)
    assert info.has_audio and info.sample_rate == 48000 and abs(info.duration - 0.8) <= 1 / 60
    with av.open(str(out)) as c:
        counters = [read_frame_counter(f.to_ndarray(format="rgb24")) for f in c.decode(video=0)]
    # shot1 (a counter clip) starts at sequence frame 0: 25 fps shown at 60 fps by exact time
    assert counters == [math.floor(k * 25 / 60) for k in range(48)]
    assert outputs(tmp_path) == ["demo.mp4"]

    wav = tmp_path / "mix.wav"
    code, stdout, err = run(capsys, "render", project, "-o", wav, "--preset", "audio-only-wav", "--normalize", "-20")
    assert code == 0, err
    assert "loudness" in stdout
    assert probe(wav).duration == 12 and not probe(wav).has_video


def _limit_file_size():  # runs in the child before exec: writes past 40 kB fail with EFBIG
    import resource
    import signal

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (40_000, resource.RLIM_INFINITY))


@pytest.mark.skipif(sys.platform == "win32", reason="needs RLIMIT_FSIZE")
def test_console_script_write_failure_is_one_error_line_without_traceback(demo, tmp_path):
    """The real `studio` process: FFmpeg's write fails mid-render; no traceback, exit 2, nothing left."""
    project, tiny = demo
    studio = Path(sys.executable).with_name("studio")
    out = tmp_path / "o.mp4"
    proc = subprocess.run([str(studio), "render", str(project), "-o", str(out), "--preset", str(tiny)],
                          capture_output=True, text=True, timeout=120, preexec_fn=_limit_file_size)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last == f"studio: error: cannot write {str(out)!r}: file too large for this file system; nothing was saved"
    assert list(tmp_path.iterdir()) == []
