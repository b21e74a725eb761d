"""Text-to-audio foley (``tta``): AudioLDM 2 or Stable Audio Open through diffusers.

One prompt per group of events: events whose prompt text is the same (same kind, label and
user prompt) share one generation, and each event gets its own variation of it (pitch
+-1 semitone, gain, brightness, seeded by the event's index) so repeated hits never sound
identical. The pipeline class comes from the folder's ``model_index.json``
(``AudioLDM2Pipeline`` or ``StableAudioPipeline``); it loads from safetensors only, fp32 on
the CPU and bf16/fp16 on a GPU (``choose_device_dtype``), and stays cached
(``pipeline_cache``). Generation is deterministic per seed: a CPU ``torch.Generator`` seeded
from the seed and the prompt. Steps report progress to, and stop on the cancel of, the
job context given to the source (``context``: anything with ``progress(fraction, message)``
and ``check()``).

Sync: the transient of each generated sound is found (``onset.detect_onset``), the sound is
trimmed to a short pre-roll before it, and ``Sound.onset`` points at it, so placement lays
that sample on the event time.

Real Stable Audio Open folders name ``CosineDPMSolverMultistepScheduler``, which needs the
``torchsde`` package (a dependency; the tiny test pipeline uses that scheduler too); an install
without it gets one clear error on loading.
"""

from __future__ import annotations

import logging
import os
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from studio.core.errors import StudioError

from ..events import Event
from ..onset import detect_onset, trim_around_onset
from .base import Sound
from .synth import spectral_filter

log = logging.getLogger(__name__)

MODEL_ENV = "SHOTLINE_TTA_MODEL"
#: diffusers pipeline class -> how to call it
AUDIO_PIPELINES = ("AudioLDM2Pipeline", "StableAudioPipeline")
#: catalogue ids tried, in order, when no model is named
DEFAULT_MODELS = ("audioldm2", "stable-audio-open-1.0")

#: What each event kind sounds like, for the prompt (cuts get no sound).
KIND_PROMPTS = {
    "impact": "a single sharp {label} impact sound effect",
    "step": "a single footstep {label}",
    "whoosh": "a fast whoosh swoosh sound effect",
    "flash": "a short electric zap sound effect",
    "explosion": "a loud explosion sound effect",
}
#: Generated length per kind (seconds), before trimming.
KIND_SECONDS = {"impact": 2.0, "step": 1.0, "whoosh": 2.0, "flash": 1.5, "explosion": 4.0}
#: Motion labels that say nothing about the sound (left out of prompts).
_GENERIC_LABELS = ("impact", "motion onset", "flash", "cut", "whoosh", "step", "explosion")


class TextToAudioError(StudioError):
    """A text-to-audio model is missing, unsupported or failed; the message says which."""


def prompt_for(event: Event, user_prompt: str = "") -> str | None:
    """The text prompt for ``event`` (None: this kind gets no sound). A user prompt leads."""
    template = KIND_PROMPTS.get(event.kind)
    if template is None:
        return None
    label = event.label.strip()
    if label.lower().startswith(_GENERIC_LABELS) or label.lower() == event.kind:
        label = ""
    text = " ".join(template.format(label=label).split())
    user = user_prompt.strip()
    return f"{user}, {text}" if user else text


# --------------------------------------------------------------------------- finding the model


def resolve_model(model: str | os.PathLike[str] | None = None) -> Path:
    """The diffusers folder of a text-to-audio model: ``model`` as a folder or catalogue id,
    else $SHOTLINE_TTA_MODEL, else the first installed catalogue model of ``DEFAULT_MODELS``."""
    from studio.ai.models.catalogue import get_model
    from studio.ai.models.locate import check_safetensors_only, locate, read_model_index

    wanted = model if model is not None else os.environ.get(MODEL_ENV) or None
    if wanted is not None:
        folder = Path(wanted).expanduser()
        if not folder.is_dir():
            entry = get_model(str(wanted))  # UnknownModel: one line listing close ids
            if entry.pipeline not in AUDIO_PIPELINES:
                raise TextToAudioError(f"{entry.id} is not a text-to-audio model ({entry.pipeline})")
            found = locate(entry)
            if found is None:
                raise TextToAudioError(f"text-to-audio model {entry.id!r} is not installed; get it with: "
                                       f"studio models pull {entry.id}")
            folder = found
    else:
        folder = None
        for model_id in DEFAULT_MODELS:
            try:
                found = locate(get_model(model_id))
            except StudioError:
                continue
            if found is not None:
                folder = found
                break
        if folder is None:
            raise TextToAudioError("no text-to-audio model installed: get one with studio models pull "
                                   f"{DEFAULT_MODELS[0]}, or name a diffusers folder (--tta-model DIR)")
    cls = read_model_index(folder)["_class_name"]
    if cls not in AUDIO_PIPELINES:
        raise TextToAudioError(f"{folder}: pipeline {cls!r} is not a text-to-audio pipeline "
                               f"(supported: {', '.join(AUDIO_PIPELINES)})")
    check_safetensors_only(folder)
    return folder


# --------------------------------------------------------------------------- audio helpers


def resample(x: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    """Band-limited resampling by FFT (zero-padded so nothing wraps around the ends)."""
    x = np.asarray(x, np.float64).reshape(-1)
    if rate_in == rate_out or len(x) == 0:
        return x.astype(np.float32)
    pad = len(x) // 4 + 16
    padded = np.concatenate([np.zeros(pad), x, np.zeros(pad)])
    n_in = len(padded)
    n_out = int(round(n_in * rate_out / rate_in))
    spectrum = np.fft.rfft(padded)
    keep = min(len(spectrum), n_out // 2 + 1)
    out_spec = np.zeros(n_out // 2 + 1, complex)
    out_spec[:keep] = spectrum[:keep]
    y = np.fft.irfft(out_spec, n_out) * (n_out / n_in)
    start = int(round(pad * rate_out / rate_in))
    return y[start:start + int(round(len(x) * rate_out / rate_in))].astype(np.float32)


def _mono(audio: Any) -> np.ndarray:
    """One waveform of a pipeline output as mono float: (channels, n) or (n,)."""
    if hasattr(audio, "detach"):
        audio = audio.detach().float().cpu().numpy()
    a = np.asarray(audio, np.float64)
    a = a.reshape(-1, a.shape[-1]) if a.ndim > 1 else a.reshape(1, -1)
    return a.mean(axis=0)


def _patch_language_model(pipe: Any) -> None:
    """AudioLDM 2 with transformers 5: its GPT-2 (a ``GPT2Model``, no generation mixin) lacks
    ``_update_model_kwargs_for_generation``, which diffusers' ``generate_language_model`` calls
    after every new token. Give the instance the part it needs (the attention mask grows by one);
    without a cache passed on, each step re-reads the whole sequence: the same result, a little
    slower for the 8 tokens it makes."""
    lm = getattr(pipe, "language_model", None)
    if lm is None or hasattr(lm, "_update_model_kwargs_for_generation"):
        return
    import torch

    def update(outputs: Any, model_kwargs: dict[str, Any], *args: Any, **kwargs: Any) -> dict[str, Any]:
        mask = model_kwargs.get("attention_mask")
        if mask is not None:
            model_kwargs["attention_mask"] = torch.cat([mask, mask.new_ones((mask.shape[0], 1))], dim=-1)
        model_kwargs.pop("past_key_values", None)
        return model_kwargs

    lm._update_model_kwargs_for_generation = update


@dataclass(frozen=True, slots=True)
class Take:
    """One generated sound at the target rate, with its transient at ``onset``."""

    prompt: str
    samples: np.ndarray
    onset: int
    sample_rate: int


# --------------------------------------------------------------------------- the source


class TextToAudioSource:
    """Foley sounds generated from text, one generation per distinct prompt."""

    name = "tta"

    def __init__(self, model: str | os.PathLike[str] | None = None, *, steps: int | None = None,
                 guidance: float | None = None, seed: int = 0, seconds: float | None = None,
                 device: str | None = None, context: Any = None,
                 negative_prompt: str = "low quality, noise, music, speech") -> None:
        self.folder = resolve_model(model)
        self.steps, self.guidance, self.seed, self.seconds = steps, guidance, int(seed), seconds
        self.device = device
        self.context = context
        self.negative_prompt = negative_prompt
        self._takes: dict[tuple[str, float, int], Take] = {}
        self._lock = threading.Lock()

    # --- loading -----------------------------------------------------------------------
    def _load(self) -> tuple[Any, str]:
        from studio.ai.generate.diffusers_backend import pipeline_cache
        from studio.ai.models.locate import read_model_index
        from studio.ai.models.runtime import CacheKey, choose_device_dtype

        device, dtype = choose_device_dtype(self.device)
        cls = read_model_index(self.folder)["_class_name"]
        key = CacheKey.of(f"tta:{self.folder}", "local", dtype, device)
        return pipeline_cache().get(key, lambda: self._load_pipe(cls, device, dtype)), cls

    def _load_pipe(self, cls: str, device: str, dtype: Any) -> Any:
        import diffusers

        from studio.ai.generate.diffusers_backend import _dtype_kwarg, _quiet_loading

        try:
            with _quiet_loading():
                pipe = getattr(diffusers, cls).from_pretrained(self.folder, **{_dtype_kwarg(): dtype},
                                                               use_safetensors=True, local_files_only=True)
        except ImportError as e:  # e.g. the Stable Audio scheduler needs torchsde
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise TextToAudioError(f"{self.folder.name} ({cls}) cannot load: {first}") from None
        pipe.set_progress_bar_config(disable=True)
        if cls == "AudioLDM2Pipeline":
            _patch_language_model(pipe)
        return pipe.to(device)

    # --- generating --------------------------------------------------------------------
    def _max_seconds(self, pipe: Any, cls: str) -> float:
        if cls == "StableAudioPipeline":
            return float(pipe.transformer.config.sample_size * pipe.vae.hop_length / pipe.vae.config.sampling_rate)
        return 30.0

    def _model_rate(self, pipe: Any, cls: str) -> int:
        if cls == "StableAudioPipeline":
            return int(pipe.vae.config.sampling_rate)
        return int(pipe.vocoder.config.sampling_rate)

    def generate(self, prompt: str, seconds: float, *, sample_rate: int,
                 report: Callable[[int, int], None] | None = None) -> Take:
        """One take of ``prompt`` (deterministic per seed and prompt), mono at ``sample_rate``."""
        key = (prompt, round(seconds, 3), sample_rate)
        with self._lock:
            if key in self._takes:
                return self._takes[key]
        import torch

        pipe, cls = self._load()
        steps = int(self.steps or (100 if cls == "StableAudioPipeline" else 200))
        generator = torch.Generator("cpu").manual_seed((self.seed * 1_000_003 + zlib.crc32(prompt.encode())) % 2**63)
        seconds = float(min(max(seconds, 0.1), self._max_seconds(pipe, cls)))

        def callback(step: int, timestep: Any, latents: Any) -> None:
            if report is not None:
                report(step + 1, steps)
            if self.context is not None:
                self.context.check()

        kwargs: dict[str, Any] = dict(prompt=prompt, num_inference_steps=steps, generator=generator,
                                      callback=callback, callback_steps=1, negative_prompt=self.negative_prompt)
        if cls == "StableAudioPipeline":
            kwargs.update(audio_end_in_s=seconds, guidance_scale=self.guidance or 7.0, output_type="pt")
        else:
            kwargs.update(audio_length_in_s=seconds, guidance_scale=self.guidance or 3.5, output_type="np",
                          num_waveforms_per_prompt=1)
        if self.context is not None:
            self.context.check()
        with torch.inference_mode():
            audio = pipe(**kwargs).audios[0]
        rate = self._model_rate(pipe, cls)
        x = resample(_mono(audio), rate, sample_rate)
        x = np.nan_to_num(x)
        peak = float(np.abs(x).max()) if len(x) else 0.0
        if peak > 0:
            x = x * (0.9 / peak)
        onset = detect_onset(x, sample_rate)
        y, onset = trim_around_onset(x, sample_rate, onset)
        take = Take(prompt, y, onset, sample_rate)
        with self._lock:
            self._takes[key] = take
        return take

    def _seconds_for(self, event: Event) -> float:
        if self.seconds:
            return float(self.seconds)
        base = KIND_SECONDS.get(event.kind, 2.0)
        return max(base, event.duration + 0.5) if event.kind == "whoosh" else base

    def _vary(self, take: Take, event: Event, index: int) -> Sound:
        """This event's variation of a shared take: pitch, gain, brightness; the onset follows."""
        rng = np.random.default_rng(zlib.crc32(f"tta:{event.kind}:{index}".encode()))
        x = take.samples
        ratio = 2 ** (rng.uniform(-1.0, 1.0) / 12)
        pos = np.arange(0, len(x) - 1, ratio)
        y = np.interp(pos, np.arange(len(x)), x) if len(x) > 1 else x.astype(np.float64)
        onset = min(len(y) - 1, int(round(take.onset / ratio))) if len(y) else 0
        cutoff = rng.uniform(6000.0, 18000.0)
        if cutoff < take.sample_rate * 0.45:
            y = spectral_filter(y, take.sample_rate, hi=cutoff)
        y = y * rng.uniform(0.8, 1.0) * (0.5 + 0.5 * event.strength)
        name = f"{event.kind}-{index + 1:03d}-tta"
        return Sound(np.asarray(y, np.float32), take.sample_rate, max(0, onset), name)

    def render(self, event: Event, index: int, *, sample_rate: int, prompt: str = "") -> Sound | None:
        text = prompt_for(event, prompt)
        if text is None:
            return None
        return self._vary(self.generate(text, self._seconds_for(event), sample_rate=sample_rate), event, index)

    def render_all(self, events: list[Event], *, sample_rate: int, prompt: str = "") -> list[Sound | None]:
        """Every event's sound, generating each distinct prompt once (progress across all of them)."""
        texts = [prompt_for(e, prompt) for e in events]
        groups: dict[str, float] = {}
        for e, text in zip(events, texts, strict=True):
            if text is not None:
                groups[text] = max(groups.get(text, 0.0), self._seconds_for(e))
        takes: dict[str, Take] = {}
        for g, (text, seconds) in enumerate(groups.items()):
            def report(step: int, total: int, g: int = g, text: str = text) -> None:
                if self.context is not None:
                    self.context.progress((g + step / total) / len(groups),
                                          f"sound {g + 1}/{len(groups)} '{text}': step {step}/{total}")

            takes[text] = self.generate(text, seconds, sample_rate=sample_rate, report=report)
        return [None if text is None else self._vary(takes[text], e, i)
                for i, (e, text) in enumerate(zip(events, texts, strict=True))]
