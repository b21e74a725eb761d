"""`studio foley`: the output has the foley as an extra audio stream, projects get one pass,
and bad input exits 2 with one line."""

from __future__ import annotations

import json

import av
import numpy as np
import pytest

from studio.ai.foley.placement import write_wav
from studio.cli.main import main
from studio.core.projectfile import load_project
from studio.media.synth_scenes import write_bouncing_ball


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def ball(tmp_path_factory):
    return write_bouncing_ball(tmp_path_factory.mktemp("cli") / "ball.mp4", width=320, height=180, frames=80)


def _streams(path):
    with av.open(str(path)) as c:
        return [(s.type, s.codec_context.name) for s in c.streams], sum(1 for _ in c.demux(c.streams.video[0])) - 1


def test_foley_adds_a_stream_and_writes_events(tmp_path, capsys, ball):
    out, ev = tmp_path / "out.mp4", tmp_path / "ev.json"
    code, stdout, err = run(capsys, "foley", ball.path, "-o", out, "--events-json", ev)
    assert code == 0, err
    assert "3 impact" in stdout
    streams, packets = _streams(out)
    assert streams == [("video", "h264"), ("audio", "aac"), ("audio", "aac")]
    assert packets == ball.frames  # the video was copied, not re-encoded
    events = json.loads(ev.read_text())["events"]
    assert [round(e["time"] * 25) for e in events] == list(ball.impact_frames)
    with av.open(str(out)) as c:  # the foley stream sounds at the impacts
        x = np.concatenate([f.to_ndarray()[0] for f in c.decode(c.streams.audio[0])])
    for t in ball.impact_seconds():
        i = int(float(t) * 48000) + 1024  # AAC priming delay
        assert np.abs(x[i:i + 2400]).max() > 0.05
    assert not list(tmp_path.glob(".*tmp*"))


def test_mix_and_use_events(tmp_path, capsys, ball):
    ev = tmp_path / "ev.json"
    ev.write_text(json.dumps([{"time": 1.0, "kind": "impact", "strength": 1, "x": 0.5, "label": "bang"}]))
    out = tmp_path / "mixed.mkv"
    code, stdout, err = run(capsys, "foley", ball.path, "-o", out, "--use-events", ev, "--mix", "--backend", "bank")
    assert code == 0, err
    assert "1 events: 1 impact" in stdout
    assert _streams(out)[0] == [("video", "h264"), ("audio", "aac")]


def test_into_project_places_one_pass_and_replaces_it(tmp_path, capsys, ball):
    project = tmp_path / "p.studio"
    assert run(capsys, "new", project, "--fps", "25")[0] == 0
    for _ in range(2):
        code, stdout, err = run(capsys, "foley", ball.path, "--into", project, "--at", "2")
        assert code == 0, err
    p = load_project(project)
    foley = [c for t in p.sequence.tracks if t.name.startswith("Foley") for c in t.clips]
    assert len(foley) == 3 and len(p.assets) == 3
    # each clip starts on the frame at or just before its impact (--at 2 s = 50 frames)
    for c, f in zip(sorted(c.position for c in foley), ball.impact_frames, strict=True):
        assert 50 + f - 1 <= c <= 50 + f
    assert (tmp_path / "p_foley").is_dir()


def test_bad_inputs_exit_2_with_one_line(tmp_path, capsys, ball):
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"\x00\x01junk" * 200)
    wav = tmp_path / "tone.wav"
    write_wav(wav, np.zeros(4800, np.float32), 48000)
    bad_events = tmp_path / "bad.json"
    bad_events.write_text(json.dumps([{"time": -1, "kind": "impact", "strength": 1, "x": 0.5, "label": "a"}]))
    out = tmp_path / "o.mp4"
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    cases = [
        (("foley", tmp_path / "missing.mp4", "-o", out), "no such file"),
        (("foley", empty, "-o", out), "empty file"),
        (("foley", junk, "-o", out), "junk.mp4"),
        (("foley", wav, "-o", out), "no video stream"),
        (("foley", ball.path, "-o", out, "--use-events", bad_events), "[0].time"),
        (("foley", ball.path), "exactly one of -o OUT or --into PROJECT"),
        (("foley", ball.path, "-o", tmp_path / "o.txt"), "must end in"),
        (("foley", ball.path, "-o", out, "--backend", "nope"), "unknown foley backend 'nope'"),
    ]
    for argv, message in cases:
        code, _, err = run(capsys, *argv)
        assert code == 2, (argv, err)
        assert message in err and err.count("\n") == 1, (argv, err)
    assert not out.exists()
