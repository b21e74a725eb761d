"""Auto-foley end to end: analyse -> events -> sounds -> (project pass | audio mixdown).

The functions here are what a job runs (``context``-free; pass ``progress`` / ``cancelled``).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from .analysis import analyze
from .events import Event, detect_events
from .placement import Placed, layout, mixdown
from .sources.base import FoleySource, get_source, render_all

DEFAULT_BACKEND = "synth"


@dataclass(frozen=True, slots=True)
class FoleyResult:
    events: list[Event]
    placed: list[Placed]
    fps: Fraction
    duration: float  # seconds of the analysed clip
    sample_rate: int


def detect(path: str | os.PathLike[str], **kw) -> tuple[list[Event], Fraction, float]:
    """Events of a video file, its frame rate and duration in seconds."""
    f = analyze(path, **kw)
    return detect_events(f), f.fps, f.duration


def design(events: list[Event], *, fps: Fraction, sample_rate: int = 48000, backend: str = DEFAULT_BACKEND,
           prompt: str = "", offset: int = 0, source: FoleySource | None = None, context: Any = None) -> list[Placed]:
    """Sounds for ``events`` from ``backend`` (or an already made ``source``), laid out at sequence
    rate ``fps`` from frame ``offset``. A model source (``tta``) reports its steps to, and stops on
    the cancel of, ``context`` (a JobContext)."""
    source = get_source(backend) if source is None else source
    if context is not None and hasattr(source, "context"):
        source.context = context
    sounds = render_all(source, events, sample_rate=sample_rate, prompt=prompt)
    return layout(events, sounds, fps=fps, sample_rate=sample_rate, offset=offset)


def foley_audio(result: FoleyResult) -> np.ndarray:
    """The whole pass as stereo float32 covering the clip's duration."""
    count = math.ceil(result.duration * result.sample_rate)
    return mixdown(result.placed, count, result.sample_rate, result.fps)
