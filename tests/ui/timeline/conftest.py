"""A small timeline project and helpers to drive real mouse gestures on the view."""

from __future__ import annotations

from fractions import Fraction

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest

from studio.core.edits import AddAsset, AddMarker, AddTrack, AddTransition, InsertClips
from studio.core.factory import clip_for_asset, new_project
from studio.core.history import History
from studio.core.media_pool import Asset, MediaInfo

FPS = Fraction(30)


def assets() -> tuple[Asset, ...]:
    return (
        Asset("iv", "/media/interview.mp4", "interview.mp4", "av",
              info=MediaInfo(Fraction(60), True, True, 1920, 1080, FPS, sample_rate=48000, channels=2)),
        Asset("br", "/media/broll.mov", "broll.mov", "video",
              info=MediaInfo(Fraction(20), True, False, 1920, 1080, FPS)),
        Asset("mu", "/media/music.wav", "music.wav", "audio", info=MediaInfo(Fraction(90), False, True, 0, 0)),
    )


def build_history() -> History:
    """V2: b2 (200-260). V1: iv-v (0-100, linked) | br1 (100-160) with a dissolve. A1: iv-a. A2: empty."""
    history = History(new_project(1920, 1080, FPS, name="Timeline test"))
    for a in assets():
        history.apply(AddAsset(a))
    v1, a1 = (t.id for t in history.project.sequence.tracks)
    history.apply(AddTrack("video", "V2"))
    history.apply(AddTrack("audio", "A2"))
    p = history.project
    iv, br = p.asset("iv"), p.asset("br")
    v2 = p.sequence.tracks_of("video")[1].id
    history.apply(InsertClips([(v1, clip_for_asset(iv, FPS, 0, duration=100, clip_id="iv-v", link="L1")),
                               (a1, clip_for_asset(iv, FPS, 0, duration=100, clip_id="iv-a", link="L1"))]))
    history.apply(InsertClips([(v1, clip_for_asset(br, FPS, 100, source_in=30, duration=60, clip_id="br1"))]))
    history.apply(InsertClips([(v2, clip_for_asset(br, FPS, 200, duration=60, clip_id="b2"))]))
    history.apply(AddTransition("iv-v", 10))
    history.apply(AddMarker(150, "beat", "green"))
    return history


def track_id(history: History, name: str) -> str:
    return next(t.id for t in history.project.sequence.tracks if t.name == name)


def clip(history: History, clip_id: str):
    found = history.project.find_clip(clip_id)
    assert found is not None, clip_id
    return found


@pytest.fixture
def history() -> History:
    return build_history()


@pytest.fixture
def view(qtbot, history):
    from studio.ui.timeline import TimelineView

    v = TimelineView(history)
    qtbot.addWidget(v)
    v.resize(1200, 400)
    v.set_zoom(2.0)
    v.horizontalScrollBar().setValue(0)
    v.show()
    qtbot.waitExposed(v)
    return v


def vp(view, frame: float, track: str, dy: float = 0.5) -> QPoint:
    """Viewport point of ``frame`` in the row of track id ``track``."""
    row = view.timeline_layout().by_id[track]
    return view.mapFromScene(QPointF(frame * view.pixels_per_frame(), row.top + row.height * dy))


def drag(view, start: QPoint, end: QPoint, steps: int = 6, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    """A real press, several moves and a release on the viewport."""
    w = view.viewport()
    QTest.mousePress(w, Qt.MouseButton.LeftButton, modifier, start)
    for i in range(1, steps + 1):
        p = start + (end - start) * (i / steps)
        QTest.mouseMove(w, QPoint(round(p.x()), round(p.y())))
    QTest.mouseRelease(w, Qt.MouseButton.LeftButton, modifier, end)
