"""Hits on resting objects: synthetic strikes with known contact times, and real footage.

The real clip (tests/data/footage/pen-coin.mov, licence in SOURCES.md beside it) is a pen
striking a coin on a table, with the camera's own sound: its soundtrack says when the hits
were, and pen-coin.visible.json which contacts can be seen at all.
"""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import av
import pytest

from studio.ai.foley.analysis import analyze
from studio.ai.foley.events import detect_events
from studio.ai.foley.onsets import detect_onsets, load_audio
from studio.cli.main import main
from studio.media.synth_scenes import write_strike

FOOTAGE = Path(__file__).resolve().parents[2] / "data" / "footage"

#: name -> write_strike keywords
STRIKES = {
    "640x360@25 on a frame": {},
    "480x270@30 sub-frame": {"width": 480, "height": 270, "fps": Fraction(30), "contact_frame": 30.4},
    "320x180@25 fast, sub-frame": {"width": 320, "height": 180, "contact_frame": 20.7, "speed": 0.06},
    "slow cue": {"speed": 0.025},
    "early in the clip": {"contact_frame": 12.2, "frames": 80},
}


@pytest.mark.parametrize("name", list(STRIKES))
def test_a_resting_object_struck_is_an_impact_within_a_frame(tmp_path, name):
    strike = write_strike(tmp_path / "strike.mp4", **STRIKES[name])
    events = detect_events(analyze(strike.path))
    fps = float(strike.fps)
    struck = [e for e in events if e.label == "impact (struck)"]
    assert len(struck) == 1, events
    hit = struck[0]
    assert hit.kind == "impact"
    assert abs(hit.time * fps - strike.contact_frame) <= 0.6, (hit.time * fps, strike.contact_frame)
    assert abs(hit.x - strike.puck_x) < 0.05  # where the puck lay
    # the cue stopping dead at the same moment is the same hit, not a second one
    assert not [e for e in events if e.kind == "impact" and e is not hit and abs(e.time - hit.time) * fps <= 3]


def test_an_object_that_starts_by_itself_is_not_struck(tmp_path):
    alone = write_strike(tmp_path / "alone.mp4", cue=False)
    events = detect_events(analyze(alone.path))
    assert not [e for e in events if e.label == "impact (struck)"], events


def _visible() -> list[float]:
    return [c["time"] for c in json.loads((FOOTAGE / "pen-coin.visible.json").read_text())["contacts"]]


def test_real_footage_every_strike_of_the_pen_on_the_coin_is_found_within_a_frame():
    features = analyze(FOOTAGE / "pen-coin.mov")
    impacts = [e for e in detect_events(features) if e.kind == "impact"]
    frame = 1 / float(features.fps)
    for t in _visible()[:3]:  # the three clean strikes; the fourth is a press
        near = [e for e in impacts if abs(e.time - t) <= frame]
        assert near, (t, [e.time for e in impacts])
        assert near[0].label == "impact (struck)"


def _strip_audio(src: Path, dst: Path) -> None:
    with av.open(str(src)) as inp, av.open(str(dst), "w") as out:
        vout = out.add_stream_from_template(inp.streams.video[0])
        for packet in inp.demux(inp.streams.video[0]):
            if packet.dts is not None:
                packet.stream = vout
                out.mux(packet)


def test_real_footage_with_its_sound_removed_gets_hits_where_the_original_sound_had_them(tmp_path, capsys):
    """The issue's test: ``studio foley`` on the silent copy; every loud onset of the original
    soundtrack that has a visible cause gets a foley onset within 40 ms."""
    src = FOOTAGE / "pen-coin.mov"
    original = detect_onsets(load_audio(src, 48000), 48000)
    visible = _visible()
    truth = [o.time for o in original if o.strength >= 0.5 and any(abs(o.time - v) <= 0.1 for v in visible)]
    assert len(truth) == 3, original  # the three strikes are the loud onsets that can be seen
    silent, out = tmp_path / "silent.mp4", tmp_path / "foley.mp4"
    _strip_audio(src, silent)
    assert main(["foley", str(silent), "-o", str(out)]) == 0, capsys.readouterr()
    placed = [o.time for o in detect_onsets(load_audio(out, 48000), 48000)]
    for t in truth:
        assert min(abs(p - t) for p in placed) <= 0.04, (t, placed)
