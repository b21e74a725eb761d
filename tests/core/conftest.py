"""Projects with known media for core tests (no files needed: the model only needs probe info)."""

from __future__ import annotations

from fractions import Fraction

import pytest

from studio.core.edits import InsertClips, OverwriteClip
from studio.core.factory import clip_for_asset
from studio.core.history import History
from studio.core.media_pool import Asset, MediaInfo
from studio.core.project import Project, ProjectSettings
from studio.core.timeline import Sequence, Track

FPS = Fraction(25)


def make_assets() -> tuple[Asset, ...]:
    return (
        Asset("av", "/media/interview.mp4", "interview.mp4", "av", "1:aa",
              MediaInfo(Fraction(10), True, True, 1920, 1080, FPS, sample_rate=48000, channels=2)),
        Asset("broll", "/media/broll.mov", "broll.mov", "video", "2:bb",
              MediaInfo(Fraction(6), True, False, 1920, 1080, FPS)),
        Asset("music", "/media/music.wav", "music.wav", "audio", "3:cc",
              MediaInfo(Fraction(8), False, True, sample_rate=48000, channels=2)),
        Asset("logo", "/media/logo.png", "logo.png", "image", "4:dd",
              MediaInfo(None, True, False, 512, 512, is_still=True)),
    )


def empty_project() -> Project:
    tracks = (Track("v1", "video", "V1"), Track("v2", "video", "V2"),
              Track("a1", "audio", "A1"), Track("a2", "audio", "A2"))
    return Project(ProjectSettings(1920, 1080, FPS), make_assets(), Sequence(tracks), "Test")


def asset(project: Project, asset_id: str) -> Asset:
    a = project.asset(asset_id)
    assert a is not None
    return a


@pytest.fixture
def history() -> History:
    return History(empty_project())


def place_av(history: History, position: int, source_in: int = 0, duration: int = 50, tag: str = "") -> tuple[str, str]:
    """Put the A/V interview on V1 + A1 as a linked pair; returns (video id, audio id)."""
    p = history.project
    a = asset(p, "av")
    v = clip_for_asset(a, p.fps, position, source_in=source_in, duration=duration, clip_id=f"v{tag}{position}",
                       link=f"l{tag}{position}")
    au = clip_for_asset(a, p.fps, position, source_in=source_in, duration=duration, clip_id=f"a{tag}{position}",
                        link=f"l{tag}{position}")
    history.apply(InsertClips([("v1", v), ("a1", au)]))
    return v.id, au.id


def place(history: History, track: str, asset_id: str, position: int, duration: int, source_in: int = 0,
          clip_id: str | None = None) -> str:
    p = history.project
    c = clip_for_asset(asset(p, asset_id), p.fps, position, source_in=source_in, duration=duration,
                       clip_id=clip_id or f"{asset_id}{position}")
    history.apply(OverwriteClip(track, c))
    return c.id
