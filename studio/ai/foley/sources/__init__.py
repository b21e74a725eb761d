"""Sound sources for auto-foley: plugins of the entry-point group ``studio.foley_sources``.

A source is an object with ``name: str`` and
``render(event, index, *, sample_rate, prompt="") -> Sound | None`` (``None``: this source
has no sound for that kind of event). An entry point names a zero-argument factory (a class
or a function) that returns a source. In-tree sources: ``synth`` (procedural, always there)
and ``bank`` (CC0 samples from ``resources/foley``).

Model-based sources fit the same protocol: ``render`` gets the event (time, kind, strength,
x, label) and the prompt and returns mono samples with ``onset`` marking the transient; a
model source loads its model lazily, caches it across calls, may batch by defining
``render_all(events, sample_rate=..., prompt=...)``, and takes the job context in a
``context`` attribute (``pipeline.design(context=...)`` sets it) for step progress and
cancel. In tree: ``tta`` (text_to_audio: AudioLDM 2 / Stable Audio Open through diffusers).
Video-to-audio models (MMAudio-class) write a whole range at once and are a separate plugin
group, ``studio.v2a_models`` (video_to_audio), gated by their licence.
"""

from __future__ import annotations

from .base import FoleySource, Sound, available_sources, get_source

__all__ = ["FoleySource", "Sound", "available_sources", "get_source"]
