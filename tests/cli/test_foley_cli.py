"""`studio foley`: the output has the foley as an extra audio stream, projects get one pass,
and bad input exits 2 with one line."""

from __future__ import annotations

import json

import av
import numpy as np
import pytest

from studio.ai.foley.placement import write_wav
from studio.core.projectfile import load_project
from studio.media.synth_scenes import write_bouncing_ball
from tests.cli.helpers import run


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


def test_ambience_bed_under_the_clip(tmp_path, capsys, ball):
    """--ambience: the whole clip gets a quiet bed (in the foley stream with -o; its own track with --into)."""
    out = tmp_path / "amb.mp4"
    code, _, err = run(capsys, "foley", ball.path, "-o", out, "--ambience", "rain")
    assert code == 0, err
    with av.open(str(out)) as c:
        x = np.concatenate([f.to_ndarray()[0] for f in c.decode(c.streams.audio[0])])
    quiet = x[int(0.6 * 48000): int(0.9 * 48000)]  # between the first two impacts: only the bed
    assert 1e-4 < float(np.sqrt(np.mean(quiet ** 2))) < 0.05
    project = tmp_path / "p.studio"
    assert run(capsys, "new", project, "--fps", "25")[0] == 0
    code, _, err = run(capsys, "foley", ball.path, "--into", project, "--at", "2", "--ambience", "room")
    assert code == 0, err
    (bed,) = next(t for t in load_project(project).sequence.tracks if t.name == "Ambience").clips
    assert (bed.position, bed.duration) == (50, ball.frames) and bed.name == "ambience (room)"
    assert run(capsys, "foley", ball.path, "-o", out, "--ambience", "jungle")[0] == 2


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


def _decode_track(path, index=0):
    with av.open(str(path)) as c:
        return np.concatenate([f.to_ndarray() for f in c.decode(c.streams.audio[index])], axis=1)


def test_foley_track_encodes_only_its_sounds_and_decodes_like_one_full_encode(tmp_path, ball, monkeypatch):
    """Silent AAC frames are the encoder's own silence packet, and only frames near sound go through
    an encoder (two, on two threads); the decoded track matches one encoder fed every frame."""
    from fractions import Fraction

    from studio.ai.foley import mux

    sr, n = 48000, 153000  # not a whole number of AAC frames
    t = np.arange(4800) / sr
    burst = (0.8 * np.exp(-t * 60) * np.sin(2 * np.pi * 700 * t)).astype(np.float32)
    foley = np.zeros((2, n), np.float32)
    starts = (0, 20037, 70000, 110500, n - 3000)  # at the very start, mid-frame, and into the partial last frame
    for i, s in enumerate(starts):
        piece = burst[:n - s]
        foley[0, s:s + len(piece)] += piece * (1.0 if i % 2 else 0.3)
        foley[1, s:s + len(piece)] += piece * (0.3 if i % 2 else 1.0)
    fed, calls = [], []
    real = mux._encode_islands

    def spy(audio, islands, *a):
        fed.extend(islands)
        calls.append(islands)
        return real(audio, islands, *a)

    monkeypatch.setattr(mux, "_encode_islands", spy)
    out = tmp_path / "f.mp4"
    mux.write_with_foley(ball.path, out, foley, sr)
    frames = -(-n // 1024)
    assert sum(b - a for a, b in fed) < frames / 2  # the silence never reached an encoder
    assert len(calls) == mux._THREADS  # one encoder per thread, on islands that never overlap
    assert all(b <= a for (_, b), (a, _) in zip(sorted(fed)[:-1], sorted(fed)[1:], strict=True))
    with av.open(str(out)) as c:
        a = c.streams.audio[0]
        layout = (a.codec_context.name, a.codec_context.channels, a.frames, a.duration * a.time_base)
    got = _decode_track(out)[:, :n]
    assert got.shape == (2, n)
    # one encoder fed every frame, muxed the plain way: the reference
    ref_path = tmp_path / "ref.m4a"
    with av.open(str(ref_path), "w") as dst:
        s = dst.add_stream("aac", rate=sr, layout="stereo")
        s.options = dict(mux._OPTIONS)
        for i in range(0, n, 1024):
            f = av.AudioFrame.from_ndarray(np.ascontiguousarray(foley[:, i:i + 1024]), format="fltp", layout="stereo")
            f.sample_rate, f.pts, f.time_base = sr, i, Fraction(1, sr)
            dst.mux(s.encode(f))
        dst.mux(s.encode(None))
    ref = _decode_track(ref_path)[:, :n]
    with av.open(str(ref_path)) as c:
        a = c.streams.audio[0]
        assert layout == ("aac", 2, frames + 1, a.duration * a.time_base)
    assert np.abs(got - ref).max() < 2e-3
    assert np.abs(got - foley).max() < 0.05
    # far from every sound the track is exactly silent; each burst starts on its sample (within 1 ms)
    for a, b in zip(starts[1:-1], starts[2:], strict=True):
        lo, hi = (-(-(a + 4800) // 1024) + 3) * 1024, (b // 1024 - 3) * 1024
        assert lo < hi and not got[:, lo:hi].any()
    for s in starts[1:]:
        onset = s - 48 + int(np.argmax(np.abs(got[0, s - 48:s + 480]) > 0.02))
        assert abs(onset - s) <= 48


# --------------------------------------------------------------------------- model options


def _first_audio(path):
    with av.open(str(path)) as c:
        return np.concatenate([f.to_ndarray()[0] for f in c.decode(c.streams.audio[0])])


def test_prompt_override_labels_every_event(tmp_path, capsys, ball):
    out, ev = tmp_path / "o.mp4", tmp_path / "ev.json"
    code, _, err = run(capsys, "foley", ball.path, "-o", out, "--events-json", ev, "--prompt", "metal clang",
                       "--prompt-mode", "override")
    assert code == 0, err
    assert {e["label"] for e in json.loads(ev.read_text())["events"]} == {"metal clang"}
    code, _, err = run(capsys, "foley", ball.path, "-o", out, "--prompt-mode", "override")
    assert code == 2 and "needs --prompt TEXT" in err


def test_clip_labels_from_a_local_folder(tmp_path, capsys, ball, tmp_path_factory):
    from studio.ai.foley.labels import candidates_for
    from tests.ai.foley.test_labels import build_clip

    folder = build_clip(tmp_path_factory.mktemp("cli-clip"))
    out, ev = tmp_path / "o.mp4", tmp_path / "ev.json"
    code, _, err = run(capsys, "foley", ball.path, "-o", out, "--events-json", ev, "--labels", "clip",
                       "--clip-model", folder)
    assert code == 0, err
    events = json.loads(ev.read_text())["events"]
    assert events and all(e["label"] in {c.label for c in candidates_for(e["kind"])} for e in events)
    code, _, err = run(capsys, "foley", ball.path, "-o", out, "--labels", "clip", "--clip-model", tmp_path / "nope")
    assert code == 2 and "nope" in err and err.count("\n") == 1


def test_text_to_audio_backend(tmp_path, capsys, ball, tmp_path_factory):
    from tests.ai.foley.test_text_to_audio import stable_audio_folder

    folder = stable_audio_folder(tmp_path_factory)
    ev = tmp_path / "ev.json"
    ev.write_text(json.dumps([{"time": 1.0, "kind": "impact", "strength": 1, "x": 0.5, "label": "wood hit"}]))
    out = tmp_path / "tta.mp4"
    code, stdout, err = run(capsys, "foley", ball.path, "-o", out, "--use-events", ev, "--backend", "tta",
                            "--model", folder, "--steps", "2")
    assert code == 0, err
    assert "1 sounds, backend tta" in stdout
    x = _first_audio(out)
    assert np.abs(x[:int(0.9 * 48000)]).max() == 0 and np.abs(x[48000:]).max() > 0  # silent until the event
    code, _, err = run(capsys, "foley", ball.path, "-o", out, "--backend", "synth", "--model", folder)
    assert code == 2 and "--model goes with --backend tta" in err


def test_video_to_audio_needs_its_licence_accepted(tmp_path, capsys, ball, monkeypatch):
    from tests.ai.foley.test_video_to_audio import install

    install(monkeypatch)
    ev = tmp_path / "ev.json"
    ev.write_text(json.dumps([{"time": t, "kind": "impact", "strength": 1, "x": 0.5, "label": "hit"}
                              for t in (0.5, 2.0)]))
    out = tmp_path / "v2a.mp4"
    code, _, err = run(capsys, "foley", ball.path, "-o", out, "--use-events", ev, "--backend", "clicks")
    assert code == 2 and "CC BY-NC 4.0" in err and "--accept-licence" in err and err.count("\n") == 1
    assert not out.exists()
    code, stdout, err = run(capsys, "foley", ball.path, "-o", out, "--use-events", ev, "--backend", "clicks",
                            "--accept-licence")
    assert code == 0, err
    x = np.abs(_first_audio(out))
    onsets = np.nonzero(np.diff((x > 0.1).astype(int)) == 1)[0] + 1  # the decoder drops the AAC priming
    assert len(onsets) == 2 and np.all(np.abs(onsets / 48000 - np.array([0.5, 2.0])) <= 0.001)


def test_video_to_audio_into_a_project_is_one_clip(tmp_path, capsys, ball, monkeypatch):
    from tests.ai.foley.test_video_to_audio import install

    install(monkeypatch)
    project = tmp_path / "p.studio"
    assert run(capsys, "new", project, "--fps", "25")[0] == 0
    code, stdout, err = run(capsys, "foley", ball.path, "--into", project, "--at", "1", "--backend", "clicks",
                            "--accept-licence")
    assert code == 0, err
    p = load_project(project)
    clips = [c for t in p.sequence.tracks if t.name.startswith("Foley") for c in t.clips]
    assert len(clips) == 1 and clips[0].position == 25 and clips[0].name == "clicks (video-to-audio)"
    assert clips[0].duration == ball.frames  # the soundtrack covers the whole clip
