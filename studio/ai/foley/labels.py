"""Zero-shot sound labels for events from a local CLIP model (transformers), optional.

Without CLIP an event keeps its motion label ("impact (floor)", "motion onset"...). With it,
the part of the picture where the event happens (its ``region`` of the analysis grid, with
a cell of context around it; the whole frame when it has none) is cut from the frame shown
at the event time and scored against text prompts, one per candidate: a material (metal,
wood, glass...) times an action the event's kind allows (an impact can be a hit, a door, a
bounce or a splash; a step is a step). The label becomes "<material> <action>" ("metal
hit"), which the sound sources read (synth picks its modes from the material, tta puts it in
the prompt).

A user prompt biases or overrides. Bias (default): the prompt becomes one more candidate
with a prior bonus, and candidates sharing a word with it (a material or action named in
"footsteps on gravel") get a smaller bonus; the choice is
``argmax(log_softmax(scores) + log_prior)``. Override: every event that makes a sound gets
the prompt as its label, no model needed.

The model is any folder with a CLIP ``config.json``, safetensors weights and a tokenizer
(``openai/clip-vit-base-patch32`` as downloaded), or that catalogue id, found in the app's
models folder or the Hugging Face cache. Offline only: ``local_files_only``.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from studio.core.errors import StudioError

from .analysis import GRID
from .events import Event

MATERIALS = ("metal", "wood", "glass", "stone", "cloth", "water", "plastic", "rubber", "gravel", "paper")
ACTIONS = ("hit", "step", "door", "whoosh", "explosion", "splash", "bounce", "scrape")
#: Which actions each event kind may be; kinds not listed (cuts) are not labelled.
KIND_ACTIONS = {
    "impact": ("hit", "door", "bounce", "splash", "scrape"),
    "step": ("step",),
    "whoosh": ("whoosh",),
    "flash": ("explosion",),
    "explosion": ("explosion",),
}
#: How each action reads as a picture description ({m}: the material).
_ACTION_TEXT = {
    "hit": "a photo of a {m} object hitting something",
    "step": "a photo of a foot stepping on {m}",
    "door": "a photo of a {m} door closing",
    "whoosh": "a photo of a {m} object swinging fast",
    "explosion": "a photo of an explosion with flying {m}",
    "splash": "a photo of something splashing into {m}",
    "bounce": "a photo of a {m} ball bouncing",
    "scrape": "a photo of {m} scraping along a surface",
}
#: Words in a user prompt that name an action.
_ACTION_WORDS = {
    "hit": ("hit", "clang", "knock", "bang", "impact", "smash", "punch", "thud", "clink"),
    "step": ("step", "footstep", "footsteps", "walk", "walking", "run", "running"),
    "door": ("door", "slam"),
    "whoosh": ("whoosh", "swoosh", "swing", "swish"),
    "explosion": ("explosion", "explode", "blast", "boom"),
    "splash": ("splash", "splashing", "drop"),
    "bounce": ("bounce", "bouncing", "ball"),
    "scrape": ("scrape", "scraping", "drag", "slide"),
}
PROMPT_PRIOR = math.log(8.0)  # the user's own words: 8x as likely a priori
WORD_PRIOR = math.log(2.0)  # a candidate sharing a material or action with the prompt: 2x
MODEL_ENV = "SHOTLINE_CLIP_MODEL"
DEFAULT_MODEL = "clip-vit-base-patch32"


class LabelError(StudioError):
    """The CLIP model is missing or unreadable; the message says which and what to do."""


@dataclass(frozen=True, slots=True)
class Candidate:
    label: str  # what the event is called: "metal hit", or the user's prompt
    text: str  # what CLIP reads
    material: str = ""
    action: str = ""


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z]+", text.lower()))


def candidates_for(kind: str, prompt: str = "") -> list[Candidate]:
    """The candidate labels for an event of ``kind`` (none for kinds with no sound), plus the prompt."""
    actions = KIND_ACTIONS.get(kind)
    if not actions:
        return []
    out = [Candidate(f"{m} {a}", _ACTION_TEXT[a].format(m=m), m, a) for a in actions for m in MATERIALS]
    prompt = " ".join(prompt.split())
    if prompt:
        out.append(Candidate(prompt, f"a photo of {prompt}"))
    return out


def prompt_prior(candidates: Sequence[Candidate], prompt: str) -> np.ndarray:
    """Log-prior per candidate from a user prompt: the prompt itself gets ``PROMPT_PRIOR``, a
    candidate whose material or action the prompt names gets ``WORD_PRIOR`` for each."""
    prior = np.zeros(len(candidates))
    words = _words(prompt)
    if not words:
        return prior
    named_actions = {a for a, keys in _ACTION_WORDS.items() if words & set(keys)}
    for i, c in enumerate(candidates):
        if not c.material and not c.action:
            prior[i] += PROMPT_PRIOR
            continue
        prior[i] += WORD_PRIOR * ((c.material in words) + (c.action in named_actions))
    return prior


def choose(scores: np.ndarray, prior: np.ndarray) -> np.ndarray:
    """Per row of ``scores`` (events x candidates, CLIP logits), the candidate maximising
    ``log_softmax(scores) + prior``."""
    s = np.asarray(scores, np.float64)
    s = s - s.max(axis=1, keepdims=True)
    logp = s - np.log(np.exp(s).sum(axis=1, keepdims=True))
    return np.argmax(logp + np.asarray(prior, np.float64)[None, :], axis=1)


# --------------------------------------------------------------------------- the model


def resolve_clip(model: str | os.PathLike[str] | None = None) -> Path:
    """A local CLIP folder: ``model`` as a folder or catalogue id, else $SHOTLINE_CLIP_MODEL, else
    the catalogue's CLIP in the app's models folder or the Hugging Face cache."""
    from studio.ai.models.catalogue import get_model
    from studio.ai.models.locate import check_safetensors_only, locate

    wanted = str(model if model is not None else os.environ.get(MODEL_ENV) or DEFAULT_MODEL)
    folder = Path(wanted).expanduser()
    if not folder.is_dir():
        try:
            entry = get_model(wanted)
        except StudioError:
            raise LabelError(f"CLIP model {wanted!r}: no such folder or model id") from None
        if entry.pipeline != "CLIPModel":
            raise LabelError(f"{entry.id} is not a CLIP model ({entry.pipeline})")
        found = locate(entry)
        if found is None:
            raise LabelError(f"CLIP model {entry.id!r} is not installed; get it with: studio models pull {entry.id} "
                             "(or give --clip-model DIR)")
        folder = found
    config = folder / "config.json"
    if not config.is_file():
        raise LabelError(f"{folder}: not a CLIP model folder (no config.json)")
    try:
        kind = json.loads(config.read_text(encoding="utf-8")).get("model_type")
    except (OSError, ValueError) as e:
        raise LabelError(f"{config}: not readable JSON ({e})") from None
    if kind != "clip":
        raise LabelError(f"{folder}: not a CLIP model (model_type {kind!r})")
    check_safetensors_only(folder)
    return folder


class ClipLabeler:
    """Scores image crops against label candidates with a local CLIP model (CPU fp32 or GPU)."""

    def __init__(self, model: str | os.PathLike[str] | None = None, *, device: str | None = None) -> None:
        self.folder = resolve_clip(model)
        self.device = device
        self._model: Any = None
        self._tokenizer: Any = None
        self._text_cache: dict[str, Any] = {}

    def _load(self) -> None:
        if self._model is not None:
            return
        from transformers import AutoTokenizer, CLIPModel

        from studio.ai.generate.diffusers_backend import _quiet_loading
        from studio.ai.models.runtime import choose_device_dtype

        device, _ = choose_device_dtype(self.device)
        with _quiet_loading():
            self._model = CLIPModel.from_pretrained(self.folder, local_files_only=True, use_safetensors=True)
            self._tokenizer = AutoTokenizer.from_pretrained(self.folder, local_files_only=True)
        self._model.eval().to(device)
        self.device = device
        pre = {}
        path = self.folder / "preprocessor_config.json"
        if path.is_file():
            pre = json.loads(path.read_text(encoding="utf-8"))
        self._mean = np.asarray(pre.get("image_mean", (0.48145466, 0.4578275, 0.40821073)), np.float32)
        self._std = np.asarray(pre.get("image_std", (0.26862954, 0.26130258, 0.27577711)), np.float32)
        self._size = int(self._model.config.vision_config.image_size)

    @staticmethod
    def _features(out: Any) -> Any:
        return getattr(out, "pooler_output", out)  # transformers 5 returns an output object

    def _text(self, texts: list[str]) -> Any:
        import torch

        missing = [t for t in dict.fromkeys(texts) if t not in self._text_cache]
        if missing:
            tokens = self._tokenizer(missing, padding=True, truncation=True, return_tensors="pt").to(self.device)
            with torch.inference_mode():
                feats = self._features(self._model.get_text_features(**tokens))
            feats = feats / feats.norm(dim=-1, keepdim=True)
            self._text_cache.update(zip(missing, feats, strict=True))
        return torch.stack([self._text_cache[t] for t in texts])

    def _pixels(self, crops: list[np.ndarray]) -> Any:
        import cv2
        import torch

        out = []
        for img in crops:
            h, w = img.shape[:2]
            scale = self._size / min(h, w)
            rw, rh = max(self._size, round(w * scale)), max(self._size, round(h * scale))
            img = cv2.resize(img, (rw, rh), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
            y, x = (rh - self._size) // 2, (rw - self._size) // 2
            img = img[y:y + self._size, x:x + self._size].astype(np.float32) / 255.0
            out.append(((img - self._mean) / self._std).transpose(2, 0, 1))
        return torch.from_numpy(np.stack(out)).to(self.device)

    def scores(self, crops: list[np.ndarray], texts: list[str]) -> np.ndarray:
        """CLIP logits, crops x texts (RGB uint8 crops of any size)."""
        import torch

        self._load()
        text = self._text(texts)
        with torch.inference_mode():
            image = self._features(self._model.get_image_features(pixel_values=self._pixels(crops)))
        image = image / image.norm(dim=-1, keepdim=True)
        scale = float(self._model.logit_scale.detach().exp())
        return (scale * image @ text.T).float().cpu().numpy()


# --------------------------------------------------------------------------- frames and crops


def crop_region(frame: np.ndarray, region: str) -> np.ndarray:
    """The grid cell ``region`` ("row,col") of ``frame`` with one cell of context around it,
    or the whole frame when the region is empty or malformed."""
    rows, cols = GRID
    try:
        r, c = (int(v) for v in region.split(","))
    except ValueError:
        return frame
    if not (0 <= r < rows and 0 <= c < cols):
        return frame
    h, w = frame.shape[:2]
    y0, y1 = max(0, (r - 1) * h // rows), min(h, (r + 2) * h // rows)
    x0, x1 = max(0, (c - 1) * w // cols), min(w, (c + 2) * w // cols)
    return frame[y0:y1, x0:x1]


def event_crops(path: str | os.PathLike[str], events: Sequence[Event],
                cancelled: Callable[[], bool] | None = None) -> list[np.ndarray]:
    """RGB crops of each event's region from the frame shown at its time (decoded in time order)."""
    from studio.media.decode import VideoSource

    crops: list[np.ndarray | None] = [None] * len(events)
    with VideoSource(path) as src:
        for i in sorted(range(len(events)), key=lambda k: events[k].time):
            if cancelled is not None and cancelled():
                raise InterruptedError("labelling cancelled")
            frame = src.frame_at(Fraction(events[i].time).limit_denominator(1_000_000)).to_ndarray(format="rgb24")
            crops[i] = crop_region(frame, events[i].region)
    return [c for c in crops if c is not None]


def label_events(events: Sequence[Event], *, crops: Sequence[np.ndarray] | None = None,
                 labeler: ClipLabeler | None = None, prompt: str = "", override: bool = False,
                 progress: Callable[[float, str], None] | None = None,
                 cancelled: Callable[[], bool] | None = None) -> list[Event]:
    """``events`` with CLIP labels (kinds that make no sound keep theirs). ``override`` puts the
    prompt on every sounding event without a model; otherwise ``crops`` (one per event) and
    ``labeler`` are needed."""
    events = list(events)
    prompt = " ".join(prompt.split())
    if override:
        if not prompt:
            raise LabelError("a prompt override needs a prompt")
        return [replace(e, label=prompt) if e.kind in KIND_ACTIONS else e for e in events]
    if labeler is None or crops is None or len(crops) != len(events):
        raise LabelError("CLIP labels need a labeler and one crop per event")
    out = list(events)
    todo = [i for i, e in enumerate(events) if e.kind in KIND_ACTIONS]
    by_kind: dict[str, list[int]] = {}
    for i in todo:
        by_kind.setdefault(events[i].kind, []).append(i)
    done = 0
    for kind, idx in by_kind.items():
        cands = candidates_for(kind, prompt)
        prior = prompt_prior(cands, prompt)
        for start in range(0, len(idx), 16):
            if cancelled is not None and cancelled():
                raise InterruptedError("labelling cancelled")
            batch = idx[start:start + 16]
            picks = choose(labeler.scores([crops[i] for i in batch], [c.text for c in cands]), prior)
            for i, k in zip(batch, picks, strict=True):
                out[i] = replace(events[i], label=cands[int(k)].label)
            done += len(batch)
            if progress is not None:
                progress(done / max(1, len(todo)), f"labelled {done}/{len(todo)} events")
    return out
