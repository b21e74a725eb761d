"""Synthetic media with known ground truth, written with PyAV (for tests and the demo).

Video frames show a white ball on a dark background whose centre x is ``ball_x(i, ...)``
and, along the bottom edge, a frame counter: ``COUNTER_BITS`` blocks, most significant bit
first, yellow for 1 and blue for 0 (high contrast in luma and chroma, so it survives
yuv420p and lossy coding). ``read_frame_counter`` decodes it from an RGB frame.

The audio track is silent except for a 1 kHz beep during ``beep_frames`` (the first frame
of every second, rounded to frames), each beep lasting exactly one frame.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

COUNTER_BITS = 16
BEEP_HZ = 1000.0
_BACKGROUND = np.array([24, 24, 32], dtype=np.uint8)
_ONE = np.array([255, 255, 0], dtype=np.uint8)
_ZERO = np.array([0, 0, 255], dtype=np.uint8)
_AUDIO_CHUNK = 1024

# container extension -> audio codec
_AUDIO_CODECS = {
    ".wav": "pcm_s16le",
    ".m4a": "aac",
    ".mp4": "aac",
    ".mov": "aac",
    ".mkv": "aac",
}


@dataclass(frozen=True)
class SynthVideo:
    """Ground truth of a file written by ``write_test_video``."""

    path: str
    width: int
    height: int
    fps: Fraction
    frames: int
    has_audio: bool
    sample_rate: int | None
    beep_frames: tuple[int, ...]

    @property
    def duration(self) -> Fraction:
        return self.frames / self.fps

    def ball_x(self, index: int) -> int:
        return ball_x(index, self.width, self.height, self.frames)


def ball_radius(width: int, height: int) -> int:
    return max(2, min(width, height) // 12)


def ball_x(index: int, width: int, height: int, frames: int) -> int:
    """Centre x of the ball in frame ``index``: a linear sweep from left to right."""
    r = ball_radius(width, height)
    span = width - 2 * r - 1
    return r + (index * span) // max(1, frames - 1)


def ball_y(height: int) -> int:
    """Centre y of the ball (constant; above the counter strip)."""
    return (height - _counter_block(height)) // 2


def _counter_block(height: int) -> int:
    return max(4, height // 10)


def beep_frames(fps: Fraction, frames: int) -> tuple[int, ...]:
    """Frames carrying a beep: the first frame of each whole second."""
    out = []
    second = 0
    while True:
        index = math.ceil(second * fps)
        if index >= frames:
            return tuple(out)
        out.append(index)
        second += 1


def draw_frame(index: int, width: int, height: int, frames: int) -> np.ndarray:
    """RGB24 array (height, width, 3) for frame ``index``."""
    img = np.empty((height, width, 3), dtype=np.uint8)
    img[:] = _BACKGROUND
    r = ball_radius(width, height)
    cx, cy = ball_x(index, width, height, frames), ball_y(height)
    y0, y1 = max(0, cy - r), min(height, cy + r + 1)
    x0, x1 = max(0, cx - r), min(width, cx + r + 1)
    yy, xx = np.ogrid[y0:y1, x0:x1]
    mask = (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r
    img[y0:y1, x0:x1][mask] = 255
    block_h = _counter_block(height)
    for bit in range(COUNTER_BITS):
        bx0 = bit * width // COUNTER_BITS
        bx1 = (bit + 1) * width // COUNTER_BITS
        on = (index >> (COUNTER_BITS - 1 - bit)) & 1
        img[height - block_h :, bx0:bx1] = _ONE if on else _ZERO
    return img


def read_frame_counter(rgb: np.ndarray) -> int:
    """Decode the frame counter drawn by ``draw_frame`` from an RGB24 array."""
    height, width = rgb.shape[:2]
    block_h = _counter_block(height)
    value = 0
    for bit in range(COUNTER_BITS):
        bx0 = bit * width // COUNTER_BITS
        bx1 = (bit + 1) * width // COUNTER_BITS
        # sample the centre of the block, away from edges blurred by chroma subsampling
        cy0, cy1 = height - block_h + block_h // 4, height - block_h // 4
        cx0, cx1 = bx0 + (bx1 - bx0) // 4, bx1 - (bx1 - bx0) // 4
        mean = rgb[cy0:cy1, cx0:cx1].reshape(-1, 3).mean(axis=0)
        value = (value << 1) | int(mean[1] > 127)  # green: 255 for yellow, 0 for blue
    return value


def _beep_signal(sample_rate: int, total: int, fps: Fraction, frames: Sequence[int]) -> np.ndarray:
    signal = np.zeros(total, dtype=np.float32)
    for f in frames:
        start = int(f * sample_rate / fps)
        stop = min(total, int((f + 1) * sample_rate / fps))
        t = np.arange(stop - start, dtype=np.float64) / sample_rate
        signal[start:stop] = (0.5 * np.sin(2 * np.pi * BEEP_HZ * t)).astype(np.float32)
    return signal


def _add_audio_stream(container, codec: str, sample_rate: int, channels: int):
    layout = "mono" if channels == 1 else "stereo" if channels == 2 else f"{channels}c"
    stream = container.add_stream(codec, rate=sample_rate, layout=layout)
    return stream


def _encode_audio(container, stream, mono: np.ndarray, channels: int) -> None:
    """Encode a mono float signal, duplicated over ``channels``, in fixed-size chunks."""
    ctx = stream.codec_context
    fmt = ctx.format.name if ctx.format is not None else "fltp"
    planar = fmt.endswith("p")
    pts = 0
    for start in range(0, len(mono), _AUDIO_CHUNK):
        chunk = mono[start : start + _AUDIO_CHUNK]
        if fmt.startswith("s16"):
            chunk = (np.clip(chunk, -1.0, 1.0) * 32767).astype(np.int16)
        data = np.tile(chunk, (channels, 1))
        if not planar:
            data = data.T.reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(data), format=fmt, layout=ctx.layout.name
        )
        frame.sample_rate = ctx.sample_rate
        frame.pts = pts
        frame.time_base = Fraction(1, ctx.sample_rate)
        pts += len(chunk)
        for packet in stream.encode(frame):
            container.mux(packet)
    for packet in stream.encode(None):
        container.mux(packet)


def write_test_video(
    path: str | os.PathLike[str],
    *,
    width: int = 320,
    height: int = 180,
    fps: Fraction | int = Fraction(25),
    frames: int = 50,
    audio: bool = True,
    sample_rate: int = 48000,
    channels: int = 2,
    codec: str = "libx264",
    rotation: int = 0,
) -> SynthVideo:
    """Write a synthetic clip (see module docstring) and return its ground truth.

    ``rotation`` (counter-clockwise degrees) is stored as display-matrix side data.
    """
    path = str(path)
    fps = Fraction(fps)
    beeps = beep_frames(fps, frames) if audio else ()
    with av.open(path, "w") as container:
        vstream = container.add_stream(codec, rate=fps)
        vstream.width, vstream.height = width, height
        vstream.pix_fmt = "yuv420p"
        vstream.codec_context.time_base = 1 / fps
        if codec == "libx264":
            vstream.options = {"preset": "ultrafast", "crf": "16", "threads": "2"}
        if rotation:
            vstream.set_display_rotation(rotation)
        astream = None
        if audio:
            acodec = _AUDIO_CODECS.get(Path(path).suffix.lower(), "aac")
            astream = _add_audio_stream(container, acodec, sample_rate, channels)
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(draw_frame(i, width, height, frames), "rgb24")
            frame.pts = i
            frame.time_base = 1 / fps
            for packet in vstream.encode(frame):
                container.mux(packet)
        for packet in vstream.encode(None):
            container.mux(packet)
        if astream is not None:
            total = int(frames * sample_rate / fps)
            signal = _beep_signal(sample_rate, total, fps, beeps)
            _encode_audio(container, astream, signal, channels)
    return SynthVideo(
        path=path,
        width=width,
        height=height,
        fps=fps,
        frames=frames,
        has_audio=audio,
        sample_rate=sample_rate if audio else None,
        beep_frames=beeps,
    )


def write_test_audio(
    path: str | os.PathLike[str],
    seconds: float | Fraction = 1,
    sample_rate: int = 48000,
    freq: float = BEEP_HZ,
    *,
    channels: int = 2,
) -> int:
    """Write a continuous sine tone; the codec follows the extension (.wav PCM, .m4a AAC).

    Returns the number of samples per channel written.
    """
    path = str(path)
    suffix = Path(path).suffix.lower()
    if suffix not in _AUDIO_CODECS:
        raise ValueError(f"unsupported audio extension {suffix!r}")
    total = round(Fraction(seconds) * sample_rate)
    t = np.arange(total, dtype=np.float64) / sample_rate
    tone = (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)
    with av.open(path, "w") as container:
        stream = _add_audio_stream(container, _AUDIO_CODECS[suffix], sample_rate, channels)
        _encode_audio(container, stream, tone, channels)
    return total


def write_test_image(path: str | os.PathLike[str], w: int = 320, h: int = 180) -> None:
    """Write a still (PNG or JPEG by extension) showing frame 0 of the test pattern."""
    frame = av.VideoFrame.from_ndarray(draw_frame(0, w, h, 1), "rgb24")
    frame.save(str(path))
