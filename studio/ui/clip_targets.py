"""Which clip an AI action works on, and where a conformed copy of its media goes (Qt-free)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

from studio.core.project import Project
from studio.core.timeline import Clip, Track


def selected_video_clip(project: Project, ids: list[str]) -> tuple[Track, Clip] | None:
    """The one selected clip when exactly one is selected, it is on a video track and its media moves."""
    if len(ids) != 1:
        return None
    found = project.find_clip(ids[0])
    if found is None:
        return None
    track, clip = found
    asset = project.asset(clip.asset_id)
    if track.kind != "video" or asset is None or not asset.has_video or asset.info.is_still or not asset.info.fps:
        return None
    return track, clip


def needs_conform(project: Project, clip: Clip) -> bool:
    """True when the clip's media differs from the project in frame rate or size."""
    asset = project.asset(clip.asset_id)
    if asset is None:
        return False
    s = project.settings
    return (Fraction(asset.info.fps or 0) != Fraction(project.fps)
            or (asset.info.width, asset.info.height) != (s.width, s.height))


def rate_text(fps: Fraction) -> str:
    """``24`` -> ``"24"``, ``30000/1001`` -> ``"29.97"`` (for file names)."""
    fps = Fraction(fps)
    if fps.denominator == 1:
        return str(fps.numerator)
    return f"{float(fps):.3f}".rstrip("0").rstrip(".")


def conform_path(project_path: str, asset_name: str, size: tuple[int, int], fps: Fraction) -> Path:
    """``<project folder>/conformed/<name>-<W>x<H>-<fps>.mp4``; ``-2``, ``-3``... when taken
    (a conformed file is never overwritten: an older take may still use it)."""
    folder = Path(project_path).absolute().parent / "conformed"
    stem = f"{Path(asset_name).stem or 'clip'}-{size[0]}x{size[1]}-{rate_text(fps)}"
    path, n = folder / f"{stem}.mp4", 2
    while path.exists():
        path, n = folder / f"{stem}-{n}.mp4", n + 1
    return path
