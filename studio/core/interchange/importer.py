"""Import, object by object: OTIO times, settings, media references, markers and effects
into ours (the track layout and nested flattening are in :mod:`.flatten`)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import opentimelineio as otio

from ..ids import new_id
from ..media_pool import ASSET_KINDS, Asset, MediaInfo
from ..project import CHANNEL_LAYOUTS, ProjectSettings
from ..timeline import Marker
from .common import DEFAULT_RATE, DEFAULT_SIZE, _edl_comments, _exact, _find_size, _meta_dict, _rate, _url_to_path

_IMAGE_EXTS = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".exr", ".dpx", ".webp", ".tga"}


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


class _ImporterBase:
    """The per-object conversions of an import; :class:`.flatten._Importer` lays out the tracks."""

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
        ours = _meta_dict(m)  # our own colour (one OTIO has no name for) and tool data, when we wrote it
        color = str(ours.get("color") or (m.color or "red")).lower()
        note = getattr(m, "comment", "") or ""
        data = ours.get("data")
        return Marker(new_id("marker"), frame, m.name or "", color, duration, note,
                      data if isinstance(data, str) else "")

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
