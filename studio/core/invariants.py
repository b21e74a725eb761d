"""Timeline invariants, checked after every command (a violation is a bug, not user input)."""

from __future__ import annotations

from fractions import Fraction

from .errors import InvariantError
from .keyframes import INTERPOLATIONS
from .project import CHANNEL_LAYOUTS, Project
from .timeline import ANIMATABLE, TRACK_KINDS, TRANSITION_KINDS, Clip, Track


def _is_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_exact(v: object) -> bool:
    return _is_int(v) or isinstance(v, Fraction)


def problems(project: Project) -> list[str]:
    """Every invariant the project breaks, as readable lines (empty when all hold)."""
    out: list[str] = []
    s = project.settings
    if not (isinstance(s.fps, Fraction) and s.fps > 0):
        out.append(f"frame rate {s.fps!r} is not a positive Fraction")
    if s.channel_layout not in CHANNEL_LAYOUTS:
        out.append(f"unknown channel layout {s.channel_layout!r}")
    asset_ids = set()
    for a in project.assets:
        if a.id in asset_ids:
            out.append(f"duplicate asset id {a.id}")
        asset_ids.add(a.id)
    track_ids: set[str] = set()
    clip_ids: set[str] = set()
    for t in project.sequence.tracks:
        if t.id in track_ids:
            out.append(f"duplicate track id {t.id}")
        track_ids.add(t.id)
        if t.kind not in TRACK_KINDS:
            out.append(f"track {t.name}: unknown kind {t.kind!r}")
        out.extend(_track_problems(project, t, clip_ids))
    min_length = project.sequence.min_length
    if not _is_int(min_length) or min_length < 0:
        out.append(f"sequence min_length {min_length!r} is not a non-negative integer")
    for m in project.sequence.markers:
        if not _is_int(m.frame) or m.frame < 0 or not _is_int(m.duration) or m.duration < 0:
            out.append(f"marker {m.name!r}: frame/duration must be non-negative integers")
    return out


def _track_problems(project: Project, t: Track, clip_ids: set[str]) -> list[str]:
    out: list[str] = []
    fps = project.settings.fps
    prev: Clip | None = None
    for c in t.clips:
        where = f"track {t.name}, clip {c.name or c.id}"
        if c.id in clip_ids:
            out.append(f"{where}: duplicate clip id")
        clip_ids.add(c.id)
        if not (_is_int(c.position) and _is_int(c.duration)):
            out.append(f"{where}: position/duration are not integer frames")
            continue
        if not _is_exact(c.source_in) or not isinstance(c.speed, (Fraction, int)):
            out.append(f"{where}: source_in/speed are not exact")
            continue
        if c.position < 0:
            out.append(f"{where}: negative position {c.position}")
        if c.duration < 1:
            out.append(f"{where}: duration {c.duration} < 1")
        if c.speed == 0:
            out.append(f"{where}: zero speed")
            continue
        if prev is not None and c.position < prev.end:
            out.append(f"{where}: overlaps {prev.name or prev.id} ({c.position} < {prev.end})")
        prev = c
        asset = project.asset(c.asset_id)
        if asset is None:
            out.append(f"{where}: unknown asset {c.asset_id}")
        else:
            if t.kind == "video" and not asset.has_video:
                out.append(f"{where}: audio-only asset on a video track")
            if t.kind == "audio" and not asset.has_audio:
                out.append(f"{where}: asset without audio on an audio track")
            if c.source_in < 0:
                out.append(f"{where}: source in {c.source_in} < 0")
            length = asset.length_frames(fps)
            if length is not None and c.source_out > length:
                out.append(f"{where}: source out {c.source_out} beyond media length {length}")
        for name, keys in c.keyframes:
            if name not in ANIMATABLE:
                out.append(f"{where}: keyframes on unknown parameter {name!r}")
            frames = [k.frame for k in keys]
            if not keys or frames != sorted(set(frames)) or not all(_is_int(f) for f in frames):
                out.append(f"{where}: keyframes of {name} are not sorted unique integer frames")
            if any(k.interp not in INTERPOLATIONS for k in keys):
                out.append(f"{where}: unknown interpolation in {name}")
        if c.fade_in < 0 or c.fade_out < 0 or c.fade_in + c.fade_out > c.duration:
            out.append(f"{where}: fades {c.fade_in}+{c.fade_out} do not fit {c.duration}")
    by_id = {c.id: c for c in t.clips}
    cuts: set[tuple[str, str]] = set()
    for tr in t.transitions:
        where = f"track {t.name}, transition {tr.id}"
        a, b = by_id.get(tr.a), by_id.get(tr.b)
        if a is None or b is None:
            out.append(f"{where}: joins a clip that is not on the track")
            continue
        if a.end != b.position:
            out.append(f"{where}: clips are not adjacent ({a.end} != {b.position})")
        if tr.kind not in TRANSITION_KINDS:
            out.append(f"{where}: unknown kind {tr.kind!r}")
        if not (_is_int(tr.before) and _is_int(tr.after)) or tr.before < 0 or tr.after < 0:
            out.append(f"{where}: before/after must be non-negative integers")
        if tr.duration < 1 or tr.duration > min(a.duration, b.duration):
            out.append(f"{where}: duration {tr.duration} longer than a clip it joins")
        if (tr.a, tr.b) in cuts:
            out.append(f"{where}: a second transition on the same cut")
        cuts.add((tr.a, tr.b))
    return out


def check(project: Project) -> None:
    """Raise InvariantError listing every broken invariant."""
    found = problems(project)
    if found:
        raise InvariantError("; ".join(found[:5]) + (f" (+{len(found) - 5} more)" if len(found) > 5 else ""))
