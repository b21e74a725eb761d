"""Sample-exact, random-access audio decoding at the project rate and layout.

``AudioSource`` decodes the first audio stream of a file with PyAV, resamples it with
``av.AudioResampler`` to float32 planar at the project sample rate, and serves
``read(start, count)`` in samples of the project rate counted from the media start.

Where samples land (DESIGN.md fixed point 3):

* The media start is the container's ``start_time`` (the earliest stream start, the origin
  ffmpeg itself uses), so audio and video of one file share one clock.
* Every decoded frame is placed by its timestamp (``frame.pts * time_base``) in native
  samples; gaps are filled with silence and overlaps trimmed, so the resampler always sees
  one contiguous native signal.
* Random access seeks before the target and decodes forward. The resampler is restarted
  only at native sample ``i0`` that is a multiple of ``source_rate / gcd`` (output sample
  ``s0`` a multiple of ``rate / gcd``), where the resampler's phase is the same as in a
  sequential decode from the start; its warm-up output (the first ~20 samples) falls in a
  discarded pre-roll. A read after any seek therefore returns the very samples a
  sequential decode gives.
* Samples are served in fixed blocks from a small LRU cache; reading on from where the
  decoder stands decodes forward without seeking (the sequential fast path).

Channel layout: mono to stereo duplicates, stereo to mono averages, mono/stereo into 5.1 go
to FC / FL+FR; any other conversion is FFmpeg's rematrixing (e.g. 5.1 down to stereo).
"""

from __future__ import annotations

import math
import os
import threading
from collections import OrderedDict
from collections.abc import Iterator
from fractions import Fraction

import av
import numpy as np

from .probe import OPEN_TIMEOUT, MediaError

#: Output samples per cached block.
BLOCK = 8192
#: Output samples decoded and discarded before a seek target (resampler warm-up is ~20).
_PREROLL = 1024
#: Seconds decoded before the resampler restart point after a seek (codec warm-up: AAC/MP3 overlap).
_SEEK_MARGINS = (Fraction(1, 4), Fraction(2), Fraction(10))
#: A read this many blocks ahead of the decoder decodes forward instead of seeking.
_SEQUENTIAL_BLOCKS = 8
#: Consecutive undecodable packets tolerated before the file is reported corrupt.
_MAX_BAD_PACKETS = 64
#: Packets demuxed at most while looking for the first decodable frame.
_MAX_PROBE_PACKETS = 2000
#: Demuxers whose stream duration is exact (not estimated from the bit rate).
_EXACT_DURATION_FORMATS = frozenset({"mov", "mp4", "wav", "w64", "flac", "aiff", "caf"})
#: Layout names for the project channel counts.
_LAYOUTS = {1: "mono", 2: "stereo", 6: "5.1"}

_PYAV_ERRORS = (av.FFmpegError, OSError, ValueError, EOFError, RuntimeError)


def _layout_for(channels: int) -> str:
    return _LAYOUTS.get(channels, f"{channels}c")


def _to_float_planar(frame: av.AudioFrame) -> np.ndarray:
    """A decoded frame as float32 (channels, samples) in [-1, 1]."""
    arr = frame.to_ndarray()
    channels = frame.layout.nb_channels
    if not frame.format.is_planar:
        arr = arr.reshape(-1, channels).T
    kind = frame.format.name.rstrip("p")
    if kind == "u8":
        return (arr.astype(np.float32) - 128.0) / 128.0
    if kind in ("s16", "s32", "s64"):
        bits = {"s16": 15, "s32": 31, "s64": 63}[kind]
        return (arr.astype(np.float64) / float(1 << bits)).astype(np.float32)
    return np.ascontiguousarray(arr, dtype=np.float32)


def _map_channels(data: np.ndarray, channels: int) -> np.ndarray:
    """Convert (cs, n) to (channels, n) for the conversions done here (see module doc)."""
    cs = data.shape[0]
    if cs == channels:
        return data
    out = np.zeros((channels, data.shape[1]), dtype=np.float32)
    if cs == 1:
        if channels == 6:
            out[2] = data[0]
        else:
            out[:2] = data[0]
    elif cs == 2 and channels == 1:
        out[0] = (data[0] + data[1]) * np.float32(0.5)
    elif cs == 2 and channels == 6:
        out[:2] = data
    else:  # pragma: no cover - the resampler converts every other layout
        raise ValueError(f"no channel mapping from {cs} to {channels}")
    return out


def _numpy_maps(cs: int, channels: int) -> bool:
    return cs == channels or (cs in (1, 2) and channels in (1, 2, 6))


class AudioSource:
    """Random-access reader of one file's first audio stream at ``sample_rate`` / ``channels``.

    ``read(start, count)`` returns float32 ``(channels, count)``: samples of the project rate
    counted from the media start, zeros outside the media. Not re-entrant per se, but reads
    are serialised by a lock, so one source may be shared between threads.
    Errors are ``MediaError(path, reason)``.
    """

    def __init__(self, path: str | os.PathLike[str], sample_rate: int, channels: int, *, cache_blocks: int = 32):
        self.path = os.fspath(path)
        if int(sample_rate) <= 0:
            raise ValueError(f"bad sample rate {sample_rate!r}")
        if int(channels) <= 0:
            raise ValueError(f"bad channel count {channels!r}")
        self.sample_rate = int(sample_rate)
        self.channels = int(channels)
        self._cache_blocks = max(_SEQUENTIAL_BLOCKS * 2, int(cache_blocks))
        self._cache: OrderedDict[int, np.ndarray] = OrderedDict()
        self._lock = threading.RLock()
        #: Number of seeks/reopens done so far (diagnostics; tests check the sequential path).
        self.seek_count = 0
        self._container = None
        self._demux: Iterator | None = None
        self._resampler: av.AudioResampler | None = None
        self._eof_block: int | None = None  # first block wholly past the decoded end
        if not os.path.exists(self.path):
            raise MediaError(self.path, "no such file")
        if os.path.isdir(self.path):
            raise MediaError(self.path, "is a directory")
        try:
            self._open_container()
            self._describe()
        except MediaError:
            self.close()
            raise
        except _PYAV_ERRORS as exc:
            self.close()
            raise MediaError(self.path, _reason(exc)) from exc

    # --- setup ---------------------------------------------------------------------------
    def _open_container(self) -> None:
        if self._container is not None:
            self._container.close()
            self._container = None
        self._container = av.open(self.path, "r", timeout=OPEN_TIMEOUT)
        streams = self._container.streams.audio
        if not streams:
            raise MediaError(self.path, "no audio stream")
        self._stream = streams[0]

    def _describe(self) -> None:
        stream, container = self._stream, self._container
        ctx = stream.codec_context
        # The first decoded frame tells the real rate and layout (headers can disagree, e.g.
        # HE-AAC) and proves the data decodes at all (a truncated download fails here).
        first_frame = self._first_frame()
        self.source_rate = int(first_frame.sample_rate or ctx.sample_rate or 0)
        if self.source_rate <= 0:
            raise MediaError(self.path, "audio stream has no sample rate")
        layout = first_frame.layout
        self.source_channels = int(layout.nb_channels)
        if self.source_channels <= 0:
            raise MediaError(self.path, "audio stream has no channels")
        self._time_base = Fraction(stream.time_base) if stream.time_base else None
        if container.start_time is not None:
            self._origin = Fraction(container.start_time, av.time_base)
        elif stream.start_time is not None and self._time_base is not None:
            self._origin = stream.start_time * self._time_base
        else:
            self._origin = Fraction(0)
        # Timestamps within this many native samples of the expected one count as contiguous
        # (Matroska stores milliseconds: +-24 samples at 48 kHz).
        self._jitter = max(1, math.ceil(self._time_base * self.source_rate)) if self._time_base else 1
        # With such coarse timestamps, a codec with fixed-size frames (AAC 1024, MP3 1152) is
        # placed on its frame grid, counted from the stream start, so a seek lands exactly.
        self._grid = int(ctx.frame_size or 0) if self._jitter > 1 else 0
        first = stream.start_time * self._time_base if stream.start_time is not None and self._time_base else None
        self._grid_origin = round((first - self._origin) * self.source_rate) if first is not None else 0
        # The media end: exact from the stream header of containers that store it (mp4/mov
        # edit lists also cut the codec's end padding); otherwise an estimate until decoding
        # reaches the end (raw AAC/MP3 estimate it from the bit rate, which can be far off).
        end: Fraction | None = None
        self._exact_end = False
        exact = bool(set(container.format.name.split(",")) & _EXACT_DURATION_FORMATS)
        if stream.duration and self._time_base is not None:
            start = stream.start_time if stream.start_time is not None else 0
            end = (start + stream.duration) * self._time_base - self._origin
            self._exact_end = exact
        elif container.duration:
            end = Fraction(container.duration, av.time_base)
        self._end_seconds = end if end is not None and end > 0 else None
        self._native_end = (math.ceil(self._end_seconds * self.source_rate)
                            if self._exact_end and self._end_seconds is not None else None)
        self._duration: int | None = (math.ceil(self._end_seconds * self.sample_rate)
                                      if self._end_seconds is not None else None)
        g = math.gcd(self.source_rate, self.sample_rate)
        self._period_in, self._period_out = self.source_rate // g, self.sample_rate // g
        src_layout = layout.name
        if any(c.name == "NONE" for c in layout.channels):  # unspecified order (plain WAV)
            src_layout = _layout_for(self.source_channels)
        self._src_layout = src_layout
        self._ffmpeg_layout = not _numpy_maps(self.source_channels, self.channels)
        self._resample = self._ffmpeg_layout or self.source_rate != self.sample_rate

    def _first_frame(self) -> av.AudioFrame:
        for count, packet in enumerate(self._container.demux(self._stream)):
            if count > _MAX_PROBE_PACKETS:
                break
            try:
                frames = packet.decode()
            except av.InvalidDataError:
                continue
            if frames:
                return frames[0]
        raise MediaError(self.path, "no decodable audio data (truncated or corrupt?)")

    # --- public --------------------------------------------------------------------------
    @property
    def duration_samples(self) -> int:
        """Length in samples of the project rate (from the header; exact once decoded to the end)."""
        with self._lock:
            if self._duration is None:
                self._scan_to_end()
            return int(self._duration or 0)

    def read(self, start: int, count: int) -> np.ndarray:
        """Samples ``[start, start + count)`` of the project rate as float32 ``(channels, count)``."""
        start, count = int(start), int(count)
        out = np.zeros((self.channels, max(count, 0)), dtype=np.float32)
        if count <= 0:
            return out
        with self._lock:
            end = self._known_end()
            lo, hi = max(start, 0), start + count if end is None else min(start + count, end)
            if lo >= hi:
                return out
            try:
                for b in range(lo // BLOCK, (hi - 1) // BLOCK + 1):
                    block = self._block(b)
                    if block is None:
                        continue
                    b0 = b * BLOCK
                    s, e = max(lo, b0), min(hi, b0 + BLOCK)
                    out[:, s - start : e - start] = block[:, s - b0 : e - b0]
            except MediaError:
                self._reset_decoder()
                raise
            except _PYAV_ERRORS as exc:
                self._reset_decoder()
                raise MediaError(self.path, _reason(exc)) from exc
        return out

    def close(self) -> None:
        """Release the file; a later read reopens it (cached blocks stay)."""
        with self._lock:
            self._demux = None
            self._resampler = None
            if self._container is not None:
                try:
                    self._container.close()
                finally:
                    self._container = None

    def __enter__(self) -> AudioSource:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return (f"AudioSource({self.path!r}, {self.sample_rate}, {self.channels}; "
                f"source {self.source_rate} Hz x{self.source_channels})")

    # --- blocks --------------------------------------------------------------------------
    def _known_end(self) -> int | None:
        if self._exact_end or self._eof_block is not None:
            return self._duration
        return None

    def _block(self, b: int) -> np.ndarray | None:
        block = self._cache.get(b)
        if block is not None:
            self._cache.move_to_end(b)
            return block
        if self._eof_block is not None and b >= self._eof_block:
            return None
        if not (self._demux is not None and self._next_block <= b <= self._next_block + _SEQUENTIAL_BLOCKS):
            self._restart(b)
        while b not in self._cache:
            if not self._pump():
                break
        block = self._cache.get(b)
        if block is not None:
            self._cache.move_to_end(b)
        return block

    def _store(self, b: int, block: np.ndarray) -> None:
        end = self._duration if self._exact_end else None
        if end is not None and (b + 1) * BLOCK > end:
            block[:, max(0, end - b * BLOCK) :] = 0.0
        self._cache[b] = block
        self._cache.move_to_end(b)
        while len(self._cache) > self._cache_blocks:
            self._cache.popitem(last=False)

    # --- decoding ------------------------------------------------------------------------
    def _reset_decoder(self) -> None:
        self._demux = None
        self._resampler = None

    def _restart(self, b: int, attempt: int = 0) -> None:
        """Position the pipeline so that it next completes block ``b``."""
        target = b * BLOCK
        s0 = max(0, target - _PREROLL) // self._period_out * self._period_out
        i0 = s0 // self._period_out * self._period_in
        self.seek_count += 1
        margin = _SEEK_MARGINS[attempt] if attempt < len(_SEEK_MARGINS) else None
        seek_native = None if margin is None else i0 - math.ceil(margin * self.source_rate)
        if seek_native is None or seek_native <= 0 or self._time_base is None:
            self._open_container()  # from the very start: reopening is exact for every format
            self._verify_seek = False
        else:
            if self._container is None:  # closed (e.g. by a pool): reopen lazily
                self._open_container()
            pts = math.floor((self._origin + Fraction(seek_native, self.source_rate)) / self._time_base)
            self._container.seek(pts, stream=self._stream, backward=True, any_frame=False)
            self._verify_seek = True
        self._attempt = attempt
        self._restart_block = b
        self._demux = self._container.demux(self._stream)
        self._resampler = (av.AudioResampler(format="fltp", layout=_layout_for(self.channels) if
                                             self._ffmpeg_layout else self._src_layout, rate=self.sample_rate)
                           if self._resample else None)
        self._in_next = i0
        self._placed = False  # until data flows, frames are placed by their timestamps alone
        self._out_next = s0
        self._keep_from = target
        self._pending: list[np.ndarray] = []
        self._pending_len = 0
        self._next_block = b
        self._bad_packets = 0

    def _pump(self) -> bool:
        """Decode one packet through the pipeline; False once the stream has ended."""
        try:
            packet = next(self._demux)
        except StopIteration:
            self._finish()
            return False
        try:
            frames = packet.decode()
        except av.InvalidDataError:
            self._bad_packets += 1
            if self._bad_packets > _MAX_BAD_PACKETS:
                raise MediaError(self.path, "too many undecodable audio packets (corrupt data)") from None
            return True
        self._bad_packets = 0
        for frame in frames:
            if not self._take(frame):
                return True  # restarted with a larger margin
        return True

    def _take(self, frame: av.AudioFrame) -> bool:
        data = _to_float_planar(frame)
        if frame.sample_rate and frame.sample_rate != self.source_rate:
            raise MediaError(self.path, "the sample rate changes inside the stream")
        p = self._place(frame)
        if self._verify_seek:
            self._verify_seek = False
            if p is None or p > self._in_next:
                # The seek landed after the restart point: seek further back; without timestamps
                # a seek cannot be placed at all: decode from the start.
                self._restart(self._restart_block, len(_SEEK_MARGINS) if p is None else self._attempt + 1)
                return False
        if p is None:
            p = self._in_next
        n = data.shape[1]
        if self._native_end is not None and p + n > self._native_end:
            n = max(0, self._native_end - p)
            data = data[:, :n]
        if n == 0:
            return True
        if self._placed and abs(p - self._in_next) <= self._jitter:
            p = self._in_next  # contiguous: timestamps only as precise as the time base
        if p < self._in_next:  # overlap (or decoding from before the restart point): drop the head
            drop = self._in_next - p
            if drop >= n:
                return True
            data, p, n = data[:, drop:], self._in_next, n - drop
        elif p > self._in_next:  # a real gap in the timestamps: silence
            self._feed(np.zeros((data.shape[0], p - self._in_next), dtype=np.float32))
        self._feed(data)
        self._placed = True
        return True

    def _place(self, frame: av.AudioFrame) -> int | None:
        if frame.pts is None:
            return None
        tb = Fraction(frame.time_base) if frame.time_base else self._time_base
        if tb is None:
            return None
        p = round((frame.pts * tb - self._origin) * self.source_rate)
        if self._grid and frame.samples == self._grid:
            p = self._grid_origin + round(Fraction(p - self._grid_origin, self._grid)) * self._grid
        return p

    def _feed(self, data: np.ndarray) -> None:
        n = data.shape[1]
        if self._resampler is None:
            self._in_next += n
            self._emit(data)
            return
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(data), format="fltp", layout=self._src_layout)
        frame.sample_rate = self.source_rate
        frame.pts = self._in_next
        frame.time_base = Fraction(1, self.source_rate)
        self._in_next += n
        for out in self._resampler.resample(frame):
            self._emit(out.to_ndarray())

    def _emit(self, data: np.ndarray) -> None:
        n = data.shape[1]
        start = self._out_next
        self._out_next += n
        if self._out_next <= self._keep_from:
            return
        if start < self._keep_from:
            data = data[:, self._keep_from - start :]
        self._pending.append(_map_channels(np.asarray(data, dtype=np.float32), self.channels))
        self._pending_len += data.shape[1]
        if self._pending_len >= BLOCK:
            joined = np.concatenate(self._pending, axis=1)
            full = self._pending_len // BLOCK
            for k in range(full):
                self._store(self._next_block, np.ascontiguousarray(joined[:, k * BLOCK : (k + 1) * BLOCK]))
                self._next_block += 1
            rest = joined[:, full * BLOCK :]
            self._pending = [rest] if rest.shape[1] else []
            self._pending_len = rest.shape[1]

    def _finish(self) -> None:
        """End of stream: flush the resampler, store the last partial block, learn the end."""
        if self._resampler is not None:
            for out in self._resampler.resample(None):
                self._emit(out.to_ndarray())
        decoded_end = self._out_next
        if self._pending_len:
            last = np.zeros((self.channels, BLOCK), dtype=np.float32)
            last[:, : self._pending_len] = np.concatenate(self._pending, axis=1)
            self._store(self._next_block, last)
            self._next_block += 1
        self._pending, self._pending_len = [], 0
        if not self._exact_end or (self._duration is not None and decoded_end < self._duration):
            self._duration = decoded_end  # the decoded truth wins over a header estimate that is too long
        self._eof_block = -(-decoded_end // BLOCK)
        self._reset_decoder()

    def _scan_to_end(self) -> None:
        """Decode the whole stream once to learn its length (files without any duration)."""
        try:
            self._restart(0)
            while self._pump():
                pass
        except _PYAV_ERRORS as exc:
            self._reset_decoder()
            raise MediaError(self.path, _reason(exc)) from exc


def _reason(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
