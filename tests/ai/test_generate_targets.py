"""Where an in-editor generation goes (gaps, marked ranges, the clip to extend), how long it is, the
start frame of "Extend", and placing the take as one undo step. No Qt, no models."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

import numpy as np
import pytest

from studio.ai.generate.base import GenerateError
from studio.ai.generate.in_place import place_in, write_still
from studio.ai.generate.output import encode_mp4
from studio.ai.generate.targets import Target, covering_frames, gap_at, gap_on, last_frame_time, range_target
from studio.core.edits import AddAsset, OverwriteClip
from studio.core.edits.base import with_clips
from studio.core.factory import clip_for_asset, new_project
from studio.core.history import History
from studio.core.media_pool import Asset, MediaInfo
from studio.core.timeline import Clip

FPS = Fraction(24)


def asset(asset_id: str = "a", seconds: int = 10) -> Asset:
    return Asset(asset_id, f"/media/{asset_id}.mp4", f"{asset_id}.mp4", "video",
                 info=MediaInfo(Fraction(seconds), True, False, 64, 64, FPS))


def project_with(*spans: tuple[int, int], track: int = 0):
    """A project whose video track ``track`` holds clips at the (position, duration) spans."""
    project = new_project(64, 64, FPS)
    tracks = list(project.sequence.tracks)
    clips = [Clip(f"c{i}", "a", pos, dur) for i, (pos, dur) in enumerate(spans)]
    tracks[track] = with_clips(tracks[track], clips)
    return replace(project.with_tracks(tuple(tracks)), assets=(asset(),))


def test_gap_between_clips_after_the_last_and_at_the_start():
    p = project_with((0, 24), (72, 24))
    v1 = p.sequence.tracks_of("video")[0].id
    assert gap_at(p, 30) == Target(v1, 24, 72, "c0")
    assert gap_at(p, 24) == Target(v1, 24, 72, "c0")  # a clip's end frame is already empty
    assert gap_at(p, 500) == Target(v1, 96, None, "c1")  # open after the last clip
    assert gap_at(p, 500).frames is None and gap_at(p, 30).frames == 48
    p2 = project_with((48, 24))
    assert gap_at(p2, 10) == Target(p2.sequence.tracks_of("video")[0].id, 0, 48, None)
    assert gap_at(p2, 10, needs_before=True) is None  # nothing before it to extend


def test_a_busy_playhead_looks_at_the_next_video_track_and_skips_locked_ones():
    p = project_with((0, 100))
    assert gap_at(p, 50) is None  # one video track, busy there
    p = p.with_tracks((*p.sequence.tracks, replace(p.sequence.tracks[0], id="v2", clips=())))
    assert gap_at(p, 50) == Target("v2", 0, None, None)
    p = p.with_tracks(tuple(replace(t, locked=True) if t.id == "v2" else t for t in p.sequence.tracks))
    assert gap_at(p, 50) is None


def test_marked_range_finds_a_free_track_or_asks_for_a_new_one():
    p = project_with((0, 24), (72, 24))
    v1 = p.sequence.tracks_of("video")[0].id
    assert range_target(p, 30, 60) == Target(v1, 30, 60, "c0")
    assert range_target(p, 20, 60) == Target(None, 20, 60, None)  # overlaps c0: a new track
    assert range_target(p, 20, 60, needs_before=True) is None
    assert range_target(p, 60, 60) is None


def test_covering_frames_fill_the_gap_within_the_rule():
    assert covering_frames(16, 1, 161, 16, 5.0) == 81  # 5 s at 16 fps, 16N+1
    assert covering_frames(16, 1, 161, 16, 5.07) == 97  # just over 81 frames: the next count
    assert covering_frames(8, 1, 49, 8, 2.4) == 25  # nearest would be 17 (2.1 s), short of the gap
    assert covering_frames(8, 1, 49, 8, 100.0) == 49  # clamped to the model's maximum
    assert covering_frames(4, 1, 81, 16, 0.01) == 5  # at least one step


def test_last_frame_time_honours_trim_and_speed():
    assert last_frame_time(Clip("c", "a", 100, 48), FPS) == Fraction(47, 24)
    assert last_frame_time(Clip("c", "a", 100, 48, source_in=Fraction(24)), FPS) == Fraction(71, 24)
    assert last_frame_time(Clip("c", "a", 0, 10, speed=Fraction(2)), FPS) == Fraction(18, 24)
    reverse = Clip("c", "a", 0, 10, source_in=Fraction(5), speed=Fraction(-1))
    assert last_frame_time(reverse, FPS) == Fraction(5, 24)  # reversed: ends on its first source frame


def test_write_still_takes_the_frame_shown_at_that_time(tmp_path):
    levels = [20 * i for i in range(10)]
    frames = np.stack([np.full((32, 32, 3), v, np.uint8) for v in levels])
    media = encode_mp4(frames, Fraction(8), tmp_path / "ramp.mp4")
    from PIL import Image

    for k in (3, 7):
        png = write_still(media, Fraction(k, 8), tmp_path / f"f{k}.png")
        assert abs(float(np.asarray(Image.open(png)).mean()) - levels[k]) < 4


def test_place_in_fills_the_target_as_one_step_cut_to_its_length():
    h = History(new_project(64, 64, FPS))
    v1 = h.project.sequence.tracks_of("video")[0].id
    h.apply(AddAsset(asset("old")))
    h.apply(OverwriteClip(v1, clip_for_asset(h.project.asset("old"), FPS, 0, duration=24, clip_id="c0")))
    h.mark_saved()
    before = h.project
    clip = place_in(h, asset("new", seconds=3), Target(v1, 24, 48, "c0"))
    track = h.project.find_clip(clip.id)[0]
    assert (track.id, clip.position, clip.duration) == (v1, 24, 24)  # 3 s of media cut to the 1 s gap
    assert h.undo_label == "Generate shot"
    h.undo()
    assert h.project == before
    open_gap = place_in(h, asset("new", seconds=3), Target(v1, 24, None, "c0"))
    assert open_gap.duration == 72  # open: the whole take


def test_place_in_moves_to_a_free_track_when_the_target_filled_up():
    h = History(new_project(64, 64, FPS))
    v1 = h.project.sequence.tracks_of("video")[0].id
    h.apply(AddAsset(asset("old")))
    h.apply(OverwriteClip(v1, clip_for_asset(h.project.asset("old"), FPS, 0, duration=100, clip_id="c0")))
    tracks_before = len(h.project.sequence.tracks_of("video"))
    clip = place_in(h, asset("new", seconds=1), Target(v1, 10, 34))
    assert h.project.find_clip(clip.id)[0].id != v1  # never over the clip that took the place meanwhile
    assert len(h.project.sequence.tracks_of("video")) == tracks_before + 1
    assert h.project.find_clip("c0")[1].duration == 100


def test_place_in_refuses_media_shorter_than_a_frame():
    h = History(new_project(64, 64, FPS))
    with pytest.raises(GenerateError, match="shorter than one frame"):
        place_in(h, asset("empty", seconds=0), Target(None, 0, 10))


def test_gap_on_one_track_is_the_clicked_gap_even_where_another_track_is_free():
    p = project_with((0, 24), (72, 24))
    p = p.with_tracks((replace(p.sequence.tracks[0], id="v0", clips=()), *p.sequence.tracks))
    v1 = p.sequence.tracks_of("video")[1].id
    assert gap_at(p, 30) == Target("v0", 0, None, None)  # the playhead rule takes the first free track
    assert gap_on(p, v1, 30) == Target(v1, 24, 72, "c0")  # a click on V1 means V1
    assert gap_on(p, v1, 0) is None and gap_on(p, v1, 71) == Target(v1, 24, 72, "c0")
    assert gap_on(p, v1, 200) == Target(v1, 96, None, "c1")
    assert gap_on(p, "gone", 30) is None
    locked = p.with_tracks(tuple(replace(t, locked=True) for t in p.sequence.tracks))
    assert gap_on(locked, v1, 30) == Target(v1, 24, 72, "c0")  # the caller decides about locks
