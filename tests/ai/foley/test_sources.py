"""Sound sources: the registry, per-event variation, determinism."""

from __future__ import annotations

import numpy as np
import pytest

from studio.ai.foley.events import Event
from studio.ai.foley.sources import FoleySource, available_sources, get_source
from studio.ai.foley.sources.bank import BankSource
from studio.core.errors import StudioError

HIT = Event(1.0, "impact", 0.8, 0.5, "impact (floor)")


def test_registry_has_the_in_tree_sources():
    names = available_sources()
    assert {"synth", "bank"} <= set(names)
    assert isinstance(get_source("synth"), FoleySource)
    with pytest.raises(StudioError, match="unknown foley backend 'nope'"):
        get_source("nope")


@pytest.mark.parametrize("backend", ["synth", "bank"])
def test_repeated_hits_differ_but_a_pass_is_reproducible(backend):
    source = get_source(backend)
    a = source.render(HIT, 0, sample_rate=48000)
    b = source.render(HIT, 1, sample_rate=48000)
    again = source.render(HIT, 0, sample_rate=48000)
    assert a.samples.dtype == np.float32 and a.onset == 0 and 0.1 < np.abs(a.samples).max() <= 1.0
    assert not np.array_equal(a.samples[:len(b.samples)], b.samples[:len(a.samples)])
    np.testing.assert_array_equal(a.samples, again.samples)
    # the transient is at the onset: loud within the first millisecond
    assert np.abs(a.samples[:48]).max() > 0.05 * np.abs(a.samples).max()


@pytest.mark.parametrize("kind", ["whoosh", "flash", "explosion", "step"])
def test_synth_has_sounds_for_other_kinds(kind):
    s = get_source("synth").render(Event(0.0, kind, 0.5, 0.5, kind, duration=0.3), 0, sample_rate=44100)
    assert s is not None and len(s.samples) > 1000 and np.isfinite(s.samples).all()
    assert get_source("synth").render(Event(0.0, "cut", 0.5, 0.5, "cut"), 0, sample_rate=48000) is None


def test_materials_follow_the_prompt():
    synth = get_source("synth")
    metal = synth.render(HIT, 0, sample_rate=48000, prompt="metal pipe")
    rubber = synth.render(HIT, 0, sample_rate=48000, prompt="")
    assert len(metal.samples) > 2 * len(rubber.samples)  # metal rings longer


def test_bank_needs_files(tmp_path):
    with pytest.raises(StudioError, match="no foley sound bank"):
        BankSource(tmp_path)
