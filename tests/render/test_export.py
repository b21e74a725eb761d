"""export(): synthetic sources with known ground truth in, verified files (or nothing at all) out.

The video source draws the sequence frame number as a counter (studio.media.synth), the
audio source is silent but for one-sample clicks at chosen sequence frames; decoding the
output tells which sequence frame each output frame shows and where the sound landed.
"""

from __future__ import annotations

import errno
import math
import os
import subprocess
import sys
import threading
import time
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from studio.core.factory import new_project
from studio.jobs.context import Cancelled, JobContext
from studio.media.synth import draw_frame, read_frame_counter
from studio.render import encode as encode_mod
from studio.render import verify as verify_mod
from studio.render.export import RenderError, export, plan_render
from studio.render.loudness import LoudnessMeter
from studio.render.presets import load_preset, preset_from_dict

W, H = 320, 180
SR = 48000

TINY = {
    "name": "Tiny test",
    "format": "mp4",
    "extension": ".mp4",
    "faststart": True,
    "video": {"codec": "libx264", "width": W, "height": H, "fps": 60, "pix_fmt": "yuv420p", "crf": 18,
              "speed": "ultrafast"},
    "audio": {"codec": "aac", "sample_rate": SR, "bitrate": "192k"},
}


@pytest.fixture
def tiny():
    return preset_from_dict(TINY)


def project(fps=Fraction(25), sample_rate=SR):
    return new_project(1280, 720, fps, name="t", sample_rate=sample_rate)


def counter_source(calls=None, delay=0.0, stop_after=None):
    def source(n):
        if calls is not None:
            calls.append(n)
        if stop_after is not None and n >= stop_after:
            return None
        if delay:
            time.sleep(delay)
        return av.VideoFrame.from_ndarray(draw_frame(n, W, H, 1 << 12), "rgb24")

    return source


def click_source(click_samples, channels=2):
    """Silence with a full-scale one-sample click at each absolute sequence sample in ``click_samples``."""

    def source(start, count):
        out = np.zeros((channels, count), np.float32)
        for s in click_samples:
            if start <= s < start + count:
                out[:, s - start] = 0.9
        return out

    return source


def decode_counters(path):
    with av.open(str(path)) as c:
        return [read_frame_counter(f.to_ndarray(format="rgb24")) for f in c.decode(video=0)]


def decode_audio(path):
    """All decoded samples as float64 ``(channels, n)`` and the sample rate."""
    blocks = []
    with av.open(str(path)) as c:
        rate = c.streams.audio[0].codec_context.sample_rate
        for f in c.decode(audio=0):
            a = f.to_ndarray()
            if not f.format.is_planar:
                a = a.reshape(-1, len(f.layout.channels)).T
            scale = {np.dtype(np.int16): 32768.0, np.dtype(np.int32): 2147483648.0}.get(a.dtype, 1.0)
            blocks.append(a.astype(np.float64) / scale)
    return np.concatenate(blocks, axis=1), rate


def clicks_in(signal, rate, windows):
    """Sample index of the loudest point inside each ``(start_s, end_s)`` window."""
    mono = np.abs(signal).max(axis=0)
    out = []
    for a, b in windows:
        lo, hi = int(a * rate), int(b * rate)
        out.append(lo + int(np.argmax(mono[lo:hi])))
    return out


def leftovers(folder):
    return sorted(p.name for p in Path(folder).iterdir())


# --------------------------------------------------------------------------- the happy path
def test_export_probes_right_and_shows_the_right_frames_with_audio_in_sync(tmp_path, tiny):
    p = project()
    fps_in, fps_out = Fraction(25), Fraction(60)
    click_frames = (10, 25, 40)
    clicks = [int(f * SR / fps_in) for f in click_frames]
    progress = []
    out = tmp_path / "out.mp4"
    ctx = JobContext(on_progress=lambda f, m: progress.append((f, m)))
    result = export(p, out, tiny, frame_range=(0, 50), context=ctx, video_source=counter_source(),
                    audio_source=click_source(clicks))

    assert leftovers(tmp_path) == ["out.mp4"]
    info = result.probe
    assert (info.width, info.height, info.fps) == (W, H, 60)
    assert info.has_audio and info.sample_rate == SR and info.channels == 2
    assert abs(info.duration - 2) <= Fraction(1, 60) and result.frames == 120
    data = out.read_bytes()
    assert data.find(b"moov") < data.find(b"mdat")  # faststart

    # 25 -> 60 fps by exact time: output frame k shows sequence frame floor(k * 25 / 60)
    counters = decode_counters(out)
    assert counters == [math.floor(k * fps_in / fps_out) for k in range(120)]

    # A/V sync: each click sounds within 1 ms of the first output frame showing its sequence frame
    signal, rate = decode_audio(out)
    assert rate == SR and abs(signal.shape[1] - 2 * SR) < 1024
    found = clicks_in(signal, rate, [(f / fps_in - 0.1, f / fps_in + 0.1) for f in click_frames])
    for frame, sample in zip(click_frames, found, strict=True):
        first_k = counters.index(frame)
        assert abs(sample / rate - first_k / fps_out) <= 0.001, (frame, sample, first_k)

    # progress: monotonic, ends at 1, says how fast it goes (the job system derives the ETA)
    fractions = [f for f, _ in progress]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert any(m.startswith("frame ") and m.endswith(" fps") for _, m in progress)


def test_range_starts_video_and_audio_at_the_same_sequence_instant(tmp_path, tiny):
    p = project()
    click_frame = 40  # 1.6 s into the sequence, 0.6 s into a range starting at frame 25
    calls = []
    out = tmp_path / "range.mp4"
    export(p, out, tiny, frame_range=(25, 50), video_source=counter_source(calls),
           audio_source=click_source([int(click_frame * SR / 25)]))
    counters = decode_counters(out)
    assert len(counters) == 60 and counters[0] == 25 and counters[-1] == 49
    assert sorted(set(calls)) == list(range(25, 50)) and len(calls) == 25  # each sequence frame composited once
    signal, rate = decode_audio(out)
    (sample,) = clicks_in(signal, rate, [(0.5, 0.7)])
    assert abs(sample / rate - counters.index(click_frame) / 60) <= 0.001


def test_ntsc_project_maps_exactly(tmp_path, tiny):
    fps = Fraction(30000, 1001)
    p = project(fps)
    plan = plan_render(p, tiny, (0, 30))
    assert plan.frames == math.ceil(30 * Fraction(60) / fps) == 61
    out = tmp_path / "ntsc.mp4"
    export(p, out, tiny, frame_range=(0, 30), video_source=counter_source(), audio_source=click_source([]))
    assert decode_counters(out) == [math.floor(k * fps / 60) for k in range(61)]


def test_audio_only_wav_is_sample_exact_and_resamples(tmp_path):
    wav = load_preset("Audio only (WAV)")
    p = project(Fraction(25))
    out = tmp_path / "mix.wav"
    result = export(p, out, wav, frame_range=(0, 50), audio_source=click_source([SR]))
    assert not result.probe.has_video and result.probe.duration == 2
    signal, rate = decode_audio(out)
    assert rate == SR and signal.shape[1] == 2 * SR
    assert int(np.argmax(np.abs(signal[0]))) == SR  # PCM: to the sample

    # a 44.1 kHz project is resampled to the preset's 48 kHz, the click still within 1 ms
    p44 = project(Fraction(25), sample_rate=44100)
    out44 = tmp_path / "mix44.wav"
    export(p44, out44, wav, frame_range=(0, 50), audio_source=click_source([44100]))
    signal, rate = decode_audio(out44)
    assert rate == SR and signal.shape[1] == 2 * SR
    assert abs(int(np.argmax(np.abs(signal[0]))) - SR) <= SR // 1000


# --------------------------------------------------------------------------- cancel and failures
def test_cancel_stops_within_a_second_and_leaves_nothing(tmp_path, tiny):
    ctx = JobContext()
    cancelled_at = []

    def cancel_later():
        time.sleep(0.4)
        cancelled_at.append(time.monotonic())
        ctx.cancel()

    threading.Thread(target=cancel_later, daemon=True).start()
    with pytest.raises(Cancelled):
        export(project(), tmp_path / "never.mp4", tiny, frame_range=(0, 2500), context=ctx,
               video_source=counter_source(delay=0.01), audio_source=click_source([]))
    assert time.monotonic() - cancelled_at[0] < 1.0
    assert leftovers(tmp_path) == []


def test_cancel_while_the_source_hangs_still_returns_promptly(tmp_path, tiny):
    ctx = JobContext()
    release = threading.Event()

    def hanging(n):
        if n >= 5:
            release.wait(10)
        return av.VideoFrame.from_ndarray(draw_frame(n, W, H, 100), "rgb24")

    threading.Timer(0.3, ctx.cancel).start()
    t0 = time.monotonic()
    try:
        with pytest.raises(Cancelled):
            export(project(), tmp_path / "hang.mp4", tiny, frame_range=(0, 100), context=ctx,
                   video_source=hanging, audio_source=click_source([]))
        assert time.monotonic() - t0 < 1.3
        assert leftovers(tmp_path) == []
    finally:
        release.set()


def test_source_that_ends_early_fails_verification_and_leaves_nothing(tmp_path, tiny):
    with pytest.raises(RenderError) as info:
        export(project(), tmp_path / "short.mp4", tiny, frame_range=(0, 50),
               video_source=counter_source(stop_after=30), audio_source=click_source([]))
    message = str(info.value)
    assert "failed verification" in message and "frames" in message and "\n" not in message
    assert leftovers(tmp_path) == []


def test_probe_mismatch_leaves_no_final_file(tmp_path, tiny, monkeypatch):
    real = verify_mod.probe
    monkeypatch.setattr(verify_mod, "probe", lambda path: replace(real(path), width=W * 2))
    with pytest.raises(RenderError, match=r"size 640x180, expected 320x180"):
        export(project(), tmp_path / "bad.mp4", tiny, frame_range=(0, 10), video_source=counter_source(),
               audio_source=click_source([]))
    assert leftovers(tmp_path) == []


def test_disk_full_gives_one_clear_error_and_no_partial_file(tmp_path, tiny, monkeypatch):
    real_mux = encode_mod.Encoder._mux
    calls = []

    def mux(self, packets):
        calls.append(1)
        if len(calls) > 20:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_mux(self, packets)

    monkeypatch.setattr(encode_mod.Encoder, "_mux", mux)
    out = tmp_path / "full.mp4"
    with pytest.raises(RenderError) as info:
        export(project(), out, tiny, frame_range=(0, 50), video_source=counter_source(), audio_source=click_source([]))
    assert str(info.value) == f"cannot write {str(out)!r}: no space left on device; nothing was saved"
    assert leftovers(tmp_path) == []


_FSIZE_SCRIPT = r"""
import resource, signal, sys
from fractions import Fraction
sys.path.insert(0, sys.argv[1])
from tests.render.test_export import TINY, click_source, counter_source, project
from studio.render.export import RenderError, export
from studio.render.presets import preset_from_dict
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (16_000, resource.RLIM_INFINITY))
try:
    export(project(), sys.argv[2], preset_from_dict(TINY), frame_range=(0, 100),
           video_source=counter_source(), audio_source=click_source([]))
except RenderError as e:
    print("RenderError:", e)
else:
    print("no error")
"""


@pytest.mark.skipif(not hasattr(os, "setrlimit") and sys.platform == "win32", reason="needs RLIMIT_FSIZE")
def test_a_real_write_failure_from_ffmpeg_is_caught(tmp_path):
    """FFmpeg's own write error (the file-size limit makes write() fail with EFBIG) is handled too."""
    root = Path(__file__).resolve().parents[2]
    out = tmp_path / "big.mp4"
    proc = subprocess.run([sys.executable, "-c", _FSIZE_SCRIPT, str(root), str(out)], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "RenderError: cannot write" in proc.stdout and "file too large" in proc.stdout, proc.stdout
    assert leftovers(tmp_path) == []


def test_unwritable_folder(tmp_path, tiny):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    if os.geteuid() == 0:  # root writes through permissions (CI runs as root): /proc takes no new files
        folder = Path("/proc")
    try:
        with pytest.raises(RenderError, match="cannot write in"):
            export(project(), folder / "x.mp4", tiny, frame_range=(0, 5), video_source=counter_source(),
                   audio_source=click_source([]))
        assert not any(".partial-" in p.name for p in folder.iterdir())
    finally:
        (tmp_path / "ro").chmod(0o700)


def test_bad_requests(tmp_path, tiny):
    with pytest.raises(RenderError, match="sequence is empty"):
        export(project(), tmp_path / "x.mp4", tiny, video_source=counter_source(), audio_source=click_source([]))
    with pytest.raises(RenderError, match="end must come after"):
        export(project(), tmp_path / "x.mp4", tiny, frame_range=(5, 2), video_source=counter_source(),
               audio_source=click_source([]))
    with pytest.raises(RenderError, match="does not exist"):
        export(project(), tmp_path / "nope" / "x.mp4", tiny, frame_range=(0, 5), video_source=counter_source(),
               audio_source=click_source([]))
    assert leftovers(tmp_path) == []


def test_source_errors_propagate_and_leave_nothing(tmp_path, tiny):
    def broken(n):
        if n == 7:
            raise ValueError("decoder exploded")
        return counter_source()(n)

    with pytest.raises(ValueError, match="decoder exploded"):
        export(project(), tmp_path / "x.mp4", tiny, frame_range=(0, 25), video_source=broken,
               audio_source=click_source([]))
    assert leftovers(tmp_path) == []

    def unreadable(start, count):  # an OSError from a source is not a write error
        raise FileNotFoundError(2, "No such file or directory", "music.wav")

    with pytest.raises(FileNotFoundError):
        export(project(), tmp_path / "x.mp4", tiny, frame_range=(0, 25), video_source=counter_source(),
               audio_source=unreadable)
    assert leftovers(tmp_path) == []


# --------------------------------------------------------------------------- loudness
def _tone(amplitude, freq=997.0):
    def source(start, count):
        t = (np.arange(start, start + count) / SR).astype(np.float64)
        s = (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)
        return np.stack([s, s])

    return source


def test_streaming_meter_agrees_with_pyloudnorm():
    import pyloudnorm

    rng = np.random.default_rng(1)
    signal = (rng.standard_normal((2, 3 * SR)) * np.linspace(0.02, 0.3, 3 * SR)).astype(np.float32)
    meter = LoudnessMeter(SR, 2)
    for start in range(0, signal.shape[1], 5000):
        meter.add(signal[:, start : start + 5000])
    reference = pyloudnorm.Meter(SR).integrated_loudness(signal.T.astype(np.float64))
    assert abs(meter.integrated() - reference) < 0.1


def test_normalise_reaches_the_target(tmp_path):
    import pyloudnorm

    wav = load_preset("Audio only (WAV)")
    out = tmp_path / "loud.wav"
    progress = []
    result = export(project(), out, wav, frame_range=(0, 75), audio_source=_tone(0.05), normalise_lufs=-16.0,
                    context=JobContext(on_progress=lambda f, m: progress.append(m)))
    assert result.loudness is not None and result.loudness < -25 and result.gain_db > 8
    signal, rate = decode_audio(out)
    measured = pyloudnorm.Meter(rate).integrated_loudness(signal.T)
    assert abs(measured - -16.0) < 0.3
    assert "measuring loudness" in progress


def test_normalise_never_pushes_the_peak_past_the_ceiling(tmp_path):
    wav = load_preset("Audio only (WAV)")
    logs = []
    out = tmp_path / "peak.wav"
    result = export(project(), out, wav, frame_range=(0, 50), audio_source=_tone(0.5), normalise_lufs=-1.0,
                    context=JobContext(on_log=logs.append))
    signal, _ = decode_audio(out)
    assert np.abs(signal).max() <= 10 ** (-1 / 20) + 1e-3
    assert result.gain_db is not None and any("no limiter" in m for m in logs)
