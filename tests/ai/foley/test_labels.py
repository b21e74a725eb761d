"""Zero-shot labels: the prompt-bias math on known scores, and a tiny random CLIP built in code,
saved with save_pretrained and loaded from its folder as users load theirs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from studio.ai.foley.events import Event
from studio.ai.foley.labels import (
    MATERIALS,
    PROMPT_PRIOR,
    ClipLabeler,
    LabelError,
    candidates_for,
    choose,
    crop_region,
    event_crops,
    label_events,
    prompt_prior,
)

EVENTS = [Event(0.5, "impact", 0.9, 0.3, "impact (floor)", region="2,1"),
          Event(1.0, "whoosh", 0.5, 0.6, "motion onset", region="1,2", duration=0.3),
          Event(1.5, "cut", 1.0, 0.5, "cut"),
          Event(2.0, "impact", 0.4, 0.9, "impact (right wall)", region="0,3")]


def build_clip(folder: Path) -> Path:
    """A tiny random CLIP (character-level BPE tokenizer written to files) in the transformers layout."""
    import torch
    from transformers import CLIPConfig, CLIPModel, CLIPTokenizer

    folder.mkdir(parents=True, exist_ok=True)
    letters = "abcdefghijklmnopqrstuvwxyz"
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for piece in [*letters, *(c + "</w>" for c in letters)]:
        vocab[piece] = len(vocab)
    (folder / "vocab.json").write_text(json.dumps(vocab))
    (folder / "merges.txt").write_text("#version: 0.2\n")
    tokenizer = CLIPTokenizer(str(folder / "vocab.json"), str(folder / "merges.txt"))
    config = CLIPConfig(
        text_config=dict(vocab_size=len(vocab), hidden_size=32, intermediate_size=37, num_hidden_layers=2,
                         num_attention_heads=4, max_position_embeddings=96, bos_token_id=0, eos_token_id=1,
                         pad_token_id=1),
        vision_config=dict(hidden_size=32, intermediate_size=37, num_hidden_layers=2, num_attention_heads=4,
                           image_size=32, patch_size=8),
        projection_dim=16)
    torch.manual_seed(0)
    CLIPModel(config).save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def clip_dir(tmp_path_factory) -> Path:
    return build_clip(tmp_path_factory.mktemp("tiny-clip"))


@pytest.fixture(scope="module")
def clip_video(tmp_path_factory):
    from fractions import Fraction

    from studio.media.synth_scenes import write_bouncing_ball

    return write_bouncing_ball(tmp_path_factory.mktemp("clipball") / "b.mp4", width=320, height=240, fps=Fraction(25),
                               frames=75, first_impact=12, period=25)


# --------------------------------------------------------------------------- the math


def test_candidates_follow_the_kind():
    hits = candidates_for("impact")
    assert {c.action for c in hits} == {"hit", "door", "bounce", "splash", "scrape"}
    assert {c.material for c in hits} == set(MATERIALS) and all(c.label == f"{c.material} {c.action}" for c in hits)
    assert {c.label.split()[1] for c in candidates_for("step")} == {"step"}
    assert candidates_for("cut") == []
    assert candidates_for("impact", "metal clang")[-1].label == "metal clang"


def test_prompt_prior_and_choice_on_known_scores():
    cands = candidates_for("step", "footsteps on gravel")
    prior = prompt_prior(cands, "footsteps on gravel")
    by = {c.label: p for c, p in zip(cands, prior, strict=True)}
    assert by["footsteps on gravel"] == pytest.approx(PROMPT_PRIOR)
    assert by["gravel step"] > by["wood step"] > 0  # material and action named vs action only
    scores = np.zeros((3, len(cands)))
    wood = [c.label for c in cands].index("wood step")
    gravel = [c.label for c in cands].index("gravel step")
    mine = len(cands) - 1
    scores[0, wood] = 5.0  # the picture clearly says wood: evidence beats the prior
    scores[1, wood], scores[1, mine] = 0.3, -2.0  # weakly wood, the prompt text fits badly: its words tip it
    picks = choose(scores, prior)  # row 2, no evidence: the user's own words win
    assert [cands[k].label for k in picks] == ["wood step", "gravel step", "footsteps on gravel"]
    assert choose(scores, np.zeros(len(cands)))[1] == wood  # without a prompt the scores alone decide
    assert gravel != mine


def test_override_needs_no_model():
    out = label_events(EVENTS, prompt="metal clang", override=True)
    assert [e.label for e in out] == ["metal clang", "metal clang", "cut", "metal clang"]
    with pytest.raises(LabelError, match="needs a prompt"):
        label_events(EVENTS, override=True)


def test_crop_region_takes_a_cell_with_context():
    frame = np.arange(120 * 160).reshape(120, 160)
    assert crop_region(frame, "1,1").shape == (120, 120)  # rows 0..2, cols 0..2 of a 3x4 grid
    assert crop_region(frame, "0,3").shape == (80, 80)
    assert crop_region(frame, "").shape == frame.shape and crop_region(frame, "9,9").shape == frame.shape


# --------------------------------------------------------------------------- the tiny model


def test_tiny_clip_labels_every_sounding_event_from_its_candidates(clip_dir, clip_video):
    crops = event_crops(clip_video.path, EVENTS)
    assert len(crops) == 4 and crops[0].ndim == 3 and crops[0].shape[2] == 3
    seen = []
    labeler = ClipLabeler(clip_dir, device="cpu")
    out = label_events(EVENTS, crops=crops, labeler=labeler, progress=lambda f, m: seen.append(f))
    assert out[2].label == "cut"  # cuts make no sound: not labelled
    for before, after in zip(EVENTS, out, strict=True):
        assert (after.time, after.kind, after.region) == (before.time, before.kind, before.region)
        if before.kind != "cut":
            assert after.label in {c.label for c in candidates_for(before.kind)}
    assert seen and seen[-1] == 1.0
    again = label_events(EVENTS, crops=crops, labeler=ClipLabeler(clip_dir, device="cpu"))
    assert again == out  # deterministic
    scores = labeler.scores(crops[:2], ["a photo of metal", "a photo of wood"])
    assert scores.shape == (2, 2) and np.isfinite(scores).all()


def test_a_strong_prompt_bias_wins_with_the_tiny_model(clip_dir, clip_video, monkeypatch):
    import studio.ai.foley.labels as labels

    monkeypatch.setattr(labels, "PROMPT_PRIOR", 1e6)  # random weights: only the prior can decide
    crops = event_crops(clip_video.path, EVENTS)
    out = label_events(EVENTS, crops=crops, labeler=ClipLabeler(clip_dir), prompt="footsteps on gravel")
    assert [e.label for e in out] == ["footsteps on gravel", "footsteps on gravel", "cut", "footsteps on gravel"]


def test_missing_or_wrong_models(tmp_path, monkeypatch):
    monkeypatch.setenv("SHOTLINE_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.delenv("SHOTLINE_CLIP_MODEL", raising=False)
    with pytest.raises(LabelError, match="is not installed; get it with: studio models pull"):
        ClipLabeler()
    (tmp_path / "x").mkdir()
    with pytest.raises(LabelError, match="no config.json"):
        ClipLabeler(tmp_path / "x")
    (tmp_path / "x" / "config.json").write_text('{"model_type": "t5"}')
    with pytest.raises(LabelError, match="not a CLIP model"):
        ClipLabeler(tmp_path / "x")


def test_the_catalogue_clip_is_found_once_installed(clip_dir, tmp_path, monkeypatch, capsys):
    import shutil

    from studio.ai.models.catalogue import get_model
    from studio.cli.main import main

    monkeypatch.setenv("SHOTLINE_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.delenv("SHOTLINE_CLIP_MODEL", raising=False)
    entry = get_model("openai/clip-vit-base-patch32")
    assert entry.id == "clip-vit-base-patch32" and entry.layout == "transformers" and entry.licence.name == "MIT"
    shutil.copytree(clip_dir, tmp_path / "models" / entry.id)
    assert ClipLabeler().folder == tmp_path / "models" / entry.id
    assert main(["models", "verify", entry.id]) == 0
    assert "ok clip-vit-base-patch32" in capsys.readouterr().out
    with pytest.raises(LabelError, match="not a CLIP model"):
        ClipLabeler("audioldm2")
    with pytest.raises(LabelError, match="no such folder or model id"):
        ClipLabeler("no-such-clip")
