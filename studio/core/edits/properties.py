"""Clip attributes: speed, keyframes, any static property, links, groups and takes."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import replace
from fractions import Fraction

from ..errors import EditError
from ..keyframes import INTERPOLATIONS, Keyframe, with_key, without_key
from ..project import Project
from ..timeline import ANIMATABLE, Clip, clip_transform_replace
from .base import (
    Command,
    check_free,
    check_source,
    clamp_fades,
    get_clip,
    linked_ids,
    shift_clips,
    with_clips,
)

#: Valid ranges of numeric parameters (inclusive); ``None`` means any finite value.
RANGES: dict[str, tuple[float, float] | None] = {
    "opacity": (0.0, 1.0), "gain_db": (-96.0, 24.0), "pan": (-1.0, 1.0),
    "x": None, "y": None, "scale": (0.001, 100.0), "rotation": None,
    "crop_left": (0.0, 0.99), "crop_top": (0.0, 0.99), "crop_right": (0.0, 0.99), "crop_bottom": (0.0, 0.99),
}
MIN_SPEED, MAX_SPEED = Fraction(1, 100), Fraction(100)


def check_value(name: str, value: object) -> float:
    if name not in RANGES:
        raise EditError(f"unknown clip parameter {name!r}")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise EditError(f"{name} must be a number, not {value!r}")
    bounds = RANGES[name]
    if bounds is not None and not bounds[0] <= value <= bounds[1]:
        raise EditError(f"{name} must lie between {bounds[0]} and {bounds[1]}, not {value}")
    return float(value)


def _put(project: Project, clip: Clip) -> Project:
    track, old = get_clip(project, clip.id)
    return project.with_track(with_clips(track, [clip if c.id == old.id else c for c in track.clips]))


class SetSpeed(Command):
    """Play a clip faster, slower or reversed (negative); its length follows its source range."""

    label = "Change speed"

    def __init__(self, clip_id: str, speed: Fraction | int | str, *, ripple: bool = False) -> None:
        super().__init__()
        self.clip_id, self.speed, self.ripple = clip_id, Fraction(speed), ripple

    def _apply(self, project: Project) -> Project:
        if not MIN_SPEED <= abs(self.speed) <= MAX_SPEED:
            raise EditError(f"speed must be between 1/100 and 100 (or their negatives), not {self.speed}")
        _, clip = get_clip(project, self.clip_id)
        for _, c in [(t, x) for t, x in project.all_clips() if x.id in linked_ids(project, [clip.id], groups=False)]:
            track, c = get_clip(project, c.id)
            duration = math.floor(c.source_extent / abs(self.speed))
            if duration < 1:
                raise EditError("at that speed the clip would be shorter than one frame")
            new = clamp_fades(replace(c, speed=self.speed, duration=duration))
            check_source(project, new)
            rest = with_clips(track, [x for x in track.clips if x.id != c.id])
            if self.ripple:
                rest = shift_clips(rest, c.end, new.end - c.end)
            check_free(rest, new.position, new.end)
            project = project.with_track(with_clips(rest, [*rest.clips, new]))
        return project


class SetKeyframe(Command):
    """Add or change the key of a parameter at a clip-relative frame."""

    label = "Set keyframe"

    def __init__(self, clip_id: str, param: str, frame: int, value: float, interp: str = "linear") -> None:
        super().__init__()
        self.clip_id, self.param, self.frame, self.value, self.interp = clip_id, param, frame, value, interp
        self.merge_key = ("key", clip_id, param, frame)

    def _apply(self, project: Project) -> Project:
        if self.param not in ANIMATABLE:
            raise EditError(f"{self.param!r} cannot be keyframed")
        if self.interp not in INTERPOLATIONS:
            raise EditError(f"interpolation must be one of {', '.join(INTERPOLATIONS)}")
        _, clip = get_clip(project, self.clip_id)
        if not isinstance(self.frame, int) or not 0 <= self.frame < clip.duration:
            raise EditError(f"keyframe frame {self.frame} is outside the clip (0-{clip.duration - 1})")
        value = check_value(self.param, self.value)
        keys = with_key(clip.curve(self.param), Keyframe(self.frame, value, self.interp))
        return _put(project, clip.with_curve(self.param, keys))


class RemoveKeyframe(Command):
    label = "Remove keyframe"

    def __init__(self, clip_id: str, param: str, frame: int) -> None:
        super().__init__()
        self.clip_id, self.param, self.frame = clip_id, param, frame

    def _apply(self, project: Project) -> Project:
        _, clip = get_clip(project, self.clip_id)
        keys = clip.curve(self.param)
        if not any(k.frame == self.frame for k in keys):
            raise EditError(f"no {self.param} keyframe at frame {self.frame}")
        return _put(project, clip.with_curve(self.param, without_key(keys, self.frame)))


class SetClipProperty(Command):
    """Set one static property: name, enabled, fades, or any numeric parameter."""

    def __init__(self, clip_id: str, name: str, value: object) -> None:
        super().__init__()
        self.clip_id, self.name, self.value = clip_id, name, value
        self.label = f"Set {name}"
        self.merge_key = ("prop", clip_id, name)

    def _apply(self, project: Project) -> Project:
        _, clip = get_clip(project, self.clip_id)
        n, v = self.name, self.value
        if n == "name":
            if not isinstance(v, str):
                raise EditError("a clip name must be text")
            new = replace(clip, name=v)
        elif n == "enabled":
            if not isinstance(v, bool):
                raise EditError("enabled must be true or false")
            new = replace(clip, enabled=v)
        elif n in ("fade_in", "fade_out"):
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise EditError(f"{n} must be a whole number of frames >= 0")
            new = replace(clip, **{n: v})
            if new.fade_in + new.fade_out > new.duration:
                raise EditError(f"fades of {new.fade_in}+{new.fade_out} frames do not fit a {clip.duration}-frame clip")
        else:
            new = clip_transform_replace(clip, n, check_value(n, v))
        return _put(project, new)


class SetLink(Command):
    """Link clips (they move, trim and cut together) or unlink them (``link=False``)."""

    def __init__(self, clip_ids: Iterable[str], link: bool = True) -> None:
        super().__init__()
        self.clip_ids, self.link = sorted(set(clip_ids)), link
        self.label = "Link clips" if link else "Unlink clips"

    def _apply(self, project: Project) -> Project:
        if self.link and len(self.clip_ids) < 2:
            raise EditError("select at least two clips to link")
        link_id = self.ids("link") if self.link else None
        for cid in self.clip_ids:
            _, c = get_clip(project, cid)
            project = _put(project, replace(c, link=link_id))
        return project


class SetGroup(Command):
    """Group clips (selected and moved as one) or ungroup every clip of their groups."""

    def __init__(self, clip_ids: Iterable[str], group: bool = True) -> None:
        super().__init__()
        self.clip_ids, self.group = sorted(set(clip_ids)), group
        self.label = "Group" if group else "Ungroup"

    def _apply(self, project: Project) -> Project:
        if self.group and len(self.clip_ids) < 2:
            raise EditError("select at least two clips to group")
        if self.group:
            gid = self.ids("group")
            targets = set(self.clip_ids)
        else:
            gid = None
            groups = {get_clip(project, c)[1].group for c in self.clip_ids} - {None}
            if not groups:
                raise EditError("the selection is not grouped")
            targets = {c.id for _, c in project.all_clips() if c.group in groups}
        for cid in sorted(targets):
            _, c = get_clip(project, cid)
            project = _put(project, replace(c, group=gid))
        return project


def GroupClips(clip_ids: Iterable[str]) -> SetGroup:  # noqa: N802
    return SetGroup(clip_ids, True)


def Ungroup(clip_ids: Iterable[str]) -> SetGroup:  # noqa: N802
    return SetGroup(clip_ids, False)


class SetTake(Command):
    """Show another take of a generated clip (adding it to the clip's takes if new).

    Regenerating never overwrites: each take is its own asset, the clip keeps all of them.
    """

    label = "Change take"

    def __init__(self, clip_id: str, asset_id: str) -> None:
        super().__init__()
        self.clip_id, self.asset_id = clip_id, asset_id

    def _apply(self, project: Project) -> Project:
        _, clip = get_clip(project, self.clip_id)
        if project.asset(self.asset_id) is None:
            raise EditError(f"no media with id {self.asset_id!r}")
        takes = clip.takes or (clip.asset_id,)
        if self.asset_id not in takes:
            takes = (*takes, self.asset_id)
        new = replace(clip, asset_id=self.asset_id, takes=takes)
        check_source(project, new)
        return _put(project, new)
