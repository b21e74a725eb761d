"""The `studio` command-line contract: outputs, placement, and bad input (exit 2, one line)."""

from __future__ import annotations

import json
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest

from studio.core.projectfile import load_project
from studio.media.synth import write_test_audio, write_test_image, write_test_video
from tests.cli.helpers import assert_bad_input, run

DATA = Path(__file__).parent.parent / "data" / "interchange"


def info(capsys, project):
    code, out, _ = run(capsys, "info", str(project), "--json")
    assert code == 0
    return json.loads(out)


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    d = tmp_path_factory.mktemp("media")
    write_test_video(d / "av.mp4", fps=Fraction(25), frames=50)  # 2 s with sound
    write_test_video(d / "silent.mp4", fps=Fraction(25), frames=25, audio=False)  # 1 s
    write_test_audio(d / "tone.wav", seconds=3)
    write_test_image(d / "still.png")
    (d / "broken.mp4").write_bytes(b"this is not a video at all" * 100)
    return d


def test_new_and_info_json(tmp_path, capsys):
    project = tmp_path / "p.studio"
    code, out, _ = run(capsys, "new", str(project), "--width", "3840", "--height", "2160", "--fps", "60")
    assert code == 0 and project.exists()
    data = info(capsys, project)
    assert data["fps"] == "60/1" and data["width"] == 3840 and data["height"] == 2160
    assert data["duration"] == 0.0
    assert data["tracks"] == [
        {"name": "V1", "kind": "video", "clips": 0, "transitions": 0, "enabled": True, "locked": False,
         "muted": False, "solo": False},
        {"name": "A1", "kind": "audio", "clips": 0, "transitions": 0, "enabled": True, "locked": False,
         "muted": False, "solo": False}]
    code, out, _ = run(capsys, "info", str(project))
    assert code == 0 and "3840x2160, 60/1 fps" in out


def test_ntsc_rate_stays_exact(tmp_path, capsys):
    project = tmp_path / "ntsc.studio"
    assert run(capsys, "new", str(project), "--fps", "29.97")[0] == 0
    assert info(capsys, project)["fps"] == "30000/1001"


@pytest.mark.parametrize("argv, fragment", [
    (["--fps", "fast"], "bad frame rate 'fast'"),
    (["--fps", "0"], "out of range"),
    (["--width", "1001"], "--width must be an even number"),
])
def test_new_rejects_bad_settings(tmp_path, capsys, argv, fragment):
    code, _, err = run(capsys, "new", str(tmp_path / "x.studio"), *argv)
    assert_bad_input(code, err, fragment)
    assert not (tmp_path / "x.studio").exists()


def test_new_never_overwrites(tmp_path, capsys):
    project = tmp_path / "p.studio"
    project.write_text("precious")
    code, _, err = run(capsys, "new", str(project))
    assert_bad_input(code, err, "already exists")
    assert project.read_text() == "precious"


def test_import_places_linked_av_at_the_end_then_at_a_time(tmp_path, capsys, media):
    project = tmp_path / "p.studio"
    run(capsys, "new", str(project), "--fps", "25")
    code, out, err = run(capsys, "import", str(media / "av.mp4"), str(media / "silent.mp4"), "--into", str(project))
    assert code == 0, err
    data = info(capsys, project)
    assert [(t["name"], t["kind"], t["clips"]) for t in data["tracks"]] == [("V1", "video", 2), ("A1", "audio", 1)]
    assert data["duration"] == pytest.approx(3.0)
    p = load_project(project)
    v1, a1 = p.sequence.tracks
    assert [(c.position, c.duration) for c in v1.clips] == [(0, 50), (50, 25)]
    assert v1.clips[0].link is not None and v1.clips[0].link == a1.clips[0].link
    # default placement: at the end; then --at as timecode inserts and ripples
    assert run(capsys, "import", str(media / "still.png"), "--into", str(project))[0] == 0
    assert load_project(project).sequence.tracks[0].clips[-1].position == 75
    code, _, err = run(capsys, "import", str(media / "silent.mp4"), "--into", str(project), "--at", "00:00:01:00")
    assert code == 0, err
    v1 = load_project(project).sequence.tracks[0]
    assert [(c.position, c.duration) for c in v1.clips][:3] == [(0, 25), (25, 25), (50, 25)]
    assert len(v1.clips) == 5  # the 2 s clip was cut at 1 s to make room


def test_import_audio_to_a_named_track_and_seconds(tmp_path, capsys, media):
    project = tmp_path / "p.studio"
    run(capsys, "new", str(project), "--fps", "25")
    code, _, err = run(capsys, "import", str(media / "tone.wav"), "--into", str(project), "--track", "A1",
                       "--at", "2.5")
    assert code == 0, err
    (clip,) = load_project(project).sequence.tracks[1].clips
    assert (clip.position, clip.duration) == (62, 75)  # 2.5 s at 25 fps rounds half to even


@pytest.mark.parametrize("extra, fragments", [
    (["--track", "V9"], ["no track named 'V9'", "V1, A1"]),
    (["--at", "00:00:99:00"], ["bad timecode", "below 60"]),
    (["--at", "soon"], ["bad time 'soon'"]),
])
def test_import_bad_options_change_nothing(tmp_path, capsys, media, extra, fragments):
    project = tmp_path / "p.studio"
    run(capsys, "new", str(project))
    before = project.read_bytes()
    code, _, err = run(capsys, "import", str(media / "av.mp4"), "--into", str(project), *extra)
    assert_bad_input(code, err, *fragments)
    assert project.read_bytes() == before


@pytest.mark.parametrize("name, fragment", [("broken.mp4", "broken.mp4"), ("missing.mp4", "missing.mp4")])
def test_import_bad_media_changes_nothing(tmp_path, capsys, media, name, fragment):
    project = tmp_path / "p.studio"
    run(capsys, "new", str(project))
    before = project.read_bytes()
    code, _, err = run(capsys, "import", str(media / "av.mp4"), str(media / name), "--into", str(project))
    assert_bad_input(code, err, "cannot read media", fragment)
    assert project.read_bytes() == before


def test_video_only_file_cannot_go_on_an_audio_track(tmp_path, capsys, media):
    project = tmp_path / "p.studio"
    run(capsys, "new", str(project))
    code, _, err = run(capsys, "import", str(media / "silent.mp4"), "--into", str(project), "--track", "A1")
    assert_bad_input(code, err, "silent.mp4 has no audio")


def test_missing_or_damaged_project(tmp_path, capsys, media):
    code, _, err = run(capsys, "info", str(tmp_path / "none.studio"))
    assert_bad_input(code, err, "no such file")
    bad = tmp_path / "bad.studio"
    bad.write_text('{"version": 1, "project": {"settings": {}}}')
    code, _, err = run(capsys, "info", str(bad))
    assert_bad_input(code, err, "missing field project.settings.fps")


def test_interchange_round_trip_through_the_cli(tmp_path, capsys):
    project = tmp_path / "cut.studio"
    code, out, err = run(capsys, "import-otio", str(DATA / "simple_cut.otio"), "-o", str(project))
    assert code == 0, err
    data = info(capsys, project)
    assert [t["clips"] for t in data["tracks"]] == [4]
    for ext in ("otio", "xml", "edl"):
        out_file = tmp_path / f"cut.{ext}"
        code, _, err = run(capsys, "export-otio", str(project), "-o", str(out_file))
        assert code == 0, err
        back = tmp_path / f"back_{ext}.studio"
        assert run(capsys, "import-otio", str(out_file), "-o", str(back))[0] == 0
        assert [t["clips"] for t in info(capsys, back)["tracks"] if t["kind"] == "video"] == [4]


def test_interchange_bad_input(tmp_path, capsys):
    bad = tmp_path / "bad.otio"
    bad.write_text("{ nope")
    code, _, err = run(capsys, "import-otio", str(bad), "-o", str(tmp_path / "x.studio"))
    assert_bad_input(code, err, "bad.otio")
    assert not (tmp_path / "x.studio").exists()
    code, _, err = run(capsys, "import-otio", str(DATA / "simple_cut.otio"), "-o", str(tmp_path / "x.txt"))
    assert_bad_input(code, err, "must end in .studio")


def test_planned_commands_and_usage_errors_are_one_line(capsys):
    code, _, err = run(capsys, "generate", "a cat")
    assert_bad_input(code, err, "exactly one of -o OUT or --into PROJECT")
    code, _, err = run(capsys, "import", "--into")
    assert_bad_input(code, err, "expected one argument")


def test_console_script_exits_2_without_traceback(tmp_path):
    studio = Path(sys.executable).with_name("studio")
    proc = subprocess.run([str(studio), "info", str(tmp_path / "missing.studio")], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "Traceback" not in proc.stderr


def test_demo_project(tmp_path, capsys):
    code, out, err = run(capsys, "demo", "-o", str(tmp_path / "demo"), "--no-render")
    assert code == 0, err
    data = info(capsys, tmp_path / "demo" / "demo.studio")
    assert data["duration"] == pytest.approx(12.0)
    assert [t["clips"] for t in data["tracks"]] == [3, 1, 3, 1]
    assert [t["transitions"] for t in data["tracks"]] == [2, 0, 2, 0]
    assert not any(a["missing"] for a in data["assets"])
