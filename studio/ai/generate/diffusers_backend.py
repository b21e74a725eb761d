"""The diffusers backend: one class for the CogVideoX, Wan and LTX-Video pipelines (t2v and i2v).

Loads the pipeline class named by the folder's model_index.json, from safetensors only, in
bf16/fp16 on a GPU and fp32 on the CPU (``choose_device_dtype``), through a PipelineCache
with a memory plan applied; reports steps and stops on cancel through
``callback_on_step_end``; a seed gives the same frames (a ``torch.Generator`` on the device).
torch and diffusers are imported inside methods only.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from studio.ai.models.memory import MemoryPlan, apply_plan, available_bytes, decode_with_retry, oom_guard, plan_for
from studio.ai.models.runtime import CacheKey, PipelineCache, choose_device_dtype, import_torch, step_callback

from .base import Capabilities, GeneratedVideo, GenerateError, GenerateRequest
from .families import PIPELINES, FolderInfo, inspect_folder

log = logging.getLogger(__name__)

CACHE_ENV = "STUDIO_PIPELINE_CACHE_BYTES"
DEFAULT_BUDGET = 64 * 1024**3
_cache: PipelineCache | None = None
_cache_lock = threading.Lock()


def pipeline_cache() -> PipelineCache:
    """The process-wide cache of loaded video pipelines (``STUDIO_PIPELINE_CACHE_BYTES``, default 64 GiB)."""
    global _cache
    with _cache_lock:
        if _cache is None:
            _cache = PipelineCache(int(os.environ.get(CACHE_ENV, "") or DEFAULT_BUDGET))
        return _cache


#: a rough upper bound of the VAE decode's peak memory per output pixel (wide feature maps at full size)
DECODE_BYTES_PER_PIXEL = 1024


def _needs(info: FolderInfo) -> dict[MemoryPlan, int]:
    """Rough needs per plan: all weights plus a working margin; offload holds the biggest component."""
    parts = [n for _, n in info.component_bytes]
    total, biggest = sum(parts), max(parts, default=0)
    work = 2 * 1024**3
    return {MemoryPlan.NONE: total + work, MemoryPlan.MODEL_CPU_OFFLOAD: biggest + work,
            MemoryPlan.SEQUENTIAL_CPU_OFFLOAD: work}


class DiffusersVideoBackend:
    """``generate(request, context)`` with a local diffusers folder (``request.model_path``)."""

    name = "diffusers"

    def __init__(self, cache: PipelineCache | None = None) -> None:
        self._cache = cache

    @property
    def cache(self) -> PipelineCache:
        return self._cache if self._cache is not None else pipeline_cache()

    # --- describing ------------------------------------------------------------------------
    def _folder(self, request: GenerateRequest) -> Path:
        if not request.model_path:
            raise GenerateError("the diffusers backend needs a model folder (model_path)")
        return Path(request.model_path)

    def capabilities(self, request: GenerateRequest) -> Capabilities:
        return inspect_folder(self._folder(request)).capabilities_as(request.pipeline)

    def check(self, request: GenerateRequest) -> Capabilities:
        """Validate ``request`` against the model before any heavy work; returns its capabilities."""
        return self._check(request, inspect_folder(self._folder(request)))

    def _check(self, request: GenerateRequest, info: FolderInfo) -> Capabilities:
        caps = info.capabilities_as(request.pipeline)
        name = request.model_id or self._folder(request).name  # a cache snapshot's folder name is a commit hash
        if info.unsafe:
            raise GenerateError(info.unsafe)
        if request.image and not caps.image_to_video:
            raise GenerateError(f"{name} is a text-to-video model; it does not take --image")
        if caps.image_to_video and not request.image:
            raise GenerateError(f"{name} is an image-to-video model; give it --image FILE")
        if request.image and not Path(request.image).is_file():
            raise GenerateError(f"image {request.image!r} does not exist")
        w, h = request.width or caps.default_size[0], request.height or caps.default_size[1]
        caps.check_size(w, h)
        frames = request.frames or caps.default_frames
        if not caps.frame_rule.valid(frames):
            raise GenerateError(f"{frames} frames do not suit {caps.family} ({caps.frame_rule} frames)")
        if request.steps < 1:
            raise GenerateError(f"steps must be at least 1, not {request.steps}")
        return caps

    # --- loading ---------------------------------------------------------------------------
    def _load(self, info: FolderInfo, class_name: str, device: str, dtype: Any) -> Any:
        import diffusers

        folder = info.path
        cls = getattr(diffusers, class_name)
        try:
            with _quiet_loading():
                pipe = cls.from_pretrained(folder, **{_dtype_kwarg(): dtype}, use_safetensors=True,
                                           local_files_only=True)
        except ValueError as e:
            if "low_cpu_mem_usage" in str(e) and not _has_accelerate():
                raise GenerateError(f"{folder.name} ({class_name}) needs the accelerate package to load: "
                                    "pip install accelerate") from None
            raise
        if hasattr(pipe, "set_progress_bar_config"):
            pipe.set_progress_bar_config(disable=True)
        _allow_missing_ftfy(class_name)
        needs = _needs(info)
        if not _has_accelerate():  # offloading needs accelerate
            needs = {MemoryPlan.NONE: needs[MemoryPlan.NONE]}
        if device == "cpu":
            plan = plan_for(needs, None, MemoryPlan.NONE)
        else:
            plan = plan_for(needs, available_bytes(device))
        log.info("loading %s on %s (%s): %s", folder, device, dtype, plan.reason)
        if plan.offload is MemoryPlan.NONE:
            pipe.to(device)
        apply_plan(pipe, plan, device=device if plan.offload is not MemoryPlan.NONE else None)
        pipe._studio_plan = plan
        return pipe

    # --- running ---------------------------------------------------------------------------
    def generate(self, request: GenerateRequest, context: Any) -> GeneratedVideo:
        started = time.monotonic()
        folder = self._folder(request)
        info = inspect_folder(folder)  # cached per (folder, modification times)
        caps = self._check(request, info)
        torch = import_torch()
        device, dtype = choose_device_dtype(request.device)
        width, height = request.width or caps.default_size[0], request.height or caps.default_size[1]
        frames = request.frames or caps.default_frames
        fps = request.fps or caps.fps
        context.progress(0.0, f"loading {folder.name}")
        class_name = request.pipeline or info.class_name
        model = str(info.path) if class_name == info.class_name else f"{info.path} as {class_name}"
        key = CacheKey.of(model, request.revision or None, dtype, device)
        needs = _needs(info)
        with self.cache.use(key, lambda: self._load(info, class_name, device, dtype),
                            expected_bytes=needs[MemoryPlan.NONE] if device != "cpu" else None) as pipe:
            context.check()
            plan = getattr(pipe, "_studio_plan", None)
            kwargs = self._call_kwargs(pipe, caps, request, width, height, frames, fps)
            kwargs["generator"] = torch.Generator(device=device).manual_seed(int(request.seed))
            kwargs["callback_on_step_end"] = step_callback(context, request.steps, start=0.05, end=0.9)
            with oom_guard(what=f"generating with {folder.name}", cache=self.cache, key=key, needs_bytes_by_plan=needs,
                           plan=plan.offload if plan is not None else None, device=device):
                with torch.inference_mode():
                    video = self._run(pipe, caps, kwargs, context, device)
        array = _to_uint8(video)
        context.progress(1.0, "generated")
        return GeneratedVideo(array, fps, request, self.name, request.model_id or folder.name, request.revision,
                              time.monotonic() - started)

    def _call_kwargs(self, pipe: Any, caps: Capabilities, request: GenerateRequest, width: int, height: int,
                     frames: int, fps: Any) -> dict[str, Any]:
        kwargs: dict[str, Any] = dict(prompt=request.prompt, height=height, width=width, num_frames=frames,
                                      num_inference_steps=int(request.steps), guidance_scale=float(request.guidance),
                                      output_type="np")
        if request.negative_prompt:
            kwargs["negative_prompt"] = request.negative_prompt
        if caps.family == "cogvideox":
            max_len = getattr(getattr(pipe.transformer, "config", None), "max_text_seq_length", None)
            if max_len:
                kwargs["max_sequence_length"] = int(max_len)
        if caps.family == "ltx":
            kwargs["frame_rate"] = round(float(fps))
        if request.image:
            from PIL import Image

            with Image.open(request.image) as im:
                kwargs["image"] = im.convert("RGB").resize((width, height), Image.LANCZOS)
        kwargs.update(request.extra)
        return kwargs

    def _run(self, pipe: Any, caps: Capabilities, kwargs: dict[str, Any], context: Any, device: str) -> Any:
        padded = getattr(getattr(pipe, "transformer", None), "config", None)
        if caps.family != "cogvideox" or not hasattr(pipe, "decode_latents") or getattr(padded, "patch_size_t", None):
            return pipe(**kwargs).frames[0]
        if _decode_fits(device, kwargs["num_frames"], kwargs["width"], kwargs["height"]):
            return pipe(**kwargs).frames[0]  # a small decode: in the pipeline call, as plain diffusers does
        # CogVideoX: denoise to latents, then decode keeping the latents safe (retry with VAE tiling on OOM).
        latents = pipe(**{**kwargs, "output_type": "latent"}).frames
        context.progress(0.9, "decoding")
        context.check()

        def decode(p: Any, lat: Any) -> Any:
            video = p.decode_latents(lat)
            return p.video_processor.postprocess_video(video=video, output_type="np")

        where = Path(tempfile.gettempdir()) / "studio-latents" / f"{os.getpid()}-{time.monotonic_ns()}.pt"
        return decode_with_retry(pipe, latents, decode, where, device=device)[0]


def _decode_fits(device: str, frames: int, width: int, height: int) -> bool:
    """True when the VAE decode of this many pixels (at a generous ``DECODE_BYTES_PER_PIXEL``) needs under a
    quarter of the device's free memory: then it is far from running out and needs no separate, latents-saving
    step (a bigger one denoises to latents first and decodes them with ``decode_with_retry``)."""
    free = available_bytes(device)
    return free is not None and int(frames) * int(width) * int(height) * DECODE_BYTES_PER_PIXEL * 4 <= free


def _allow_missing_ftfy(class_name: str) -> None:
    """diffusers' Wan image-to-video module calls ``ftfy.fix_text`` on prompts even when ftfy is not
    installed (its text-to-video twin checks first); without ftfy, prompts go through unfixed, as there."""
    if class_name != "WanImageToVideoPipeline":
        return
    import importlib
    import types

    module = importlib.import_module("diffusers.pipelines.wan.pipeline_wan_i2v")
    if not hasattr(module, "ftfy"):
        module.ftfy = types.SimpleNamespace(fix_text=lambda text: text)


@contextmanager
def _quiet_loading() -> Iterator[None]:
    """No loading progress bars or advice on stderr while a pipeline loads (our progress bar says it)."""
    from diffusers.utils import logging as dlog
    from transformers.utils import logging as tlog

    levels = dlog.get_verbosity(), tlog.get_verbosity()
    bars = dlog.is_progress_bar_enabled(), tlog.is_progress_bar_enabled()
    dlog.set_verbosity_error()
    tlog.set_verbosity_error()
    dlog.disable_progress_bar()
    tlog.disable_progress_bar()
    try:
        yield
    finally:
        dlog.set_verbosity(levels[0])
        tlog.set_verbosity(levels[1])
        if bars[0]:
            dlog.enable_progress_bar()
        if bars[1]:
            tlog.enable_progress_bar()


def _has_accelerate() -> bool:
    import importlib.util

    return importlib.util.find_spec("accelerate") is not None


def _dtype_kwarg() -> str:
    """``dtype`` where diffusers takes it (0.42+ deprecates ``torch_dtype``), else ``torch_dtype``."""
    try:
        from diffusers.utils.deprecation_utils import _resolve_dtype  # noqa: F401
    except ImportError:
        return "torch_dtype"
    return "dtype"


def _to_uint8(video: Any) -> Any:
    import numpy as np

    if hasattr(video, "detach"):  # a torch tensor (some output types)
        video = video.detach().float().cpu().numpy()
    arr = np.asarray(video, dtype=np.float32)
    if arr.ndim != 4 or arr.shape[-1] != 3:
        raise GenerateError(f"the pipeline returned frames of shape {arr.shape}, expected (T, H, W, 3)")
    return (np.clip(arr, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


__all__ = ["PIPELINES", "DiffusersVideoBackend", "pipeline_cache"]
