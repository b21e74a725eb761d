"""Proxies: reduced-size, short-GOP H.264 copies of a clip for smooth preview scrubbing.

A proxy is ``height`` pixels high (never larger than the original; even sizes for 4:2:0),
H.264 ``PRESET`` at ``CRF`` with an IDR keyframe every ``GOP`` frames and no B-frames, so any
frame decodes after at most ``GOP - 1`` others. Frame timestamps are copied from the
original (same time base where the muxer allows, else an exact multiple), so the proxy's
frame at media time ``t`` is the original's: ``VideoSource(proxy).frame_at(t)`` shows the same
frame as ``VideoSource(original).frame_at(t)``. Sample aspect ratio, display rotation and
colour (matrix and range; an untagged original's implied matrix is written as a tag, since
the smaller proxy would otherwise read as SD) are carried over. Audio is copied when the
QuickTime container takes the codec, else re-encoded to AAC.

The proxy is written to a temp file in the cache and renamed when complete; cancelling
(``context.check()`` once per frame) or any failure removes the temp file. Preview uses a
proxy through ``Compositor(..., proxies=proxy_resolver(store))``; export never does. Sources
with an alpha channel get no proxy (H.264 has none): ``make_proxy`` raises MediaError.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import av

from studio.jobs import Job, JobContext, Priority

from ..probe import MediaError
from ._video import (
    ERRORS,
    asset_fingerprint,
    context_or_new,
    open_video,
    reason,
    resolve_fingerprint,
    restart,
    trim_quietly,
)
from .store import CacheStore

#: Default proxy height in pixels.
PROXY_HEIGHT = 540
#: Frames per GOP (keyframe interval).
GOP = 10
PRESET = "veryfast"
CRF = 23
#: Audio codecs copied as they are into the proxy (.mov); others are re-encoded to AAC.
COPY_AUDIO = frozenset({"aac", "mp3", "alac", "ac3", "pcm_s16le", "pcm_s16be", "pcm_s24le", "pcm_s24be",
                        "pcm_s32le", "pcm_s32be", "pcm_f32le", "pcm_f32be", "pcm_u8"})
_AVCOL_RANGE_MPEG, _AVCOL_RANGE_JPEG = 1, 2


def artefact_name(height: int = PROXY_HEIGHT) -> str:
    return f"proxy-{int(height)}"


def proxy_size(width: int, height: int, target: int = PROXY_HEIGHT) -> tuple[int, int]:
    """The proxy's coded size for a ``width`` x ``height`` original: ``target`` high at most,
    same coded aspect (the sample aspect ratio is kept), both even."""
    ph = max(2, min(int(target), height) // 2 * 2)
    pw = max(2, round(width * ph / height / 2) * 2)
    return pw, ph


def proxy_path(fingerprint: str, store: CacheStore | None = None, *, height: int = PROXY_HEIGHT) -> Path | None:
    """The finished proxy of ``fingerprint``, or None (none yet, or the cache entry is broken)."""
    if not fingerprint:
        return None
    store = store if store is not None else CacheStore()
    art = store.lookup(fingerprint, artefact_name(height))
    if art is None or "video" not in art.files:
        return None
    return art.files["video"]


def proxy_resolver(store: CacheStore | None = None, *, height: int = PROXY_HEIGHT,
                   recheck: float = 2.0) -> Callable[[object], str | None]:
    """A ``Compositor(proxies=...)`` callable: an asset's proxy path when one is ready, else None.

    Answers are remembered for ``recheck`` seconds (the compositor asks per layer per frame),
    so a proxy finished in the background is picked up within that time."""
    store = store if store is not None else CacheStore()
    memo: dict[str, tuple[float, str | None]] = {}
    lock = threading.Lock()

    def resolve(asset) -> str | None:
        fp = getattr(asset, "fingerprint", "")
        if not fp:
            return None
        now = time.monotonic()
        with lock:
            hit = memo.get(fp)
        if hit is not None and now - hit[0] < recheck:
            return hit[1]
        path = proxy_path(fp, store, height=height)
        answer = str(path) if path is not None else None
        with lock:
            memo[fp] = (now, answer)
        return answer

    return resolve


def make_proxy(source_path: str | os.PathLike[str], fingerprint: str | None = None, *,
               height: int = PROXY_HEIGHT, store: CacheStore | None = None,
               context: JobContext | None = None) -> Path:
    """The proxy of ``source_path`` (from the cache, else made and cached). Raises MediaError
    (no video, unreadable), ``Cancelled`` (nothing is left behind) or OSError (cannot write)."""
    store = store if store is not None else CacheStore()
    context = context_or_new(context)
    fingerprint = resolve_fingerprint(source_path, fingerprint)
    ready = proxy_path(fingerprint, store, height=height)
    if ready is not None:
        context.progress(1.0, "proxy cached")
        return ready
    inp = open_video(source_path)
    try:
        fmt = inp.first.format
        if fmt.has_palette or any(c.is_alpha for c in fmt.components):
            raise MediaError(source_path, "has an alpha channel: no proxy is made (preview uses the original)")
        pw, ph = proxy_size(inp.width, inp.height, height)
        meta = {"width": pw, "height": ph, "source_width": inp.width, "source_height": inp.height,
                "fps": str(inp.fps), "gop": GOP, "codec": "h264"}
        with store.writer(fingerprint, artefact_name(height), meta) as w:
            temp = w.temp("video", ".mov")
            try:
                _encode(inp, temp, pw, ph, context)
            except ERRORS as exc:
                if isinstance(exc, OSError) and not isinstance(exc, av.FFmpegError):
                    raise
                raise MediaError(source_path, reason(exc)) from exc
    finally:
        inp.container.close()
    context.progress(1.0, "proxy done")
    return w.artefact.file("video")


def _encode(inp, temp: Path, pw: int, ph: int, context: JobContext) -> None:
    restart(inp)
    ain = inp.container.streams.audio[0] if inp.container.streams.audio else None
    duration = inp.duration
    options = {}
    if inp.time_base.numerator == 1 and inp.time_base.denominator <= 1 << 30:
        # the original's time base exactly (the muxer would scale 1/1000 up to 1/16000), so the
        # proxy's timestamps *and* VideoSource's one-tick slack are the original's
        options["video_track_timescale"] = str(inp.time_base.denominator)
    with av.open(str(temp), "w", format="mov", options=options) as out:
        vout = out.add_stream("libx264", rate=inp.fps)
        vout.width, vout.height = pw, ph
        vout.pix_fmt = "yuv420p"
        vout.time_base = inp.time_base
        ctx = vout.codec_context
        ctx.time_base = inp.time_base
        ctx.gop_size = GOP
        ctx.max_b_frames = 0
        ctx.colorspace = inp.colorspace
        ctx.color_range = _AVCOL_RANGE_JPEG if inp.full_range else _AVCOL_RANGE_MPEG
        if inp.first.color_primaries not in (None, 2):
            ctx.color_primaries = inp.first.color_primaries
        if inp.first.color_trc not in (None, 2):
            ctx.color_trc = inp.first.color_trc
        if inp.sar != 1:
            ctx.sample_aspect_ratio = inp.sar
        vout.options = {"preset": PRESET, "crf": str(CRF), "tune": "fastdecode",
                        "x264-params": f"keyint={GOP}:min-keyint=1:scenecut=0:bframes=0"}
        if inp.rotation:
            vout.set_display_rotation(inp.rotation)
        audio = _AudioOut(out, ain) if ain is not None else None

        def on_audio(packet) -> None:
            if audio is not None and packet.stream_index == ain.index:
                audio.put(packet)

        for pts, frame in inp.frames((ain,) if ain is not None else (), on_audio):
            context.check()
            small = frame.reformat(width=pw, height=ph, format="yuv420p", src_colorspace=inp.sws_colorspace,
                                   dst_colorspace=inp.sws_colorspace, src_color_range=inp.sws_range,
                                   dst_color_range=inp.sws_range, interpolation="AREA")
            small.pts = pts
            small.time_base = inp.time_base
            small.pict_type = av.video.frame.PictureType.NONE
            for packet in vout.encode(small):
                out.mux(packet)
            if duration:
                context.progress(min(0.99, float(inp.time_of(pts) / duration)), "proxy")
        for packet in vout.encode(None):
            out.mux(packet)
        if audio is not None:
            audio.flush()
        context.check()


class _AudioOut:
    """The proxy's audio: the original's packets copied, or decoded and re-encoded to AAC."""

    def __init__(self, out, ain) -> None:
        self.out = out
        self.ain = ain
        self.copy = ain.codec_context.name in COPY_AUDIO
        if self.copy:
            self.stream = out.add_stream_from_template(ain)
        else:
            ctx = ain.codec_context
            layout = ctx.layout.name if ctx.layout.nb_channels <= 2 else "stereo"
            self.stream = out.add_stream("aac", rate=ctx.sample_rate or 48000, layout=layout)
            self.stream.bit_rate = 160_000

    def put(self, packet) -> None:
        if self.copy:
            if packet.dts is None:
                return
            packet.stream = self.stream
            self.out.mux(packet)
            return
        try:
            frames = packet.decode()
        except av.InvalidDataError:
            return
        rate = self.stream.codec_context.sample_rate
        for frame in frames:
            if frame.pts is not None and frame.time_base:  # keep the original's placement in time
                frame.pts = round(frame.pts * Fraction(frame.time_base) * rate)
                frame.time_base = Fraction(1, rate)
            for p in self.stream.encode(frame):
                self.out.mux(p)

    def flush(self) -> None:
        if not self.copy:
            for p in self.stream.encode(None):
                self.out.mux(p)


def proxy_job(asset, store: CacheStore | None = None, *, height: int = PROXY_HEIGHT) -> Job:
    """A background job (cpu=1, batch) making ``asset``'s proxy; its result is the proxy's Path."""
    store = store if store is not None else CacheStore()

    def run(context: JobContext) -> Path:
        fp = asset_fingerprint(asset)
        path = make_proxy(asset.path, fp, height=height, store=store, context=context)
        trim_quietly(store, fp)
        return path

    return Job(run, name=f"proxy: {getattr(asset, 'name', '') or os.path.basename(asset.path)}", cpu=1,
               priority=Priority.BATCH)

