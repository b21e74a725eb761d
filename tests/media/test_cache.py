"""On-disk media caches: store atomicity and LRU, filmstrips, waveform peaks, proxies, preview substitution."""

from __future__ import annotations

import json
import os
import random
import time
from fractions import Fraction

import av
import numpy as np
import pytest

from studio.core.fingerprint import fingerprint
from studio.core.media_pool import Asset, MediaInfo
from studio.core.project import Project, ProjectSettings
from studio.core.timeline import Clip, Sequence, Track, Transform
from studio.jobs import Cancelled, JobContext, Scheduler
from studio.media import synth
from studio.media.cache import (
    BASE,
    GOP,
    CacheStore,
    cache_key,
    cached_filmstrip,
    cached_peaks,
    default_root,
    filmstrip,
    filmstrip_job,
    load_peaks,
    make_peaks,
    make_proxy,
    proxy_job,
    proxy_path,
    proxy_resolver,
    proxy_size,
    waveform_job,
)
from studio.media.cache import store as store_mod
from studio.media.cache import thumbnails as thumbs_mod
from studio.media.decode import VideoSource
from studio.media.probe import MediaError
from studio.media.source_pool import SourcePool
from studio.render import colour as col
from studio.render.compositor import Compositor

FPS = Fraction(25)


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    """3 s of 25 fps 320x180 H.264 + AAC; beeps at frames 0, 25, 50 (one long GOP)."""
    d = tmp_path_factory.mktemp("cachemedia")
    return synth.write_test_video(d / "clip.mp4", frames=75)


@pytest.fixture(scope="module")
def short_gop(tmp_path_factory):
    """40 frames with a keyframe every 4 (the fast keyframe path of filmstrips)."""
    d = tmp_path_factory.mktemp("cachegop")
    path = str(d / "gop4.mp4")
    with av.open(path, "w") as c:
        s = c.add_stream("libx264", rate=FPS)
        s.width, s.height, s.pix_fmt = 320, 180, "yuv420p"
        s.codec_context.time_base = 1 / FPS
        s.options = {"preset": "ultrafast", "crf": "16", "x264-params": "keyint=4:min-keyint=4:scenecut=0"}
        for i in range(40):
            f = av.VideoFrame.from_ndarray(synth.draw_frame(i, 320, 180, 40), "rgb24")
            f.pts, f.time_base = i, 1 / FPS
            for p in s.encode(f):
                c.mux(p)
        for p in s.encode(None):
            c.mux(p)
    return path


@pytest.fixture()
def store(tmp_path):
    return CacheStore(tmp_path / "cache")


def counter(rgb) -> int:
    return synth.read_frame_counter(rgb)


def progress_log():
    seen = []
    return seen, JobContext(on_progress=lambda f, m: seen.append(f))


# --------------------------------------------------------------------------- store
def test_root_from_env_and_safe_keys(tmp_path, monkeypatch):
    monkeypatch.setenv("SHOTLINE_CACHE_DIR", str(tmp_path / "env"))
    assert default_root() == tmp_path / "env"
    assert CacheStore().root == tmp_path / "env"
    assert CacheStore(tmp_path / "explicit").root == tmp_path / "explicit"
    monkeypatch.delenv("SHOTLINE_CACHE_DIR")
    assert default_root().name == "media" and "shotline-studio" in default_root().parts
    assert cache_key("1234:abcdef") == "1234-abcdef"
    odd = [cache_key(fp) for fp in ("../../etc", "a/b:c", "a_b:c", ".hidden")]
    assert len(set(odd)) == 4 and all("/" not in k and not k.startswith(".") for k in odd)
    s = CacheStore(tmp_path / "c")
    s.put_bytes("../../etc", "x", b"1")
    assert all(p.is_relative_to(tmp_path / "c") for p in (tmp_path / "c").rglob("*"))
    assert not (tmp_path / "etc").exists()


def test_writer_is_atomic_and_failures_leave_the_old_artefact(store):
    fp = "10:aaaa"
    first = store.put_bytes(fp, "thing", b"old", suffix=".bin", meta={"v": 1})
    assert first.file().read_bytes() == b"old" and first.meta == {"v": 1}
    folder = store.entry_dir(fp)
    with pytest.raises(RuntimeError):
        with store.writer(fp, "thing", {"v": 2}) as w:
            w.temp("data", ".bin").write_bytes(b"half-written")
            seen = store.lookup(fp, "thing")  # readers still see the complete old one meanwhile
            assert seen.file().read_bytes() == b"old"
            raise RuntimeError("disk full")
    assert store.lookup(fp, "thing").file().read_bytes() == b"old"
    assert not [p for p in folder.iterdir() if p.name.startswith(".tmp-")]
    with pytest.raises(Cancelled):
        with store.writer(fp, "thing") as w:
            w.temp("data", ".bin").write_bytes(b"x")
            raise Cancelled()
    new = store.put_bytes(fp, "thing", b"new!", suffix=".bin", meta={"v": 3})
    assert new.file().read_bytes() == b"new!" and new.meta == {"v": 3}
    assert new.file() != first.file() and not first.file().exists()  # never overwritten in place
    names = sorted(p.name for p in folder.iterdir())
    assert names == sorted([".used", "thing.json", new.file().name])


@pytest.mark.parametrize("damage", ["garbage manifest", "empty manifest", "missing data", "truncated data",
                                    "other version", "escaping file name"])
def test_a_damaged_entry_reads_as_missing(store, damage):
    fp = "10:bbbb"
    art = store.put_bytes(fp, "thing", b"0123456789", suffix=".bin")
    manifest = store.entry_dir(fp) / "thing.json"
    data = json.loads(manifest.read_text())
    if damage == "garbage manifest":
        manifest.write_bytes(b"\x00{not json")
    elif damage == "empty manifest":
        manifest.write_bytes(b"")
    elif damage == "missing data":
        art.file().unlink()
    elif damage == "truncated data":
        art.file().write_bytes(b"01234")
    elif damage == "other version":
        manifest.write_text(json.dumps({**data, "version": 999}))
    else:
        data["files"]["data"]["file"] = "../../outside"
        manifest.write_text(json.dumps(data))
    assert store.lookup(fp, "thing") is None
    rebuilt = store.put_bytes(fp, "thing", b"fresh", suffix=".bin")
    assert store.lookup(fp, "thing").file().read_bytes() == b"fresh" == rebuilt.file().read_bytes()


def test_trim_removes_least_recently_used_first(store):
    now = time.time()
    for age, fp in enumerate(["1:new", "2:mid", "3:old", "4:kept", "5:busy"]):
        store.put_bytes(fp, "blob", b"x" * 1000, suffix=".bin")
        used = store.entry_dir(fp) / ".used"
        os.utime(used, (now - 100 * (age + 1), now - 100 * (age + 1)))
        os.utime(store.entry_dir(fp) / "blob.json", (now - 100 * (age + 1),) * 2)
    (store.entry_dir("5:busy") / ".tmp-abc-blob.x.bin").write_bytes(b"y" * 10)  # a write in progress
    sizes = {e.key: e.size for e in store.entries()}
    stale = store.entry_dir("1:new") / ".tmp-old-blob.x.bin"
    stale.write_bytes(b"z" * 10)
    os.utime(stale, (now - 2 * store_mod.STALE_TEMP_SECONDS,) * 2)
    assert [e.key for e in store.entries()] == ["5-busy", "4-kept", "3-old", "2-mid", "1-new"]
    before = store.total_bytes()
    freed = store.trim(sizes["5-busy"] + sizes["4-kept"] + sizes["1-new"], keep=["4:kept"])
    assert not stale.exists()  # stale temp files are swept
    left = {e.key for e in store.entries()}
    assert left == {"5-busy", "4-kept", "1-new"}  # 3:old then 2:mid went; the busy and kept ones stay
    assert freed == before - store.total_bytes()
    store.lookup("1:new", "blob")  # reading refreshes recency
    assert store.trim(0) > 0 and {e.key for e in store.entries()} == {"5-busy"}


# --------------------------------------------------------------------------- filmstrips
def test_filmstrip_count_order_and_cache(clip, store, monkeypatch):
    seen, ctx = progress_log()
    strip = filmstrip(clip.path, None, count=10, height=48, store=store, context=ctx)
    assert len(strip) == 10 and strip.height == 48 and strip.width == round(48 * 320 / 180)
    counters = [counter(strip.thumbnail(i)) for i in range(10)]
    assert counters == sorted(counters) and len(set(counters)) == 10
    assert counters == [i * 75 // 10 for i in range(10)]  # the frame on screen at i * duration / 10
    assert [t * FPS for t in strip.times] == counters  # the index says which frame each shows
    assert seen == sorted(seen) and seen[-1] == 1.0
    assert strip.image().shape == (48, 10 * strip.width, 3)

    def no_decoding(*a, **k):
        raise AssertionError("decoded although cached")

    monkeypatch.setattr(thumbs_mod, "open_video", no_decoding)
    again = filmstrip(clip.path, fingerprint(clip.path), count=10, height=48, store=store)
    assert again.times == strip.times and np.array_equal(again.image(), strip.image())
    assert cached_filmstrip(fingerprint(clip.path), count=11, height=48, store=store) is None


def test_filmstrip_every_uses_nearby_keyframes(short_gop, store):
    strip = filmstrip(short_gop, None, every=Fraction(2, 5), height=36, store=store)  # every 10 frames
    counters = [counter(strip.thumbnail(i)) for i in range(len(strip))]
    assert len(strip) == 4 and counters == [0, 8, 20, 28]  # keyframes within half a spacing before 0/10/20/30
    assert [t * FPS for t in strip.times] == counters
    dense = filmstrip(short_gop, None, count=40, height=36, store=store)  # exact where keyframes are too far
    assert [counter(dense.thumbnail(i)) for i in range(40)] == list(range(40))


def test_filmstrip_sheet_wraps_and_a_corrupt_sheet_is_rebuilt(clip, store, monkeypatch):
    monkeypatch.setattr(thumbs_mod, "MAX_SHEET_WIDTH", 1000)
    strip = filmstrip(clip.path, None, count=75, height=32, store=store)
    assert strip.columns < 75 and strip.image().shape[0] == 32 * -(-75 // strip.columns)
    assert [counter(strip.thumbnail(i)) for i in range(75)] == list(range(75))
    size = strip.path.stat().st_size
    strip.path.write_bytes(b"\x89PNG" + bytes(size - 4))  # same size, garbage inside
    fp = fingerprint(clip.path)
    assert cached_filmstrip(fp, count=75, height=32, store=store) is None
    rebuilt = filmstrip(clip.path, fp, count=75, height=32, store=store)
    assert rebuilt.path.is_file() and counter(rebuilt.thumbnail(74)) == 74


def test_filmstrip_cancel_stores_nothing(clip, store):
    ctx = JobContext()
    ctx.on_progress = lambda f, m: ctx.cancel()
    with pytest.raises(Cancelled):
        filmstrip(clip.path, None, count=20, store=store, context=ctx)
    assert cached_filmstrip(fingerprint(clip.path), count=20, store=store) is None
    assert not [p for p in store.root.rglob("*") if p.is_file() and p.name != ".used"]


def test_filmstrip_of_unreadable_media(tmp_path, store):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"not a video at all" * 100)
    with pytest.raises(MediaError):
        filmstrip(bad, None, store=store)


# --------------------------------------------------------------------------- waveforms
def test_peaks_show_the_beep_in_the_right_bins_at_every_level(clip, store):
    seen, ctx = progress_log()
    peaks = make_peaks(clip.path, None, store=store, context=ctx)
    assert peaks.sample_rate == 48000 and peaks.channels == 2 and peaks.samples == 3 * 48000
    assert seen[-1] == 1.0 and peaks.mins[0].dtype == np.int16
    spf = 48000 // 25  # samples per frame
    beeps = [(f * spf, (f + 1) * spf) for f in clip.beep_frames]
    for level in range(peaks.levels):
        lo, hi = p = peaks.peaks(BASE << level)
        assert p.level == level and p.samples_per_bin == BASE << level
        assert lo.shape == hi.shape == (2, -(-peaks.samples // (BASE << level)))
        amp = np.maximum(hi, -lo).max(axis=0)
        for b in range(amp.size):
            b0, b1 = b * p.samples_per_bin, (b + 1) * p.samples_per_bin
            inside = any(b0 < e and s < b1 for s, e in beeps)
            near = any(b0 < e + 2048 and s - 2048 < b1 for s, e in beeps)  # AAC smears a little
            if inside:
                assert amp[b] > 0.45, (level, b)
            elif not near:
                assert amp[b] < 0.05, (level, b)
    assert peaks.levels == 1 + int(np.ceil(np.log2(-(-peaks.samples // BASE))))
    assert peaks.mins[-1].shape == (2, 1)


def test_level_picking_and_ranges(clip, store):
    make_peaks(clip.path, None, store=store)
    fp = fingerprint(clip.path)
    pick = {spp: load_peaks(fp, spp, store=store).level for spp in (1, 255, 256, 511, 512, 1023, 1024, 5000, 1e12)}
    top = cached_peaks(fp, store).levels - 1  # 144000 samples: 563 bins at level 0, 1 at level 10
    assert top == 10
    assert pick == {1: 0, 255: 0, 256: 0, 511: 0, 512: 1, 1023: 1, 1024: 2, 5000: 4, 1e12: top}
    part = load_peaks(fp, 512, store=store, start=48000, stop=48000 + 1920)  # frame 25: the beep
    assert part.start_bin == 48000 // 512 and part.min.shape[1] == 5
    assert np.maximum(part.max, -part.min).max() > 0.45
    assert load_peaks("999:none", 512, store=store) is None


def test_a_corrupt_peaks_file_is_rebuilt_and_cancel_stores_nothing(clip, store):
    peaks = make_peaks(clip.path, None, store=store)
    size = peaks.path.stat().st_size
    peaks.path.write_bytes(bytes(size))  # right size, zeros
    fp = fingerprint(clip.path)
    assert cached_peaks(fp, store) is None  # dropped
    assert store.lookup(fp, "peaks") is None
    assert make_peaks(clip.path, fp, store=store).levels == peaks.levels
    assert cached_peaks(fp, store) is not None
    store.clear()
    ctx = JobContext()
    ctx.on_progress = lambda f, m: ctx.cancel()
    with pytest.raises(Cancelled):
        make_peaks(clip.path, fp, store=store, context=ctx)
    assert load_peaks(fp, 256, store=store) is None


def test_no_audio_is_a_media_error(tmp_path, store):
    silent = synth.write_test_video(tmp_path / "silent.mp4", frames=5, audio=False)
    with pytest.raises(MediaError):
        make_peaks(silent.path, None, store=store)


# --------------------------------------------------------------------------- proxies
def test_proxy_is_small_short_gop_and_frame_exact(clip, store):
    fp = fingerprint(clip.path)
    assert proxy_path(fp, store) is None
    seen, ctx = progress_log()
    path = make_proxy(clip.path, fp, height=90, store=store, context=ctx)
    assert proxy_path(fp, store, height=90) == path and seen[-1] == 1.0
    assert proxy_size(320, 180, 90) == (160, 90) and proxy_size(1920, 1080) == (960, 540)
    assert proxy_size(320, 180, 540) == (320, 180)  # never upscaled
    with av.open(str(path)) as c:
        v = c.streams.video[0]
        assert (v.codec_context.width, v.codec_context.height) == (160, 90)
        assert v.codec_context.name == "h264" and len(c.streams.audio) == 1
        keys = [p.is_keyframe for p in c.demux(v) if p.size]
    assert len(keys) == 75 and keys[0]
    gaps = np.diff([i for i, k in enumerate(keys)] + [len(keys)])
    assert gaps.max() <= GOP
    original, proxy = VideoSource(clip.path), VideoSource(path)
    try:
        assert proxy.frame_count == original.frame_count and proxy.fps == original.fps
        rng = random.Random(7)
        for _ in range(60):
            i = rng.randrange(75)
            t = Fraction(i) / FPS + Fraction(rng.randrange(100), 100 * 25)
            want = counter(original.frame_at(t).to_ndarray(format="rgb24"))
            assert want == i
            assert counter(proxy.frame_at(t).to_ndarray(format="rgb24")) == i, t
    finally:
        original.close()
        proxy.close()


def test_proxy_keeps_variable_frame_timing(tmp_path, store):
    path = str(tmp_path / "vfr.mkv")  # millisecond time base, uneven frame durations
    with av.open(path, "w") as c:
        s = c.add_stream("libx264", rate=FPS)
        s.width, s.height, s.pix_fmt = 160, 96, "yuv420p"
        s.codec_context.time_base = Fraction(1, 1000)
        s.options = {"preset": "ultrafast", "bf": "0"}
        pts = 0
        for i in range(30):
            f = av.VideoFrame.from_ndarray(synth.draw_frame(i, 160, 96, 30), "rgb24")
            f.pts, f.time_base = pts, Fraction(1, 1000)
            pts += (33, 50, 67)[i % 3]
            for p in s.encode(f):
                c.mux(p)
        for p in s.encode(None):
            c.mux(p)
    proxy = make_proxy(path, None, height=48, store=store)
    with VideoSource(path) as a, VideoSource(proxy) as b:
        assert b.time_base == a.time_base  # the very same clock, slack included
        for ms in range(0, 1500, 7):
            t = Fraction(ms, 1000)
            assert counter(b.frame_at(t).to_ndarray(format="rgb24")) == counter(
                a.frame_at(t).to_ndarray(format="rgb24")), ms


def test_proxy_keeps_audio_in_place(clip, store):
    from studio.media.audio import AudioSource

    path = make_proxy(clip.path, None, height=90, store=store)
    with AudioSource(clip.path, 48000, 2) as a, AudioSource(path, 48000, 2) as b:
        assert b.duration_samples == a.duration_samples
        assert np.array_equal(a.read(40000, 20000), b.read(40000, 20000))  # copied packets: identical


def test_proxy_keeps_rotation_and_untagged_hd_colour(tmp_path, store):
    rotated = synth.write_test_video(tmp_path / "rot.mp4", width=160, height=96, frames=12, audio=False, rotation=90)
    with VideoSource(make_proxy(rotated.path, None, height=48, store=store)) as p:
        assert (p.width, p.height, p.rotation) == (80, 48, 90)
    hd = synth.write_test_video(tmp_path / "hd.mp4", width=1280, height=720, frames=3, audio=False)
    with VideoSource(make_proxy(hd.path, None, height=90, store=store)) as p:
        assert (p.width, p.height) == (160, 90) and p.colorspace == 1  # BT.709 as implied by the original


def test_no_proxy_for_alpha_sources(tmp_path, store):
    path = str(tmp_path / "alpha.mov")
    with av.open(path, "w") as c:
        s = c.add_stream("png", rate=FPS)
        s.width, s.height, s.pix_fmt = 32, 32, "rgba"
        for i in range(2):
            f = av.VideoFrame.from_ndarray(np.full((32, 32, 4), 128, np.uint8), "rgba")
            f.pts, f.time_base = i, 1 / FPS
            for p in s.encode(f):
                c.mux(p)
        for p in s.encode(None):
            c.mux(p)
    with pytest.raises(MediaError, match="alpha"):
        make_proxy(path, None, store=store)
    assert not [p for p in store.root.rglob("*") if p.is_file()]


def test_proxy_cancel_leaves_no_file(clip, store):
    fp = fingerprint(clip.path)
    ctx = JobContext()
    calls = []

    def cancel_later(f, m):
        calls.append(f)
        if len(calls) == 5:
            ctx.cancel()

    ctx.on_progress = cancel_later
    with pytest.raises(Cancelled):
        make_proxy(clip.path, fp, height=90, store=store, context=ctx)
    assert len(calls) == 5 and proxy_path(fp, store, height=90) is None
    assert not [p for p in store.root.rglob("*") if p.is_file() and p.name != ".used"]


def test_jobs_run_through_the_scheduler(clip, store):
    a = Asset("A", clip.path, "clip.mp4", "av", fingerprint=fingerprint(clip.path))
    unfingerprinted = Asset("B", clip.path, "clip.mp4", "av")  # the job fingerprints the file itself
    jobs = [proxy_job(a, store, height=90), filmstrip_job(a, store, count=5), waveform_job(unfingerprinted, store)]
    assert all(j.cpu == 1 and j.gpu == 0 and j.priority.name == "BATCH" for j in jobs)
    with Scheduler(cpu_slots=2) as sched:
        handles = [sched.submit(j) for j in jobs]
        proxy, strip, peaks = (h.get(timeout=60) for h in handles)
    assert proxy == proxy_path(a.fingerprint, store, height=90)
    assert len(strip) == 5 and peaks.levels > 1
    assert load_peaks(a.fingerprint, 1024, store=store) is not None


# --------------------------------------------------------------------------- preview substitution
def _project(clip, *clips, width=320, height=180, info_size=(320, 180)):
    info = MediaInfo(duration=Fraction(clip.frames) / FPS, has_video=True, width=info_size[0],
                     height=info_size[1], fps=FPS)
    asset = Asset("A", clip.path, "clip", "video", fingerprint=fingerprint(clip.path), info=info)
    track = Track("V1", "video", "V1", clips=tuple(clips))
    return Project(ProjectSettings(width, height, FPS), assets=(asset,), sequence=Sequence((track,)))


def _paths(pool):
    return {key[1] for key in pool._open}


def test_compositor_with_proxies_shows_the_same_frames(clip, store):
    make_proxy(clip.path, None, height=90, store=store)
    clips = (Clip("c1", "A", position=0, duration=20, source_in=Fraction(3)),
             Clip("c2", "A", position=20, duration=20, source_in=Fraction(10), speed=Fraction(2)),
             Clip("c3", "A", position=40, duration=10, source_in=Fraction(60), speed=Fraction(-1)))
    proj = _project(clip, *clips)
    resolver = proxy_resolver(store, height=90)
    with SourcePool() as p1, SourcePool() as p2:
        full, preview = Compositor(proj, p1), Compositor(proj, p2, proxies=resolver)
        frames = list(range(50))
        random.Random(3).shuffle(frames)
        for n in frames:
            a, b = full.frame(n), preview.frame(n)
            assert (b.width, b.height) == (320, 180)
            assert counter(col.to_rgb(a)) == counter(col.to_rgb(b)), n
        assert _paths(p1) == {clip.path}
        assert _paths(p2) == {str(proxy_path(fingerprint(clip.path), store, height=90))}


@pytest.mark.parametrize("transform", [Transform(), Transform(scale=0.5, x=20, y=-10), Transform(rotation=30),
                                       Transform(crop_left=0.25, scale=0.8)])
def test_a_proxy_is_placed_exactly_like_its_original(tmp_path, store, transform):
    odd = synth.write_test_video(tmp_path / "odd.mp4", width=250, height=140, frames=6, audio=False)
    make_proxy(odd.path, None, height=56, store=store)  # 100x56: a slightly different coded aspect
    proj = _project(odd, Clip("c", "A", position=0, duration=6, transform=transform), width=320, height=240,
                    info_size=(250, 140))
    with SourcePool() as p1, SourcePool() as p2:
        a = col.to_rgb(Compositor(proj, p1).frame(2))
        b = col.to_rgb(Compositor(proj, p2, proxies=proxy_resolver(store, height=56)).frame(2))
        assert _paths(p2) == {str(proxy_path(fingerprint(odd.path), store, height=56))}
    lit_a, lit_b = a.mean(axis=2) > 12, b.mean(axis=2) > 12
    assert (lit_a != lit_b).mean() < 0.01  # the same picture area, apart from edge pixels
    if transform.rotation == 0 and not transform.crop_left:
        ys, xs = np.nonzero(lit_a)
        assert counter(b[ys.min():ys.max() + 1, xs.min():xs.max() + 1]) == 2


def test_missing_or_broken_proxy_falls_back_to_the_original(clip, store, tmp_path):
    junk = tmp_path / "junk.mov"
    junk.write_bytes(b"\x00" * 5000)
    proj = _project(clip, Clip("c", "A", position=0, duration=10, source_in=Fraction(4)))
    for proxies in (lambda a: None, lambda a: str(junk), lambda a: 1 / 0):
        with SourcePool() as pool:
            comp = Compositor(proj, pool, proxies=proxies)
            assert [counter(col.to_rgb(comp.frame(n))) for n in (0, 5)] == [4, 9]
            assert clip.path in _paths(pool)


def test_export_never_asks_for_proxies(clip, tmp_path, monkeypatch):
    from studio.render import compositor as comp_mod
    from studio.render.export import export
    from studio.render.presets import preset_from_dict

    made = []
    real_init = comp_mod.Compositor.__init__

    def spy(self, *args, **kwargs):
        made.append(kwargs.get("proxies"))
        real_init(self, *args, **kwargs)

    monkeypatch.setattr(comp_mod.Compositor, "__init__", spy)
    preset = preset_from_dict({"name": "t", "format": "mp4", "extension": ".mp4",
                               "video": {"codec": "libx264", "width": 160, "height": 90, "fps": 25,
                                         "pix_fmt": "yuv420p", "crf": 18, "speed": "ultrafast"}})
    proj = _project(clip, Clip("c", "A", position=0, duration=5, source_in=Fraction(7)))
    out = tmp_path / "out.mp4"
    export(proj, out, preset)
    assert made == [None]
    with av.open(str(out)) as c:
        assert [counter(f.to_ndarray(format="rgb24")) for f in c.decode(video=0)] == [7, 8, 9, 10, 11]
