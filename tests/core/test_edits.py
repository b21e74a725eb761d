"""Each edit command on small timelines whose right answer is known frame by frame."""

from __future__ import annotations

from fractions import Fraction

import pytest

from studio.core import edits as E
from studio.core.errors import EditError
from studio.core.invariants import problems

from .conftest import place, place_av


def clips(history, track_id):
    t = history.project.track(track_id)
    return [(c.position, c.duration, c.source_in) for c in t.clips]


def test_insert_ripples_and_splits_the_clip_under_the_insert_point(history):
    place(history, "v1", "broll", 0, 100, clip_id="b")
    place(history, "v1", "broll", 100, 20, source_in=100, clip_id="c")
    new = E.InsertClip("v1", history.project.find_clip("b")[1].__class__(
        id="n", asset_id="broll", position=40, duration=10, source_in=Fraction(0)))
    history.apply(new)
    assert clips(history, "v1") == [(0, 40, 0), (40, 10, 0), (50, 60, 40), (110, 20, 100)]
    assert problems(history.project) == []


def test_overwrite_cuts_what_it_covers(history):
    place(history, "v1", "broll", 0, 100, clip_id="b")
    place(history, "v1", "broll", 30, 20, source_in=5, clip_id="o")
    assert clips(history, "v1") == [(0, 30, 0), (30, 20, 5), (50, 50, 50)]


def test_lift_leaves_a_gap_extract_closes_it_and_linked_audio_follows(history):
    v1, a1 = place_av(history, 0, duration=40)
    v2, a2 = place_av(history, 40, source_in=100, duration=30)
    place_av(history, 70, source_in=200, duration=20)
    history.apply(E.Lift([v2]))
    assert [c.position for c in history.project.track("v1").clips] == [0, 70]
    assert [c.position for c in history.project.track("a1").clips] == [0, 70]
    history.undo()
    history.apply(E.Extract([v2]))
    assert [c.position for c in history.project.track("v1").clips] == [0, 40]
    assert [c.position for c in history.project.track("a1").clips] == [0, 40]


def test_extract_range_removes_in_out_and_closes_gap(history):
    place(history, "v1", "broll", 0, 100, clip_id="b")
    history.apply(E.ExtractRange(20, 30, ["v1"]))
    assert clips(history, "v1") == [(0, 20, 0), (20, 70, 30)]


def test_razor_cuts_linked_partners_and_keeps_them_linked(history):
    v, a = place_av(history, 10, source_in=20, duration=50)
    history.apply(E.Razor(30, v))
    vt, at = history.project.track("v1"), history.project.track("a1")
    assert [(c.position, c.duration, c.source_in) for c in vt.clips] == [(10, 20, 20), (30, 30, 40)]
    assert [(c.position, c.duration) for c in at.clips] == [(10, 20), (30, 30)]
    assert vt.clips[1].link == at.clips[1].link and vt.clips[1].link != vt.clips[0].link
    with pytest.raises(EditError):
        E.Razor(10, v).apply(history.project)  # at the edge: nothing to cut


def test_razor_of_a_reversed_clip_keeps_the_right_source(history):
    place(history, "v1", "broll", 0, 40, source_in=10, clip_id="r")
    history.apply(E.SetSpeed("r", -1))
    history.apply(E.Razor(10, "r"))
    left, right = history.project.track("v1").clips
    # reversed: timeline frame 0 shows source frame 49, frame 39 shows source 10
    assert left.source_frame_at(0) == 49 and right.source_frame_at(29) == 10
    assert right.source_frame_at(0) == left.source_frame_at(9) - 1


def test_trim_head_and_tail_plain_and_ripple(history):
    place(history, "v1", "broll", 10, 30, source_in=20, clip_id="x")
    place(history, "v1", "broll", 40, 10, clip_id="y")
    history.apply(E.TrimHead("x", 5))
    assert clips(history, "v1")[0] == (15, 25, 25)
    history.apply(E.TrimHead("x", -15))  # extend back over the gap
    assert clips(history, "v1")[0] == (0, 40, 10)
    with pytest.raises(EditError):  # would run into y
        history.apply(E.TrimTail("x", 1))
    history.apply(E.TrimTail("x", 5, ripple=True))
    assert clips(history, "v1") == [(0, 45, 10), (45, 10, 0)]
    history.apply(E.TrimHead("x", 10, ripple=True))
    assert clips(history, "v1") == [(0, 35, 20), (35, 10, 0)]
    with pytest.raises(EditError):  # media starts at 0
        history.apply(E.TrimHead("x", -21, ripple=True))


def test_trim_cannot_pass_the_media_end(history):
    place(history, "v1", "broll", 0, 140, source_in=0, clip_id="x")  # broll is 150 frames
    history.apply(E.TrimTail("x", 10))
    with pytest.raises(EditError, match="past the end"):
        history.apply(E.TrimTail("x", 1))


def test_roll_moves_the_cut(history):
    place(history, "v1", "broll", 0, 30, source_in=10, clip_id="l")
    place(history, "v1", "broll", 30, 30, source_in=60, clip_id="r")
    history.apply(E.Roll("l", 5))
    assert clips(history, "v1") == [(0, 35, 10), (35, 25, 65)]
    history.apply(E.Roll("l", -10))
    assert clips(history, "v1") == [(0, 25, 10), (25, 35, 55)]


def test_slip_changes_source_only(history):
    place(history, "v1", "broll", 5, 30, source_in=10, clip_id="s")
    history.apply(E.Slip("s", 7))
    assert clips(history, "v1") == [(5, 30, 17)]
    with pytest.raises(EditError):
        history.apply(E.Slip("s", -18))


def test_slide_moves_between_neighbours(history):
    place(history, "v1", "broll", 0, 20, clip_id="a")
    place(history, "v1", "broll", 20, 20, source_in=50, clip_id="b")
    place(history, "v1", "broll", 40, 20, source_in=100, clip_id="c")
    history.apply(E.Slide("b", 5))
    assert clips(history, "v1") == [(0, 25, 0), (25, 20, 50), (45, 15, 105)]


def test_move_within_and_across_tracks_with_linked_audio(history):
    v, a = place_av(history, 0, duration=20)
    history.apply(E.Move([v], 30, track_delta=1))
    assert history.project.track("v1").clips == ()
    assert [c.position for c in history.project.track("v2").clips] == [30]
    assert [c.position for c in history.project.track("a1").clips] == [30]  # audio followed in time
    with pytest.raises(EditError, match="no video track above"):
        history.apply(E.Move([v], 0, track_delta=1))
    place(history, "v1", "broll", 0, 20, clip_id="blocker")
    with pytest.raises(EditError, match="taken"):
        history.apply(E.Move([v], -30, track_delta=-1))


def test_groups_move_together_and_ungroup(history):
    place(history, "v1", "broll", 0, 10, clip_id="g1")
    place(history, "v2", "broll", 20, 10, clip_id="g2")
    history.apply(E.GroupClips(["g1", "g2"]))
    history.apply(E.Move(["g1"], 5))
    assert history.project.find_clip("g2")[1].position == 25
    history.apply(E.Ungroup(["g1"]))
    history.apply(E.Move(["g1"], 5))
    assert history.project.find_clip("g2")[1].position == 25


def test_speed_changes_length_and_respects_neighbours(history):
    place(history, "v1", "broll", 0, 40, clip_id="s")
    place(history, "v1", "broll", 40, 10, clip_id="n")
    history.apply(E.SetSpeed("s", 2))
    assert clips(history, "v1")[0] == (0, 20, 0)
    with pytest.raises(EditError):
        history.apply(E.SetSpeed("s", Fraction(1, 2)))  # 80 frames would hit "n"
    history.apply(E.SetSpeed("s", Fraction(1, 2), ripple=True))
    assert clips(history, "v1") == [(0, 80, 0), (100, 10, 0)]  # the 20-frame gap stays
    with pytest.raises(EditError):
        history.apply(E.SetSpeed("s", 0))


def test_keyframes_interpolate_linear_ease_and_hold(history):
    place(history, "v1", "broll", 0, 100, clip_id="k")
    history.apply(E.SetKeyframe("k", "opacity", 0, 0.0))
    history.apply(E.SetKeyframe("k", "opacity", 10, 1.0, "ease"))
    history.apply(E.SetKeyframe("k", "opacity", 20, 0.0, "hold"))
    history.apply(E.SetKeyframe("k", "opacity", 30, 1.0))
    c = history.project.find_clip("k")[1]
    assert c.value_at("opacity", 5) == pytest.approx(0.5)
    assert c.value_at("opacity", 12) == pytest.approx(1 - 0.2 * 0.2 * (3 - 0.4))  # ease leaves slowly (linear: 0.8)
    assert c.value_at("opacity", 15) == pytest.approx(0.5)
    assert c.value_at("opacity", 11) == pytest.approx(1 - (0.1 * 0.1 * (3 - 0.2)))
    assert c.value_at("opacity", 25) == 0.0
    history.apply(E.RemoveKeyframe("k", "opacity", 20))
    assert history.project.find_clip("k")[1].value_at("opacity", 20) == 1.0  # 10 -> 30 is now 1.0 -> 1.0
    with pytest.raises(EditError):
        history.apply(E.SetKeyframe("k", "opacity", 5, 2.0))
    with pytest.raises(EditError):
        history.apply(E.SetKeyframe("k", "volume", 5, 0.5))


def test_trimming_the_head_keeps_keyframes_on_their_content(history):
    place(history, "v1", "broll", 0, 100, clip_id="k")
    history.apply(E.SetKeyframe("k", "x", 50, 100.0))
    history.apply(E.TrimHead("k", 20))
    assert history.project.find_clip("k")[1].curve("x")[0].frame == 30


def test_transitions_join_adjacent_clips_and_follow_edits(history):
    place(history, "v1", "broll", 0, 20, clip_id="a")
    place(history, "v1", "broll", 20, 10, source_in=50, clip_id="b")
    with pytest.raises(EditError, match="longer"):
        history.apply(E.AddTransition("a", 12))
    history.apply(E.AddTransition("a", 10))
    tr = history.project.track("v1").transitions[0]
    assert (tr.before, tr.after, tr.kind) == (5, 5, "dissolve")
    history.apply(E.TrimTail("b", -4))  # b is now 6 frames: transition shortened to fit
    assert history.project.track("v1").transitions[0].duration == 6
    history.apply(E.Move(["b"], 5))  # no longer adjacent: the transition goes
    assert history.project.track("v1").transitions == ()
    history.undo()
    history.apply(E.RemoveTransition(history.project.track("v1").transitions[0].id))
    assert history.project.track("v1").transitions == ()


def test_track_edits(history):
    history.apply(E.AddTrack("video"))
    names = [t.name for t in history.project.sequence.tracks]
    assert names == ["V1", "V2", "V3", "A1", "A2"]
    tid = history.project.sequence.tracks[2].id
    history.apply(E.RenameTrack(tid, "Titles"))
    history.apply(E.MoveTrack(tid, 0))
    assert history.project.sequence.tracks[0].name == "Titles"
    history.apply(E.SetTrackProperty(tid, "locked", True))
    with pytest.raises(EditError, match="locked"):
        history.apply(E.RemoveTrack(tid))
    history.apply(E.SetTrackProperty(tid, "locked", False))
    history.apply(E.RemoveTrack(tid))
    assert len(history.project.sequence.tracks) == 4
    with pytest.raises(EditError):
        history.apply(E.AddTrack("subtitle"))


def test_locked_tracks_refuse_edits(history):
    place(history, "v1", "broll", 0, 20, clip_id="a")
    history.apply(E.SetTrackProperty("v1", "locked", True))
    for cmd in (E.TrimTail("a", 1), E.Lift(["a"]), E.Move(["a"], 1), E.Razor(10, "a")):
        with pytest.raises(EditError, match="locked"):
            history.apply(cmd)


def test_set_clip_property_validates(history):
    place(history, "v1", "broll", 0, 20, clip_id="a")
    history.apply(E.SetClipProperty("a", "scale", 0.5))
    history.apply(E.SetClipProperty("a", "gain_db", -6))
    history.apply(E.SetClipProperty("a", "name", "Wide"))
    c = history.project.find_clip("a")[1]
    assert (c.transform.scale, c.gain_db, c.name) == (0.5, -6.0, "Wide")
    for name, value in (("opacity", 1.5), ("pan", "left"), ("fade_in", 30), ("bogus", 1)):
        with pytest.raises(EditError):
            history.apply(E.SetClipProperty("a", name, value))


def test_takes_switch_assets_without_losing_any(history):
    from dataclasses import replace

    from studio.core.media_pool import Recipe

    p = history.project
    gen = replace(p.asset("broll"), id="take2", recipe=Recipe("cogvideox", "THUDM/CogVideoX1.5-5B", "a cat", seed=7))
    history.apply(E.AddAsset(gen))
    place(history, "v1", "broll", 0, 20, clip_id="g")
    history.apply(E.SetTake("g", "take2"))
    c = history.project.find_clip("g")[1]
    assert c.asset_id == "take2" and c.takes == ("broll", "take2")
    history.apply(E.SetTake("g", "broll"))
    assert history.project.find_clip("g")[1].takes == ("broll", "take2")
    with pytest.raises(EditError, match="used by"):
        history.apply(E.RemoveAsset("take2"))


def test_audio_media_cannot_go_on_video_tracks(history):
    with pytest.raises(EditError, match="no picture"):
        place(history, "v1", "music", 0, 10)
    with pytest.raises(EditError, match="no sound"):
        place(history, "a1", "broll", 0, 10)


def test_project_settings(history):
    history.apply(E.SetProjectSettings(width=3840, height=2160, fps=Fraction(60)))
    assert history.project.settings.fps == 60
    place(history, "v1", "broll", 0, 10)
    with pytest.raises(EditError, match="empty"):
        history.apply(E.SetProjectSettings(fps=Fraction(30000, 1001)))
    with pytest.raises(EditError):
        history.apply(E.SetProjectSettings(width=1001))


def test_markers(history):
    history.apply(E.AddMarker(48, "beat"))
    m = history.project.sequence.markers[0]
    assert (m.frame, m.name) == (48, "beat")
    history.apply(E.RemoveMarker(m.id))
    assert history.project.sequence.markers == ()
