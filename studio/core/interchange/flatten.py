"""Import of the track layout: top-level tracks into ours, nested tracks and stacks flattened
onto them (and onto tracks made above them), transitions between the clips placed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any

import opentimelineio as otio

from .. import invariants
from ..ids import new_id
from ..project import Project
from ..timeline import Clip, Sequence, Track, Transition
from .common import _describe, _edl_comments, _name_list
from .importer import _ImporterBase, _MediaUse


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


class _Importer(_ImporterBase):
    """An import: :meth:`run` converts the whole timeline into a Project."""

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
