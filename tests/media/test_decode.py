"""Frame-exact decoding, the frame cache and the source pool (tiny synthetic media)."""

from __future__ import annotations

import random
import sys
import threading
import time
import types
from fractions import Fraction

import av
import numpy as np
import pytest

from studio.media import synth
from studio.media.decode import VideoSource
from studio.media.frame_cache import END, FrameCache
from studio.media.probe import MediaError
from studio.media.source_pool import SourcePool

W, H = 160, 90


def counter(frame) -> int:
    return synth.read_frame_counter(frame.to_ndarray(format="rgb24"))


def write_video(path, *, frames: int, fps=Fraction(25), pts: list[int] | None = None, time_base=None,
                keyint: int = 8, bframes: int = 0, width: int = W, height: int = H) -> str:
    """Frame i shows counter i; ``pts`` (in ``time_base``) makes it variable-frame-rate."""
    path = str(path)
    fps = Fraction(fps)
    tb = time_base or 1 / fps
    with av.open(path, "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.codec_context.time_base = tb
        stream.options = {"preset": "ultrafast", "crf": "18",
                          "x264-params": f"keyint={keyint}:min-keyint={keyint}:scenecut=0:bframes={bframes}"}
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(synth.draw_frame(i, width, height, frames), "rgb24")
            frame.pts = pts[i] if pts is not None else i
            frame.time_base = tb
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


@pytest.fixture(scope="module")
def gop_video(tmp_path_factory):
    """48 frames at 25 fps, a keyframe every 8 frames and B-frames (reordered decoding)."""
    return write_video(tmp_path_factory.mktemp("dec") / "gop.mp4", frames=48, keyint=8, bframes=2)


# --------------------------------------------------------------------------- frame exactness
def test_sequential_read_never_seeks(clip_25):
    src = VideoSource(clip_25.path)
    assert (src.width, src.height, src.pix_fmt, src.fps) == (320, 180, "yuv420p", 25)
    assert src.duration == 2 and not src.vfr and src.frame_count == 50
    for i in range(clip_25.frames):
        assert counter(src.frame_at(Fraction(i, 25))) == i
    assert src.seeks == 0


@pytest.mark.parametrize("cached", [False, True])
def test_random_seeks_are_frame_exact(gop_video, cached):
    src = VideoSource(gop_video, cache=FrameCache(64 << 20) if cached else None)
    rng = random.Random(1234)
    order = list(range(48)) * 2
    rng.shuffle(order)
    for i in order:
        t = Fraction(i, 25) + Fraction(rng.randrange(40), 1000)  # anywhere inside frame i's 40 ms
        assert counter(src.frame_at(t)) == i, f"t={t}"
    assert src.seeks > 0


def test_slow_and_backwards_steps(gop_video):
    src = VideoSource(gop_video)
    for k in range(20):  # half speed: every frame twice
        assert counter(src.frame_at(Fraction(k, 50))) == k // 2
    for i in reversed(range(48)):  # reverse playback
        assert counter(src.frame_at(Fraction(i, 25))) == i


def test_clamps_to_first_and_last_frame(gop_video):
    src = VideoSource(gop_video)
    assert counter(src.frame_at(Fraction(-3))) == 0
    assert counter(src.frame_at(Fraction(100))) == 47
    assert counter(src.frame_at(Fraction(47, 25))) == 47
    assert counter(src.frame_at(Fraction(0))) == 0


def test_ntsc_rate(clip_ntsc):
    src = VideoSource(clip_ntsc.path)
    assert src.fps == Fraction(30000, 1001)
    order = list(range(clip_ntsc.frames))
    random.Random(7).shuffle(order)
    for i in list(range(clip_ntsc.frames)) + order:
        assert counter(src.frame_at(Fraction(i * 1001, 30000))) == i
        assert counter(src.frame_at(Fraction(i * 1001, 30000) + Fraction(1001, 60000))) == i


@pytest.mark.parametrize("ext", ["mp4", "mkv"])
def test_variable_frame_rate_maps_by_timestamp(tmp_path, ext):
    pts_ms = [0, 40, 50, 130, 170, 300, 310, 320, 400, 433, 500, 640, 650, 700]
    path = write_video(tmp_path / f"vfr.{ext}", frames=len(pts_ms), pts=pts_ms, time_base=Fraction(1, 1000),
                       keyint=4)
    src = VideoSource(path)
    times = [Fraction(p, 1000) + Fraction(d, 1000) for p in pts_ms for d in (0, 3, 7)]
    times += [Fraction(p - 3, 1000) for p in pts_ms[1:]]
    random.Random(3).shuffle(times)
    for t in times:
        expected = max(i for i, p in enumerate(pts_ms) if Fraction(p, 1000) <= t)
        assert counter(src.frame_at(t)) == expected, f"t={t}"


def test_frames_are_threaded_decoder_output(gop_video):
    src = VideoSource(gop_video, threads=2)
    ctx = src._stream.codec_context
    assert ctx.thread_type.name == "AUTO" and ctx.thread_count == 2
    assert counter(src.frame_at(Fraction(30, 25))) == 30


# --------------------------------------------------------------------------- bad input
def test_missing_and_garbage_files_raise_media_error(tmp_path):
    with pytest.raises(MediaError) as e:
        VideoSource(tmp_path / "nope.mp4")
    assert "nope.mp4" in str(e.value)
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(bytes(random.Random(0).randrange(256) for _ in range(20000)))
    with pytest.raises(MediaError) as e:
        VideoSource(junk)
    assert e.value.path == str(junk)


def test_truncated_file_raises_media_error(gop_video, tmp_path):
    data = open(gop_video, "rb").read()
    cut = tmp_path / "cut.mp4"  # mp4 keeps its index at the end: half a file has none
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(MediaError) as e:
        VideoSource(cut)
    assert str(cut) in str(e.value)


def test_damaged_data_is_bounded_and_never_raw(tmp_path):
    path = write_video(tmp_path / "ok.mkv", frames=40, keyint=8)
    data = bytearray(open(path, "rb").read())
    rng = random.Random(5)
    for _ in range(40):  # scribble over the middle, keep the header
        i = rng.randrange(len(data) // 4, len(data))
        data[i: i + 32] = bytes(rng.randrange(256) for _ in range(32))
    bad = tmp_path / "bad.mkv"
    bad.write_bytes(bytes(data))
    start = time.monotonic()
    try:
        src = VideoSource(bad)
        for i in [0, 39, 5, 20, 33, 12, 38, 1]:
            try:
                frame = src.frame_at(Fraction(i, 25))
                assert frame.width == W
            except MediaError as e:
                assert e.path == str(bad)
    except MediaError as e:
        assert e.path == str(bad)
    assert time.monotonic() - start < 10


def test_close_then_reuse_reopens(gop_video):
    src = VideoSource(gop_video)
    assert counter(src.frame_at(Fraction(10, 25))) == 10
    src.close()
    assert src.closed
    assert counter(src.frame_at(Fraction(11, 25))) == 11


# --------------------------------------------------------------------------- frame cache
class _Fake:
    def __init__(self, size):
        self.planes = [types.SimpleNamespace(buffer_size=size)]


def test_frame_cache_lru_by_bytes():
    cache = FrameCache(max_bytes=300)
    frames = [_Fake(100) for _ in range(4)]
    for i, f in enumerate(frames[:3]):
        cache.put(("a", i), f)
    assert cache.bytes == 300 and len(cache) == 3
    assert cache.get(("a", 0)) is frames[0]  # now most recent
    cache.put(("a", 3), frames[3])  # evicts ("a", 1), the least recently used
    assert ("a", 1) not in cache and cache.get(("a", 0)) is frames[0] and cache.bytes == 300
    cache.put(("big", 0), _Fake(1000))  # larger than the cache: not stored
    assert ("big", 0) not in cache
    cache.clear("a")
    assert len(cache) == 0 and cache.bytes == 0


def test_frame_cache_find_needs_known_successor():
    cache = FrameCache(1 << 20)
    f0, f1 = _Fake(10), _Fake(10)
    cache.put(("p", 0), f0)
    cache.put(("p", 100), f1)
    assert cache.find("p", 50) is None  # successor of 0 unknown
    cache.set_next("p", 0, 100)
    assert cache.find("p", 50) == (0, f0)
    assert cache.find("p", 100) is None
    cache.set_next("p", 100, END)
    assert cache.find("p", 10**9) == (100, f1)
    assert cache.find("p", -1) is None


def test_frame_cache_thread_safe():
    cache = FrameCache(50 * 10)

    def work(k):
        for i in range(2000):
            cache.put((f"p{k}", i), _Fake(10), i + 1)
            cache.find(f"p{k}", i // 2)
            cache.get((f"p{k}", i - 3))

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert cache.bytes <= 500 and cache.bytes == 10 * len(cache)


def test_cached_frames_come_back_without_decoding(gop_video):
    cache = FrameCache(64 << 20)
    src = VideoSource(gop_video, cache=cache)
    for i in range(20):
        src.frame_at(Fraction(i, 25))
    other = VideoSource(gop_video, cache=cache)
    decoded = other.decoded
    first = [other.frame_at(Fraction(i, 25)) for i in (3, 12, 7)]
    assert other.decoded == decoded and other.seeks == 0
    assert [counter(f) for f in first] == [3, 12, 7]
    assert first[0] is src.frame_at(Fraction(3, 25))


# --------------------------------------------------------------------------- source pool
def test_pool_reuses_and_bounds_sources(gop_video, clip_25, clip_ntsc):
    with SourcePool(max_open=2) as pool:
        a = pool.video(gop_video)
        assert pool.video(gop_video) is a
        assert pool.video(gop_video, slot=1) is not a
        pool.video(clip_25.path)  # evicts and closes ``a``
        assert len(pool) == 2 and a.closed
        assert counter(a.frame_at(Fraction(5, 25))) == 5  # a holder can still use it
        assert pool.video(gop_video) is not a
        with pytest.raises(MediaError):
            pool.video(clip_25.path + ".missing")
        with pytest.raises(MediaError):  # remembered, not retried
            pool.video(clip_25.path + ".missing")
    assert len(pool) == 0


def test_pool_audio_hook_is_lazy_and_pooled(monkeypatch, clip_25):
    made = []

    class FakeAudio:
        def __init__(self, path, sample_rate, channels):
            made.append((path, sample_rate, channels))
            self.closed = False

        def close(self):
            self.closed = True

    monkeypatch.setitem(sys.modules, "studio.media.audio", types.SimpleNamespace(AudioSource=FakeAudio))
    pool = SourcePool()
    a = pool.audio(clip_25.path, 48000, 2)
    assert pool.audio(clip_25.path, 48000, 2) is a
    assert pool.audio(clip_25.path, 44100, 2) is not a
    assert made == [(clip_25.path, 48000, 2), (clip_25.path, 44100, 2)]
    pool.close()
    assert a.closed


def test_pool_is_thread_safe(gop_video):
    pool = SourcePool(max_open=4)
    results, errors = [], []

    def work(k):
        try:
            src = pool.video(gop_video, slot=k)
            for i in range(k, 48, 5):
                results.append(counter(src.frame_at(Fraction(i, 25))) == i)
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and all(results) and results
    pool.close()


def test_frame_planes_are_plain_numpy(gop_video):
    frame = VideoSource(gop_video).frame_at(Fraction(1, 25))
    y = np.frombuffer(frame.planes[0], np.uint8)
    assert y.size >= W * H
