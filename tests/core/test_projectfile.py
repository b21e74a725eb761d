"""Project files: round trips, upgrades, atomic saves, damaged files, autosave, relink."""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import pytest

from studio.core import autosave, projectfile
from studio.core.edits import AddAsset, OverwriteClip, RelinkAssets
from studio.core.errors import ProjectFileError
from studio.core.factory import clip_for_asset, new_project
from studio.core.fingerprint import fingerprint
from studio.core.history import History
from studio.core.media_pool import Asset, MediaInfo, Recipe
from studio.core.relink import find_relinks, missing_assets
from studio.core.serialize import project_to_dict


def media_file(path: Path, content: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


def project_with_media(folder: Path):
    clip_a = media_file(folder / "media" / "a.mp4", b"A" * 5000)
    clip_b = media_file(folder / "media" / "sub" / "b.mov", b"B" * 7000)
    h = History(new_project(fps=Fraction(30000, 1001), name="Doc"))
    for aid, f in (("a", clip_a), ("b", clip_b)):
        h.apply(AddAsset(Asset(aid, str(f), f.name, "av", fingerprint(f), MediaInfo(Fraction(10), True, True))))
    v1 = h.project.sequence.tracks[0].id
    h.apply(OverwriteClip(v1, clip_for_asset(h.project.asset("a"), h.project.fps, 0, duration=90)))
    h.apply(OverwriteClip(v1, clip_for_asset(h.project.asset("b"), h.project.fps, 90, source_in=Fraction(5, 2),
                                             duration=60)))
    return h.project


def test_save_and_load_round_trip_with_relative_paths(tmp_path):
    project = project_with_media(tmp_path / "show")
    path = tmp_path / "show" / "cut.studio"
    projectfile.save_project(project, path)
    doc = json.loads(path.read_text())
    assert doc["version"] == 1 and doc["format"] == "shotline-studio"
    assert [a["path"] for a in doc["project"]["assets"]] == ["media/a.mp4", "media/sub/b.mov"]
    assert doc["project"]["settings"]["fps"] == "30000/1001"
    assert doc["project"]["sequence"]["tracks"][0]["clips"][1]["source_in"] == "5/2"
    assert project_to_dict(projectfile.load_project(path)) == project_to_dict(project)
    # the whole folder moves: media still resolves next to the project
    moved = tmp_path / "elsewhere"
    shutil.move(tmp_path / "show", moved)
    loaded = projectfile.load_project(moved / "cut.studio")
    assert loaded.asset("a").path == str(moved / "media" / "a.mp4")
    assert missing_assets(loaded) == []


def test_save_is_atomic_and_a_failed_save_keeps_the_old_file(tmp_path, monkeypatch):
    project = project_with_media(tmp_path)
    path = tmp_path / "p.studio"
    projectfile.save_project(project, path)
    old = path.read_bytes()

    def full_disk(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(ProjectFileError, match="No space left on device.*unchanged"):
        projectfile.save_project(replace(project, name="Changed"), path)
    assert path.read_bytes() == old
    assert sorted(p.name for p in tmp_path.iterdir()) == ["media", "p.studio"]  # no temp file left


def test_version_0_file_is_upgraded(tmp_path):
    (tmp_path / "a.mp4").write_bytes(b"x")
    v0 = {"version": 0, "title": "Old", "width": 1280, "height": 720, "fps": [24000, 1001],
          "media": [{"id": "m1", "file": "a.mp4", "kind": "av", "duration": "10"}],
          "tracks": [{"id": "t1", "type": "V", "label": "Video 1",
                      "items": [{"id": "c1", "media": "m1", "start": 24, "end": 72, "in": 12}]},
                     {"id": "t2", "type": "A", "label": "Audio 1", "items": []}]}
    path = tmp_path / "old.studio"
    path.write_text(json.dumps(v0))
    p = projectfile.load_project(path)
    assert p.name == "Old" and p.fps == Fraction(24000, 1001) and (p.settings.width, p.settings.height) == (1280, 720)
    (clip,) = p.track("t1").clips
    assert (clip.position, clip.duration, clip.source_in) == (24, 48, 12)
    assert p.track("t2").kind == "audio" and p.asset("m1").path == str(tmp_path / "a.mp4")
    assert json.loads(path.read_text()) == v0  # loading never rewrites


def _valid_doc(tmp_path) -> dict:
    project = project_with_media(tmp_path)
    projectfile.save_project(project, tmp_path / "ok.studio")
    return json.loads((tmp_path / "ok.studio").read_text())


@pytest.mark.parametrize("damage, message", [
    (lambda d: "{not json", r"not valid JSON \(line 1, column 2"),
    (lambda d: d["project"]["settings"].pop("fps") and d, r"missing field project\.settings\.fps"),
    (lambda d: d["project"]["sequence"]["tracks"][0]["clips"][0].update(position="ten") or d,
     r"project\.sequence\.tracks\[0\]\.clips\[0\]\.position: expected a whole number, got text 'ten'"),
    (lambda d: d.update(version=7) or d, r"newer Shotline Studio \(file version 7, this one reads up to 1\)"),
    (lambda d: d.update(version="1") or d, r"field version: expected a whole number"),
    (lambda d: d["project"]["settings"].update(fps="fast") or d, r"project\.settings\.fps: expected an exact number"),
    (lambda d: d["project"]["sequence"]["tracks"][0]["clips"][0].update(duration=99999) or d,
     r"inconsistent: .*beyond media length"),
    (lambda d: [], r"expected a JSON object"),
])
def test_damaged_files_fail_with_one_clear_line_naming_the_field(tmp_path, damage, message):
    doc = damage(_valid_doc(tmp_path))
    path = tmp_path / "damaged.studio"
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    before = path.read_bytes()
    with pytest.raises(ProjectFileError, match=message) as info:
        projectfile.load_project(path)
    assert "\n" not in str(info.value) and "damaged.studio" in str(info.value)
    assert path.read_bytes() == before


def test_generated_media_must_not_escape_the_project_folder(tmp_path):
    doc = _valid_doc(tmp_path)
    asset = doc["project"]["assets"][0]
    asset["recipe"] = {"backend": "cogvideox", "model_id": "THUDM/CogVideoX1.5-5B", "prompt": "a fox", "seed": 3}
    asset["path"] = "../../etc/passwd"
    path = tmp_path / "gen.studio"
    path.write_text(json.dumps(doc))
    with pytest.raises(ProjectFileError, match=r"project\.assets\[0\]\.path: generated media must stay inside"):
        projectfile.load_project(path)
    asset["path"] = "generated/take1.mp4"
    path.write_text(json.dumps(doc))
    p = projectfile.load_project(path)
    assert p.assets[0].recipe == Recipe("cogvideox", "THUDM/CogVideoX1.5-5B", "a fox", seed=3)


def test_recipe_and_takes_survive_a_round_trip(tmp_path):
    project = project_with_media(tmp_path)
    recipe = Recipe("wan", "Wan-AI/Wan2.1-T2V-1.3B-Diffusers", "waves", revision="abc", negative_prompt="blur",
                    seed=42, steps=30, guidance=5.0, width=832, height=480, frames=81, fps=Fraction(16),
                    source_image="still.png", conform=(("fps", "60/1"), ("interp", "flow"), ("upscale", "lanczos")))
    gen = media_file(tmp_path / "generated" / "take1.mp4", b"G" * 100)
    project = replace(project, assets=(*project.assets, Asset("g", str(gen), "take1.mp4", "video", "",
                                                              MediaInfo(Fraction(5), True), recipe)))
    projectfile.save_project(project, tmp_path / "p.studio")
    assert projectfile.load_project(tmp_path / "p.studio").asset("g").recipe == recipe


def test_autosave_rotates_keeps_ten_and_recovery_never_deletes(tmp_path):
    project = project_with_media(tmp_path)
    path = tmp_path / "p.studio"
    projectfile.save_project(project, path)
    old = time.time() - 100
    os.utime(path, (old, old))
    assert autosave.newer_autosave(path) is None
    written = [autosave.write_autosave(replace(project, name=f"v{i}"), path) for i in range(12)]
    saves = autosave.list_autosaves(path)
    assert len(saves) == 10
    assert [s.path for s in saves] == list(reversed(written[2:]))  # newest first, two oldest rotated out
    newest = autosave.newer_autosave(path)
    assert newest is not None and newest.path == written[-1]
    recovered = autosave.recover(newest)
    assert recovered.name == "v11"
    assert recovered.asset("a").path == str(tmp_path / "media" / "a.mp4")
    assert len(autosave.list_autosaves(path)) == 10  # recovery deleted nothing
    projectfile.save_project(recovered, path)  # saving the project makes the autosaves older
    assert autosave.newer_autosave(path) is None
    assert len(autosave.list_autosaves(path)) == 10


def test_autosaver_thread_saves_only_when_changed(tmp_path):
    project = project_with_media(tmp_path)
    path = tmp_path / "p.studio"
    h = History(project)
    saver = autosave.Autosaver(lambda: h.project, path, interval=0.05)
    saver.start()
    time.sleep(0.2)
    assert autosave.list_autosaves(path) == []  # nothing changed yet
    h.apply(OverwriteClip(h.project.sequence.tracks[0].id,
                          clip_for_asset(h.project.asset("a"), h.project.fps, 200, duration=10)))
    deadline = time.time() + 5
    while not autosave.list_autosaves(path) and time.time() < deadline:
        time.sleep(0.02)
    saver.stop()
    saves = autosave.list_autosaves(path)
    assert len(saves) == 1
    assert project_to_dict(autosave.recover(saves[0])) == project_to_dict(h.project)


def test_relink_finds_moved_and_renamed_media_by_fingerprint(tmp_path):
    project = project_with_media(tmp_path / "show")
    new_home = tmp_path / "disk2" / "footage"
    new_home.mkdir(parents=True)
    shutil.move(tmp_path / "show" / "media" / "a.mp4", new_home / "a.mp4")
    shutil.move(tmp_path / "show" / "media" / "sub" / "b.mov", new_home / "renamed.mov")
    media_file(tmp_path / "disk2" / "decoy" / "a.mp4", b"A" * 4999 + b"Z")  # same name, other content
    assert missing_assets(project) == ["a", "b"]
    found = find_relinks(project, tmp_path / "disk2")
    assert found == {"a": str(new_home / "a.mp4"), "b": str(new_home / "renamed.mov")}
    h = History(project)
    h.apply(RelinkAssets(found))
    assert missing_assets(h.project) == []
    h.undo()
    assert missing_assets(h.project) == ["a", "b"]


def test_sequence_min_length_survives_a_round_trip(tmp_path):
    project = project_with_media(tmp_path)
    end = project.sequence.duration
    assert project.sequence.min_length == 0
    path = tmp_path / "p.studio"
    projectfile.save_project(project, path)
    assert "min_length" not in json.loads(path.read_text())["project"]["sequence"]  # only when set
    longer = replace(project, sequence=replace(project.sequence, min_length=end + 48))
    assert longer.sequence.duration == end + 48 and longer.sequence.content_end == end
    projectfile.save_project(longer, path)
    doc = json.loads(path.read_text())
    assert doc["project"]["sequence"]["min_length"] == end + 48
    loaded = projectfile.load_project(path)
    assert loaded.sequence.min_length == end + 48 and loaded.sequence.duration == end + 48
    assert project_to_dict(loaded) == project_to_dict(longer)
    for bad, message in ((-1, r"min_length: expected a number of frames of 0 or more"),
                         ("long", r"min_length: expected a whole number")):
        doc["project"]["sequence"]["min_length"] = bad
        path.write_text(json.dumps(doc))
        with pytest.raises(ProjectFileError, match=message):
            projectfile.load_project(path)


def test_saved_files_get_ordinary_permissions(tmp_path):
    from studio.core.fsutil import _read_umask

    project = project_with_media(tmp_path)
    path = tmp_path / "p.studio"
    projectfile.save_project(project, path)
    assert path.stat().st_mode & 0o777 == 0o666 & ~_read_umask()  # not mkstemp's 0600
    os.chmod(path, 0o640)
    projectfile.save_project(project, path)
    assert path.stat().st_mode & 0o777 == 0o640  # a replaced file keeps its mode
