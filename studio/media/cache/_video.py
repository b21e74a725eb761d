"""Shared bits of the cache builders: opening a file's main video stream robustly, frame
iteration with bounded error handling, colour of untagged sources, job plumbing."""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction

import av
from av.video.reformatter import ColorRange, Colorspace

from studio.core.fingerprint import fingerprint as _fingerprint
from studio.jobs import JobContext

from ..probe import OPEN_TIMEOUT, MediaError

ERRORS = (av.FFmpegError, OSError, ValueError, RuntimeError, EOFError, MemoryError)
MAX_BAD_PACKETS = 64
log = logging.getLogger(__name__)
MAX_PACKETS_WITHOUT_FRAME = 2000
# FFmpeg AVColorSpace values
_AVCOL_BT709, _AVCOL_UNSPECIFIED, _AVCOL_BT470BG, _AVCOL_SMPTE170M = 1, 2, 5, 6
_SWS_OF_AVCOL = {_AVCOL_BT709: Colorspace.ITU709, _AVCOL_BT470BG: Colorspace.ITU601,
                 _AVCOL_SMPTE170M: Colorspace.ITU601, 9: Colorspace.BT2020, 10: Colorspace.BT2020,
                 7: Colorspace.SMPTE240M, 4: Colorspace.FCC}


def reason(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__


def resolve_fingerprint(path: str | os.PathLike[str], fingerprint: str | None) -> str:
    """``fingerprint`` if given, else the file's (MediaError when it cannot be read)."""
    if fingerprint:
        return fingerprint
    try:
        return _fingerprint(path)
    except OSError as exc:
        raise MediaError(path, reason(exc)) from None


def context_or_new(context: JobContext | None) -> JobContext:
    return context if context is not None else JobContext()


def asset_fingerprint(asset) -> str:
    return resolve_fingerprint(asset.path, getattr(asset, "fingerprint", "") or None)


def trim_quietly(store, fingerprint: str) -> None:
    """After a job filled the cache: keep it within its budget (never the entry just made)."""
    try:
        store.trim(keep=[fingerprint])
    except OSError as exc:  # a full or read-only disk must not fail the job that succeeded
        log.warning("could not trim the media cache %s: %s", store.root, exc)


def _rate(value) -> Fraction | None:
    try:
        rate = Fraction(value) if value is not None else None
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    return rate if rate and rate > 0 else None


@dataclass
class VideoInput:
    """The main video stream of an open container, described by its first decoded frame."""

    container: object
    stream: object
    first: av.VideoFrame
    first_pts: int
    origin: int  # ticks of the media start (decode.VideoSource's origin)
    time_base: Fraction
    fps: Fraction
    duration: Fraction | None  # seconds from the media start
    width: int
    height: int
    sar: Fraction
    rotation: int
    colorspace: int  # AVCOL_* of the source (unspecified resolved by size), for swscale
    full_range: bool

    @property
    def sws_colorspace(self) -> Colorspace:
        return _SWS_OF_AVCOL.get(self.colorspace, Colorspace.ITU601)

    @property
    def sws_range(self) -> ColorRange:
        return ColorRange.JPEG if self.full_range else ColorRange.MPEG

    def ticks(self, t: Fraction) -> int:
        """The last timestamp shown at ``t`` seconds (one tick of slack, as VideoSource)."""
        slack = 1 if self.time_base * 10 <= 1 / self.fps else 0
        return self.origin + math.floor(Fraction(t) / self.time_base) + slack

    def time_of(self, pts: int) -> Fraction:
        return (pts - self.origin) * self.time_base

    def frames(self, others=(), on_other=None) -> Iterator[tuple[int, av.VideoFrame]]:
        """``(pts, frame)`` from the current position in presentation order (strictly increasing).

        Packets of the streams in ``others`` (demuxed along) go to ``on_other(packet)``."""
        return _frames(self, tuple(others), on_other)

    def seek(self, ticks: int) -> None:
        self.container.seek(ticks, backward=True, any_frame=False, stream=self.stream)


def _frames(inp: VideoInput, others: tuple = (), on_other=None) -> Iterator[tuple[int, av.VideoFrame]]:
    last = None
    bad = 0
    since = 0
    path = inp.container.name
    step = max(1, math.floor(1 / (inp.fps * inp.time_base)))
    demux = inp.container.demux(inp.stream, *others)
    while True:
        try:
            packet = next(demux)
        except StopIteration:
            return
        except av.InvalidDataError as exc:
            bad += 1
            if bad > MAX_BAD_PACKETS:
                raise MediaError(path, reason(exc)) from exc
            demux = inp.container.demux(inp.stream, *others)
            continue
        if packet.stream_index != inp.stream.index:
            if on_other is not None:
                on_other(packet)
            continue
        since += 1
        if since > MAX_PACKETS_WITHOUT_FRAME:
            raise MediaError(path, f"no frame in {MAX_PACKETS_WITHOUT_FRAME} packets (corrupt?)")
        try:
            decoded = packet.decode()
        except av.InvalidDataError as exc:
            bad += 1
            if bad > MAX_BAD_PACKETS:
                raise MediaError(path, f"too many decode errors ({reason(exc)})") from exc
            continue
        for frame in decoded:
            pts = frame.pts if frame.pts is not None else frame.dts
            if pts is None:
                pts = 0 if last is None else last + step
            if last is not None and pts <= last:
                continue
            bad = since = 0
            last = pts
            yield pts, frame


def default_colorspace(width: int, height: int) -> int:
    """AVCOL_* of an untagged source: BT.709 for HD and larger, BT.601 for SD (as render.colour)."""
    return _AVCOL_BT709 if width >= 1280 or height >= 720 else _AVCOL_SMPTE170M


def open_video(path: str | os.PathLike[str]) -> VideoInput:
    """Open ``path``'s main video stream and decode its first frame. Raises MediaError;
    the caller closes ``result.container``."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise MediaError(path, "no such file")
    try:
        container = av.open(path, "r", timeout=OPEN_TIMEOUT)
    except ERRORS as exc:
        raise MediaError(path, reason(exc)) from exc
    try:
        videos = [s for s in container.streams.video if not (s.disposition & av.stream.Disposition.attached_pic)]
        if not videos:
            raise MediaError(path, "no video stream")
        stream = videos[0]
        stream.codec_context.thread_type = "AUTO"
        tb = Fraction(stream.time_base) if stream.time_base else Fraction(1, 90000)
        base = _rate(stream.average_rate) or _rate(stream.base_rate) or _rate(stream.guessed_rate) or Fraction(25)
        inp = VideoInput(container, stream, None, 0, 0, tb, base, None, 0, 0,  # type: ignore[arg-type]
                         Fraction(1), 0, 0, False)
        first = next(_frames(inp), None)
        if first is None:
            raise MediaError(path, "no decodable video frames (truncated or corrupt?)")
        pts, frame = first
        start = stream.start_time
        inp.first, inp.first_pts = frame, pts
        inp.origin = min(start, pts) if start is not None else pts
        inp.width, inp.height = frame.width, frame.height
        inp.sar = _rate(stream.sample_aspect_ratio) or _rate(stream.codec_context.sample_aspect_ratio) or Fraction(1)
        try:
            inp.rotation = int(round(frame.rotation or 0)) % 360
        except (AttributeError, TypeError, ValueError):
            inp.rotation = 0
        space = frame.colorspace
        if space in (None, _AVCOL_UNSPECIFIED):
            space = stream.codec_context.colorspace
        if space not in _SWS_OF_AVCOL:
            space = default_colorspace(frame.width, frame.height)
        inp.colorspace = space
        inp.full_range = frame.format.name.startswith("yuvj") or (frame.color_range or 0) == 2
        if stream.duration is not None and stream.duration > 0:
            inp.duration = stream.duration * tb
        elif container.duration is not None and container.duration > 0:
            inp.duration = Fraction(container.duration, av.time_base)
        return inp
    except MediaError:
        container.close()
        raise
    except ERRORS as exc:
        container.close()
        raise MediaError(path, reason(exc)) from exc


def restart(inp: VideoInput) -> None:
    """Reopen ``inp``'s file so that demuxing starts again at the very beginning (all streams)."""
    path = inp.container.name
    index = inp.stream.index
    inp.container.close()
    try:
        inp.container = av.open(path, "r", timeout=OPEN_TIMEOUT)
        inp.stream = inp.container.streams[index]
        inp.stream.codec_context.thread_type = "AUTO"
    except ERRORS as exc:
        raise MediaError(path, reason(exc)) from exc
