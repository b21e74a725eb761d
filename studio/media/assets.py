"""Turning a media file into a media-pool asset: probe it, fingerprint it."""

from __future__ import annotations

import os
from pathlib import Path

from studio.core.fingerprint import fingerprint
from studio.core.ids import new_id
from studio.core.media_pool import Asset, MediaInfo

from .probe import MediaError, ProbeResult, probe


def media_info(result: ProbeResult) -> MediaInfo:
    return MediaInfo(
        duration=result.duration, has_video=result.has_video, has_audio=result.has_audio,
        width=result.width or 0, height=result.height or 0, fps=result.fps, vfr=result.vfr,
        sample_rate=result.sample_rate or 0, channels=result.channels or 0, is_still=result.is_still)


def asset_kind(result: ProbeResult) -> str:
    if result.is_still:
        return "image"
    if result.has_video and result.has_audio:
        return "av"
    return "video" if result.has_video else "audio"


def asset_from_file(path: str | os.PathLike[str], asset_id: str | None = None) -> Asset:
    """Probe ``path`` and describe it as an Asset (absolute path). Raises MediaError."""
    p = Path(path).absolute()
    result = probe(p)
    try:
        fp = fingerprint(p)
    except OSError as e:
        raise MediaError(p, e.strerror or str(e)) from None
    return Asset(id=asset_id or new_id("asset"), path=str(p), name=p.name, kind=asset_kind(result),
                 fingerprint=fp, info=media_info(result))
