"""Demo scenes synthesized in code, with ground truth: a bouncing ball whose impacts are
audible at known frames, and colour bars with a tone. Used by ``studio demo`` and by tests
that need an event at a known time (the ball hits the floor at frame 37)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from fractions import Fraction

import av
import numpy as np

from .synth import _add_audio_stream, _encode_audio

#: 75% SMPTE bars: white, yellow, cyan, green, magenta, red, blue.
BARS = np.array([[191, 191, 191], [191, 191, 0], [0, 191, 191], [0, 191, 0], [191, 0, 191], [191, 0, 0],
                 [0, 0, 191]], dtype=np.uint8)


@dataclass(frozen=True)
class BouncingBall:
    """Ground truth: the ball touches the floor at ``impact_frames``."""

    path: str
    fps: Fraction
    frames: int
    impact_frames: tuple[int, ...]
    sample_rate: int

    def impact_seconds(self) -> list[Fraction]:
        return [Fraction(f) / self.fps for f in self.impact_frames]


def _video_stream(container, fps: Fraction, width: int, height: int):
    stream = container.add_stream("libx264", rate=fps)
    stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
    stream.codec_context.time_base = 1 / fps
    stream.options = {"preset": "ultrafast", "crf": "18"}
    return stream


def _write(path: str, fps: Fraction, frames: int, draw, audio: np.ndarray, width: int, height: int,
           sample_rate: int) -> None:
    with av.open(path, "w") as container:
        v = _video_stream(container, fps, width, height)
        a = _add_audio_stream(container, "aac", sample_rate, 2)
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(draw(i), "rgb24")
            frame.pts = i
            frame.time_base = 1 / fps
            for packet in v.encode(frame):
                container.mux(packet)
        for packet in v.encode(None):
            container.mux(packet)
        _encode_audio(container, a, audio, 2)


def ball_height(i: int, first_impact: int, period: int) -> float:
    """Height above the floor in [0, 1]: a parabola that is 0 at every impact frame."""
    phase = ((i - first_impact) % period) / period  # 0 at impact
    return 4 * phase * (1 - phase)


def write_bouncing_ball(path: str | os.PathLike[str], *, width: int = 640, height: int = 360,
                        fps: Fraction = Fraction(25), frames: int = 100, first_impact: int = 37, period: int = 30,
                        sample_rate: int = 48000) -> BouncingBall:
    """A ball bouncing on a floor; a short decaying thump starts exactly at each impact frame."""
    fps = Fraction(fps)
    impacts = tuple(range(first_impact % period, frames, period))
    floor_y, radius = int(height * 0.85), max(4, height // 14)
    top_y = radius + height // 12
    yy, xx = np.mgrid[0:height, 0:width]

    def draw(i: int) -> np.ndarray:
        img = np.empty((height, width, 3), np.uint8)
        img[:] = (40, 44, 60)
        img[floor_y:] = (90, 70, 50)
        cy = floor_y - radius - ball_height(i, first_impact, period) * (floor_y - radius - top_y)
        cx = radius + (width - 2 * radius) * i / max(1, frames - 1)
        img[(xx - cx) ** 2 + (yy - cy) ** 2 <= radius**2] = (230, 80, 40)
        return img

    total = int(frames * sample_rate / fps)
    audio = np.zeros(total, np.float32)
    t = np.arange(int(0.15 * sample_rate)) / sample_rate
    thump = (0.8 * np.exp(-t * 40) * np.sin(2 * np.pi * 110 * t)).astype(np.float32)
    for f in impacts:
        start = int(f * sample_rate / fps)
        n = min(len(thump), total - start)
        audio[start:start + n] += thump[:n]
    _write(str(path), fps, frames, draw, audio, width, height, sample_rate)
    return BouncingBall(str(path), fps, frames, impacts, sample_rate)


def write_colour_bars(path: str | os.PathLike[str], *, width: int = 640, height: int = 360,
                      fps: Fraction = Fraction(25), frames: int = 100, tone_hz: float = 1000.0,
                      tone_dbfs: float = -20.0, sample_rate: int = 48000) -> None:
    """75% colour bars with a steady reference tone (-20 dBFS by default)."""
    fps = Fraction(fps)
    img = np.empty((height, width, 3), np.uint8)
    for k, colour in enumerate(BARS):
        img[:, k * width // len(BARS):(k + 1) * width // len(BARS)] = colour
    total = int(frames * sample_rate / fps)
    t = np.arange(total) / sample_rate
    tone = (10 ** (tone_dbfs / 20) * np.sin(2 * np.pi * tone_hz * t)).astype(np.float32)
    _write(str(path), fps, frames, lambda i: img, tone, width, height, sample_rate)
