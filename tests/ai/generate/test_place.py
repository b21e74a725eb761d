from __future__ import annotations

from fractions import Fraction

from studio.ai.generate.place import add_take, place_generated
from studio.core.factory import new_project
from studio.core.history import History
from studio.core.media_pool import Asset, MediaInfo, Recipe


def asset(i: int) -> Asset:
    info = MediaInfo(duration=Fraction(9, 8), has_video=True, width=16, height=16, fps=Fraction(8))
    return Asset(id=f"a{i}", path=f"/p/generated/cat-take{i}.mp4", name=f"cat-take{i}.mp4", kind="video",
                 info=info, recipe=Recipe(backend="diffusers", model_id="tiny", prompt="cat", seed=i))


def test_place_is_one_undo_step_on_the_first_free_video_track():
    history = History(new_project(16, 16, Fraction(8)))
    clip = place_generated(history, asset(1), 8)
    v1 = history.project.sequence.tracks_of("video")[0]
    assert [c.id for c in v1.clips] == [clip.id] and clip.position == 8 and clip.duration == 9
    second = place_generated(history, asset(2), 10)  # V1 busy there: a new video track
    tracks = history.project.sequence.tracks_of("video")
    assert len(tracks) == 2 and [c.id for c in tracks[1].clips] == [second.id]
    history.undo()
    assert len(history.project.sequence.tracks_of("video")) == 1 and history.project.asset("a2") is None
    history.undo()
    assert not history.project.sequence.tracks_of("video")[0].clips and history.project.asset("a1") is None


def test_a_new_take_keeps_the_old_one():
    history = History(new_project(16, 16, Fraction(8)))
    clip = place_generated(history, asset(1), 0)
    add_take(history, clip.id, asset(2))
    (placed,) = history.project.sequence.tracks_of("video")[0].clips
    assert placed.asset_id == "a2" and placed.takes == ("a1", "a2")
    history.undo()
    assert history.project.sequence.tracks_of("video")[0].clips[0].asset_id == "a1"
