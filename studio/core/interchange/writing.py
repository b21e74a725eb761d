"""Export: a Project into an OTIO timeline, and the timeline written through an adapter
(with the changes the FCP 7 XML and CMX 3600 EDL writers need)."""

from __future__ import annotations

import math
import os
import re
from fractions import Fraction
from pathlib import Path

import opentimelineio as otio

from ..errors import ProjectFileError
from ..project import Project
from ..timeline import Clip, Marker
from .common import META, _name_list, _path_to_url
from .formats import _atomic_write, format_for_path

_MARKER_COLORS = {c.lower() for c in dir(otio.schema.MarkerColor) if not c.startswith("_")}


def _rt(frames: int | float, rate: float) -> otio.opentime.RationalTime:
    return otio.opentime.RationalTime(frames, rate)


def _tr(start: int | float, duration: int | float, rate: float) -> otio.opentime.TimeRange:
    return otio.opentime.TimeRange(_rt(start, rate), _rt(duration, rate))


def _otio_marker(m: Marker, start: int, rate: float) -> otio.schema.Marker:
    color = m.color.upper() if m.color.lower() in _MARKER_COLORS else otio.schema.MarkerColor.RED
    out = otio.schema.Marker(name=m.name, marked_range=_tr(start + m.frame, m.duration, rate),
                             color=color)
    if m.note:
        out.comment = m.note
    ours = {}
    if m.color.lower() not in _MARKER_COLORS:
        ours["color"] = m.color  # OTIO's colours are a fixed list: ours rides along exactly
    if m.data:
        ours["data"] = m.data  # tool data (a foley event) for an exact round trip
    if ours:
        out.metadata[META] = ours
    return out


def _export_warnings(project: Project) -> list[str]:
    """Clip and track properties no interchange format carries."""
    groups: dict[str, list[str]] = {}
    for _track, c in project.all_clips():
        label = c.name or c.id
        if c.gain_db or c.pan:
            groups.setdefault("audio levels/pan", []).append(label)
        if c.opacity != 1.0 or c.transform != type(c.transform)():
            groups.setdefault("opacity/transform", []).append(label)
        if c.fade_in or c.fade_out:
            groups.setdefault("fades", []).append(label)
        if c.keyframes:
            groups.setdefault("keyframes", []).append(label)
        if len(c.takes) > 1:
            groups.setdefault("alternative takes", []).append(label)
    out = [f"{what} not exported (no interchange field) on clips {_name_list(names)}"
           for what, names in groups.items()]
    flags = [t.name for t in project.sequence.tracks if t.locked or t.solo or t.muted]
    if flags:
        out.append(f"track lock/solo/mute not exported on tracks {_name_list(flags)}")
    return out


def project_to_otio(project: Project, warnings: list[str] | None = None) -> otio.schema.Timeline:
    """An OTIO timeline of the project (times at the project rate).

    ``warnings``, when given, receives lines about what had to be rounded.
    """
    fps = project.settings.fps
    rate = float(fps)
    s = project.settings
    tl = otio.schema.Timeline(name=project.name, global_start_time=_rt(0, rate))
    tl.metadata[META] = {"fps": f"{fps.numerator}/{fps.denominator}", "width": s.width,
                         "height": s.height, "sample_rate": s.sample_rate,
                         "channel_layout": s.channel_layout}
    for track in project.sequence.tracks:
        kind = otio.schema.TrackKind.Video if track.kind == "video" else otio.schema.TrackKind.Audio
        ot = otio.schema.Track(name=track.name, kind=kind)
        ot.enabled = track.enabled
        by_b = {tr.b: tr for tr in track.transitions}
        cursor = 0
        previous: Clip | None = None
        for clip in track.clips:
            if clip.position > cursor:
                ot.append(otio.schema.Gap(source_range=_tr(0, clip.position - cursor, rate)))
            tr = by_b.get(clip.id)
            if tr is not None and previous is not None and previous.id == tr.a \
                    and previous.end == clip.position:
                ot.append(otio.schema.Transition(
                    name=tr.id, transition_type=otio.schema.TransitionTypes.SMPTE_Dissolve,
                    in_offset=_rt(tr.before, rate), out_offset=_rt(tr.after, rate)))
            ot.append(_otio_clip(project, clip, rate, warnings))
            cursor = clip.end
            previous = clip
        tl.tracks.append(ot)
    _trailing_gap(project, tl, rate, warnings)
    for m in project.sequence.markers:
        tl.tracks.markers.append(_otio_marker(m, 0, rate))
    return tl


def _trailing_gap(project: Project, tl: otio.schema.Timeline, rate: float,
                  warnings: list[str] | None) -> None:
    """Make the timeline last ``min_length`` frames: a trailing gap on the first video track
    (the first track when there is no video track)."""
    seq = project.sequence
    if seq.min_length <= seq.content_end:
        return
    if not seq.tracks:
        if warnings is not None:
            warnings.append(f"the sequence's {seq.min_length} empty frames not exported: the "
                            f"sequence has no track to hold them")
        return
    index = next((i for i, t in enumerate(seq.tracks) if t.kind == "video"), 0)
    tl.tracks[index].append(otio.schema.Gap(
        source_range=_tr(0, seq.min_length - seq.tracks[index].end, rate)))


def _otio_clip(project: Project, clip: Clip, rate: float, warnings: list[str] | None
               ) -> otio.schema.Clip:
    source_in = Fraction(clip.source_in)
    start = round(source_in)
    if start != source_in and warnings is not None:
        warnings.append(f"clip {clip.name or clip.id!r}: source in {float(source_in):g} rounded to "
                        f"frame {start}")
    asset = project.asset(clip.asset_id)
    ref: otio.core.MediaReference
    if asset is not None and asset.path:
        available = None
        length = asset.length_frames(project.settings.fps)
        if length is not None:
            available = _tr(0, float(length), rate)
        ref = otio.schema.ExternalReference(target_url=_path_to_url(asset.path),
                                            available_range=available)
        ref.name = asset.name
    else:
        ref = otio.schema.MissingReference(name=asset.name if asset else clip.name)
    if asset is not None:
        ref.metadata[META] = {"kind": asset.kind}
    out = otio.schema.Clip(name=clip.name, media_reference=ref,
                           source_range=_tr(start, clip.duration, rate))
    out.enabled = clip.enabled
    speed = Fraction(clip.speed)
    if speed != 1:
        out.effects.append(otio.schema.LinearTimeWarp(name="Speed", time_scalar=float(speed)))
    for m in clip.markers:
        out.markers.append(_otio_marker(m, start, rate))
    return out


def _reel_name(clip: otio.schema.Clip) -> str:
    """An EDL reel name (up to 8 letters, digits or underscores) from the media's name."""
    ref = clip.media_reference
    source = getattr(ref, "name", "") or os.path.basename(getattr(ref, "target_url", "") or "")
    stem = os.path.splitext(source or clip.name or "")[0]
    reel = re.sub(r"[^A-Za-z0-9_]", "", stem)[:8]
    return reel or "AX"


def _edl_timeline(project: Project, tl: otio.schema.Timeline, warnings: list[str]
                  ) -> otio.schema.Timeline:
    """Only the first video track: the cmx_3600 writer writes one video track."""
    tracks = list(tl.tracks)
    video = [(t, ours) for t, ours in zip(tracks, project.sequence.tracks, strict=True)
             if ours.kind == "video"]
    if not video:
        raise ValueError("an EDL needs a video track, and the project has none")
    keep = video[0][0]
    dropped = [t.name for t in tracks if t is not keep]
    if dropped:
        warnings.append(f"EDL holds one video track: tracks {_name_list(dropped)} not written")
    if project.sequence.markers:
        warnings.append(f"EDL has no sequence markers: {len(project.sequence.markers)} markers "
                        f"not written")
    tl.tracks[:] = []
    keep.enabled = True
    tl.tracks.append(keep)
    items = list(keep)
    for i, item in enumerate(items):
        if isinstance(item, otio.schema.Clip):
            if not item.enabled:
                warnings.append(f"disabled clip {item.name!r} left out of the EDL")
            # a reel name with spaces would shift the EDL's columns: give a clean one
            item.metadata["cmx_3600"] = {"reel": _reel_name(item)}
            # EDL locators carry record timecode (see the import): move clip markers there
            record_in = keep.range_of_child_at_index(i).start_time
            for m in item.markers:
                offset = m.marked_range.start_time - item.source_range.start_time
                m.marked_range = otio.opentime.TimeRange(record_in + offset, m.marked_range.duration)
        elif isinstance(item, otio.schema.Transition) and item.in_offset.value > 0:
            b = items[i + 1]
            if b.source_range.start_time < item.in_offset:
                warnings.append(f"dissolve into clip {b.name!r} written as starting at the cut: "
                                f"the clip has no media before its in point for the EDL's B side")
                item.out_offset = item.out_offset + item.in_offset
                item.in_offset = _rt(0, item.in_offset.rate)
    return tl


def _fill_available_ranges(tl: otio.schema.Timeline) -> None:
    """Give media of unknown length the range its clips use (the fcp_xml writer needs one)."""
    clips = [c for c in tl.find_clips() if isinstance(c.media_reference, otio.schema.ExternalReference)
             and c.media_reference.available_range is None]
    ends: dict[str, otio.opentime.RationalTime] = {}
    for c in clips:
        url = c.media_reference.target_url
        end = c.source_range.end_time_exclusive()
        for fx in c.effects:
            if isinstance(fx, otio.schema.LinearTimeWarp):
                used = c.source_range.duration.value * abs(fx.time_scalar)
                end = c.source_range.start_time + _rt(math.ceil(used), end.rate)
        if url not in ends or end > ends[url]:
            ends[url] = end
    for c in clips:
        end = ends[c.media_reference.target_url]
        c.media_reference.available_range = _tr(0, end.value, end.rate)


def write_timeline(project: Project, path: str | os.PathLike[str]) -> list[str]:
    """Write the project as .otio, FCP 7 XML (.xml) or CMX 3600 EDL (.edl); returns warnings.

    The file is written to a temporary file beside it and renamed into place.
    """
    p = Path(path)
    adapter, fmt = format_for_path(p)
    warnings: list[str] = []
    tl = project_to_otio(project, warnings)
    if adapter == "cmx_3600":
        try:
            tl = _edl_timeline(project, tl, warnings)
        except ValueError as e:
            raise ProjectFileError(f"cannot write {str(path)!r} as {fmt}: {e}") from None
    elif adapter == "fcp_xml":
        _fill_available_ranges(tl)
        sped = [c.name or c.id for _t, c in project.all_clips() if Fraction(c.speed) != 1]
        if sped:
            warnings.append(f"FCP XML export does not carry speed changes: clips "
                            f"{_name_list(sped)} are written at normal speed")
    seq = project.sequence
    if adapter != "otio_json" and seq.min_length > seq.content_end and seq.tracks:
        warnings.append(f"the sequence's last {seq.min_length - seq.content_end} frames hold no "
                        f"clip and are not written: a {fmt} timeline ends with its last clip")
    warnings = _export_warnings(project) + warnings
    try:
        text = otio.adapters.write_to_string(tl, adapter_name=adapter)
    except Exception as e:  # noqa: BLE001 - adapters raise anything
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ProjectFileError(f"cannot write {str(path)!r} as {fmt}: {reason}") from None
    _atomic_write(p, text, fmt)
    return warnings
