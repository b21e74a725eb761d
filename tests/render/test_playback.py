"""Playback engine logic with a fake clock and a fake renderer; the audio ring; no-device fallback."""

from __future__ import annotations

import builtins
import sys
import time
import types
from dataclasses import replace
from fractions import Fraction

import numpy as np
import pytest

from studio.core.factory import new_project
from studio.render import audio_output
from studio.render.audio_output import AudioFeed, AudioRing
from studio.render.playback import PlaybackEngine, next_shuttle_rate


class FakeClock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t

    def advance(self, frames: float, fps: float = 25.0) -> None:
        self.t += frames / fps


class FakeSource:
    """Frame n is a 2x2 image filled with n % 256 (so tests can read which frame it is)."""

    def __init__(self) -> None:
        self.rendered: list[int] = []

    def render(self, n: int, width: int, height: int) -> np.ndarray:
        self.rendered.append(n)
        return np.full((height, width, 3), n % 256, np.uint8)

    def close(self) -> None:
        pass


def make_engine(duration: int = 200, **kw):
    project = new_project(64, 36, Fraction(25))
    project = _with_duration(project, duration)
    clock = FakeClock()
    kw.setdefault("audio", False)
    engine = PlaybackEngine(project, source=FakeSource(), time_fn=clock, threads=False, **kw)
    return engine, clock


def _with_duration(project, duration: int):
    """The same project with a sequence lasting ``duration`` frames (no media needed)."""
    return replace(project, sequence=replace(project.sequence, min_length=duration))


def drain(engine: PlaybackEngine, limit: int = 50) -> None:
    for _ in range(limit):
        if not engine.render_step():
            return


def test_shuttle_sequence() -> None:
    rates = []
    r = 0
    for key in "lllllkjjjjjlk":
        r = next_shuttle_rate(r, key)
        rates.append(r)
    assert rates == [1, 2, 4, 8, 8, 0, -1, -2, -4, -8, -8, 1, 0]
    with pytest.raises(ValueError):
        next_shuttle_rate(0, "x")


def test_seek_while_paused_shows_that_frame() -> None:
    engine, _ = make_engine()
    assert engine.duration == 200
    engine.seek(42)
    assert engine.poll() is None  # nothing rendered yet
    drain(engine)
    shown = engine.poll()
    assert shown is not None and shown.n == 42 and shown.image[0, 0, 0] == 42
    assert engine.poll() is None  # not shown twice
    assert engine.render_step() is False  # nothing more to do while paused


def test_scrubbing_shows_the_latest_finished_frame_until_the_asked_one_is_ready() -> None:
    engine, _ = make_engine()
    source = engine._source
    render = source.render

    def overtaken(n, w, h):  # the user drags on while frame n is being made
        if n == 10:
            engine.seek(20)
        return render(n, w, h)

    source.render = overtaken
    engine.seek(10)
    engine.render_step()
    assert engine.poll().n == 10  # not what was asked for any more, but better than nothing
    assert engine.poll() is None
    engine.render_step()
    assert engine.poll().n == 20

    def resized(n, w, h):  # the view is resized while frame 30 is being made
        engine.set_display_size(32, 18)
        engine.seek(40)
        return render(n, w, h)

    source.render = resized
    engine.seek(30)
    engine.render_step()
    assert engine.poll() is None  # a picture of the old size is never shown
    source.render = render
    engine.render_step()
    shown = engine.poll()
    assert shown.n == 40 and shown.image.shape == (18, 32, 3)


def test_play_advances_with_clock_and_drops_late_frames() -> None:
    engine, clock = make_engine()
    engine.seek(10)
    engine.play()
    drain(engine)  # fills the read-ahead queue
    queued = sorted(engine._queue)
    assert len(queued) == engine.read_ahead and queued[0] >= 10
    clock.advance(queued[0] - 10)
    assert engine.poll().n == queued[0]
    clock.advance(3)  # three frames later: the two in between are late and dropped
    shown = engine.poll()
    assert shown.n == queued[0] + 3
    assert engine.stats.dropped == 2
    # the renderer never makes frames already passed by the clock (the one due now is still worth it)
    clock.advance(50)
    drain(engine)
    assert min(engine._queue) >= int(engine.position() + 1e-6)
    assert engine.stats.skipped > 0


def test_rate_change_and_reverse_flush() -> None:
    engine, clock = make_engine()
    engine.seek(100)
    engine.set_rate(4)
    drain(engine)
    q = sorted(engine._queue)
    assert all((b - a) % 4 == 0 for a, b in zip(q, q[1:], strict=False))  # every 4th frame
    clock.advance(2)  # 25 fps * 4 = 100 frames/s: 8 frames
    assert abs(engine.position() - 108) < 1e-6
    engine.set_rate(-2)  # direction change flushes
    assert not engine._queue
    drain(engine)
    assert all(n <= 108 for n in engine._queue)
    clock.advance(1)
    assert abs(engine.position() - 106) < 1e-6
    shown = engine.poll()
    assert shown is None or shown.n >= 106


def test_jkl_through_engine() -> None:
    engine, clock = make_engine()
    engine.seek(50)
    for key, want in [("l", 1), ("l", 2), ("l", 4), ("k", 0), ("j", -1), ("j", -2), ("l", 1)]:
        assert engine.shuttle(key) == want
        assert engine.rate == want
        clock.advance(1)
    engine.pause()
    assert not engine.playing


def test_seek_flushes_read_ahead_while_playing() -> None:
    engine, clock = make_engine()
    engine.play()
    drain(engine)
    assert engine._queue
    engine.seek(150)
    assert not engine._queue
    drain(engine)
    assert min(engine._queue) >= 150
    clock.advance(2)
    assert engine.poll().n >= 150


def test_play_stops_at_out_point_or_loops() -> None:
    engine, clock = make_engine()
    engine.set_in(20)
    engine.set_out(29)
    engine.seek(25)
    engine.play()
    clock.advance(10)
    engine.poll()
    assert not engine.playing and engine.frame() == 29
    engine.loop = True
    engine.seek(25)
    engine.play()
    clock.advance(6)
    engine.poll()
    assert engine.playing and engine.frame() == 20


def test_step_pauses_and_moves() -> None:
    engine, _ = make_engine()
    engine.seek(10)
    engine.step(1)
    engine.step(1)
    engine.step(-1)
    assert engine.frame() == 11 and not engine.playing
    engine.step(-100)
    assert engine.frame() == 0


# --- audio ------------------------------------------------------------------------------------
def ramp_mix(start: int, count: int) -> np.ndarray:
    """Sample k is k (channel 0) and -k (channel 1): exact in float32 below 2**24."""
    k = np.arange(start, start + count, dtype=np.float32)
    return np.stack([k, -k])


def test_ring_feed_delivers_the_right_samples_at_the_right_callback_position() -> None:
    ring = AudioRing(2, 4096)
    feed = AudioFeed(ramp_mix, ring, block=1000, start_thread=False)
    start = 48000 * 7 + 13
    feed.start(start)
    out = np.empty((333, 2), np.float32)
    played = 0
    for _ in range(40):
        while feed.fill():
            pass
        n = ring.read(out)
        assert n == len(out)
        want = np.arange(start + played, start + played + n, dtype=np.float32)
        np.testing.assert_array_equal(out[:, 0], want)
        np.testing.assert_array_equal(out[:, 1], -want)
        played += n
    assert ring.start == start + played
    # a seek flushes: the next callback plays the new position
    feed.start(1000)
    ring.write(ramp_mix(5, 10), ring.epoch - 1)  # a stale block from before the seek is dropped
    feed.fill()
    ring.read(out)
    assert out[0, 0] == 1000
    # dry ring: silence, the clock (ring.start) holds
    feed.stop()
    before = ring.start
    assert ring.read(out) == 0 and not out.any() and ring.start == before


class FakeOutput:
    latency = 0.0

    def __init__(self, callback) -> None:
        self.callback = callback

    def peaks(self):
        return np.zeros(2, np.float32)

    def close(self) -> None:
        pass


def test_audio_clock_leads_at_rate_1_only() -> None:
    outputs = []

    def open_audio(sr, ch, callback):
        outputs.append(FakeOutput(callback))
        return outputs[0], ""

    engine, clock = make_engine(audio=True, open_audio=open_audio, mix=ramp_mix)
    assert engine.has_audio
    engine.seek(50)
    engine.play()
    clock.advance(10)  # the wall clock moves, but nothing was played yet: position holds
    assert engine.position() == 50
    while engine.feed.fill():
        pass
    out = np.empty((48000 // 25 * 2, 2), np.float32)  # two frames of audio
    outputs[0].callback(out)
    assert out[0, 0] == 50 * 48000 // 25  # frame 50's first sample comes out first
    assert abs(engine.position() - 52) < 1e-6
    engine.set_rate(2)  # shuttle: silent, wall clock
    assert not engine.ring.active
    outputs[0].callback(out)
    assert not out.any()
    clock.advance(1)
    assert abs(engine.position() - 54) < 1e-6


def test_no_portaudio_falls_back_to_silence(monkeypatch) -> None:
    real_import = builtins.__import__

    def fake_import(name, *args, **kw):
        if name == "sounddevice":
            raise OSError("PortAudio library not found")
        return real_import(name, *args, **kw)

    monkeypatch.delitem(sys.modules, "sounddevice", raising=False)
    monkeypatch.setattr(builtins, "__import__", fake_import)
    output, reason = audio_output.open_output_or_reason(48000, 2, lambda out: None)
    assert output is None and "PortAudio" in reason
    assert audio_output.open_output(48000, 2, lambda out: None) is None
    monkeypatch.setattr(builtins, "__import__", real_import)

    monkeypatch.setattr(audio_output, "_load_sounddevice", _raising_sounddevice)
    engine, clock = make_engine(audio=True, mix=ramp_mix)
    assert not engine.has_audio and "no audio output device" in engine.audio_reason
    engine.seek(5)
    engine.play()
    clock.advance(3)
    assert abs(engine.position() - 8) < 1e-6  # wall clock
    assert not engine.levels().any()
    engine.close()


def _raising_sounddevice():
    mod = types.SimpleNamespace()

    class PortAudioError(Exception):
        pass

    def output_stream(**kw):
        raise PortAudioError("Error querying device -1")

    mod.PortAudioError = PortAudioError
    mod.OutputStream = output_stream
    return mod


def test_real_output_if_any() -> None:
    """On a machine with a card this opens and closes it; without one it says why."""
    output, reason = audio_output.open_output_or_reason(48000, 2, lambda out: out.fill(0))
    if output is None:
        assert reason
    else:
        assert output.peaks().shape == (2,)
        output.close()


class FakeStream:
    """Stands in for sounddevice.OutputStream; the test calls ``pull(n)`` as the device would."""

    latency = 0.0

    def __init__(self, samplerate, channels, dtype, blocksize, callback) -> None:
        self.channels, self.callback = channels, callback
        self.started = False

    def start(self) -> None:
        self.started = True

    def stop(self) -> None:
        self.started = False

    def close(self) -> None:
        pass

    def pull(self, n: int) -> np.ndarray:
        out = np.empty((n, self.channels), np.float32)
        self.callback(out, n, None, None)
        return out


def test_device_path_plays_the_mix_and_drives_the_clock(monkeypatch, tmp_path) -> None:
    """AudioOutput + AudioFeed + AudioMixer on the demo project, with a fake PortAudio stream."""
    from studio.cli.demo_cmd import make_demo
    from studio.core.projectfile import load_project
    from studio.core.timebase import frames_to_samples
    from studio.media.source_pool import SourcePool
    from studio.render.mixer import AudioMixer

    streams: list[FakeStream] = []

    def output_stream(**kw):
        streams.append(FakeStream(**kw))
        return streams[-1]

    monkeypatch.setattr(audio_output, "_load_sounddevice",
                        lambda: types.SimpleNamespace(OutputStream=output_stream, PortAudioError=OSError))
    project = load_project(make_demo(tmp_path))
    sr, ch, fps = project.settings.sample_rate, project.settings.channels, project.settings.fps
    clock = FakeClock()
    engine = PlaybackEngine(project, source=FakeSource(), time_fn=clock)
    try:
        assert engine.has_audio and streams[0].started
        start = 210  # colour bars with a -20 dBFS tone (and the music bed)
        engine.seek(start)
        engine.play()
        got = []
        for _ in range(20):
            deadline = time.monotonic() + 5
            while engine.ring.end - engine.ring.start < 512 and time.monotonic() < deadline:
                time.sleep(0.001)
            got.append(streams[0].pull(512))
        got = np.concatenate(got)
        first = frames_to_samples(start, fps, sr)
        with SourcePool() as pool:
            want = AudioMixer(project, lambda p: pool.audio(p, sr, ch)).mix(first, len(got)).T
        np.testing.assert_allclose(got, want, atol=1e-6)
        # the audio clock: 20 x 512 samples played, whatever the wall clock says
        clock.advance(100)
        assert abs(engine.position() - (start + len(got) * float(fps) / sr)) < 1e-6
        peaks = engine.levels()
        assert peaks.shape == (ch,) and 0.05 < peaks.max() <= 1.0
    finally:
        engine.close()
