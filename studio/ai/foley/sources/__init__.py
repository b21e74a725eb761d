"""Sound sources for auto-foley: plugins of the entry-point group ``studio.foley_sources``.

A source is an object with ``name: str`` and
``render(event, index, *, sample_rate, prompt="") -> Sound | None`` (``None``: this source
has no sound for that kind of event). An entry point names a zero-argument factory (a class
or a function) that returns a source. In-tree sources: ``synth`` (procedural, always there)
and ``bank`` (CC0 samples from ``resources/foley``).

Model-based sources (text-to-audio such as AudioLDM / Stable Audio Open, video-to-audio) fit
the same protocol: ``render`` gets the event (time, kind, strength, x, label) and the prompt
and returns mono samples with ``onset`` marking the transient; a model source should load
its model lazily (torch/diffusers inside ``render`` or its factory), cache it across calls,
and may batch by overriding ``render_all(events, sample_rate=..., prompt=...)``. None is
implemented in this round.
"""

from __future__ import annotations

from .base import FoleySource, Sound, available_sources, get_source

__all__ = ["FoleySource", "Sound", "available_sources", "get_source"]
