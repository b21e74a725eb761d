"""The scene follows history.changed, touching only what changed; pure editing helpers."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest

from studio.core.edits import Move, SetTrackProperty
from studio.core.errors import EditError
from studio.core.factory import clip_for_asset
from studio.core.history import History
from studio.ui.timeline import TimelineView
from studio.ui.timeline.editing import copy_clips, drop_placements, paste_command, razor_commands
from studio.ui.timeline.geometry import display_tracks

from .conftest import FPS, track_id


def test_video_tracks_top_down_then_audio(history):
    assert [t.name for t in display_tracks(history.project)] == ["V2", "V1", "A1", "A2"]


def test_items_follow_edits_undo_and_redo(view, history):
    items = view._clip_items
    assert set(items) == {"iv-v", "iv-a", "br1", "b2"}
    history.apply(Move(["b2"], 100))
    assert items["b2"].pos().x() == 300 * view.pixels_per_frame()
    history.undo()
    assert items["b2"].pos().x() == 200 * view.pixels_per_frame()
    view.select(["b2"])
    history.redo()
    assert items["b2"].selected and view.selected_clip_ids() == ["b2"]


def test_selection_drops_clips_that_are_gone(view, history):
    from studio.core.edits import Lift

    seen = []
    view.selection_changed.connect(seen.append)
    view.select(["br1", "b2"])
    history.apply(Lift(["b2"]))
    assert view.selected_clip_ids() == ["br1"] and seen[-1] == ["br1"]
    assert "b2" not in view._clip_items


def test_500_clips_build_fast_and_an_edit_touches_one_track(qtbot, history):
    project = history.project
    br, mu = project.asset("br"), project.asset("mu")
    tracks = []
    for t in project.sequence.tracks:  # built directly (commands would check invariants 500 times)
        asset = br if t.kind == "video" else mu
        more = tuple(clip_for_asset(asset, FPS, 1000 + i * 40, duration=30) for i in range(125))
        tracks.append(replace(t, clips=t.clips + more))
    history = History(project.with_tracks(tuple(tracks)))
    assert len(history.project.all_clips()) == 504
    t0 = time.perf_counter()
    view = TimelineView(history)
    qtbot.addWidget(view)
    view.resize(1200, 400)
    view.show()
    assert time.perf_counter() - t0 < 2.0
    before = dict(view._clip_items)
    v2 = track_id(history, "V2")
    last = history.project.track(v2).clips[-1]
    t0 = time.perf_counter()
    for _ in range(10):
        history.apply(Move([last.id], 1), merge=True)
    history.end_merge()
    assert (time.perf_counter() - t0) / 10 < 0.05
    assert all(view._clip_items[cid] is item for cid, item in before.items())
    history.apply(SetTrackProperty(v2, "muted", True))
    assert view.headers.header(v2) is not None
    view.zoom_to_fit()
    view.grab()


def test_razor_at_playhead_cuts_a_linked_pair_once(history):
    commands = razor_commands(history.project, 40, ["iv-v", "iv-a"])
    assert len(commands) == 1
    with pytest.raises(EditError):
        razor_commands(history.project, 500, ["iv-v"])
    assert len(razor_commands(history.project, 40, [])) == 1  # nothing selected: every track


def test_paste_skips_tracks_that_are_gone_and_relinks(history):
    copied = copy_clips(history.project, ["iv-a"])
    assert sorted(c.id for _, c in copied.clips) == ["iv-a", "iv-v"]  # the linked partner comes along
    command, ids = paste_command(history.project, copied, 500)
    project = command.apply(history.project)
    new = [project.find_clip(i)[1] for i in ids]
    assert {c.position for c in new} == {500} and len({c.link for c in new}) == 1


def test_drop_placements_refuse_wrong_track_kind(history):
    a1 = history.project.track(track_id(history, "A1"))
    with pytest.raises(EditError):
        drop_placements(history.project, "br", a1, 0)  # video-only media on an audio track
    (tid, clip), = drop_placements(history.project, "mu", a1, 10)
    assert tid == a1.id and clip.link is None and clip.position == 10
