"""Moving clips in time and across tracks; linked partners and grouped clips move along."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from ..errors import EditError
from ..project import Project
from .base import Command, check_free, get_clip, linked_ids, with_clips


class Move(Command):
    """Move clips by ``delta`` frames and ``track_delta`` tracks of the same kind.

    The selection and its group members change track; linked partners (a video clip's
    audio) follow in time on their own tracks. The destination must be free.
    """

    label = "Move"

    def __init__(self, clip_ids: Iterable[str], delta: int, track_delta: int = 0) -> None:
        super().__init__()
        self.clip_ids = sorted(set(clip_ids))
        self.delta, self.track_delta = delta, track_delta
        self.merge_key = ("move", tuple(self.clip_ids))

    def _apply(self, project: Project) -> Project:
        if not self.clip_ids:
            raise EditError("no clips selected")
        for cid in self.clip_ids:
            get_clip(project, cid)
        everything = linked_ids(project, self.clip_ids, groups=True)
        # clips selected or grouped with the selection change track; pure link partners don't
        selection_groups = {get_clip(project, c)[1].group for c in self.clip_ids} - {None}
        crossing = set(self.clip_ids) | {c.id for _, c in project.all_clips() if c.group in selection_groups}
        tracks = project.sequence.tracks
        moves = []
        for t, c in project.all_clips():
            if c.id not in everything:
                continue
            if t.locked:
                raise EditError(f"track {t.name} is locked")
            dest = t
            if self.track_delta and c.id in crossing:
                same_kind = [x for x in tracks if x.kind == t.kind]
                idx = same_kind.index(t) + self.track_delta
                if not 0 <= idx < len(same_kind):
                    where = "above" if self.track_delta > 0 else "below"
                    raise EditError(f"there is no {t.kind} track {where} {t.name}")
                dest = same_kind[idx]
                if dest.locked:
                    raise EditError(f"track {dest.name} is locked")
            moves.append((t.id, dest.id, c))
        moving = {c.id for _, _, c in moves}
        new_tracks = {t.id: with_clips(t, [c for c in t.clips if c.id not in moving]) for t in tracks}
        for _, dest_id, c in moves:
            new = replace(c, position=c.position + self.delta)
            dest = new_tracks[dest_id]
            check_free(dest, new.position, new.end)
            new_tracks[dest_id] = with_clips(dest, [*dest.clips, new])
        return project.with_tracks(tuple(new_tracks[t.id] for t in tracks))
