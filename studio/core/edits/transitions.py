"""Dissolves and audio crossfades across the cut between two adjacent clips."""

from __future__ import annotations

from dataclasses import replace

from ..errors import EditError
from ..project import Project
from ..timeline import TRANSITION_KINDS, Transition
from .base import Command, get_clip, get_track


class AddTransition(Command):
    """Join the clip ``a_id`` and the clip right after it with a transition.

    By default it is centred on the cut; ``before`` sets how many frames lie before it.
    """

    label = "Add transition"

    def __init__(self, a_id: str, duration: int, *, kind: str | None = None, before: int | None = None) -> None:
        super().__init__()
        self.a_id, self.duration, self.kind, self.before = a_id, duration, kind, before
        self.transition_id = self.ids.seed

    def _apply(self, project: Project) -> Project:
        track, a = get_clip(project, self.a_id)
        b = next((c for c in track.clips if c.position == a.end), None)
        if b is None:
            raise EditError(f"no clip directly after {a.name or a.id}: a transition needs two adjacent clips")
        kind = self.kind or ("dissolve" if track.kind == "video" else "crossfade")
        if kind not in TRANSITION_KINDS:
            raise EditError(f"unknown transition {kind!r}: use {' or '.join(TRANSITION_KINDS)}")
        if not isinstance(self.duration, int) or self.duration < 1:
            raise EditError("a transition lasts at least one frame")
        limit = min(a.duration, b.duration)
        if self.duration > limit:
            raise EditError(f"a {self.duration}-frame transition is longer than a clip it joins ({limit} frames)")
        before = self.duration // 2 if self.before is None else self.before
        if not 0 <= before <= self.duration:
            raise EditError("the transition must overlap the cut")
        if any(t.a == a.id and t.b == b.id for t in track.transitions):
            raise EditError("that cut already has a transition")
        tr = Transition(f"tr-{self.transition_id}", a.id, b.id, before, self.duration - before, kind)
        track = get_track(project, track.id)
        return project.with_track(replace(track, transitions=(*track.transitions, tr)))


class RemoveTransition(Command):
    label = "Remove transition"

    def __init__(self, transition_id: str) -> None:
        super().__init__()
        self.transition_id = transition_id

    def _apply(self, project: Project) -> Project:
        for track in project.sequence.tracks:
            if any(t.id == self.transition_id for t in track.transitions):
                track = get_track(project, track.id)
                kept = tuple(t for t in track.transitions if t.id != self.transition_id)
                return project.with_track(replace(track, transitions=kept))
        raise EditError(f"no transition with id {self.transition_id!r}")
