"""Check a freshly written export before it takes its final name.

The file is probed the way any imported media is (``studio.media.probe``, which also decodes
the first frame), then compared with what the export meant to write: streams present,
size, frame rate, frame count, sample rate, and duration within one frame.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from fractions import Fraction

import av

from studio.core.errors import StudioError
from studio.media.probe import MediaError, ProbeResult, probe

#: Relative frame-rate difference tolerated (containers store rates in their own time base).
FPS_TOLERANCE = Fraction(1, 1000)


class VerificationError(StudioError):
    """A written file does not match what was rendered."""


@dataclass(frozen=True)
class Expected:
    """What the export wrote. ``frame_rate`` is the tolerance unit for durations."""

    duration: Fraction  # seconds
    frame_rate: Fraction
    has_video: bool
    has_audio: bool
    width: int | None = None
    height: int | None = None
    frames: int | None = None
    sample_rate: int | None = None
    channels: int | None = None


def _audio_duration(path: str) -> Fraction | None:
    try:
        with av.open(path) as container:
            stream = container.streams.audio[0]
            if stream.duration is None or stream.time_base is None:
                return None
            return stream.duration * Fraction(stream.time_base)
    except (av.FFmpegError, IndexError, OSError):
        return None


def problems(result: ProbeResult, expected: Expected) -> list[str]:
    """Every way ``result`` differs from ``expected`` (empty when it matches)."""
    out: list[str] = []
    frame = 1 / expected.frame_rate
    if expected.has_video != result.has_video:
        out.append("video stream missing" if expected.has_video else "unexpected video stream")
    if expected.has_audio != result.has_audio:
        out.append("audio stream missing" if expected.has_audio else "unexpected audio stream")
    if expected.has_video and result.has_video:
        if (result.width, result.height) != (expected.width, expected.height):
            out.append(f"size {result.width}x{result.height}, expected {expected.width}x{expected.height}")
        if result.fps is None or abs(result.fps - expected.frame_rate) > FPS_TOLERANCE * expected.frame_rate:
            out.append(f"frame rate {result.fps}, expected {expected.frame_rate}")
        if expected.frames is not None and result.video_frames != expected.frames:
            out.append(f"{result.video_frames} frames, expected {expected.frames}")
    if expected.has_audio and result.has_audio:
        if expected.sample_rate is not None and result.sample_rate != expected.sample_rate:
            out.append(f"audio at {result.sample_rate} Hz, expected {expected.sample_rate}")
        if expected.channels is not None and result.channels != expected.channels:
            out.append(f"{result.channels} audio channels, expected {expected.channels}")
        audio = _audio_duration(result.path)
        if audio is not None and abs(audio - expected.duration) > frame:
            out.append(f"audio lasts {float(audio):.3f} s, expected {float(expected.duration):.3f} s")
    if result.duration is None or abs(result.duration - expected.duration) > frame:
        got = "unknown" if result.duration is None else f"{float(result.duration):.3f} s"
        out.append(f"duration {got}, expected {float(expected.duration):.3f} s")
    return out


def verify_output(path: str | os.PathLike[str], expected: Expected) -> ProbeResult:
    """Probe ``path`` and compare; raise ``VerificationError`` (one line) on any mismatch."""
    try:
        result = probe(path)
    except MediaError as e:
        raise VerificationError(f"the written file is unreadable: {e.reason}") from None
    found = problems(result, expected)
    if found:
        raise VerificationError("; ".join(found))
    return result
