"""OpenTimelineIO bridge: import and export .otio, FCP 7 XML and CMX 3600 EDL.

OpenTimelineIO is the interchange boundary (DESIGN.md fixed point 4), never the model: a file
is read into an ``otio.schema.Timeline`` and converted into a :class:`Project`, and a project
is converted into a Timeline and written through an OTIO adapter.

Whatever a conversion cannot carry is reported as a warning string; nothing is dropped
silently. Errors (unknown extension, unreadable file, adapter failures) raise
:class:`ProjectFileError` with one line naming the file.

Conventions of the conversion:

* Times are rescaled exactly (``Fraction``) to the project rate and rounded to whole frames;
  one warning per file says when rounding changed anything.
* Our ``source_in`` counts from the media start, while OTIO source ranges count in the
  media's own time (often a start timecode such as 01:00:00:00). On import the media
  reference's ``available_range.start_time`` is the media start (0 when it has none); on
  export assets start at 0 and ``available_range`` spans the asset's duration.
* A timeline that lasts beyond its last clip (trailing gaps, transitions at the track
  edges) keeps its length as ``Sequence.min_length``; export writes it back as a trailing
  gap (OTIO only: FCP 7 XML and EDL timelines end with their last clip, and a warning says
  so).
* Nested tracks and stacks are flattened, and a warning names each one: a nested track's
  items are placed inline, a nested stack's bottom layer goes onto the track it is on and
  its upper layers onto tracks made above it ("V2 (nested)"; a new one wherever a clip is in
  the way; layers of the other kind onto extra tracks of that kind). Only what the nested
  item shows is kept (clips are cut to its range, those wholly outside it are dropped with
  a warning), and its forward time warps become the speed of its clips.
* Media are not probed here (``core`` never imports ``media``): an asset's kind comes from
  the tracks its clips sit on ('av' when on both kinds), or from our own metadata when the
  file was written by us.
"""

from __future__ import annotations

import math
import os
import re
import tempfile
import urllib.parse
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path
from typing import Any

import opentimelineio as otio

from . import invariants
from .errors import ProjectFileError, StudioError
from .fsutil import new_file_mode
from .ids import new_id
from .media_pool import ASSET_KINDS, Asset, MediaInfo
from .project import CHANNEL_LAYOUTS, Project, ProjectSettings
from .timeline import Clip, Marker, Sequence, Track, Transition

__all__ = [
    "FORMATS",
    "format_for_path",
    "project_from_otio",
    "project_to_otio",
    "read_timeline",
    "write_timeline",
]

#: File extension -> (OTIO adapter name, human name of the format).
FORMATS: dict[str, tuple[str, str]] = {
    ".otio": ("otio_json", "OpenTimelineIO"),
    ".xml": ("fcp_xml", "FCP 7 XML"),
    ".edl": ("cmx_3600", "CMX 3600 EDL"),
}

DEFAULT_RATE = Fraction(24)
DEFAULT_SIZE = (1920, 1080)
#: Key of our own metadata in OTIO objects (settings, asset kinds) for exact round trips.
META = "shotline"

_NTSC = tuple(Fraction(n * 1000, 1001) for n in (24, 30, 48, 60, 120))
_IMAGE_EXTS = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".exr", ".dpx", ".webp", ".tga"}
_MARKER_COLORS = {c.lower() for c in dir(otio.schema.MarkerColor) if not c.startswith("_")}


# --- small helpers ----------------------------------------------------------------------------
def format_for_path(path: str | os.PathLike[str]) -> tuple[str, str]:
    """(adapter name, format name) chosen by the file extension; ProjectFileError otherwise."""
    ext = Path(path).suffix.lower()
    if ext not in FORMATS:
        known = ", ".join(FORMATS)
        raise ProjectFileError(f"cannot use {str(path)!r}: unknown interchange extension "
                               f"{ext or '(none)'!r} (use {known})")
    return FORMATS[ext]


def _rate(value: float) -> Fraction:
    """The exact frame rate an OTIO float rate means (23.976... -> 24000/1001)."""
    value = float(value)
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"bad rate {value!r}")
    for ntsc in _NTSC:
        if abs(value - float(ntsc)) < 1e-3:
            return ntsc
    if abs(value - round(value)) < 1e-6:
        return Fraction(round(value))
    return Fraction(value).limit_denominator(1001)


def _exact(value: float) -> Fraction:
    """A float count of frames as the simple fraction it stands for (240.24 -> 6006/25)."""
    f = Fraction(float(value))
    simple = f.limit_denominator(100000)
    return simple if abs(simple - f) < Fraction(1, 10**9) else f


def _name_list(names: Iterable[str], limit: int = 6) -> str:
    names = list(names)
    text = ", ".join(repr(n) for n in names[:limit])
    return text + (f" (+{len(names) - limit} more)" if len(names) > limit else "")


def _describe(obj: Any) -> str:
    """A readable name of an OTIO object for warnings: 'Stack 'Nested Stack 1''."""
    name = getattr(obj, "name", "") or ""
    return f"{obj.schema_name()} {name!r}" if name else obj.schema_name()


_EDL_USED = ("OTIO TRUNCATED REEL NAME FROM", "BLEND, DISSOLVE", "SOURCE FILE:", "TO CLIP:",
             "TO FILE:")


def _edl_comments(clip: otio.schema.Clip) -> tuple[str, str, list[str]]:
    """(B-side url, source file name, other comments) kept by the cmx_3600 reader."""
    meta = clip.metadata.get("cmx_3600")
    comments = meta.get("comments") if hasattr(meta, "get") else None
    to_url = source_file = ""
    rest: list[str] = []
    for line in comments or ():
        text = str(line).strip()
        upper = text.upper()
        if upper.startswith(("TO CLIP:", "TO FILE:")):
            to_url = text.split(":", 1)[1].strip()
        elif upper.startswith("SOURCE FILE:"):
            source_file = text.split(":", 1)[1].strip()
        if not upper.startswith(_EDL_USED):
            rest.append(text)
    return to_url, source_file, rest


def _url_to_path(url: str, base_dir: Path) -> str:
    """A media path from a target url: file:// urls decoded, relative paths made absolute."""
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme == "file":
        path = urllib.parse.unquote(parsed.path)
        if parsed.netloc and parsed.netloc != "localhost":
            path = f"//{parsed.netloc}{path}"  # a UNC share
        elif len(path) > 2 and path[0] == "/" and path[2] == ":":
            path = path[1:]  # file:///C:/media/a.mov
        return path
    if parsed.scheme and len(parsed.scheme) > 1:  # http:, s3: ... (a drive letter is one char)
        return url
    if os.path.isabs(url) or (len(url) > 1 and url[1] == ":"):
        return url
    return os.path.normpath(base_dir / url)


def _path_to_url(path: str) -> str:
    """A file:// url for an absolute path (relative or non-file paths are kept as given)."""
    if "://" in path:
        return path
    p = Path(path)
    if not p.is_absolute():
        return path
    return p.as_uri()


def _find_size(meta: Any, depth: int = 0) -> tuple[int, int] | None:
    """The first (width, height) pair found in nested metadata, audio subtrees skipped."""
    if depth > 8 or not hasattr(meta, "items"):
        return None
    try:
        w, h = int(str(meta["width"])), int(str(meta["height"]))
        if w > 0 and h > 0:
            return w, h
    except (KeyError, TypeError, ValueError):
        pass
    for key, value in meta.items():
        if key == "audio":
            continue
        found = _find_size(value, depth + 1)
        if found:
            return found
    return None


def _meta_dict(obj: Any) -> dict[str, Any]:
    """Our own metadata stored on an OTIO object (an empty dict when there is none)."""
    try:
        raw = obj.metadata.get(META)
    except AttributeError:
        return {}
    return dict(raw) if hasattr(raw, "items") else {}


# --- import -----------------------------------------------------------------------------------
@dataclass
class _MediaUse:
    """One clip's use of a media item, collected before the asset is built."""

    clip_id: str
    clip_name: str
    start: Fraction  # source start, frames at the project rate in the media's own time
    duration: int
    speed: Fraction


@dataclass
class _Media:
    key: tuple[str, str]
    path: str
    name: str
    available: tuple[Fraction, Fraction] | None  # (start, duration) in project frames
    rate: Fraction | None
    size: tuple[int, int] | None
    meta_kind: str = ""
    offline_note: str = ""
    kinds: set[str] = field(default_factory=set)
    uses: list[_MediaUse] = field(default_factory=list)
    asset_id: str = field(default_factory=lambda: new_id("asset"))


@dataclass(frozen=True)
class _Window:
    """Where a composition's own time lands in the sequence.

    Content frames ``lo`` up to ``hi`` (``None``: no end) are visible; content frame ``t``
    lies at sequence frame ``base + (t - lo) / speed``. ``speed`` is how many content frames
    play per sequence frame (the time warps of the nested items around it, multiplied).
    """

    lo: Fraction
    hi: Fraction | None
    base: Fraction
    speed: Fraction = Fraction(1)
    enabled: bool = True
    record_start: Fraction = Fraction(0)  # an EDL track's record timecode at sequence frame 0

    def to_seq(self, t: Fraction) -> Fraction:
        return self.base + (t - self.lo) / self.speed

    def visible(self, start: Fraction, end: Fraction) -> tuple[Fraction, Fraction]:
        """The part of content frames [start, end) inside the window (empty when lo >= hi)."""
        return max(start, self.lo), end if self.hi is None else min(end, self.hi)


@dataclass
class _Layer:
    """Clips that go onto one track, with the transitions between them."""

    kind: str
    clips: list[Clip] = field(default_factory=list)
    transitions: list[Transition] = field(default_factory=list)


@dataclass
class _Lane:
    """A track being built: a top-level OTIO track, or one made for flattened nested items."""

    kind: str
    name: str
    enabled: bool = True
    clips: list[Clip] = field(default_factory=list)
    transitions: list[Transition] = field(default_factory=list)

    def overlaps(self, layer: _Layer) -> bool:
        return any(a.position < b.end and b.position < a.end for a in layer.clips for b in self.clips)

    def add(self, layer: _Layer) -> None:
        self.clips.extend(layer.clips)
        self.transitions.extend(layer.transitions)


def _merge_layers(into: list[_Layer], layers: list[_Layer]) -> None:
    """Add an item's layers to those of the run it is in: its n-th layer of a kind joins the
    run's n-th layer of that kind (the items of a run never overlap in time)."""
    seen: dict[str, int] = {}
    for layer in layers:
        n = seen.get(layer.kind, 0)
        seen[layer.kind] = n + 1
        same = [x for x in into if x.kind == layer.kind]
        if n < len(same):
            same[n].clips.extend(layer.clips)
            same[n].transitions.extend(layer.transitions)
        else:
            into.append(layer)


def _assign_layers(layers: list[_Layer], lanes: list[_Lane], make: Callable[[], _Lane]) -> None:
    """Put layers (bottom to top) onto lanes, each above the previous one and never over a
    clip already there; ``make()`` gives a new lane (appended) when none is free."""
    floor = 0
    for layer in layers:
        if not layer.clips:
            continue
        i = floor
        while i < len(lanes) and lanes[i].overlaps(layer):
            i += 1
        if i == len(lanes):
            lanes.append(make())
        lanes[i].add(layer)
        floor = i + 1


_KINDS = {otio.schema.TrackKind.Video: "video", otio.schema.TrackKind.Audio: "audio"}


class _Importer:
    def __init__(self, timeline: otio.schema.Timeline, base_dir: Path) -> None:
        self.timeline = timeline
        self.base_dir = base_dir
        self.warnings: list[str] = []
        self.rounded: list[str] = []
        self.media: dict[tuple[str, str], _Media] = {}
        self.markers: list[Marker] = []  # sequence markers
        self.fps = self._project_rate()

    # time -------------------------------------------------------------------------------
    def _project_rate(self) -> Fraction:
        rate: Fraction | None = None
        gst = self.timeline.global_start_time
        if gst is not None:
            rate = _rate(gst.rate)
        else:
            for clip in self.timeline.find_clips():
                if clip.source_range is not None:
                    rate = _rate(clip.source_range.start_time.rate)
                    break
        ours = _meta_dict(self.timeline).get("fps")
        if ours is not None:
            try:
                exact = Fraction(str(ours))
                if exact > 0 and (rate is None or abs(float(exact) - float(rate)) < 1e-6):
                    rate = exact
            except (ValueError, ZeroDivisionError):
                pass
        return rate or DEFAULT_RATE

    def frames(self, t: otio.opentime.RationalTime) -> Fraction:
        """Exact frames at the project rate of an OTIO time."""
        return _exact(t.value) * self.fps / _rate(t.rate)

    def whole(self, exact: Fraction, what: str) -> int:
        n = round(exact)
        if n != exact:
            self.rounded.append(what)
        return n

    # settings -----------------------------------------------------------------------------
    def settings(self) -> ProjectSettings:
        ours = _meta_dict(self.timeline)
        size = None
        try:
            size = (int(ours["width"]), int(ours["height"]))
        except (KeyError, TypeError, ValueError):
            size = _find_size(self.timeline.metadata)
        if size is None:
            for clip in self.timeline.find_clips():
                size = _find_size(clip.media_reference.metadata) if clip.media_reference else None
                if size:
                    break
        width, height = size or DEFAULT_SIZE
        extra: dict[str, Any] = {}
        if isinstance(ours.get("sample_rate"), int) and ours["sample_rate"] > 0:
            extra["sample_rate"] = ours["sample_rate"]
        if ours.get("channel_layout") in CHANNEL_LAYOUTS:
            extra["channel_layout"] = ours["channel_layout"]
        return ProjectSettings(width=width, height=height, fps=self.fps, **extra)

    # media --------------------------------------------------------------------------------
    def media_for(self, clip: otio.schema.Clip) -> _Media:
        ref = clip.media_reference
        clip_name = clip.name or "unnamed clip"
        available = None
        rate = None
        if ref is not None and ref.available_range is not None:
            ar = ref.available_range
            available = (self.frames(ar.start_time), self.frames(ar.duration))
            rate = _rate(ar.start_time.rate)
        size = _find_size(ref.metadata) if ref is not None else None
        meta_kind = str(_meta_dict(ref).get("kind", "")) if ref is not None else ""
        to_url, source_file, _rest = _edl_comments(clip)
        if isinstance(ref, otio.schema.ExternalReference) and ref.target_url:
            # the cmx_3600 reader gives a dissolve's B side the A side's url; "TO CLIP" has it
            path = _url_to_path(to_url or ref.target_url, self.base_dir)
            key = ("file", path)
            name = ref.name or os.path.basename(path.rstrip("/\\")) or clip_name
            note = "" if os.path.isfile(path) else f"offline media: {name} ({path})"
        elif isinstance(ref, otio.schema.ImageSequenceReference):
            url = ref.abstract_target_url("FRAMENUMBER")
            pattern = f"%0{max(1, ref.frame_zero_padding)}d"
            path = _url_to_path(url, self.base_dir).replace("FRAMENUMBER", pattern)
            key = ("sequence", path)
            name = ref.name or os.path.basename(path) or clip_name
            note = (f"image sequence {name!r} (clip {clip_name!r}) imported as offline media: "
                    f"image sequences are not supported")
        elif isinstance(ref, otio.schema.GeneratorReference):
            path = ""
            name = ref.name or ref.generator_kind or clip_name
            key = ("generator", f"{ref.generator_kind}:{name}:{clip_name}")
            note = (f"generator {ref.generator_kind or name!r} (clip {clip_name!r}) imported as "
                    f"offline media: generated media is not supported")
        else:
            path = ""
            name = (ref.name if ref is not None else "") or source_file or clip_name
            key = ("missing", name)
            note = f"offline media: {name}"
            if ref is not None and not isinstance(ref, otio.schema.MissingReference):
                note = f"offline media: {name} (unsupported reference {ref.schema_name()})"
        media = self.media.get(key)
        if media is None:
            media = _Media(key, path, name, available, rate, size, meta_kind, note)
            self.media[key] = media
        elif media.available is None and available is not None:
            media.available, media.rate = available, rate
        return media

    def assets(self, fixes: dict[str, tuple[Fraction, str]]) -> list[Asset]:
        """Build the assets; ``fixes`` receives every clip's (source_in, asset id) by clip id,
        its source_in counted from its media start."""
        out: list[Asset] = []
        for media in self.media.values():
            if media.offline_note:
                self.warnings.append(media.offline_note)
            kind = self._kind(media)
            origin = media.available[0] if media.available else Fraction(0)
            earliest = min(u.start for u in media.uses)
            if earliest < origin:
                self.warnings.append(f"media {media.name!r}: clips start before its available "
                                     f"range; its start was moved back {float(origin - earliest):g}"
                                     f" frames")
                origin = earliest
            need = Fraction(0)
            for use in media.uses:
                source_in = Fraction(max(0, self.whole(use.start - origin, use.clip_name)))
                fixes[use.clip_id] = (source_in, media.asset_id)
                need = max(need, source_in + use.duration * abs(use.speed))
            still = kind == "image"
            duration: Fraction | None = None
            if media.available is not None and not still:
                length = media.available[1] + (media.available[0] - origin)
                if need > length:
                    self.warnings.append(f"media {media.name!r}: clips use {float(need):g} frames "
                                         f"but its available range has {float(length):g}; its "
                                         f"length was extended")
                    length = need
                duration = length / self.fps
            width, height = media.size or (0, 0)
            info = MediaInfo(duration=duration, has_video=kind in ("video", "av", "image"),
                             has_audio=kind in ("audio", "av"), width=width, height=height,
                             fps=media.rate if kind in ("video", "av") else None, is_still=still)
            out.append(Asset(media.asset_id, media.path, media.name, kind, info=info))
        return out

    @staticmethod
    def _kind(media: _Media) -> str:
        kinds = media.kinds
        if media.meta_kind in ASSET_KINDS:
            asset = Asset("x", "", "", media.meta_kind)
            if ("video" not in kinds or asset.has_video) and ("audio" not in kinds or asset.has_audio):
                return media.meta_kind
        if kinds == {"video", "audio"}:
            return "av"
        if kinds == {"audio"}:
            return "audio"
        if media.key[0] == "file" and Path(media.path).suffix.lower() in _IMAGE_EXTS:
            return "image"
        return "video"

    # markers --------------------------------------------------------------------------------
    def marker(self, m: otio.schema.Marker, origin: Fraction, where: str,
               speed: Fraction = Fraction(1)) -> Marker | None:
        """Our marker of an OTIO one; ``origin`` is the frame (project rate, in the marked
        object's own time) that becomes our frame 0, and ``speed`` that time's frames per
        frame of ours."""
        start = (self.frames(m.marked_range.start_time) - origin) / speed
        frame = self.whole(start, f"marker {m.name!r}")
        duration = max(0, self.whole(self.frames(m.marked_range.duration) / speed,
                                     f"marker {m.name!r}"))
        if frame < 0:
            self.warnings.append(f"marker {m.name!r} on {where} dropped: it lies before the start")
            return None
        color = (m.color or "red").lower()
        note = getattr(m, "comment", "") or ""
        return Marker(new_id("marker"), frame, m.name or "", color, duration, note)

    def _origin(self, item: otio.core.Item) -> Fraction:
        sr = item.source_range
        return self.frames(sr.start_time) if sr is not None else Fraction(0)

    # effects ------------------------------------------------------------------------------
    def speed(self, clip: otio.schema.Clip) -> Fraction:
        speed = Fraction(1)
        for fx in clip.effects:
            label = fx.effect_name or fx.name or fx.schema_name()
            if isinstance(fx, otio.schema.FreezeFrame):
                self.warnings.append(f"effect FreezeFrame on clip {clip.name!r} dropped "
                                     f"(freeze frames are not supported; the clip plays normally)")
            elif isinstance(fx, otio.schema.LinearTimeWarp):
                scalar = Fraction(float(fx.time_scalar)).limit_denominator(1000)
                if scalar == 0:
                    self.warnings.append(f"effect {label!r} (LinearTimeWarp 0) on clip "
                                         f"{clip.name!r} dropped (a zero speed is a freeze frame)")
                else:
                    speed *= scalar
            else:
                self.warnings.append(f"effect {label!r} ({fx.schema_name()}) on clip "
                                     f"{clip.name!r} dropped (not supported)")
        return speed

    def nested_speed(self, item: otio.core.Composition, label: str) -> Fraction:
        """The speed a nested item's time warps give its content (only forward speeds)."""
        speed = Fraction(1)
        for fx in item.effects:
            name = fx.effect_name or fx.name or fx.schema_name()
            scalar = Fraction(0)
            if isinstance(fx, otio.schema.LinearTimeWarp):
                scalar = Fraction(float(fx.time_scalar)).limit_denominator(1000)
                if scalar > 0:
                    speed *= scalar
                    continue
            why = ("not supported" if not isinstance(fx, otio.schema.LinearTimeWarp) else
                   "freeze frames of nested items are not supported" if scalar == 0 else
                   "nested items cannot play in reverse")
            self.warnings.append(f"effect {name!r} ({fx.schema_name()}) on {label} dropped ({why}; "
                                 f"its clips play at their own speed)")
        return speed

    def _unsupported_effects(self, item: otio.core.Composition, where: str) -> None:
        for fx in item.effects:
            name = fx.effect_name or fx.name or fx.schema_name()
            self.warnings.append(f"effect {name!r} ({fx.schema_name()}) on {where} dropped (effects "
                                 f"on whole tracks are not supported)")

    # tracks -------------------------------------------------------------------------------
    def run(self) -> Project:
        tl = self.timeline
        if tl.tracks.source_range is not None:
            self.warnings.append("the timeline's trimmed range was ignored (the whole stack was "
                                 "imported)")
        gst = tl.global_start_time
        if gst is not None and gst.value != 0:
            self.warnings.append(f"timeline start time {otio.opentime.to_timecode(gst, gst.rate)} "
                                 f"dropped: the sequence starts at 0")
        settings = self.settings()
        self._unsupported_effects(tl.tracks, "the timeline")
        built: list[tuple[str, str, otio.schema.Track]] = []
        counts = {"video": 0, "audio": 0}
        for index, child in enumerate(tl.tracks):
            if not isinstance(child, otio.schema.Track):
                self.warnings.append(f"{_describe(child)} at the top of the timeline dropped: only "
                                     f"tracks are supported there")
                continue
            kind = _KINDS.get(child.kind)
            if kind is None:
                self.warnings.append(f"track {child.name or index!r} of kind {child.kind!r} "
                                     f"dropped: only video and audio tracks are supported")
                continue
            counts[kind] += 1
            name = child.name or f"{'V' if kind == 'video' else 'A'}{counts[kind]}"
            built.append((kind, name, child))
        # video tracks bottom to top, then audio tracks (Sequence's order); each top-level
        # track is followed by the tracks made for the upper layers of its nested stacks, and
        # layers of the other kind go onto extra tracks after all of that kind
        built.sort(key=lambda b: b[0] != "video")
        groups: list[list[_Lane]] = []
        extra: dict[str, list[_Lane]] = {"video": [], "audio": []}
        for kind, name, track in built:
            lane = _Lane(kind, name, enabled=bool(track.enabled))
            lanes = [lane]
            groups.append(lanes)
            layers = self.track(kind, name, track)
            for k in ("video", "audio"):
                of_kind = [x for x in layers if x.kind == k]
                if k == kind:
                    _assign_layers(of_kind, lanes, lambda k=k, e=lane.enabled: _Lane(k, "", e))
                else:
                    _assign_layers(of_kind, extra[k], lambda k=k: _Lane(k, ""))
        for m in tl.tracks.markers:
            mk = self.marker(m, self._origin(tl.tracks), "the timeline")
            if mk is not None:
                self.markers.append(mk)
        fixes: dict[str, tuple[Fraction, str]] = {}
        assets = self.assets(fixes)
        ordered = [lane for k in ("video", "audio")
                   for lane in [x for g in groups if g[0].kind == k for x in g] + extra[k]]
        out_tracks: list[Track] = []
        numbers = {"video": 0, "audio": 0}
        for lane in ordered:
            numbers[lane.kind] += 1
            name = lane.name or f"{'V' if lane.kind == 'video' else 'A'}{numbers[lane.kind]} (nested)"
            clips = sorted((replace(c, source_in=fixes[c.id][0], asset_id=fixes[c.id][1])
                            for c in lane.clips), key=lambda c: (c.position, c.id))
            out_tracks.append(Track(new_id("track"), lane.kind, name, enabled=lane.enabled,
                                    clips=tuple(clips), transitions=tuple(lane.transitions)))
        min_length = self.min_length(tl, max((t.end for t in out_tracks), default=0))
        if self.rounded:
            self.warnings.append(f"times were rounded to whole frames at "
                                 f"{float(self.fps):g} fps ({len(self.rounded)} values, e.g. "
                                 f"{_name_list(dict.fromkeys(self.rounded), 3)})")
        markers = sorted(self.markers, key=lambda m: (m.frame, m.name))
        project = Project(settings, tuple(assets),
                          Sequence(tuple(out_tracks), tuple(markers), min_length=min_length),
                          name=tl.name or "Untitled")
        invariants.check(project)
        return project

    def min_length(self, tl: otio.schema.Timeline, end: int) -> int:
        """The timeline's length when it lasts beyond its last clip (trailing gaps, or
        transitions at the track edges), else 0."""
        try:
            whole = tl.tracks.available_range() if tl.tracks.source_range is not None \
                else tl.tracks.trimmed_range()
            length = self.whole(self.frames(whole.duration), "the timeline's duration")
        except Exception:  # noqa: BLE001 - an empty or odd stack has no duration
            return 0
        return length if length > end else 0

    def track(self, kind: str, name: str, track: otio.schema.Track) -> list[_Layer]:
        """The layers of a top-level track: its own clips first, then those that nested
        stacks put above it (and any of the other kind)."""
        record_start = Fraction(0)
        sr = track.source_range
        if sr is not None:
            start = self.frames(sr.start_time)
            if start <= 0 and sr.duration == track.available_range().duration:
                # the cmx_3600 reader's way of saying "record timecode starts at -start"
                record_start = -start
                if start < 0:
                    tc = otio.opentime.to_timecode(-sr.start_time, sr.start_time.rate)
                    self.warnings.append(f"track {name!r}: record start timecode {tc} dropped "
                                         f"(the sequence starts at 0)")
            else:
                self.warnings.append(f"track {name!r}: its trimmed range was ignored (the whole "
                                     f"track was imported)")
        self._unsupported_effects(track, f"track {name!r}")
        window = _Window(Fraction(0), None, Fraction(0), record_start=record_start)
        layers = self.items(list(track), kind, window, f"track {name!r}")
        for m in track.markers:
            mk = self.marker(m, self._origin(track), f"track {name!r}")
            if mk is not None:
                self.markers.append(mk)
        return layers

    def items(self, items: list[Any], kind: str, window: _Window, where: str) -> list[_Layer]:
        """Lay out a run of items (a track's children, from content frame 0) through
        ``window``: the first layer holds the run's own clips, and nested stacks add more."""
        main = _Layer(kind)
        layers = [main]
        placed: dict[int, Clip] = {}  # index in the run -> our clip
        cursor = Fraction(0)
        for i, item in enumerate(items):
            if isinstance(item, otio.schema.Transition):
                continue
            try:
                length = self.frames(item.trimmed_range().duration)
            except Exception:  # noqa: BLE001 - OTIO raises its own error types here
                self.warnings.append(f"{_describe(item)} on {where} dropped: it has no duration")
                continue
            start, end = cursor, cursor + length
            cursor = end
            if isinstance(item, otio.schema.Gap):
                continue
            lo, hi = window.visible(start, end)
            if isinstance(item, otio.schema.Clip):
                if lo >= hi and start < end:
                    self.warnings.append(f"clip {item.name!r} on {where} dropped: it lies outside "
                                         f"the range the nested item shows")
                    continue
                clip = self.clip(item, kind, start, end, lo, hi, window, where)
                if clip is not None:
                    main.clips.append(clip)
                    placed[i] = clip
            elif isinstance(item, otio.core.Composition):
                _merge_layers(layers, self.nested(item, kind, start, lo, hi, window, where))
            else:
                self.warnings.append(f"{_describe(item)} on {where} replaced by a gap of "
                                     f"{float(length):g} frames (not supported)")
        main.transitions.extend(self.transitions(where, kind, items, placed, window.speed))
        return layers

    def clip(self, item: otio.schema.Clip, kind: str, start: Fraction, end: Fraction,
             lo: Fraction, hi: Fraction, window: _Window, where: str) -> Clip | None:
        """Our clip of the part [lo, hi) of an OTIO clip at [start, end) of its run."""
        position = self.whole(window.to_seq(lo), item.name)
        duration = self.whole(window.to_seq(hi), item.name) - position
        if duration < 1:
            self.warnings.append(f"clip {item.name!r} on {where} dropped: shorter than one frame "
                                 f"at {float(self.fps):g} fps")
            return None
        media = self.media_for(item)
        for comment in _edl_comments(item)[2]:
            self.warnings.append(f"EDL comment {comment!r} on clip {item.name!r} not imported")
        media.kinds.add(kind)
        own = self.speed(item)
        # media frames cut off by the window: at the clip's start, or its end when reversed
        cut = (lo - start if own > 0 else end - hi) * abs(own)
        source_start = self.frames(item.trimmed_range().start_time) + cut
        clip_id = new_id("clip")
        media.uses.append(_MediaUse(clip_id, item.name, source_start, duration, own * window.speed))
        clip_markers = []
        for m in item.markers:
            if "cmx_3600" in m.metadata:
                # EDL locators (* LOC:) carry record timecode, not source time
                origin = window.record_start + position
            else:
                origin = source_start
            mk = self.marker(m, origin, f"clip {item.name!r}")
            if mk is not None:
                clip_markers.append(mk)
        return Clip(clip_id, media.asset_id, position, duration, speed=own * window.speed,
                    name=item.name or media.name, enabled=bool(item.enabled) and window.enabled,
                    markers=tuple(clip_markers))

    def nested(self, item: otio.core.Composition, kind: str, start: Fraction, lo: Fraction,
               hi: Fraction, window: _Window, where: str, *, layer_of: str = "") -> list[_Layer]:
        """Flatten a nested track or stack whose visible part is [lo, hi) of [start, ...).

        A track is a run of items placed inline; a stack's children are layers, bottom one
        first. ``layer_of`` names the stack a track belongs to (no warning of its own then).
        """
        label = _describe(item)
        if not layer_of:
            self.warnings.append(f"nested {label} on {where} flattened onto the sequence's tracks "
                                 f"(the nesting itself is not kept)")
        inner_where = f"{label} in {layer_of}" if layer_of else f"nested {label}"
        if lo >= hi:
            names = [c.name for c in item.find_clips()]
            if names:
                self.warnings.append(f"clips {_name_list(names)} of {inner_where} dropped: they "
                                     f"lie outside the range shown of it")
            return []
        speed = self.nested_speed(item, inner_where)
        origin = self._origin(item)
        inner_lo, inner_hi = origin + (lo - start) * speed, origin + (hi - start) * speed
        inner = _Window(inner_lo, inner_hi, window.to_seq(lo),
                        window.speed * speed, window.enabled and bool(item.enabled))
        for m in item.markers:  # in the item's own time: onto the sequence
            t = self.frames(m.marked_range.start_time)
            if not inner_lo <= t < inner_hi:
                self.warnings.append(f"marker {m.name!r} on {inner_where} dropped: it lies outside "
                                     f"the range the item shows")
                continue
            mk = self.marker(m, inner_lo - inner.base * inner.speed, inner_where, inner.speed)
            if mk is not None:
                self.markers.append(mk)
        if isinstance(item, otio.schema.Track):
            return self.items(list(item), _KINDS.get(item.kind, kind), inner, inner_where)
        layers: list[_Layer] = []
        for child in item:
            if isinstance(child, otio.schema.Track):
                try:
                    length = self.frames(child.trimmed_range().duration)
                except Exception:  # noqa: BLE001 - OTIO raises its own error types here
                    names = [c.name for c in child.find_clips()]
                    self.warnings.append(f"{_describe(child)} in {inner_where} dropped: it has no "
                                         f"duration" + (f" (clips {_name_list(names)})" if names else ""))
                    continue
                c_lo, c_hi = inner.visible(Fraction(0), length)
                layers.extend(self.nested(child, _KINDS.get(child.kind, kind), Fraction(0),
                                          c_lo, c_hi, inner, inner_where, layer_of=inner_where))
            elif isinstance(child, otio.schema.Transition):
                self.warnings.append(f"transition {child.name!r} in {inner_where} dropped: it is "
                                     f"not on a track")
            else:
                layers.extend(self.items([child], kind, inner, inner_where))
        return layers

    def transitions(self, where: str, track_kind: str, items: list[Any],
                    placed: dict[int, Clip], speed: Fraction = Fraction(1)) -> list[Transition]:
        out: list[Transition] = []
        for i, item in enumerate(items):
            if not isinstance(item, otio.schema.Transition):
                continue
            label = f"transition {item.name or item.transition_type!r} on {where}"
            a, b = placed.get(i - 1), placed.get(i + 1)
            if a is None or b is None or a.end != b.position:
                if i == 0 or i == len(items) - 1:
                    why = "it is at the edge of the track"
                else:
                    why = "it does not sit between two clips (a gap or dropped item is next to it)"
                self.warnings.append(f"{label} dropped: {why}")
                continue
            if item.transition_type != otio.schema.TransitionTypes.SMPTE_Dissolve:
                self.warnings.append(f"{label}: type {item.transition_type!r} imported as a "
                                     f"dissolve")
            before = max(0, self.whole(self.frames(item.in_offset) / speed, label))
            after = max(0, self.whole(self.frames(item.out_offset) / speed, label))
            limit = min(a.duration, b.duration)
            if before + after > limit:
                total = before + after
                before = before * limit // total
                after = limit - before
                self.warnings.append(f"{label}: shortened from {total} to {limit} frames to fit "
                                     f"the clips it joins")
            if before + after < 1:
                self.warnings.append(f"{label} dropped: it lasts no frame")
                continue
            kind = "dissolve" if track_kind == "video" else "crossfade"
            out.append(Transition(new_id("tr"), a.id, b.id, before, after, kind))
        return out


def project_from_otio(timeline: otio.schema.Timeline, base_dir: str | os.PathLike[str] = "."
                      ) -> tuple[Project, list[str]]:
    """Convert an OTIO timeline into a Project; returns (project, warnings).

    ``base_dir`` resolves relative media urls. The project passes ``invariants.check``.
    """
    importer = _Importer(timeline, Path(base_dir).absolute())
    return importer.run(), importer.warnings


def _read_text(path: Path, fmt: str) -> str:
    try:
        data = path.read_bytes()
    except OSError as e:
        raise ProjectFileError(f"cannot read {str(path)!r} as {fmt}: {e.strerror or e}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")  # old EDLs are often not UTF-8


def read_timeline(path: str | os.PathLike[str], rate: Fraction | int | None = None
                  ) -> tuple[Project, list[str]]:
    """Read an .otio, FCP 7 XML (.xml) or CMX 3600 EDL (.edl) file into a Project.

    ``rate`` is the frame rate an EDL is read at (EDLs do not say; default 24). Returns
    (project, warnings); raises ProjectFileError naming the file when it cannot be read.
    """
    p = Path(path)
    adapter, fmt = format_for_path(p)
    text = _read_text(p, fmt)
    kwargs: dict[str, Any] = {}
    if adapter == "cmx_3600":
        kwargs["rate"] = float(rate if rate is not None else DEFAULT_RATE)
    try:
        result = otio.adapters.read_from_string(
            text, adapter_name=adapter,
            media_linker_name=otio.media_linker.MediaLinkingPolicy.DoNotLinkMedia, **kwargs)
    except Exception as e:  # noqa: BLE001 - adapters raise anything from ValueError to KeyError
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ProjectFileError(f"cannot read {str(path)!r} as {fmt}: {reason}") from None
    warnings: list[str] = []
    timeline = _timeline_of(result, str(path), warnings)
    try:
        project, more = project_from_otio(timeline, p.absolute().parent)
    except StudioError as e:
        raise ProjectFileError(f"cannot import {str(path)!r}: {e}") from None
    return project, warnings + more


def _timeline_of(result: Any, path: str, warnings: list[str]) -> otio.schema.Timeline:
    if isinstance(result, otio.schema.Timeline):
        return result
    if isinstance(result, otio.schema.SerializableCollection):
        timelines = list(result.find_children(descended_from_type=otio.schema.Timeline))
        if not timelines:
            raise ProjectFileError(f"cannot import {path!r}: the collection holds no timeline")
        if len(timelines) > 1:
            dropped = [t.name or f"#{i + 2}" for i, t in enumerate(timelines[1:])]
            warnings.append(f"the file holds {len(timelines)} timelines; only the first "
                            f"({timelines[0].name!r}) was imported, dropped: "
                            f"{_name_list(dropped)}")
        return timelines[0]
    if isinstance(result, otio.schema.Track):
        tl = otio.schema.Timeline(name=result.name)
        tl.tracks.append(result.deepcopy())
        return tl
    if isinstance(result, otio.schema.Stack):
        tl = otio.schema.Timeline(name=result.name)
        tl.tracks = result.deepcopy()
        return tl
    raise ProjectFileError(f"cannot import {path!r}: it holds a {type(result).__name__}, "
                           f"not a timeline")


# --- export -----------------------------------------------------------------------------------
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
    if m.color.lower() not in _MARKER_COLORS:
        out.metadata[META] = {"color": m.color}
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


def _atomic_write(path: Path, text: str, fmt: str) -> None:
    folder = path.absolute().parent
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
        os.fchmod(fd, new_file_mode(path))
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        tmp = None
    except OSError as e:
        raise ProjectFileError(f"cannot write {str(path)!r} as {fmt}: {e.strerror or e}") from None
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
