"""The export dialog: a small export through the job pool, ranges, errors in one line, Show in folder."""

from __future__ import annotations

import json
import threading
from fractions import Fraction
from pathlib import Path

import pytest

from studio.core.edits import AddAsset, InsertClips
from studio.core.factory import clip_for_asset, new_project
from studio.core.history import History
from studio.jobs import Job
from studio.media.assets import asset_from_file
from studio.media.probe import probe
from studio.media.synth import write_test_video
from studio.render.presets import load_preset
from studio.ui.export_dialog import ExportDialog

WAIT = 30000
FPS = Fraction(25)

TINY = {
    "name": "Tiny test",
    "description": "160x90 at 25 fps, H.264 ultrafast; AAC 48 kHz.",
    "format": "mp4",
    "extension": ".mp4",
    "faststart": True,
    "video": {"codec": "libx264", "width": 160, "height": 90, "fps": "25", "pix_fmt": "yuv420p", "crf": 30,
              "speed": "ultrafast"},
    "audio": {"codec": "aac", "sample_rate": 48000, "bitrate": "96k"},
}


@pytest.fixture
def preset(tmp_path):
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(TINY))
    return load_preset(str(path))


@pytest.fixture
def project(tmp_path):
    media = tmp_path / "media.mp4"
    write_test_video(media, width=320, height=180, fps=FPS, frames=12)
    asset = asset_from_file(media)
    h = History(new_project(320, 180, FPS, name="Tiny"))
    v1, a1 = (t.id for t in h.project.sequence.tracks)
    h.apply(AddAsset(asset))
    h.apply(InsertClips([(v1, clip_for_asset(asset, FPS, 0)), (a1, clip_for_asset(asset, FPS, 0))]))
    return h.project


def make_dialog(qtbot, project, jobs, preset, tmp_path, **kw) -> tuple[ExportDialog, list]:
    opened: list = []
    dlg = ExportDialog(project, jobs, out_path=tmp_path / "out" / "tiny", presets=[preset],
                       open_url=opened.append, **kw)
    qtbot.addWidget(dlg)
    (tmp_path / "out").mkdir(exist_ok=True)
    return dlg, opened


def test_small_export_runs_in_the_pool_and_probes(qtbot, project, jobs, preset, tmp_path):
    dlg, opened = make_dialog(qtbot, project, jobs, preset, tmp_path)
    dlg.show()
    assert dlg.preset().name == "Tiny test"
    assert dlg.path_edit.text() == str(tmp_path / "out" / "tiny.mp4")  # the preset's extension
    assert dlg.whole.isChecked() and not dlg.in_out_button.isEnabled()
    assert not dlg.show_button.isEnabled()
    handle = dlg.start()
    assert handle is not None and dlg.running and dlg.cancel_button.isEnabled()
    assert not dlg.export_button.isEnabled()
    qtbot.waitUntil(lambda: dlg.result is not None, timeout=WAIT)
    out = tmp_path / "out" / "tiny.mp4"
    assert out.exists()
    info = probe(out)
    assert (info.width, info.height, info.fps) == (160, 90, FPS) and info.has_audio
    assert dlg.progress.value() == 1000 and dlg.status.text().startswith("Exported tiny.mp4")
    qtbot.waitUntil(lambda: dlg.export_button.isEnabled(), timeout=WAIT)
    assert dlg.show_button.isEnabled()
    dlg.show_button.click()
    assert [u.toLocalFile() for u in opened] == [str(tmp_path / "out")]


def test_in_out_range(qtbot, project, jobs, preset, tmp_path):
    dlg, _ = make_dialog(qtbot, project, jobs, preset, tmp_path, in_out=(2, 7))
    assert dlg.in_out_button.isChecked() and dlg.frame_range() == (2, 7)
    assert "00:00:00:02" in dlg.in_out_button.text()
    dlg.start()
    qtbot.waitUntil(lambda: dlg.result is not None, timeout=WAIT)
    assert dlg.result.frames == 5
    dlg.whole.setChecked(True)
    assert dlg.frame_range() is None


def test_errors_are_one_line(qtbot, project, jobs, preset, tmp_path):
    dlg, _ = make_dialog(qtbot, project, jobs, preset, tmp_path)
    dlg.path_edit.setText("")
    assert dlg.start() is None and dlg.error == "choose a file to export to"
    # A folder that does not exist: the export job fails; its message is shown in one line.
    dlg.path_edit.setText(str(tmp_path / "no" / "such" / "dir" / "x.mp4"))
    failed = []
    dlg.failed_export.connect(failed.append)
    assert dlg.start() is not None
    qtbot.waitUntil(lambda: bool(failed), timeout=WAIT)
    assert dlg.status.text().startswith("export failed: ") and "\n" not in dlg.status.text()
    assert dlg.export_button.isEnabled() and not dlg.show_button.isEnabled()
    assert not Path(dlg.path_edit.text()).exists()


def test_missing_media_is_refused_before_the_job(qtbot, project, jobs, preset, tmp_path):
    Path(project.assets[0].path).unlink()
    dlg, _ = make_dialog(qtbot, project, jobs, preset, tmp_path)
    assert dlg.start() is None
    assert dlg.error == "missing media: media.mp4 (relink it in the bin first)"
    assert dlg.status.text() == dlg.error


def test_browse_uses_the_injected_dialog(qtbot, project, jobs, preset, tmp_path):
    asked = []
    dlg, _ = make_dialog(qtbot, project, jobs, preset, tmp_path,
                         ask_path=lambda start, flt: asked.append(flt) or str(tmp_path / "picked"))
    dlg.browse()
    assert asked and "*.mp4" in asked[0]
    assert dlg.path_edit.text() == str(tmp_path / "picked.mp4")


def test_cancel_stops_the_export(qtbot, project, jobs, preset, tmp_path):
    gate = threading.Event()
    blocker = jobs.submit(Job(lambda ctx: gate.wait(10), name="busy", cpu=2))  # the export has to queue
    dlg, _ = make_dialog(qtbot, project, jobs, preset, tmp_path)
    handle = dlg.start()
    assert dlg.cancel_button.isEnabled()
    dlg.cancel_button.click()
    gate.set()
    qtbot.waitUntil(lambda: handle.done and dlg.export_button.isEnabled(), timeout=WAIT)
    assert handle.state.value == "cancelled" and blocker.wait(10)
    assert dlg.status.text() == "Export cancelled; nothing was written"
    assert dlg.progress.value() == 0 and not (tmp_path / "out" / "tiny.mp4").exists()
