"""A small project with known contents, built through the core API and saved as a .studio file."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

from studio.core.edits import AddAsset, AddTrack, AddTransition, InsertClips, SetGroup, SetSpeed, SetTrackProperty
from studio.core.factory import clip_for_asset, new_project
from studio.core.history import History
from studio.core.media_pool import Asset, MediaInfo
from studio.core.project import Project
from studio.core.projectfile import save_project

FPS = Fraction(30000, 1001)


def _assets(folder: Path) -> tuple[Asset, ...]:
    return (
        Asset("interview", str(folder / "interview.mp4"), "interview.mp4", "av",
              info=MediaInfo(Fraction(60), True, True, 1920, 1080, FPS, sample_rate=48000, channels=2)),
        Asset("broll", str(folder / "broll.mov"), "broll.mov", "video",
              info=MediaInfo(Fraction(20), True, False, 1920, 1080, FPS)),
        Asset("music", str(folder / "music.wav"), "music.wav", "audio",
              info=MediaInfo(Fraction(90), False, True, sample_rate=48000, channels=2)),
    )


def build_demo(folder: str | Path, *, missing: tuple[str, ...] = ("broll",)) -> tuple[History, Path]:
    """Build the demo into ``folder`` (media files exist except ``missing``); returns its history and file.

    V1: interview (0-300) + dissolve + broll at 1/2 speed; V2 (locked): broll;
    A1: interview audio linked to V1's; A2 (muted): music, grouped with the V2 clip.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    history = History(new_project(1920, 1080, FPS, name="Demo cut"))
    for asset in _assets(folder):
        if asset.id not in missing:
            Path(asset.path).write_bytes(b"")
        history.apply(AddAsset(asset))
    v1, a1 = (t.id for t in history.project.sequence.tracks)
    v2, a2 = AddTrack("video", "V2"), AddTrack("audio", "A2")
    history.apply(v2)
    history.apply(a2)
    p = history.project
    interview, broll, music = (p.asset(i) for i in ("interview", "broll", "music"))
    assert interview and broll and music
    history.apply(InsertClips([
        (v1, clip_for_asset(interview, FPS, 0, duration=300, clip_id="iv-v", link="iv")),
        (a1, clip_for_asset(interview, FPS, 0, duration=300, clip_id="iv-a", link="iv")),
    ]))
    history.apply(InsertClips([(v1, clip_for_asset(broll, FPS, 300, source_in=30, duration=150, clip_id="br1"))]))
    history.apply(SetSpeed("br1", Fraction(1, 2)))
    history.apply(AddTransition("iv-v", 20))
    history.apply(InsertClips([(v2.track_id, clip_for_asset(broll, FPS, 120, duration=90, clip_id="br2"))]))
    history.apply(InsertClips([(a2.track_id, clip_for_asset(music, FPS, 0, duration=1863, clip_id="mu"))]))
    history.apply(SetGroup(["br2", "mu"]))
    history.apply(SetTrackProperty(v2.track_id, "locked", True))
    history.apply(SetTrackProperty(a2.track_id, "muted", True))
    path = folder / "demo.studio"
    save_project(history.project, path)
    return history, path


def track_ids(project: Project) -> dict[str, str]:
    """Track name -> id."""
    return {t.name: t.id for t in project.sequence.tracks}
