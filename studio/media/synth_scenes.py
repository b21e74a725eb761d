"""Demo scenes synthesized in code, with ground truth: a bouncing ball whose impacts are
audible at known frames, and colour bars with a tone. Used by ``studio demo`` and by tests
that need an event at a known time (the ball hits the floor at frame 37). For the foley
detectors also a walker (feet planting alternately at known sub-frame times), an explosion
(a fireball expanding from a known frame, after a plain flash) and a strike (a cue sets a
resting puck sliding at a known sub-frame time)."""

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


@dataclass(frozen=True)
class Walker:
    """Ground truth: a foot touches the floor at each of ``contact_frames`` (float, sub-frame)."""

    path: str
    fps: Fraction
    frames: int
    contact_frames: tuple[float, ...]
    step_period: float  # frames between consecutive contacts (alternating feet)


def _ellipse(img: np.ndarray, cx: float, cy: float, rx: float, ry: float, colour) -> None:
    """Fill an axis-aligned ellipse (drawn on a bounding window, so cheap at any size)."""
    h, w = img.shape[:2]
    x0, x1 = max(0, int(cx - rx) - 1), min(w, int(cx + rx) + 2)
    y0, y1 = max(0, int(cy - ry) - 1), min(h, int(cy + ry) + 2)
    if x0 >= x1 or y0 >= y1:
        return
    yy, xx = np.mgrid[y0:y1, x0:x1]
    inside = ((xx - cx) / rx) ** 2 + ((yy - cy) / ry) ** 2 <= 1.0
    img[y0:y1, x0:x1][inside] = colour


def walker_pose(t: float, first_contact: float, period: float, stride: float, lift: float,
                swing: float = 0.8) -> tuple[tuple[float, float], tuple[float, float], float]:
    """Feet ``(x, height above floor)`` and body x at time ``t`` (frames) for a walker.

    Contacts alternate feet every ``period`` frames from ``first_contact``; a foot swings for
    ``swing * period`` frames before its contact (an arc ``lift * sin``: it comes down at speed
    and stops dead at the contact), otherwise it is planted. Each contact lands ``stride``
    further on than the previous one; the body moves at a constant ``stride / period``.
    """
    feet = []
    for foot in (0, 1):
        # contacts of this foot: k = foot, foot + 2, ... at first_contact + k * period
        k = int(np.floor((t - first_contact - foot * period) / (2 * period))) * 2 + foot  # last contact <= t
        last = first_contact + k * period
        nxt = last + 2 * period
        start = nxt - swing * period
        if t < start:
            x, y = k * stride, 0.0  # planted where the last contact put it
        else:
            s = (t - start) / (swing * period)
            x, y = k * stride + 2 * stride * s, lift * np.sin(np.pi * s)
        feet.append((x, y))
    body = (t - first_contact) / period * stride - stride / 2  # between the feet
    return feet[0], feet[1], body


def write_walker(path: str | os.PathLike[str], *, width: int = 640, height: int = 360, fps: Fraction = Fraction(25),
                 frames: int = 100, first_contact: float = 8.0, period: float = 12.0) -> Walker:
    """A figure (head, torso, two feet; no legs) walking left to right on a floor, seen side on.

    The feet plant alternately (a foot lands every ``period`` frames: its downward motion stops
    at the contact) and the body bobs, lowest at each contact. No sound track.
    """
    fps = Fraction(fps)
    floor_y = int(height * 0.85)
    stride = width * 0.075
    lift = height * 0.06
    foot_rx, foot_ry = width * 0.028, height * 0.018
    x0 = width * 0.12
    contacts = tuple(float(c) for c in np.arange(first_contact % period, frames - 0.5, period))

    def draw(i: int) -> np.ndarray:
        img = np.empty((height, width, 3), np.uint8)
        img[:] = (60, 70, 80)
        img[floor_y:] = (110, 100, 80)
        a, b, body = walker_pose(float(i), first_contact, period, stride, lift)
        phase = ((i - first_contact) % period) / period
        bob = height * 0.012 * (1 - np.cos(2 * np.pi * phase)) / 2  # 0 (lowest) at each contact
        bx = x0 + body
        hip = floor_y - height * 0.2 - bob
        img[int(hip - height * 0.24):int(hip), int(bx - width * 0.03):int(bx + width * 0.03)] = (200, 200, 210)
        _ellipse(img, bx, hip - height * 0.3, width * 0.025, height * 0.05, (225, 190, 160))
        for (fx, fy), colour in ((a, (30, 30, 35)), (b, (35, 30, 30))):
            _ellipse(img, x0 + fx, floor_y - foot_ry - fy, foot_rx, foot_ry, colour)
        return img

    _write_video_only(str(path), fps, frames, draw, width, height)
    return Walker(str(path), fps, frames, contacts, float(period))


@dataclass(frozen=True)
class Explosion:
    """Ground truth: a plain ``flash`` (the whole picture lights up and goes back) at
    ``flash_frame`` and an explosion (a bright fireball appearing and expanding fast) at
    ``explosion_frame``, centred at ``centre`` (0..1)."""

    path: str
    fps: Fraction
    frames: int
    flash_frame: int
    explosion_frame: int
    centre: tuple[float, float]


def write_explosion(path: str | os.PathLike[str], *, width: int = 640, height: int = 360,
                    fps: Fraction = Fraction(25), frames: int = 75, flash_frame: int = 15,
                    explosion_frame: int = 45, centre: tuple[float, float] = (0.62, 0.6)) -> Explosion:
    """A dusky landscape with a one-frame flash, then an explosion: a white-hot fireball that
    first shows at ``explosion_frame`` and grows fast (radius up ~4% of the width per frame,
    slowing), lights the whole scene up and burns out over about a second."""
    fps = Fraction(fps)
    rng = np.random.default_rng(7)
    base = np.empty((height, width, 3), np.uint8)
    base[:] = (45, 50, 70)
    base[int(height * 0.7):] = (60, 55, 45)
    texture = rng.integers(-8, 9, (height, width, 1))
    base = np.clip(base.astype(np.int16) + texture, 0, 255).astype(np.uint8)
    cx, cy = centre[0] * width, centre[1] * height
    r_max = 0.28 * width

    def draw(i: int) -> np.ndarray:
        if i == flash_frame:
            return np.clip(base.astype(np.int16) + 150, 0, 255).astype(np.uint8)
        age = i - explosion_frame
        if age < 0:
            return base
        glow = 90 * np.exp(-age / 5.0)
        img = np.clip(base.astype(np.float32) + glow, 0, 255)
        fire = img.copy()
        r = r_max * (1 - np.exp(-(age + 1) / 6.0))
        heat = np.exp(-age / 14.0)
        _ellipse_f(fire, cx, cy, r, r * 0.85, np.array([255, 150 + 60 * heat, 40 + 50 * heat]) * (0.4 + 0.6 * heat))
        _ellipse_f(fire, cx, cy, 0.6 * r, 0.5 * r, np.array([255, 245, 210]) * (0.3 + 0.7 * heat))
        alpha = min(1.0, float(np.exp(-(age - 8) / 6.0)))  # the fireball burns out after ~1 s
        return (img * (1 - alpha) + fire * alpha).astype(np.uint8)

    _write_video_only(str(path), fps, frames, draw, width, height)
    return Explosion(str(path), fps, frames, flash_frame, explosion_frame, centre)


@dataclass(frozen=True)
class Strike:
    """Ground truth: a cue touches a resting puck at ``contact_frame`` (float, sub-frame) and
    sets it sliding; ``puck_x`` is where the puck lay (0..1 of the width)."""

    path: str
    fps: Fraction
    frames: int
    contact_frame: float
    puck_x: float


def write_strike(path: str | os.PathLike[str], *, width: int = 640, height: int = 360, fps: Fraction = Fraction(25),
                 frames: int = 60, contact_frame: float = 30.0, speed: float = 0.04, cue: bool = True) -> Strike:
    """A table seen from above: a cue slides in from the left at ``speed`` (of the width per
    frame) and strikes a puck lying still; the cue stops dead at the contact and the puck slides
    off to the right, slowing (friction), and comes to rest. With ``cue=False`` nothing strikes
    it: the puck starts sliding by itself at the same moment (a control: no hit to hear).
    The table has a faint texture so differences are never exactly zero."""
    fps = Fraction(fps)
    rng = np.random.default_rng(3)
    base = np.empty((height, width, 3), np.uint8)
    base[:] = (40, 90, 60)
    base = np.clip(base.astype(np.int16) + rng.integers(-6, 7, (height, width, 1)), 0, 255).astype(np.uint8)
    r = 0.04 * width
    px, py = 0.5 * width, 0.5 * height
    v = speed * width
    tip_at_contact = px - r
    tau = 8.0  # frames: the puck's slide slows with this time constant

    def draw(i: int) -> np.ndarray:
        img = base.copy()
        dt = i - contact_frame
        x = px + (v * tau * (1 - np.exp(-dt / tau)) if dt > 0 else 0.0)
        if cue:
            tip = tip_at_contact + (v * dt if dt < 0 else 0.0)
            x0 = max(0, int(round(tip - 0.45 * width)))
            if tip > 0:
                img[int(py - 0.3 * r):int(py + 0.3 * r), x0:int(round(tip))] = (205, 180, 120)
        _ellipse(img, x, py, r, r, (220, 60, 50))
        _ellipse(img, x, py, 0.6 * r, 0.6 * r, (250, 230, 200))  # a printed ring: a puck has a face
        _ellipse(img, x, py, 0.3 * r, 0.3 * r, (220, 60, 50))
        return img

    _write_video_only(str(path), fps, frames, draw, width, height)
    return Strike(str(path), fps, frames, float(contact_frame), px / width)


def _ellipse_f(img: np.ndarray, cx: float, cy: float, rx: float, ry: float, colour: np.ndarray) -> None:
    if rx >= 0.5 and ry >= 0.5:
        _ellipse(img, cx, cy, rx, ry, np.clip(colour, 0, 255))


def _write_video_only(path: str, fps: Fraction, frames: int, draw, width: int, height: int) -> None:
    with av.open(path, "w") as container:
        v = _video_stream(container, fps, width, height)
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(draw(i), "rgb24")
            frame.pts = i
            frame.time_base = 1 / fps
            for packet in v.encode(frame):
                container.mux(packet)
        for packet in v.encode(None):
            container.mux(packet)
