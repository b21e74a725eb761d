"""Edge edits: trim head/tail (plain and ripple), roll, slip and slide.

Linked partners (a video clip and its audio) whose edge sits on the same frame follow.
"""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

from ..errors import EditError
from ..project import Project
from ..timeline import Clip, Track
from .base import (
    Command,
    check_free,
    check_source,
    get_clip,
    linked_ids,
    shift_clips,
    trim_head,
    trim_tail,
    with_clips,
)


def _partners(project: Project, clip: Clip, same_edge) -> list[tuple[Track, Clip]]:
    ids = linked_ids(project, [clip.id], groups=False)
    return [(t, c) for t, c in project.all_clips() if c.id in ids and same_edge(c)]


def _replace_clip(track: Track, old: Clip, new: Clip) -> Track:
    return with_clips(track, [new if c.id == old.id else c for c in track.clips])


class Trim(Command):
    """Move a clip's head or tail edge by ``delta`` frames (positive: later).

    Plain trims move only the edge and need free space; ripple trims keep the clip's start and
    shift everything after it on the track so no gap opens or overlap forms.
    """

    def __init__(self, clip_id: str, edge: str, delta: int, *, ripple: bool = False) -> None:
        super().__init__()
        if edge not in ("head", "tail"):
            raise ValueError(f"edge must be head or tail, not {edge!r}")
        self.clip_id, self.edge, self.delta, self.ripple = clip_id, edge, delta, ripple
        self.label = f"{'Ripple t' if ripple else 'T'}rim {edge}"
        self.merge_key = ("trim", clip_id, edge, ripple)

    def _apply(self, project: Project) -> Project:
        _, clip = get_clip(project, self.clip_id)
        d = self.delta
        if d == 0:
            return project
        head = self.edge == "head"
        edge_of = (lambda c: c.position == clip.position) if head else (lambda c: c.end == clip.end)
        for _, c in _partners(project, clip, edge_of):
            track, c = get_clip(project, c.id)
            new = trim_head(c, d) if head else trim_tail(c, d)
            check_source(project, new)
            rest = [x for x in track.clips if x.id != c.id]
            if self.ripple:
                if head:  # content leaves from the head, the clip keeps its start
                    new = replace(new, position=c.position)
                    shifted = shift_clips(with_clips(track, rest), c.end, -d)
                else:
                    shifted = shift_clips(with_clips(track, rest), c.end, d)
                check_free(shifted, new.position, new.end)
                track = with_clips(shifted, [*shifted.clips, new])
            else:
                check_free(track, new.position, new.end, {c.id})
                track = _replace_clip(track, c, new)
            project = project.with_track(track)
        return project


def TrimHead(clip_id: str, delta: int, ripple: bool = False) -> Trim:  # noqa: N802
    return Trim(clip_id, "head", delta, ripple=ripple)


def TrimTail(clip_id: str, delta: int, ripple: bool = False) -> Trim:  # noqa: N802
    return Trim(clip_id, "tail", delta, ripple=ripple)


class Roll(Command):
    """Move the cut between a clip and the clip right after it by ``delta`` frames."""

    label = "Roll"

    def __init__(self, left_clip_id: str, delta: int) -> None:
        super().__init__()
        self.left_clip_id, self.delta = left_clip_id, delta
        self.merge_key = ("roll", left_clip_id)

    def _apply(self, project: Project) -> Project:
        track, left = get_clip(project, self.left_clip_id)
        right = next((c for c in track.clips if c.position == left.end), None)
        if right is None:
            raise EditError(f"nothing directly after {left.name or left.id} to roll against")
        cut = left.end
        right_group = linked_ids(project, [right.id], groups=False)
        pairs = []
        for t, c in _partners(project, left, lambda c: c.end == cut):
            r = next((x for x in t.clips if x.position == cut and x.id in right_group), None)
            if r is not None:
                pairs.append((c, r))
        for lc, rc in pairs:
            t, _ = get_clip(project, lc.id)
            new_l, new_r = trim_tail(lc, self.delta), trim_head(rc, self.delta)
            check_source(project, new_l)
            check_source(project, new_r)
            project = project.with_track(with_clips(
                t, [new_l if c.id == lc.id else new_r if c.id == rc.id else c for c in t.clips]))
        return project


class Slip(Command):
    """Change which part of the source a clip shows, keeping its place and length."""

    label = "Slip"

    def __init__(self, clip_id: str, delta: Fraction | int) -> None:
        super().__init__()
        self.clip_id, self.delta = clip_id, Fraction(delta)
        self.merge_key = ("slip", clip_id)

    def _apply(self, project: Project) -> Project:
        _, clip = get_clip(project, self.clip_id)
        for _, c in _partners(project, clip, lambda c: True):
            track, c = get_clip(project, c.id)
            new = replace(c, source_in=Fraction(c.source_in) + self.delta)
            check_source(project, new)
            project = project.with_track(_replace_clip(track, c, new))
        return project


class Slide(Command):
    """Move a clip between its neighbours: the one before grows/shrinks, the one after too."""

    label = "Slide"

    def __init__(self, clip_id: str, delta: int) -> None:
        super().__init__()
        self.clip_id, self.delta = clip_id, delta
        self.merge_key = ("slide", clip_id)

    def _apply(self, project: Project) -> Project:
        _, clip = get_clip(project, self.clip_id)
        d = self.delta
        for _, c in _partners(project, clip, lambda c: True):
            track, c = get_clip(project, c.id)
            before = next((x for x in track.clips if x.end == c.position), None)
            after = next((x for x in track.clips if x.position == c.end), None)
            moved = replace(c, position=c.position + d)
            changes = {c.id: moved}
            if before is not None:
                changes[before.id] = trim_tail(before, d)
            if after is not None:
                changes[after.id] = trim_head(after, d)
            for new in changes.values():
                check_source(project, new)
            others = [x for x in track.clips if x.id not in changes]
            probe = with_clips(track, others)
            for new in changes.values():
                check_free(probe, new.position, new.end)
                probe = with_clips(probe, [*probe.clips, new])
            project = project.with_track(with_clips(track, others + list(changes.values())))
        return project
