"""Plain-text descriptions of project parts for the project window (no widgets here)."""

from __future__ import annotations

import html
import os
from fractions import Fraction

from studio.core.errors import TimeError
from studio.core.media_pool import Asset
from studio.core.project import Project
from studio.core.timebase import format_rate, format_timecode
from studio.core.timeline import Clip, Track, Transition

ASSET_KIND_LABELS = {"av": "A/V", "video": "video", "audio": "audio", "image": "still"}
#: The summary names at most this many assets; the rest are counted.
MAX_LISTED_ASSETS = 8


def timecode(frames: int | Fraction, fps: Fraction) -> str:
    """Timecode of a frame count; a fractional part (speed changes) is shown as ``+n/d``."""
    value = Fraction(frames)
    sign = "-" if value < 0 else ""
    value = abs(value)
    whole = int(value)  # floor for non-negative values
    try:
        text = sign + format_timecode(whole, fps)
    except TimeError:
        text = f"{sign}{whole}f"
    rest = value - whole
    return f"{text} +{rest.numerator}/{rest.denominator}" if rest else text


def format_speed(speed: Fraction) -> str:
    """``Fraction(2)`` -> ``"2×"``, ``Fraction(1, 2)`` -> ``"0.5×"``, ``Fraction(-1)`` -> ``"-1× (reversed)"``."""
    speed = Fraction(speed)
    text = f"{speed.numerator}×" if speed.denominator == 1 else f"{float(speed):.4g}×"
    return f"{text} (reversed)" if speed < 0 else text


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def track_flags(track: Track) -> list[str]:
    flags = []
    if not track.enabled:
        flags.append("disabled")
    if track.locked:
        flags.append("locked")
    if track.muted:
        flags.append("muted")
    if track.solo:
        flags.append("solo")
    return flags


def track_details(track: Track) -> str:
    parts = [plural(len(track.clips), "clip")]
    if track.transitions:
        parts.append(plural(len(track.transitions), "transition"))
    return " · ".join(parts + track_flags(track))


def clip_name(clip: Clip, asset: Asset | None) -> str:
    return clip.name or (asset.name if asset is not None else "") or clip.id


def asset_missing(asset: Asset) -> bool:
    return not os.path.exists(asset.path)


def clip_details(project: Project, track: Track, clip: Clip) -> str:
    """Speed, link, group, enabled state, takes and media problems of a clip on ``track``."""
    asset = project.asset(clip.asset_id)
    parts = []
    if Fraction(clip.speed) != 1:
        parts.append(f"speed {format_speed(clip.speed)}")
    if clip.link is not None:
        partners = [t.name for t, c in project.all_clips() if c.link == clip.link and c.id != clip.id]
        parts.append(f"linked to {', '.join(partners)}" if partners else "linked")
    if clip.group is not None:
        parts.append("grouped")
    if not clip.enabled:
        parts.append("disabled")
    if len(clip.takes) > 1:
        parts.append(plural(len(clip.takes), "take"))
    if asset is None:
        parts.append("media not in project")
    else:
        if asset.recipe is not None:
            parts.append("generated")
        if asset_missing(asset):
            parts.append("media missing")
    return " · ".join(parts)


def clip_kind(project: Project, clip: Clip) -> str:
    asset = project.asset(clip.asset_id)
    return ASSET_KIND_LABELS.get(asset.kind, asset.kind) if asset is not None else "?"


def transition_span(track: Track, transition: Transition) -> tuple[int, int] | None:
    """(start frame, duration) of a transition, or None when its clips are not on ``track``."""
    a = track.clip(transition.a)
    if a is None:
        return None
    return a.end - transition.before, transition.duration


def transition_details(project: Project, track: Track, transition: Transition) -> str:
    a, b = track.clip(transition.a), track.clip(transition.b)

    def name(c: Clip | None, cid: str) -> str:
        return clip_name(c, project.asset(c.asset_id)) if c is not None else cid

    return (f"{name(a, transition.a)} → {name(b, transition.b)} "
            f"({transition.before} + {transition.after} frames)")


def settings_line(project: Project) -> str:
    """``"1920x1080 · 30000/1001 fps · 00:01:02:03"``: canvas, exact rate and sequence length."""
    s = project.settings
    return (f"{s.width}x{s.height} · {format_rate(s.fps)} fps · "
            f"{timecode(project.sequence.duration, s.fps)}")


def summary_html(project: Project, path: str | None, warning_color: str, muted_color: str) -> str:
    """Rich text for the header: name and file, settings, and the media with missing files marked."""
    s = project.settings
    esc = html.escape
    missing = {a.id for a in project.assets if asset_missing(a)}
    counts = plural(len(project.assets), "asset")
    if missing:
        counts += f' <span style="color:{warning_color}">({len(missing)} missing)</span>'
    lines = [f"<b>{esc(project.name)}</b>"
             + (f' &nbsp;<span style="color:{muted_color}">{esc(path)}</span>' if path else ""),
             f"{esc(settings_line(project))} · {s.sample_rate} Hz {esc(s.channel_layout)} · "
             f"{plural(len(project.sequence.tracks), 'track')} · {counts}"]
    if project.assets:
        names = []
        for a in project.assets[:MAX_LISTED_ASSETS]:
            mark = f' <span style="color:{warning_color}">(missing)</span>' if a.id in missing else ""
            names.append(esc(a.name or os.path.basename(a.path)) + mark)
        more = len(project.assets) - MAX_LISTED_ASSETS
        if more > 0:
            names.append(f"… and {more} more")
        lines.append("Media: " + ", ".join(names))
    return "<br>".join(lines)
