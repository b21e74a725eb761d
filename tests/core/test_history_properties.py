"""A hypothesis state machine applies random sequences of every edit.

After each step the invariants hold, a failed edit changes nothing, the change event names
every track that changed, and undo/redo land on exactly the serialized states seen before.
At the end, undoing everything gives back the serialized initial project and redoing
everything the final one.
"""

from __future__ import annotations

from fractions import Fraction

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from studio.core import edits as E
from studio.core.errors import EditError
from studio.core.factory import clip_for_asset
from studio.core.history import History
from studio.core.invariants import problems
from studio.core.serialize import project_from_dict, project_to_dict
from studio.core.timeline import ANIMATABLE

from .conftest import empty_project

SPEEDS = [Fraction(2), Fraction(1, 2), Fraction(-1), Fraction(3, 2), Fraction(-2), Fraction(1), Fraction(2, 3)]
PROPS = [("opacity", 0.5), ("gain_db", -6.0), ("pan", -0.5), ("scale", 1.5), ("x", 12.0), ("rotation", 90.0),
         ("crop_left", 0.1), ("fade_in", 2), ("fade_out", 3), ("enabled", False), ("name", "renamed")]


class TimelineMachine(RuleBasedStateMachine):
    @initialize()
    def start(self):
        self.history = History(empty_project())
        self.initial = project_to_dict(self.history.project)
        self.snapshots = [self.initial]  # serialized state after each undoable step
        self.redo_snapshots: list[dict] = []
        self.changes = []
        self.history.changed.connect(self.changes.append)

    # --- helpers ------------------------------------------------------------------------
    def clip_ids(self):
        # ordered by place, not id: commands draw random ids, and draws must not depend on them
        return [c.id for _, c in self.history.project.all_clips()]

    def do(self, command, merge=False):
        before = self.history.project
        self.changes.clear()
        entries = len(self.history)
        try:
            self.history.apply(command, merge=merge)
        except EditError:
            assert self.history.project is before, f"{command!r} failed but changed the project"
            return False
        after = self.history.project
        if after is not before:
            self.check_change_event(before, after)
            if len(self.history) > entries:
                self.snapshots.append(project_to_dict(after))
            else:  # merged into the previous step
                self.snapshots[-1] = project_to_dict(after)
            self.redo_snapshots.clear()
        return True

    def check_change_event(self, before, after):
        assert len(self.changes) == 1
        change = self.changes[0]
        old = {t.id: t for t in before.sequence.tracks}
        for t in after.sequence.tracks:
            if t.id in old and old[t.id].clips != t.clips:
                assert t.id in change.track_ids
                r = next(r for r in change.ranges if r.track_id == t.id)
                changed = set(old[t.id].clips) ^ set(t.clips)
                assert r.start <= min(c.position for c in changed) and r.end >= max(c.end for c in changed)

    def pick_track(self, data, kind=None):
        tracks = [t for t in self.history.project.sequence.tracks if kind is None or t.kind == kind]
        return data.draw(st.sampled_from(tracks)) if tracks else None

    def pick_clip(self, data):
        ids = self.clip_ids()
        return data.draw(st.sampled_from(ids)) if ids else None

    # --- placing ------------------------------------------------------------------------
    @rule(data=st.data(), overwrite=st.booleans())
    def place_clip(self, data, overwrite):
        p = self.history.project
        track = self.pick_track(data)
        if track is None:
            return
        assets = [a for a in p.assets if (a.has_video if track.kind == "video" else a.has_audio)]
        asset = data.draw(st.sampled_from(assets))
        length = asset.length_frames(p.fps)
        max_len = int(length) if length is not None else 200
        source_in = data.draw(st.integers(0, max_len - 1))
        duration = data.draw(st.integers(1, min(60, max_len - source_in)))
        position = data.draw(st.integers(0, 300))
        clip = clip_for_asset(asset, p.fps, position, source_in=source_in, duration=duration,
                              clip_id=f"c{len(self.snapshots)}-{data.draw(st.integers(0, 10**6))}")
        self.do(E.OverwriteClip(track.id, clip) if overwrite else E.InsertClip(track.id, clip))

    @rule(data=st.data(), length=st.integers(1, 40))
    def butt_clip(self, data, length):
        """Place a clip right after another one, so cuts (rolls, transitions) are common."""
        cid = self.pick_clip(data)
        if cid is None:
            return
        p = self.history.project
        track, c = p.find_clip(cid)
        asset = p.asset(c.asset_id)
        src = data.draw(st.integers(0, 50))
        clip = clip_for_asset(asset, p.fps, c.end, source_in=src, duration=length,
                              clip_id=f"b{len(self.snapshots)}-{data.draw(st.integers(0, 10**6))}")
        self.do(E.OverwriteClip(track.id, clip))

    def clip_with_neighbour(self, data):
        p = self.history.project
        ids = [a.id for t in p.sequence.tracks for a, b in zip(t.clips, t.clips[1:], strict=False)
               if a.end == b.position]
        return data.draw(st.sampled_from(ids)) if ids else self.pick_clip(data)

    @rule(data=st.data())
    def insert_linked_pair(self, data):
        p = self.history.project
        v, a = self.pick_track(data, "video"), self.pick_track(data, "audio")
        if v is None or a is None:
            return
        av = p.asset("av")
        pos, dur, src = data.draw(st.integers(0, 300)), data.draw(st.integers(1, 80)), data.draw(st.integers(0, 150))
        n = data.draw(st.integers(0, 10**6))
        vc = clip_for_asset(av, p.fps, pos, source_in=src, duration=dur, clip_id=f"pv{n}", link=f"L{n}")
        ac = clip_for_asset(av, p.fps, pos, source_in=src, duration=dur, clip_id=f"pa{n}", link=f"L{n}")
        self.do(E.InsertClips([(v.id, vc), (a.id, ac)]))

    @rule(data=st.data(), ripple=st.booleans(), linked=st.booleans())
    def remove(self, data, ripple, linked):
        cid = self.pick_clip(data)
        if cid:
            self.do(E.RemoveClips([cid], ripple=ripple, with_linked=linked))

    @rule(start=st.integers(0, 300), length=st.integers(1, 50), ripple=st.booleans())
    def extract_range(self, start, length, ripple):
        self.do(E.ExtractRange(start, start + length, ripple=ripple))

    @rule(data=st.data(), everywhere=st.booleans())
    def razor(self, data, everywhere):
        cid = self.pick_clip(data)
        if cid is None:
            return
        c = self.history.project.find_clip(cid)[1]
        frame = data.draw(st.integers(c.position + (c.duration > 1), c.end))
        self.do(E.Razor(frame, None if everywhere else cid))

    # --- edges --------------------------------------------------------------------------
    @rule(data=st.data(), edge=st.sampled_from(["head", "tail"]), delta=st.integers(-30, 30), ripple=st.booleans())
    def trim(self, data, edge, delta, ripple):
        cid = self.pick_clip(data)
        if cid:
            self.do(E.Trim(cid, edge, delta, ripple=ripple))

    @rule(data=st.data(), delta=st.integers(-20, 20))
    def roll(self, data, delta):
        cid = self.clip_with_neighbour(data)
        if cid:
            self.do(E.Roll(cid, delta))

    @rule(data=st.data(), delta=st.fractions(-40, 40, max_denominator=3))
    def slip(self, data, delta):
        cid = self.pick_clip(data)
        if cid:
            self.do(E.Slip(cid, delta))

    @rule(data=st.data(), delta=st.integers(-20, 20))
    def slide(self, data, delta):
        cid = self.pick_clip(data)
        if cid:
            self.do(E.Slide(cid, delta))

    @rule(data=st.data(), delta=st.integers(-60, 60), track_delta=st.integers(-1, 1))
    def move(self, data, delta, track_delta):
        ids = self.clip_ids()
        if ids:
            chosen = data.draw(st.lists(st.sampled_from(ids), min_size=1, max_size=3, unique=True))
            self.do(E.Move(chosen, delta, track_delta))

    @rule(data=st.data(), steps=st.lists(st.integers(-5, 5), min_size=2, max_size=5))
    def drag(self, data, steps):
        """A drag: several merged moves of one clip become one history step."""
        cid = self.pick_clip(data)
        if cid is None:
            return
        entries = len(self.history)
        moved = [self.do(E.Move([cid], d), merge=True) for d in steps]
        self.history.end_merge()
        assert len(self.history) <= entries + 1 or not any(moved)

    # --- properties ---------------------------------------------------------------------
    @rule(data=st.data(), speed=st.sampled_from(SPEEDS), ripple=st.booleans())
    def speed(self, data, speed, ripple):
        cid = self.pick_clip(data)
        if cid:
            self.do(E.SetSpeed(cid, speed, ripple=ripple))

    @rule(data=st.data(), param=st.sampled_from(ANIMATABLE), frame=st.integers(0, 40),
          value=st.floats(0, 1), interp=st.sampled_from(["linear", "ease", "hold"]), remove=st.booleans())
    def keyframe(self, data, param, frame, value, interp, remove):
        cid = self.pick_clip(data)
        if cid is None:
            return
        curves = self.history.project.find_clip(cid)[1].keyframes
        if remove and curves:
            param, keys = data.draw(st.sampled_from(curves))
            self.do(E.RemoveKeyframe(cid, param, data.draw(st.sampled_from(keys)).frame))
        else:
            self.do(E.SetKeyframe(cid, param, frame, value, interp))

    @rule(data=st.data(), prop=st.sampled_from(PROPS))
    def set_property(self, data, prop):
        cid = self.pick_clip(data)
        if cid:
            self.do(E.SetClipProperty(cid, *prop))

    @rule(data=st.data(), duration=st.integers(1, 12))
    def add_transition(self, data, duration):
        cid = self.clip_with_neighbour(data)
        if cid:
            self.do(E.AddTransition(cid, duration))

    @rule(data=st.data())
    def remove_transition(self, data):
        trs = [tr.id for t in self.history.project.sequence.tracks for tr in t.transitions]
        if trs:
            self.do(E.RemoveTransition(data.draw(st.sampled_from(trs))))

    @rule(data=st.data(), group=st.booleans(), link=st.booleans())
    def group_or_link(self, data, group, link):
        ids = self.clip_ids()
        if len(ids) < 2:
            return
        chosen = data.draw(st.lists(st.sampled_from(ids), min_size=1, max_size=3, unique=True))
        if link:
            self.do(E.SetLink(chosen, group))
        else:
            self.do(E.SetGroup(chosen, group))

    # --- tracks and markers -------------------------------------------------------------
    @rule(data=st.data(), action=st.sampled_from(["add", "remove", "move", "rename", "lock", "mute", "solo"]))
    def track_edit(self, data, action):
        p = self.history.project
        if action == "add":
            self.do(E.AddTrack(data.draw(st.sampled_from(["video", "audio"]))))
            return
        track = self.pick_track(data)
        if track is None:
            return
        if action == "remove":
            self.do(E.RemoveTrack(track.id))
        elif action == "move":
            self.do(E.MoveTrack(track.id, data.draw(st.integers(0, len(p.sequence.tracks) - 1))))
        elif action == "rename":
            self.do(E.RenameTrack(track.id, data.draw(st.text(min_size=0, max_size=5))))
        else:
            name = {"lock": "locked", "mute": "muted", "solo": "solo"}[action]
            self.do(E.SetTrackProperty(track.id, name, not getattr(track, name)))

    @rule(frame=st.integers(0, 400), name=st.text(max_size=4))
    def marker(self, frame, name):
        self.do(E.AddMarker(frame, name))

    @rule(data=st.data(), steps=st.lists(st.integers(-30, 30), min_size=1, max_size=4))
    def marker_drag(self, data, steps):
        """A marker dragged on the ruler: merged moves, one history step; never before frame 0."""
        markers = self.history.project.sequence.markers
        if not markers:
            return
        marker = data.draw(st.sampled_from(markers))
        entries = len(self.history)
        moved = [self.do(E.MoveMarker(marker.id, d), merge=True) for d in steps]
        self.history.end_merge()
        assert len(self.history) <= entries + 1 or not any(moved)
        assert all(m.frame >= 0 for m in self.history.project.sequence.markers)

    @rule(data=st.data(), n=st.integers(2, 4))
    def transaction(self, data, n):
        """Several edits in one transaction are one undo step."""
        entries = len(self.history)
        before = self.history.project
        with self.history.transaction("batch"):
            for _ in range(n):
                cid = self.pick_clip(data)
                if cid is None:
                    break
                try:
                    self.history.apply(E.Move([cid], data.draw(st.integers(-10, 10))))
                except EditError:
                    pass
        if self.history.project is not before:
            assert len(self.history) == entries + 1
            self.snapshots.append(project_to_dict(self.history.project))
            self.redo_snapshots.clear()
        else:
            assert len(self.history) == entries

    # --- undo / redo ----------------------------------------------------------------------
    @rule()
    def undo(self):
        if self.history.can_undo:
            self.history.undo()
            self.redo_snapshots.append(self.snapshots.pop())
            assert project_to_dict(self.history.project) == self.snapshots[-1]

    @rule()
    def redo(self):
        if self.history.can_redo:
            self.history.redo()
            self.snapshots.append(self.redo_snapshots.pop())
            assert project_to_dict(self.history.project) == self.snapshots[-1]

    @invariant()
    def invariants_hold(self):
        if hasattr(self, "history"):
            assert problems(self.history.project) == []

    @invariant()
    def serialization_round_trips(self):
        if hasattr(self, "history"):
            data = project_to_dict(self.history.project)
            assert project_to_dict(project_from_dict(data)) == data

    def teardown(self):
        if not hasattr(self, "history"):
            return
        # redoing everything goes as far as the oldest entry still on the redo stack
        final = self.redo_snapshots[0] if self.redo_snapshots else project_to_dict(self.history.project)
        while self.history.can_undo:
            self.history.undo()
        assert project_to_dict(self.history.project) == self.initial
        assert not self.history.dirty
        while self.history.can_redo:
            self.history.redo()
        assert project_to_dict(self.history.project) == final


TimelineMachine.TestCase.settings = settings(
    max_examples=250, stateful_step_count=50, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])
test_random_edit_sequences = TimelineMachine.TestCase
