from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from studio.ai.generate import base
from studio.ai.generate.base import FrameRule, GeneratedVideo, GenerateError, GenerateRequest, get_backend
from studio.ai.generate.output import encode_mp4, recipe_dict, recipe_of, reserve_take, slug
from studio.media.probe import probe


def test_frame_rules_snap_to_the_nearest_valid_count():
    assert FrameRule(16, 1).snap(81) == 81 and FrameRule(16, 1).snap(80) == 81
    assert FrameRule(4, 1).snap(80) == 81 and FrameRule(8, 1).snap(1) == 9
    assert FrameRule(8, 1).valid(49) and not FrameRule(8, 1).valid(48)


def test_registry_plugins_and_fallback(monkeypatch):
    assert type(get_backend("diffusers")).__name__ == "DiffusersVideoBackend"
    with pytest.raises(GenerateError, match="unknown generator backend 'nope'"):
        get_backend("nope")

    class Fake:
        name = "fake"

    class EP:
        def load(self):
            return Fake

    monkeypatch.setattr(base, "_plugins", lambda: {"fake": EP()})
    assert isinstance(get_backend("fake"), Fake)
    assert "fake" in base.backend_names()


def test_takes_never_overwrite(tmp_path):
    assert slug("A red car, at night!") == "a-red-car-at-night" and slug("!!") == "shot"
    p1, n1 = reserve_take(tmp_path / "generated", "cat")
    p2, n2 = reserve_take(tmp_path / "generated", "cat")
    assert (n1, n2) == (1, 2) and p1.name == "cat-take1.mp4" and p2.name == "cat-take2.mp4"


def test_encode_and_recipe(tmp_path):
    frames = np.random.default_rng(0).integers(0, 255, (9, 16, 16, 3), dtype=np.uint8)
    req = GenerateRequest("a cat", seed=5, steps=2, width=16, height=16, frames=9, model_id="tiny")
    video = GeneratedVideo(frames, Fraction(8), req, "diffusers", "tiny", "abc")
    out = encode_mp4(frames, video.fps, tmp_path / "x.mp4")
    info = probe(out)
    assert info.video_frames == 9 and info.fps == 8 and (info.width, info.height) == (16, 16)
    assert [p.name for p in tmp_path.iterdir()] == ["x.mp4"]
    d = recipe_dict(recipe_of(video))
    assert d["seed"] == 5 and d["fps"] == "8" and d["frames"] == 9 and d["revision"] == "abc"
