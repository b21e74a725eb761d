"""Video-to-audio models (MMAudio-class) as plugins of the entry-point group ``studio.v2a_models``.

A video-to-audio model watches the picture and writes the whole soundtrack of a range at
once, unlike a foley source that makes one sound per event. A plugin names a zero-argument
factory returning an object with:

* ``name: str`` and ``licence: V2ALicence`` (the weights' terms);
* ``frame_rate: float | None`` and ``frame_size: int | None``: the frames it wants (decoded
  here at that rate, the short side scaled to that size; None: it reads ``request.path``
  itself);
* ``generate(request: V2ARequest, context) -> np.ndarray``: mono ``(n,)`` or ``(channels, n)``
  float audio at ``request.sample_rate`` covering ``request.start .. request.end``; it should
  call ``context.progress(fraction, message)`` and ``context.check()`` (cancel) per step.

The events go along (``request.events``, times relative to the range start) so a model that
takes timing hints can use them. Licences: MMAudio's weights are CC BY-NC 4.0, non-commercial.
A model whose licence is not ``commercial_use`` must be accepted before use:
``require_accepted`` refuses with one line naming the licence (the CLI's ``--accept-licence``
accepts it), and ``licence_notice`` is the text the editor shows before running one.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from importlib.metadata import entry_points
from typing import Any, Protocol, runtime_checkable

import numpy as np

from studio.core.errors import StudioError

from ..events import Event
from .base import Sound

GROUP = "studio.v2a_models"


@dataclass(frozen=True, slots=True)
class V2ALicence:
    name: str
    url: str
    commercial_use: bool
    summary: str = ""


#: MMAudio (hkchengrex/MMAudio): code MIT, released weights CC BY-NC 4.0.
MMAUDIO_LICENCE = V2ALicence(
    "CC BY-NC 4.0", "https://creativecommons.org/licenses/by-nc/4.0/", False,
    "MMAudio's model weights may be used for non-commercial purposes only, with attribution.")


class LicenceNotAccepted(StudioError):
    """A non-commercial (or otherwise restricted) model was asked for without accepting its licence."""


class V2AError(StudioError):
    """A video-to-audio model is unknown or returned unusable audio."""


@dataclass(frozen=True)
class V2ARequest:
    path: str
    start: float  # seconds in the file
    end: float
    prompt: str = ""
    negative_prompt: str = ""
    events: tuple[Event, ...] = ()
    sample_rate: int = 48000
    seed: int = 0
    #: (n, h, w, 3) uint8 RGB at ``frame_rate`` when the model asked for frames, else None
    frames: np.ndarray | None = field(default=None, compare=False)
    frame_rate: float | None = None

    @property
    def duration(self) -> float:
        return self.end - self.start


@runtime_checkable
class VideoToAudioModel(Protocol):
    name: str
    licence: V2ALicence
    frame_rate: float | None
    frame_size: int | None

    def generate(self, request: V2ARequest, context: Any) -> np.ndarray:
        """Audio for the whole range of ``request`` at ``request.sample_rate``."""
        ...


def available_models() -> dict[str, Callable[[], VideoToAudioModel]]:
    """Name -> factory of every installed ``studio.v2a_models`` plugin."""
    return {ep.name: (lambda ep=ep: ep.load()()) for ep in entry_points(group=GROUP)}


def get_model(name: str) -> VideoToAudioModel:
    models = available_models()
    if name not in models:
        known = ", ".join(sorted(models)) or "none installed"
        raise V2AError(f"unknown video-to-audio model {name!r} (available: {known})")
    return models[name]()


def licence_notice(model: VideoToAudioModel) -> str:
    """What to show before the model runs (the editor's dialog, the CLI's refusal)."""
    lic = model.licence
    use = "commercial use allowed" if lic.commercial_use else "NON-COMMERCIAL use only"
    text = f"{model.name}: the model weights are released under the {lic.name} ({use}): {lic.url}"
    return f"{text}\n{lic.summary}" if lic.summary else text


def needs_acceptance(model: VideoToAudioModel) -> bool:
    return not model.licence.commercial_use


def require_accepted(model: VideoToAudioModel, accepted: bool) -> None:
    """Raise ``LicenceNotAccepted`` (one line naming the licence) unless it was accepted."""
    if needs_acceptance(model) and not accepted:
        lic = model.licence
        raise LicenceNotAccepted(f"{model.name} is under the {lic.name} licence (non-commercial use only, "
                                 f"{lic.url}); accept it with --accept-licence to use it")


# --------------------------------------------------------------------------- frames


def read_frames(path: str | os.PathLike[str], start: float, end: float, rate: float, size: int | None,
                cancelled: Callable[[], bool] | None = None) -> np.ndarray:
    """RGB frames shown at ``start, start + 1/rate, ...`` before ``end``; short side scaled to ``size``."""
    import cv2

    from studio.media.decode import VideoSource

    count = max(1, int(np.ceil((end - start) * rate - 1e-9)))
    frames = []
    with VideoSource(path) as src:
        for k in range(count):
            if cancelled is not None and cancelled():
                raise InterruptedError("cancelled")
            t = Fraction(start + k / rate).limit_denominator(1_000_000)
            img = src.frame_at(t).to_ndarray(format="rgb24")
            if size:
                h, w = img.shape[:2]
                s = size / min(h, w)
                img = cv2.resize(img, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
            frames.append(img)
    return np.stack(frames)


# --------------------------------------------------------------------------- running


def render_range(model: VideoToAudioModel, request: V2ARequest, context: Any, *, accepted: bool) -> Sound:
    """The model's soundtrack for the request's range as one mono ``Sound`` (onset 0 = range start).

    Stereo output is folded to mono here (placement pans by the mixer); the length is made
    exactly the range's duration in samples."""
    require_accepted(model, accepted)
    if request.end <= request.start:
        raise V2AError(f"empty range {request.start:g}..{request.end:g} s")
    if model.frame_rate:
        cancelled = None if context is None else (lambda: bool(getattr(context, "cancelled", False)))
        frames = read_frames(request.path, request.start, request.end, model.frame_rate, model.frame_size, cancelled)
        request = _with_frames(request, frames, model.frame_rate)
    audio = np.asarray(model.generate(request, context), np.float64)
    if audio.ndim == 2:
        audio = audio.mean(axis=0)
    if audio.ndim != 1 or not np.isfinite(audio).all():
        raise V2AError(f"{model.name} returned unusable audio (shape {audio.shape}, or not finite)")
    n = int(round(request.duration * request.sample_rate))
    out = np.zeros(n, np.float32)
    out[:min(n, len(audio))] = audio[:n]
    return Sound(out, request.sample_rate, 0, f"{model.name}-v2a")


def _with_frames(request: V2ARequest, frames: np.ndarray, rate: float) -> V2ARequest:
    from dataclasses import replace

    return replace(request, frames=frames, frame_rate=rate)


def bed_event(model: VideoToAudioModel, start: float, duration: float) -> Event:
    """The pseudo-event a whole-range soundtrack is placed by (full gain, centre)."""
    return Event(time=start, kind="v2a", strength=1.0, x=0.5, label=f"{model.name} (video-to-audio)",
                 duration=duration)


def shift_events(events: Sequence[Event], start: float) -> tuple[Event, ...]:
    """``events`` with times relative to ``start`` (those before it dropped)."""
    from dataclasses import replace

    return tuple(replace(e, time=e.time - start) for e in events if e.time >= start)
