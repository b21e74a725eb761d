"""Frame-exact video decoding with PyAV.

``VideoSource(path).frame_at(t)`` returns the frame on screen ``t`` seconds after the media
start: the last frame whose timestamp is <= t, clamped to the first and last frames. It is
exact after any seek (seek to the keyframe before t, decode forward) and cheap when played
forwards (decode on from where the decoder stands, no seek). Variable-frame-rate media is
mapped by timestamp, never by frame index.

Times are exact ``Fraction`` seconds; the media start is the video stream's start time.
A decoder is not thread-safe on its own: every public method holds the source's lock.
Frames handed out are shared (with the frame cache and other callers): never write into them.

No PyAV exception escapes: anything unreadable becomes ``MediaError`` naming the path, and
every loop is bounded (packets without a frame, decode errors in a row, seek retries).
"""

from __future__ import annotations

import logging
import math
import os
import threading
from collections import deque
from fractions import Fraction

import av

from .frame_cache import END, FrameCache
from .probe import OPEN_TIMEOUT, MediaError

log = logging.getLogger(__name__)

#: Without a keyframe index, a target at most this far ahead is reached by decoding on.
FORWARD_WINDOW = Fraction(2)
#: With an index, seek only when the keyframe before the target is this many frames ahead.
SEEK_MARGIN_FRAMES = 8
#: Bounds that keep corrupt input from looping for ever.
MAX_PACKETS_WITHOUT_FRAME = 2000
MAX_ERRORS_IN_A_ROW = 64
MAX_SEEK_TRIES = 6
_ERRORS = (av.FFmpegError, OSError, ValueError, RuntimeError, EOFError, MemoryError)


def _reason(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__


def _rate(value) -> Fraction | None:
    if value is None:
        return None
    try:
        rate = Fraction(value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    return rate if rate > 0 else None


class VideoSource:
    """Random and sequential access to the frames of one file's main video stream.

    Attributes (set on open): ``fps`` (Fraction, nominal/average), ``width``, ``height``,
    ``pix_fmt``, ``duration`` (Fraction seconds or None), ``vfr``, ``frame_count``
    (estimate), ``colorspace`` / ``color_range`` / ``color_primaries`` / ``color_trc``
    (FFmpeg AVCOL_* ints; 2 / 0 mean unspecified), ``rotation`` (counter-clockwise display
    degrees), ``sample_aspect_ratio`` (Fraction, 1 when square or unknown), ``time_base``.
    """

    def __init__(self, path: str | os.PathLike[str], *, threads: int = 0, cache: FrameCache | None = None) -> None:
        self.path = os.fspath(path)
        self.threads = int(threads)
        self.cache = cache
        self._lock = threading.RLock()
        self._container = None
        self.seeks = 0  # statistics: how often we had to seek (tests and benchmarks read it)
        self.decoded = 0
        if not os.path.exists(self.path):
            raise MediaError(self.path, "no such file")
        if os.path.isdir(self.path):
            raise MediaError(self.path, "is a directory")
        with self._lock:
            self._open(first=True)

    # --- opening ------------------------------------------------------------------------
    def _open(self, first: bool = False) -> None:
        try:
            self._open_container(first)
        except MediaError:
            self._close_container()
            raise
        except _ERRORS as exc:
            self._close_container()
            raise MediaError(self.path, _reason(exc)) from exc

    def _open_container(self, first: bool) -> None:
        container = av.open(self.path, "r", timeout=OPEN_TIMEOUT)
        self._container = container
        videos = [s for s in container.streams.video if not (s.disposition & av.stream.Disposition.attached_pic)]
        if not videos:
            raise MediaError(self.path, "no video stream")
        stream = videos[0]
        for other in container.streams:
            if other is not stream:
                try:
                    other.discard = "all"
                except (AttributeError, ValueError, TypeError):
                    pass
        ctx = stream.codec_context
        ctx.thread_type = "AUTO"
        ctx.thread_count = self.threads
        self._stream = stream
        self._tb = Fraction(stream.time_base) if stream.time_base else Fraction(1, 90000)
        self._index = stream.index_entries
        self._reset_decoder()
        ahead = self._decode_next()
        if ahead is None:
            raise MediaError(self.path, "no decodable video frames (truncated or corrupt?)")
        self._ahead = ahead
        if not first:
            return
        frame = ahead[1]
        self._first_pts = ahead[0]
        start = stream.start_time
        self._origin = min(start, ahead[0]) if start is not None else ahead[0]
        self.width, self.height = frame.width, frame.height
        self.pix_fmt = frame.format.name
        self.colorspace = frame.colorspace if frame.colorspace != 2 else (ctx.colorspace or 2)
        self.color_range = frame.color_range or ctx.color_range or 0
        self.color_primaries = frame.color_primaries
        self.color_trc = frame.color_trc
        try:
            self.rotation = int(round(frame.rotation or 0)) % 360
        except (AttributeError, TypeError, ValueError):
            self.rotation = 0
        sar = _rate(stream.sample_aspect_ratio) or _rate(ctx.sample_aspect_ratio)
        self.sample_aspect_ratio = sar or Fraction(1)
        average, base = _rate(stream.average_rate), _rate(stream.base_rate) or _rate(stream.guessed_rate)
        self.fps = average or base or Fraction(25)
        self.vfr = bool(average and base and abs(average - base) / base > Fraction(1, 100))
        if stream.duration is not None and stream.duration > 0:
            self.duration = stream.duration * self._tb
        elif container.duration is not None and container.duration > 0:
            self.duration = Fraction(container.duration, av.time_base)
        else:
            self.duration = None
        if stream.frames and stream.frames > 0:
            self.frame_count = stream.frames
        elif self.duration is not None:
            self.frame_count = max(1, round(self.duration * self.fps))
        else:
            self.frame_count = None
        self.time_base = self._tb
        # Timestamps may be rounded to the container's clock: allow one tick of slack
        # when ticks are much finer than frames (never when a tick is a frame).
        self._slack = 1 if self._tb * 10 <= 1 / self.fps else 0
        self._frame_ticks = max(1, math.floor(1 / (self.fps * self._tb)))

    def _reset_decoder(self) -> None:
        self._packets = self._container.demux(self._stream)
        self._queue: deque = deque()
        self._eof = False
        self._shown = None  # (pts, frame) last frame consumed before ``_ahead``
        self._ahead = None  # (pts, frame) next frame in decode order, None at EOF
        self._last_pts = None  # pts of the last frame produced since the last seek
        self._since_frame = 0
        self._errors = 0

    def _close_container(self) -> None:
        container, self._container = self._container, None
        self._packets = None
        self._queue = deque()
        if container is not None:
            try:
                container.close()
            except _ERRORS:
                pass

    def close(self) -> None:
        """Release the file; a later ``frame_at`` opens it again."""
        with self._lock:
            self._close_container()

    @property
    def closed(self) -> bool:
        return self._container is None

    def __enter__(self) -> VideoSource:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"VideoSource({self.path!r}, {self.width}x{self.height} {self.pix_fmt} @ {self.fps})"

    # --- time <-> ticks -----------------------------------------------------------------
    def ticks(self, t: Fraction | int) -> int:
        """The stream timestamp that ``t`` seconds from the media start reaches (with slack)."""
        return self._origin + math.floor(Fraction(t) / self._tb) + self._slack

    def time_of(self, pts: int) -> Fraction:
        """Seconds from the media start of a frame timestamp."""
        return (pts - self._origin) * self._tb

    # --- decoding -----------------------------------------------------------------------
    def _decode_next(self):
        """The next frame in presentation order as ``(pts, frame)``, or None at the end."""
        while not self._queue:
            if self._eof:
                return None
            try:
                packet = next(self._packets)
            except StopIteration:
                self._eof = True
                continue
            except av.InvalidDataError as exc:  # damaged container data: resync and read on
                self._errors += 1
                if self._errors > MAX_ERRORS_IN_A_ROW:
                    if self._last_pts is None:
                        raise MediaError(self.path, _reason(exc)) from exc
                    log.warning("%s: unreadable data after pts %s, treated as the end", self.path, self._last_pts)
                    self._eof = True
                    continue
                self._packets = self._container.demux(self._stream)
                continue
            except _ERRORS as exc:
                raise MediaError(self.path, _reason(exc)) from exc
            self._since_frame += 1
            if self._since_frame > MAX_PACKETS_WITHOUT_FRAME:
                raise MediaError(self.path, f"no frame in {MAX_PACKETS_WITHOUT_FRAME} packets (corrupt?)")
            try:
                frames = packet.decode()
            except av.InvalidDataError as exc:  # a damaged packet: skip it
                self._errors += 1
                if self._errors > MAX_ERRORS_IN_A_ROW:
                    raise MediaError(self.path, f"too many decode errors ({_reason(exc)})") from exc
                continue
            except _ERRORS as exc:
                raise MediaError(self.path, _reason(exc)) from exc
            for frame in frames:
                pts = frame.pts
                if pts is None:
                    pts = frame.dts
                if pts is None:
                    pts = 0 if self._last_pts is None else self._last_pts + getattr(self, "_frame_ticks", 1)
                if self._last_pts is not None and pts <= self._last_pts:
                    continue  # out-of-order or duplicate timestamp: keep presentation order strict
                self._errors = 0
                self._since_frame = 0
                self.decoded += 1
                if self.cache is not None:
                    if self._last_pts is not None:
                        self.cache.set_next(self.path, self._last_pts, pts)
                    self.cache.put((self.path, pts), frame)
                self._last_pts = pts
                self._queue.append((pts, frame))
        return self._queue.popleft()

    def _advance(self) -> None:
        self._shown = self._ahead
        self._ahead = self._decode_next()
        if self._ahead is None and self.cache is not None and self._shown is not None:
            self.cache.set_next(self.path, self._shown[0], END)

    def _seek_to(self, ts: int) -> None:
        self.seeks += 1
        try:
            self._container.seek(ts, backward=True, any_frame=False, stream=self._stream)
        except _ERRORS:
            # Cannot seek (some raw/image demuxers): start over from the top.
            self._close_container()
            self._open()
            return
        self._reset_decoder()
        self._ahead = self._decode_next()

    def _restart(self) -> None:
        self._seek_to(self._first_pts)
        if self._ahead is None or self._ahead[0] > self._first_pts:
            self._close_container()
            self._open()

    def _seek(self, target: int) -> None:
        back = 0
        second = max(1, math.ceil(1 / self._tb))
        for _ in range(MAX_SEEK_TRIES):
            ts = target - back
            if ts <= self._first_pts:
                break
            self._seek_to(ts)
            if self._ahead is not None and self._ahead[0] <= target:
                return
            back = max(2 * back, second)  # landed after the target (or at the end): go earlier
        self._restart()

    def _should_seek(self, target: int) -> bool:
        """Whether reaching ``target`` (ahead of the decoder) is cheaper by seeking."""
        here = self._ahead[0]
        if len(self._index):
            try:
                i = self._index.search_timestamp(target, backward=True)
            except _ERRORS:
                i = -1
            if i >= 0:
                keyframe = self._index[i].timestamp
                return keyframe > here + SEEK_MARGIN_FRAMES * self._frame_ticks
        return (target - here) * self._tb > FORWARD_WINDOW

    def frame_at(self, t: Fraction | int) -> av.VideoFrame:
        """The frame displayed ``t`` seconds after the media start (clamped to first/last)."""
        with self._lock:
            try:
                return self._frame_at(Fraction(t))
            except MediaError:
                self._close_container()  # start clean next time
                raise
            except _ERRORS as exc:
                self._close_container()
                raise MediaError(self.path, _reason(exc)) from exc

    def _frame_at(self, t: Fraction):
        target = self.ticks(t)
        if self.cache is not None:
            hit = self.cache.find(self.path, target)
            if hit is not None:
                return hit[1]
        if self._container is None:
            self._open()
        shown, ahead = self._shown, self._ahead
        if shown is not None and shown[0] <= target and (ahead is None or target < ahead[0]):
            return shown[1]
        if ahead is None or target < ahead[0] or self._should_seek(target):
            if ahead is not None and target < ahead[0] and shown is None and ahead[0] == self._first_pts:
                return ahead[1]  # before the first frame: clamp
            if target < self._first_pts:
                self._restart()
                return self._ahead[1]
            self._seek(target)
            if self._ahead[0] > target:  # restarted and the target precedes the first frame
                return self._ahead[1]
        while self._ahead is not None and self._ahead[0] <= target:
            self._advance()
        if self._shown is None:  # nothing decoded before the target: clamp to what we have
            return self._ahead[1]
        return self._shown[1]
