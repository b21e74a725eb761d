"""One output file: a container with the preset's encoders; frames and float audio in, packets out.

Video frames carry ``pts = output frame index`` in a ``1/fps`` time base. Audio arrives as
float32 ``(channels, n)`` blocks at the mixer's rate, is resampled when the preset's rate
differs, cut into the encoder's frame size (1024 for AAC) and stamped with exact sample
pts, so audio sample ``s`` plays at ``s / sample_rate`` seconds, the same clock as video.
The muxer interleaves the two streams by timestamp.
"""

from __future__ import annotations

import os
from fractions import Fraction

import av
import numpy as np

from .presets import Preset, bitrate_bps

#: Samples per audio frame for encoders that take any size (PCM).
PCM_CHUNK = 4096
#: HEVC exports shorter than this are written without B-frames (see ``_add_video_stream``).
TINY_HEVC_FRAMES = 8
#: HD and UHD are BT.709: RGB frames are converted with that matrix and the stream is tagged so.
_BT709 = 1
_LIMITED_RANGE = 1


def layout_name(channels: int, layout: str | None = None) -> str:
    if layout:
        return layout
    return {1: "mono", 2: "stereo", 6: "5.1"}.get(channels, f"{channels}c")


def conform_frame(frame: av.VideoFrame, width: int, height: int, pix_fmt: str) -> av.VideoFrame:
    """``frame`` at the output size and pixel format (the same object when it already is).

    RGB input is converted with the BT.709 matrix into limited range; YUV input is scaled
    as it is (the compositor is expected to produce BT.709 YUV).
    """
    if frame.width == width and frame.height == height and frame.format.name == pix_fmt:
        return frame
    if frame.format.is_rgb:
        return frame.reformat(width, height, pix_fmt, dst_colorspace="ITU709", dst_color_range="MPEG",
                              interpolation="BICUBIC")
    return frame.reformat(width, height, pix_fmt, interpolation="BICUBIC")


def float_to_samples(block: np.ndarray, fmt: str) -> np.ndarray:
    """float32 ``(channels, n)`` -> the ndarray ``AudioFrame.from_ndarray`` wants for ``fmt``."""
    planar = fmt.endswith("p")
    base = fmt[:-1] if planar else fmt
    if base == "flt":
        data = block.astype(np.float32, copy=False)
    elif base == "dbl":
        data = block.astype(np.float64)
    elif base == "s16":
        data = np.round(np.clip(block, -1.0, 1.0) * 32767.0).astype(np.int16)
    elif base == "s32":
        data = np.round(np.clip(block.astype(np.float64), -1.0, 1.0) * 2147483647.0).astype(np.int32)
    elif base == "u8":
        data = (np.round(np.clip(block, -1.0, 1.0) * 127.0) + 128).astype(np.uint8)
    else:
        raise ValueError(f"unsupported sample format {fmt!r}")
    if not planar:
        data = data.T.reshape(1, -1)
    return np.ascontiguousarray(data)


class Encoder:
    """Writes ``path`` with ``preset``. Call ``add_video`` / ``add_audio``, then ``finish`` and ``close``.

    ``frames`` (optional) is the number of video frames that will be written.

    On any failure call ``discard`` instead: it closes the container without caring about
    errors. All writes go through ``_mux`` (one seam for tests that simulate a full disk).
    """

    def __init__(self, path: str | os.PathLike[str], preset: Preset, *, channels: int = 2,
                 layout: str | None = None, input_sample_rate: int | None = None, frames: int | None = None):
        self.path = os.fspath(path)
        self._frames_hint = frames
        self.preset = preset
        self.video_stream = None
        self.audio_stream = None
        self.audio_samples = 0  # samples encoded so far (the next audio pts)
        self._container = av.open(self.path, "w", format=preset.format, container_options=preset.container_options)
        try:
            if preset.video is not None:
                self._add_video_stream()
            if preset.audio is not None:
                self._add_audio_stream(channels, layout_name(channels, layout), input_sample_rate)
            self._container.start_encoding()  # opens the encoders and writes the header
        except BaseException:
            self.discard()
            raise
        if self.audio_stream is not None:
            ctx = self.audio_stream.codec_context
            self._audio_format = ctx.format.name
            self._audio_layout = ctx.layout.name
            self._audio_chunk = ctx.frame_size or PCM_CHUNK
            caps = ctx.codec.capabilities
            self._small_last_frame = bool(ctx.frame_size == 0 or caps & (
                av.codec.codec.Capabilities.small_last_frame | av.codec.codec.Capabilities.variable_frame_size))

    # ------------------------------------------------------------------ setup
    def _add_video_stream(self) -> None:
        v = self.preset.video
        stream = self._container.add_stream(v.codec, rate=v.fps)
        stream.width, stream.height, stream.pix_fmt = v.width, v.height, v.pix_fmt
        ctx = stream.codec_context
        ctx.time_base = Fraction(1) / v.fps
        ctx.framerate = v.fps
        ctx.thread_count = 0  # auto: x264/x265 use every core
        # PyAV defaults to SLICE, which makes libx264 use sliced threads; FRAME|SLICE gives x264's
        # frame threads, as the ffmpeg CLI does (measured: ~15% more 4K fps on 2 cores).
        ctx.thread_type = "AUTO"
        ctx.color_primaries = ctx.color_trc = ctx.colorspace = _BT709
        ctx.color_range = _LIMITED_RANGE
        if v.bitrate is not None and v.crf is None:
            stream.bit_rate = bitrate_bps(v.bitrate)
        options = v.encoder_options()
        if v.codec in ("libx264", "libx265"):
            # ``thread_count = 0`` alone leaves x264 with fewer threads than the ffmpeg CLI uses;
            # its own "threads=0" picks 1.5x the cores plus lookahead threads, as ffmpeg does.
            options.setdefault("threads", "0")
        if v.codec == "libx265":
            params = options.get("x265-params", "log-level=error")  # x265 logs to stderr by itself
            if self._frames_hint is not None and self._frames_hint < TINY_HEVC_FRAMES and "bframes" not in params:
                params += ":bframes=0"  # x265 sometimes emits a bad pts/dts pair for 1-2 frame streams
            options["x265-params"] = params
        stream.options = options
        if v.tag:
            stream.codec_tag = v.tag
        self.video_stream = stream

    def _add_audio_stream(self, channels: int, layout: str, input_rate: int | None) -> None:
        a = self.preset.audio
        stream = self._container.add_stream(a.codec, rate=a.sample_rate, layout=layout)
        if a.bitrate is not None:
            stream.bit_rate = bitrate_bps(a.bitrate)
        if a.options:
            stream.options = dict(a.options)
        stream.codec_context.time_base = Fraction(1, a.sample_rate)
        self.audio_stream = stream
        self._channels = channels
        self._pending: list[np.ndarray] = []
        self._pending_n = 0
        self._resampler = None
        if input_rate is not None and input_rate != a.sample_rate:
            self._input_rate = input_rate
            self._resampler = av.AudioResampler(format="fltp", layout=layout, rate=a.sample_rate)

    # ------------------------------------------------------------------ writing
    def _mux(self, packets) -> None:
        self._container.mux(packets)

    def add_video(self, frame: av.VideoFrame, index: int) -> None:
        """Encode ``frame`` as output frame ``index`` (shown at ``index / fps`` seconds)."""
        v = self.preset.video
        frame = conform_frame(frame, v.width, v.height, v.pix_fmt)
        frame.pts = index
        frame.time_base = Fraction(1) / v.fps
        self._mux(self.video_stream.encode(frame))

    def add_audio(self, block: np.ndarray) -> None:
        """Append float32 ``(channels, n)`` samples at the input rate; encodes every whole frame."""
        if self.audio_stream is None or block.shape[-1] == 0:
            return
        block = np.asarray(block, dtype=np.float32)
        if block.ndim != 2 or block.shape[0] != self._channels:
            raise ValueError(f"audio block has shape {block.shape}, expected ({self._channels}, n)")
        if self._resampler is not None:
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(block), format="fltp", layout=self._audio_layout)
            frame.sample_rate = self._input_rate
            for out in self._resampler.resample(frame):
                self._append(out.to_ndarray())
        else:
            self._append(block)
        self._drain(final=False)

    def _append(self, block: np.ndarray) -> None:
        if block.shape[-1]:
            self._pending.append(block)
            self._pending_n += block.shape[-1]

    def _take(self, n: int) -> np.ndarray:
        data = np.concatenate(self._pending, axis=1) if len(self._pending) > 1 else self._pending[0]
        head, tail = data[:, :n], data[:, n:]
        self._pending = [tail] if tail.shape[1] else []
        self._pending_n = tail.shape[1]
        return head

    def _encode_audio(self, block: np.ndarray) -> None:
        a = self.preset.audio
        frame = av.AudioFrame.from_ndarray(float_to_samples(block, self._audio_format),
                                           format=self._audio_format, layout=self._audio_layout)
        frame.sample_rate = a.sample_rate
        frame.pts = self.audio_samples
        frame.time_base = Fraction(1, a.sample_rate)
        self.audio_samples += block.shape[1]
        self._mux(self.audio_stream.encode(frame))

    def _drain(self, final: bool) -> None:
        chunk = self._audio_chunk
        while self._pending_n >= chunk:
            self._encode_audio(self._take(chunk))
        if final and self._pending_n:
            rest = self._take(self._pending_n)
            if not self._small_last_frame:  # this encoder needs whole frames: pad with silence
                rest = np.pad(rest, ((0, 0), (0, chunk - rest.shape[1])))
            self._encode_audio(rest)

    def finish(self, total_audio_samples: int | None = None) -> None:
        """Flush everything. Audio is padded with silence or cut to ``total_audio_samples``."""
        if self.audio_stream is not None:
            if self._resampler is not None:
                for out in self._resampler.resample(None):
                    self._append(out.to_ndarray())
            if total_audio_samples is not None:
                have = self.audio_samples + self._pending_n
                if have < total_audio_samples:
                    self._append(np.zeros((self._channels, total_audio_samples - have), np.float32))
                elif have > total_audio_samples and self._pending_n:
                    keep = max(0, self._pending_n - (have - total_audio_samples))
                    self._pending = [self._take(self._pending_n)[:, :keep]] if keep else []
                    self._pending_n = keep
            self._drain(final=True)
            self._mux(self.audio_stream.encode(None))
        if self.video_stream is not None:
            self._mux(self.video_stream.encode(None))

    def close(self) -> None:
        """Write the trailer (for faststart MP4 this moves the index to the front) and close."""
        self._container.close()

    def discard(self) -> None:
        """Close after a failure or cancel, ignoring errors; the caller removes the file.

        On POSIX the file is unlinked first, so closing does not spend time finishing it
        (a faststart MP4 would otherwise be rewritten whole just to be deleted).
        """
        if os.name == "posix":
            try:
                os.unlink(self.path)
            except OSError:
                pass
        try:
            self._container.close()
        except Exception:  # the file is being thrown away anyway
            pass
