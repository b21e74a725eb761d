"""Placement: transients land on event times in the rendered mix; the pass is one undo step."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from studio.ai.foley.events import Event
from studio.ai.foley.pipeline import design
from studio.ai.foley.placement import FoleyPass, foley_folder, write_pass
from studio.core.edits import SetTrackProperty
from studio.core.factory import new_project
from studio.core.history import History
from studio.core.serialize import project_to_dict
from studio.media.audio import AudioSource
from studio.render.mixer import AudioMixer

EVENTS = [Event(0.2913, "impact", 0.9, 0.1, "hit"), Event(0.9871, "impact", 0.4, 0.9, "hit"),
          Event(1.6004, "impact", 0.7, 0.5, "hit"), Event(2.51, "whoosh", 0.6, 0.3, "whoosh", duration=0.3)]


def _pass(tmp_path, project, events=EVENTS, backend="synth", prompt=""):
    sr = project.settings.sample_rate
    placed = design(events, fps=project.fps, sample_rate=sr, backend=backend, prompt=prompt)
    return FoleyPass(write_pass(placed, foley_folder(tmp_path / "p.studio"), sr), fps=project.fps, sample_rate=sr)


def _onsets(project, events):
    sr = project.settings.sample_rate
    mixer = AudioMixer(project, lambda p: AudioSource(p, sr, 2))
    found = []
    for e in events:
        a = round((e.time - 0.02) * sr)
        x = np.abs(mixer.mix_unlimited(a, round(0.04 * sr))).max(axis=0)
        # impacts: the transient (1% of the peak); a whoosh swells from silence: its first sample
        level = 0.01 * x.max() if e.kind == "impact" else 0.0
        found.append((a + int(np.argmax(x > level))) / sr)
    return found


@pytest.mark.parametrize("fps, sr", [(Fraction(25), 48000), (Fraction(30000, 1001), 44100)])
def test_transients_land_on_event_times_in_the_mix(tmp_path, fps, sr):
    history = History(new_project(fps=fps, sample_rate=sr))
    history.apply(_pass(tmp_path, history.project))
    project = history.project
    for e, t in zip(EVENTS, _onsets(project, EVENTS), strict=True):
        assert abs(t - e.time) <= 0.001, (e, t)  # the whoosh: silent before, sounding from its time
    clips = [c for t in project.sequence.tracks if t.name.startswith("Foley") for c in t.clips]
    assert len(clips) == len(EVENTS)
    by_start = sorted(clips, key=lambda c: c.position)
    assert by_start[0].pan < 0 < by_start[1].pan and by_start[0].gain_db > by_start[1].gain_db
    assert all(c.position == int(e.time * fps) for c, e in zip(by_start, EVENTS, strict=True))


def test_undo_restores_and_running_again_replaces(tmp_path):
    history = History(new_project(fps=Fraction(25)))
    before = project_to_dict(history.project)
    history.apply(_pass(tmp_path, history.project, prompt="metal"))  # metal rings: overlaps need lanes
    first = history.project
    lanes = [t.name for t in first.sequence.tracks if t.name.startswith("Foley")]
    assert lanes[0] == "Foley" and len(lanes) >= 2
    n_assets = len(first.assets)
    history.apply(_pass(tmp_path, history.project, EVENTS[:2]))
    second = history.project
    foley_clips = [c for t in second.sequence.tracks for c in t.clips]
    assert len(foley_clips) == 2 and len(second.assets) == 2 and n_assets == len(EVENTS)
    assert [t.name for t in second.sequence.tracks] == ["V1", "A1", "Foley"]  # empty extra lanes went away
    history.undo()
    assert project_to_dict(history.project) == project_to_dict(first)
    history.undo()
    assert project_to_dict(history.project) == before
    history.redo()
    assert project_to_dict(history.project) == project_to_dict(first)


def test_user_clips_on_the_foley_track_are_kept(tmp_path):
    history = History(new_project(fps=Fraction(25)))
    history.apply(_pass(tmp_path, history.project))
    foley = next(t for t in history.project.sequence.tracks if t.name == "Foley")
    user = foley.clips[0]
    from dataclasses import replace

    from studio.core.media_pool import Asset

    mine = replace(history.project.asset(user.asset_id), id="asset-mine")
    project = replace(history.project, assets=(*history.project.assets, mine))
    project = project.with_track(replace(foley, clips=(replace(user, id="clip-mine", asset_id="asset-mine"),
                                                       *foley.clips[1:])))
    history = History(project)
    history.apply(_pass(tmp_path, project))
    after = history.project
    assert after.find_clip("clip-mine") is not None and isinstance(after.asset("asset-mine"), Asset)
    assert len([c for _, c in after.all_clips()]) == len(EVENTS) + 1


def test_an_ambience_bed_goes_on_its_own_track_under_the_spots_and_is_replaced_with_the_pass(tmp_path):
    from studio.ai.foley.ambience import ambience_item

    fps = Fraction(25)
    history = History(new_project(fps=fps))
    sr = history.project.settings.sample_rate
    placed = design(EVENTS, fps=fps, sample_rate=sr) + [ambience_item("rain", 0.0, 3.0, fps=fps, sample_rate=sr)]
    folder = foley_folder(tmp_path / "p.studio")
    history.apply(FoleyPass(write_pass(placed, folder, sr), fps=fps, sample_rate=sr))
    tracks = {t.name: t for t in history.project.sequence.tracks}
    bed = tracks["Ambience"].clips
    assert len(bed) == 1 and (bed[0].position, bed[0].duration) == (0, 75) and bed[0].name == "ambience (rain)"
    assert len([c for n, t in tracks.items() if n.startswith("Foley") for c in t.clips]) == len(EVENTS)
    mixer = AudioMixer(history.project, lambda p: AudioSource(p, sr, 2))
    bed_rms = float(np.sqrt(np.mean(mixer.mix_unlimited(round(0.05 * sr), round(0.2 * sr)) ** 2)))
    hit = np.abs(mixer.mix_unlimited(round(0.29 * sr), round(0.1 * sr))).max()
    assert 0 < bed_rms < hit / 20  # the bed sounds, well under the spots
    muted = SetTrackProperty(tracks["Ambience"].id, "muted", True).apply(history.project)
    assert _onsets(muted, EVENTS[:3]) == pytest.approx([e.time for e in EVENTS[:3]], abs=0.001)  # spots unmoved
    # a second pass without a bed replaces the first one's: the Ambience track is left empty
    history.apply(_pass(tmp_path, history.project, EVENTS[:1]))
    assert not next(t for t in history.project.sequence.tracks if t.name == "Ambience").clips
    history.undo()
    assert len(next(t for t in history.project.sequence.tracks if t.name == "Ambience").clips) == 1
