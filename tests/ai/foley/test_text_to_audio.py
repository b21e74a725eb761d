"""Text-to-audio foley: onset detection, a tiny random Stable Audio pipeline built in code and
loaded by folder, and transient alignment in the mix (a stand-in pipeline with a known hit)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from studio.ai.foley.events import Event
from studio.ai.foley.onset import detect_onset, trim_around_onset
from studio.ai.foley.pipeline import design
from studio.ai.foley.placement import layout, mixdown
from studio.ai.foley.sources import available_sources
from studio.ai.foley.sources.text_to_audio import TextToAudioError, TextToAudioSource, prompt_for, resample
from studio.jobs import Cancelled, JobContext

SR = 48000
EVENTS = [Event(0.4, "impact", 0.9, 0.2, "metal hit"), Event(1.1, "impact", 0.5, 0.8, "metal hit"),
          Event(1.7, "whoosh", 0.6, 0.5, "motion onset", duration=0.2), Event(2.0, "cut", 1.0, 0.5, "cut")]


def build_stable_audio(folder: Path) -> Path:
    """A tiny random StableAudioPipeline (configs after diffusers' own tests) saved in the diffusers layout.

    The scheduler is the real model's CosineDPMSolverMultistepScheduler (Brownian-tree noise via torchsde).
    """
    import torch
    from diffusers import (
        AutoencoderOobleck,
        CosineDPMSolverMultistepScheduler,
        StableAudioDiTModel,
        StableAudioPipeline,
        StableAudioProjectionModel,
    )

    from tests.ai.generate.tiny_models import tiny_t5

    torch.manual_seed(0)
    transformer = StableAudioDiTModel(sample_size=256, in_channels=3, num_layers=2, attention_head_dim=4,
                                      num_key_value_attention_heads=2, out_channels=3, cross_attention_dim=4,
                                      time_proj_dim=8, global_states_input_dim=8, cross_attention_input_dim=4)
    scheduler = CosineDPMSolverMultistepScheduler(solver_order=2, prediction_type="v_prediction", sigma_data=1.0,
                                                  sigma_schedule="exponential")
    torch.manual_seed(0)
    vae = AutoencoderOobleck(encoder_hidden_size=6, downsampling_ratios=[1, 2], decoder_channels=3,
                             decoder_input_channels=3, audio_channels=2, channel_multiples=[2, 4], sampling_rate=1000)
    torch.manual_seed(0)
    tokenizer, text_encoder = tiny_t5()
    tokenizer.model_max_length = 16
    torch.manual_seed(0)
    projection = StableAudioProjectionModel(text_encoder_dim=text_encoder.config.d_model, conditioning_dim=4,
                                            min_value=0, max_value=32)
    pipe = StableAudioPipeline(transformer=transformer, scheduler=scheduler, vae=vae, text_encoder=text_encoder,
                               tokenizer=tokenizer, projection_model=projection)
    pipe.save_pretrained(folder, safe_serialization=True)
    return Path(folder)


def build_audioldm2(folder: Path) -> Path:
    """A tiny random AudioLDM2Pipeline (configs after diffusers' own tests; tokenizers from small
    vocabularies written here) saved in the diffusers layout."""
    import json

    import torch
    from diffusers import (
        AudioLDM2Pipeline,
        AudioLDM2ProjectionModel,
        AudioLDM2UNet2DConditionModel,
        AutoencoderKL,
        DDIMScheduler,
    )
    from transformers import (
        ClapAudioConfig,
        ClapConfig,
        ClapFeatureExtractor,
        ClapModel,
        ClapTextConfig,
        GPT2Config,
        GPT2Model,
        RobertaTokenizer,
        SpeechT5HifiGan,
        SpeechT5HifiGanConfig,
    )

    from tests.ai.generate.tiny_models import tiny_t5

    torch.manual_seed(0)
    unet = AudioLDM2UNet2DConditionModel(
        block_out_channels=(32, 64), layers_per_block=2, sample_size=32, in_channels=4, out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"), up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=([None, 16, 32], [None, 16, 32]))
    scheduler = DDIMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", clip_sample=False,
                              set_alpha_to_one=False)
    torch.manual_seed(0)
    vae = AutoencoderKL(block_out_channels=[32, 64], in_channels=1, out_channels=1, latent_channels=4,
                        down_block_types=["DownEncoderBlock2D"] * 2, up_block_types=["UpDecoderBlock2D"] * 2)
    torch.manual_seed(0)
    text = ClapTextConfig(bos_token_id=0, eos_token_id=2, hidden_size=16, intermediate_size=37, layer_norm_eps=1e-05,
                          num_attention_heads=2, num_hidden_layers=2, pad_token_id=1, vocab_size=1000,
                          projection_dim=16)
    audio = ClapAudioConfig(spec_size=64, window_size=4, num_mel_bins=64, intermediate_size=37, layer_norm_eps=1e-05,
                            depths=[2, 2], num_attention_heads=[2, 2], num_hidden_layers=2, hidden_size=192,
                            projection_dim=16, patch_size=2, patch_stride=2, patch_embed_input_channels=4)
    clap = ClapModel(ClapConfig(text_config=text.to_dict(), audio_config=audio.to_dict(), projection_dim=16))
    folder.mkdir(parents=True, exist_ok=True)
    vocab = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3}
    for piece in [*"abcdefghijklmnopqrstuvwxyz", *("\u0120" + c for c in "abcdefghijklmnopqrstuvwxyz"), "\u0120"]:
        vocab.setdefault(piece, len(vocab))
    (folder / "roberta-vocab.json").write_text(json.dumps(vocab))
    (folder / "roberta-merges.txt").write_text("#version: 0.2\n")
    tokenizer = RobertaTokenizer(str(folder / "roberta-vocab.json"), str(folder / "roberta-merges.txt"),
                                 model_max_length=77)
    torch.manual_seed(0)
    tokenizer_2, t5 = tiny_t5()
    tokenizer_2.model_max_length = 77
    torch.manual_seed(0)
    gpt2 = GPT2Model(GPT2Config(n_embd=16, n_head=2, n_layer=2, vocab_size=1000, n_ctx=99, n_positions=99))
    gpt2.config.max_new_tokens = 8
    torch.manual_seed(0)
    projection = AudioLDM2ProjectionModel(text_encoder_dim=16, text_encoder_1_dim=32, langauge_model_dim=16)
    vocoder = SpeechT5HifiGan(SpeechT5HifiGanConfig(
        model_in_dim=8, sampling_rate=16000, upsample_initial_channel=16, upsample_rates=[2, 2],
        upsample_kernel_sizes=[4, 4], resblock_kernel_sizes=[3, 7], resblock_dilation_sizes=[[1, 3, 5], [1, 3, 5]],
        normalize_before=False))
    pipe = AudioLDM2Pipeline(unet=unet, scheduler=scheduler, vae=vae, text_encoder=clap, text_encoder_2=t5,
                             tokenizer=tokenizer, tokenizer_2=tokenizer_2, feature_extractor=ClapFeatureExtractor(),
                             language_model=gpt2, projection_model=projection, vocoder=vocoder)
    pipe.save_pretrained(folder / "model", safe_serialization=True)
    return folder / "model"


_built: dict[str, Path] = {}


def stable_audio_folder(tmp_path_factory) -> Path:
    """The tiny Stable Audio folder, built once per session (share it read-only)."""
    if "sa" not in _built:
        _built["sa"] = build_stable_audio(tmp_path_factory.mktemp("tiny-stable-audio"))
    return _built["sa"]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    return stable_audio_folder(tmp_path_factory)


# --------------------------------------------------------------------------- onset detection


def _hit(n: int, at: int, freq: float, attack: float, rng: np.random.Generator) -> np.ndarray:
    x = 1e-3 * rng.standard_normal(n)  # a -60 dB noise floor
    t = np.arange(n - at) / SR
    env = np.exp(-25 * t) * (np.minimum(1.0, t / attack) if attack else 1.0)
    x[at:] += 0.8 * env * np.sin(2 * np.pi * freq * t + 0.3)
    return x


@pytest.mark.parametrize("at", [0, 777, 30011])
@pytest.mark.parametrize("freq, attack", [(80.0, 0.0), (440.0, 0.002), (3000.0, 0.0), (300.0, 0.005)])
def test_onset_of_a_synthetic_hit_within_a_millisecond(at, freq, attack):
    x = _hit(SR * 2, at, freq, attack, np.random.default_rng(at))
    assert abs(detect_onset(x, SR) - at) <= SR // 1000


def test_the_hit_wins_over_a_louder_swell_before_it():
    rng = np.random.default_rng(1)
    n, at = SR * 2, 50000
    t = np.arange(n) / SR
    x = 1e-3 * rng.standard_normal(n) + 0.1 * np.sin(np.pi * np.clip(t / 0.9, 0, 1)) * rng.standard_normal(n)
    x[at:] += 0.9 * np.exp(-30 * (t[at:] - t[at])) * np.sin(2 * np.pi * 500 * (t[at:] - t[at]))
    assert abs(detect_onset(x, SR) - at) <= SR // 1000
    assert detect_onset(np.zeros(100), SR) == 0


def test_trimming_keeps_the_onset_sample():
    x = _hit(SR * 3, 40000, 300.0, 0.0, np.random.default_rng(2)).astype(np.float32)
    y, onset = trim_around_onset(x, SR, 40000, pre_roll=0.02)
    assert onset == int(0.02 * SR) and y[onset] == x[40000]
    assert len(y) < len(x) - 40000  # the silent tail went
    assert abs(y[0]) < 1e-6  # the pre-roll fades in from silence


def test_resample_keeps_timing():
    x = np.zeros(1000)
    x[250] = 1.0  # a click at 250 ms at 1 kHz
    y = resample(x, 1000, SR)
    assert len(y) == SR and abs(int(np.argmax(np.abs(y))) - SR // 4) <= 1


# --------------------------------------------------------------------------- the tiny pipeline


def test_registered_as_a_plugin():
    assert "tta" in available_sources()


def test_prompts_per_event():
    assert prompt_for(EVENTS[0]) == "a single sharp metal hit impact sound effect"
    assert prompt_for(Event(0, "impact", 1, 0.5, "impact (floor)")) == "a single sharp impact sound effect"
    assert prompt_for(EVENTS[2], "sword") == "sword, a fast whoosh swoosh sound effect"
    assert prompt_for(EVENTS[3]) is None


def test_tiny_pipeline_makes_one_sound_per_event(tiny):
    steps: list[str] = []
    ctx = JobContext(on_progress=lambda f, m: steps.append(m))
    source = TextToAudioSource(tiny, steps=2, context=ctx)
    sounds = source.render_all(EVENTS, sample_rate=SR)
    assert sounds[3] is None  # a cut gets no sound
    for s in sounds[:3]:
        assert s.sample_rate == SR and s.samples.dtype == np.float32 and np.isfinite(s.samples).all()
        assert 0 <= s.onset < len(s.samples) and np.abs(s.samples).max() > 0
    assert len(source._takes) == 2  # the two metal hits share one generation...
    assert not np.array_equal(sounds[0].samples[:1000], sounds[1].samples[:1000])  # ...varied per event
    assert sum("step 2/2" in m for m in steps) == 2 and "sound 1/2" in steps[0]
    for take in source._takes.values():  # trimmed to the 20 ms pre-roll before the detected transient
        assert 0 <= take.onset <= int(0.02 * SR) and len(take.samples) > take.onset


def test_same_seed_same_audio(tiny):
    a = TextToAudioSource(tiny, steps=2, seed=3).render(EVENTS[0], 0, sample_rate=SR)
    b = TextToAudioSource(tiny, steps=2, seed=3).render(EVENTS[0], 0, sample_rate=SR)
    c = TextToAudioSource(tiny, steps=2, seed=4).render(EVENTS[0], 0, sample_rate=SR)
    np.testing.assert_array_equal(a.samples, b.samples)
    assert a.onset == b.onset
    assert not np.array_equal(a.samples[:len(c.samples)], c.samples[:len(a.samples)])


def test_cancel_stops_between_steps(tiny):
    ctx = JobContext()
    seen: list[str] = []

    def progress(fraction: float, message: str) -> None:
        seen.append(message)
        ctx.cancel()

    ctx.on_progress = progress
    source = TextToAudioSource(tiny, steps=5)
    with pytest.raises(Cancelled):  # the pipeline's design step hands the job context to the source
        design(EVENTS[:1], fps=Fraction(25), sample_rate=SR, source=source, context=ctx)
    assert len(seen) == 1 and not source._takes


def test_bad_model_folders(tmp_path, tiny):
    with pytest.raises(TextToAudioError, match="not a text-to-audio pipeline"):
        (tmp_path / "m").mkdir()
        (tmp_path / "m" / "model_index.json").write_text('{"_class_name": "WanPipeline"}')
        TextToAudioSource(tmp_path / "m")
    with pytest.raises(Exception, match="no model_index.json"):
        TextToAudioSource(tmp_path)


def test_tiny_audioldm2_through_the_same_source(tmp_path):
    """AudioLDM 2 (the default model) loads by folder and runs with transformers 5 (its GPT-2 patched)."""
    seen: list[str] = []
    source = TextToAudioSource(build_audioldm2(tmp_path), steps=2, seconds=0.1,
                               context=JobContext(on_progress=lambda f, m: seen.append(m)))
    sounds = source.render_all(EVENTS[:2], sample_rate=SR)
    assert all(s.sample_rate == SR and np.isfinite(s.samples).all() and len(s.samples) > 0 for s in sounds)
    assert len(source._takes) == 1 and "step 2/2" in seen[-1]
    take = next(iter(source._takes.values()))
    assert abs(detect_onset(take.samples, SR) - take.onset) <= SR // 1000


# --------------------------------------------------------------------------- alignment in the mix


class _KnownHit:
    """Stands in for a loaded AudioLDM2 pipeline: 16 kHz audio with a hit at a known sample."""

    def __init__(self, at: int) -> None:
        self.at = at
        self.vocoder = SimpleNamespace(config=SimpleNamespace(sampling_rate=16000))

    def __call__(self, *, prompt, audio_length_in_s, callback, num_inference_steps, **kw):
        for i in range(num_inference_steps):
            callback(i, 0, None)
        n = int(audio_length_in_s * 16000)
        rng = np.random.default_rng(0)
        x = 1e-3 * rng.standard_normal(n)
        t = np.arange(n - self.at) / 16000
        x[self.at:] += np.exp(-20 * t) * np.sin(2 * np.pi * 700 * t)
        return SimpleNamespace(audios=x[None, :])


@pytest.mark.parametrize("fps, sr", [(Fraction(25), 48000), (Fraction(30000, 1001), 44100)])
def test_generated_transient_lands_on_the_event_in_the_mix(tiny, monkeypatch, fps, sr):
    at = 9000  # 0.5625 s into the generated sound: the model's silence before the hit
    source = TextToAudioSource(tiny, steps=2)
    monkeypatch.setattr(source, "_load", lambda: (_KnownHit(at), "AudioLDM2Pipeline"))
    events = EVENTS[:2]
    sounds = source.render_all(events, sample_rate=sr)
    placed = layout(events, sounds, fps=fps, sample_rate=sr)
    mix = np.abs(mixdown(placed, int(2.0 * sr), sr, fps)).max(axis=0)
    for e in events:
        a = round((e.time - 0.015) * sr)  # the pre-roll before it is faded noise, far below 1% of the hit
        window = mix[a:a + round(0.03 * sr)]
        found = (a + int(np.argmax(window > 0.05 * window.max()))) / sr
        assert abs(found - e.time) <= 0.001, (e, found)


# --------------------------------------------------------------------------- the catalogue


def test_catalogue_models_are_found_once_installed(tiny, tmp_path, monkeypatch, capsys):
    import shutil

    from studio.ai.models.catalogue import get_model
    from studio.cli.main import main

    monkeypatch.setenv("SHOTLINE_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.delenv("SHOTLINE_TTA_MODEL", raising=False)
    assert get_model("cvssp/audioldm2").licence.name == "CC BY-NC-SA 4.0"
    sa = get_model("stabilityai/stable-audio-open-1.0")
    assert sa.licence.name == "Stability AI Community License" and sa.task == "text-to-audio" and not sa.is_video
    with pytest.raises(TextToAudioError, match="no text-to-audio model installed"):
        TextToAudioSource()
    with pytest.raises(TextToAudioError, match="'audioldm2' is not installed; get it with: studio models pull"):
        TextToAudioSource("audioldm2")
    with pytest.raises(TextToAudioError, match="not a text-to-audio model"):
        TextToAudioSource("clip-vit-base-patch32")
    shutil.copytree(tiny, tmp_path / "models" / sa.id)
    assert TextToAudioSource().folder == tmp_path / "models" / sa.id  # audioldm2 missing: the next default
    assert main(["models", "verify", sa.id]) == 0
    assert f"ok {sa.id}" in capsys.readouterr().out
