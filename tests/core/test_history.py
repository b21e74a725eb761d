"""History mechanics: dirty flag, drag merging, transactions, change events."""

from __future__ import annotations

import pytest

from studio.core import edits as E
from studio.core.errors import EditError

from .conftest import place


def test_dirty_flag_follows_the_saved_state(history):
    assert not history.dirty
    place(history, "v1", "broll", 0, 10, clip_id="a")
    assert history.dirty
    history.mark_saved()
    assert not history.dirty
    history.apply(E.Move(["a"], 5))
    assert history.dirty
    history.undo()
    assert not history.dirty
    history.undo()
    assert history.dirty


def test_a_drag_merges_into_one_step(history):
    place(history, "v1", "broll", 0, 10, clip_id="a")
    steps = len(history)
    for _ in range(10):
        history.apply(E.Move(["a"], 3), merge=True)
    history.end_merge()
    history.apply(E.Move(["a"], 1), merge=True)
    assert len(history) == steps + 2
    assert history.project.find_clip("a")[1].position == 31
    history.undo()
    assert history.project.find_clip("a")[1].position == 30
    history.undo()
    assert history.project.find_clip("a")[1].position == 0
    assert history.undo_label == "Overwrite"


def test_transactions_are_one_step_and_roll_back_on_error(history):
    place(history, "v1", "broll", 0, 10, clip_id="a")
    steps = len(history)
    with history.transaction("Two edits"):
        history.apply(E.Move(["a"], 10))
        history.apply(E.SetClipProperty("a", "opacity", 0.5))
    assert len(history) == steps + 1 and history.undo_label == "Two edits"
    before = history.project
    with pytest.raises(EditError):
        with history.transaction("Fails"):
            history.apply(E.Move(["a"], 10))
            history.apply(E.Move(["a"], -1000))
    assert history.project is before and len(history) == steps + 1


def test_change_events_name_the_track_and_range(history):
    events = []
    history.changed.connect(events.append)
    place(history, "v1", "broll", 100, 10, clip_id="a")
    place(history, "v2", "broll", 0, 10, clip_id="b")
    events.clear()
    history.apply(E.Move(["a"], 20))
    (change,) = events
    assert [(r.track_id, r.start, r.end) for r in change.ranges] == [("v1", 100, 130)]
    assert not change.tracks_changed
    history.apply(E.SetTrackProperty("v2", "muted", True))
    assert events[-1].tracks_changed and events[-1].ranges == ()
    history.undo()
    assert events[-1].tracks_changed


def test_failed_edit_emits_nothing_and_keeps_redo(history):
    place(history, "v1", "broll", 0, 10, clip_id="a")
    history.undo()
    events = []
    history.changed.connect(events.append)
    with pytest.raises(EditError):
        history.apply(E.Move(["missing"], 1))
    assert events == [] and history.can_redo
