"""The source protocol, the Sound value, and the plugin registry."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from studio.core.errors import StudioError

from ..events import Event

GROUP = "studio.foley_sources"


@dataclass(frozen=True, slots=True)
class Sound:
    """Mono float32 samples at ``sample_rate``; the transient (what syncs) is at sample ``onset``."""

    samples: np.ndarray
    sample_rate: int
    onset: int = 0
    name: str = ""


@runtime_checkable
class FoleySource(Protocol):
    name: str

    def render(self, event: Event, index: int, *, sample_rate: int, prompt: str = "") -> Sound | None:
        """The sound for ``event`` (the ``index``-th of the pass: seeds per-event variation)."""
        ...


def _builtin() -> dict[str, Callable[[], FoleySource]]:
    from .bank import BankSource
    from .synth import SynthSource

    return {"synth": SynthSource, "bank": BankSource}


def available_sources() -> dict[str, Callable[[], FoleySource]]:
    """Name -> factory: the in-tree sources plus every installed ``studio.foley_sources`` plugin."""
    from importlib.metadata import entry_points  # here: importing it costs ~20 ms of every start-up

    found = _builtin()
    for ep in entry_points(group=GROUP):
        if ep.name not in found:
            found[ep.name] = lambda ep=ep: ep.load()()
    return found


def get_source(name: str) -> FoleySource:
    sources = available_sources()
    if name not in sources:
        raise StudioError(f"unknown foley backend {name!r} (available: {', '.join(sorted(sources))})")
    return sources[name]()


def render_all(source: FoleySource, events: list[Event], *, sample_rate: int, prompt: str = "") -> list[Sound | None]:
    batch = getattr(source, "render_all", None)
    if callable(batch):
        return list(batch(events, sample_rate=sample_rate, prompt=prompt))
    return [source.render(e, i, sample_rate=sample_rate, prompt=prompt) for i, e in enumerate(events)]
