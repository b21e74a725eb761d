"""ViewerWidget offscreen on the demo project: seek shows the right picture, play, J/K/L, timecode."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from studio.cli.demo_cmd import make_demo
from studio.core.projectfile import load_project
from studio.render import audio_output
from studio.render.compositor import Compositor
from studio.ui.viewer import ViewerWidget
from studio.ui.viewer.widget import NO_AUDIO_NOTICE


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo")
    return load_project(make_demo(folder))


def _no_portaudio():
    raise OSError("PortAudio library not found")


@pytest.fixture
def viewer(qtbot, demo, monkeypatch):
    monkeypatch.setattr(audio_output, "_load_sounddevice", _no_portaudio)  # silent and deterministic
    w = ViewerWidget()
    qtbot.addWidget(w)
    w.resize(700, 460)
    w.show()
    w.set_project(demo)
    yield w
    w.set_project(None)


def _wait_for_frame(qtbot, viewer, n: int, timeout: int = 5000) -> None:
    qtbot.waitUntil(lambda: viewer.current_frame == n and viewer.current_image() is not None
                    and viewer.engine._last_shown == n, timeout=timeout)


@pytest.mark.parametrize("n", [0, 37, 90, 137])  # 90: inside the first dissolve; 137: ball with the logo
def test_seek_shows_that_frame(qtbot, viewer, demo, n) -> None:
    with qtbot.waitSignal(viewer.frame_changed, timeout=5000, check_params_cb=lambda f: f == n):
        viewer.seek(n)
    shown = viewer.current_image()
    h, w = shown.shape[:2]
    assert (w, h) == viewer.canvas.display_size()
    with Compositor(demo) as comp:
        want = comp.frame(n).reformat(w, h, "rgb24").to_ndarray()
    diff = np.abs(shown.astype(np.int16) - want.astype(np.int16))
    assert diff.mean() < 1.0 and np.percentile(diff, 99) <= 4


def test_play_advances_and_stops(qtbot, viewer) -> None:
    seen: list[int] = []
    viewer.frame_changed.connect(seen.append)
    notices: list[str] = []
    viewer.audio_notice.connect(notices.append)
    with qtbot.waitSignal(viewer.playing_changed, timeout=1000, check_params_cb=lambda p: p is True):
        viewer.play()
    qtbot.waitUntil(lambda: len(seen) >= 6 and seen[-1] >= 6, timeout=5000)
    with qtbot.waitSignal(viewer.playing_changed, timeout=1000, check_params_cb=lambda p: p is False):
        viewer.action("play").trigger()  # Space toggles
    assert seen == sorted(seen)
    assert notices == [NO_AUDIO_NOTICE]
    viewer.play()  # the notice comes once
    viewer.pause()
    assert notices == [NO_AUDIO_NOTICE]


def test_jkl_and_step(qtbot, viewer) -> None:
    viewer.seek(100)
    for name, rate in [("forward", 1), ("forward", 2), ("forward", 4), ("stop", 0), ("reverse", -1),
                       ("reverse", -2), ("stop", 0)]:
        viewer.action(name).trigger()
        assert viewer.rate == rate
    viewer.seek(100)
    _wait_for_frame(qtbot, viewer, 100)
    viewer.action("next_frame").trigger()
    _wait_for_frame(qtbot, viewer, 101)
    viewer.action("prev_frame").trigger()
    viewer.action("prev_frame").trigger()
    _wait_for_frame(qtbot, viewer, 99)


def test_in_out_and_go_to(qtbot, viewer) -> None:
    viewer.seek(20)
    viewer.action("mark_in").trigger()
    viewer.seek(60)
    viewer.action("mark_out").trigger()
    assert (viewer.engine.in_point, viewer.engine.out_point) == (20, 60)
    viewer.action("go_in").trigger()
    _wait_for_frame(qtbot, viewer, 20)
    viewer.action("go_out").trigger()
    _wait_for_frame(qtbot, viewer, 60)
    assert "In 00:00:00:20" in viewer.range_label.text()


def test_typed_timecode_seeks_and_bad_input_is_an_error_not_a_crash(qtbot, viewer) -> None:
    viewer.timecode.setFocus()
    viewer.timecode.setText("00:00:02:10")
    qtbot.keyClick(viewer.timecode, Qt.Key.Key_Return)
    _wait_for_frame(qtbot, viewer, 60)
    assert viewer.timecode_error == ""
    viewer.timecode.setText("00:00:99:99")
    qtbot.keyClick(viewer.timecode, Qt.Key.Key_Return)
    assert "bad timecode" in viewer.timecode_error
    viewer.timecode.setText("nonsense")
    qtbot.keyClick(viewer.timecode, Qt.Key.Key_Return)
    assert "bad time" in viewer.timecode_error
    assert viewer.current_frame == 60


def test_zoom_100_renders_at_canvas_size(qtbot, viewer, demo) -> None:
    viewer.set_zoom("100%")
    viewer.seek(10)
    _wait_for_frame(qtbot, viewer, 10)
    assert viewer.current_image().shape[:2] == (demo.settings.height, demo.settings.width)
    viewer.set_zoom("fit")
    assert viewer.canvas.display_size()[0] < demo.settings.width


def test_actions_have_the_shortcuts(viewer) -> None:
    keys = {a.shortcut().toString() for a in viewer.actions()}
    assert keys == {"Space", "J", "K", "L", "Left", "Right", "I", "O", "Shift+I", "Shift+O"}


def test_keys_drive_the_transport(qtbot, viewer) -> None:
    viewer.activateWindow()
    viewer.canvas.setFocus()
    qtbot.waitUntil(viewer.canvas.hasFocus, timeout=2000)
    qtbot.keyClick(viewer.canvas, Qt.Key.Key_L)
    qtbot.keyClick(viewer.canvas, Qt.Key.Key_L)
    assert viewer.rate == 2
    qtbot.keyClick(viewer.canvas, Qt.Key.Key_K)
    assert viewer.rate == 0
    qtbot.keyClick(viewer.canvas, Qt.Key.Key_Space)
    assert viewer.rate == 1
    qtbot.keyClick(viewer.canvas, Qt.Key.Key_Space)
    assert viewer.rate == 0


def test_refresh_keeps_position_and_marks(qtbot, viewer, demo) -> None:
    viewer.seek(30)
    viewer.mark_in()
    viewer.seek(70)
    _wait_for_frame(qtbot, viewer, 70)
    old = viewer.engine
    viewer.refresh(demo)
    assert viewer.engine is not old and viewer.engine.in_point == 30
    _wait_for_frame(qtbot, viewer, 70)
