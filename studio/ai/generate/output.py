"""Writing generated frames: an H.264 file (CRF 16) through a temp file and a rename, new take
names that never overwrite, and the recipe (DESIGN.md fixed point 5) as data and as JSON."""

from __future__ import annotations

import json
import os
import re
import tempfile
import unicodedata
from dataclasses import asdict
from fractions import Fraction
from pathlib import Path
from typing import Any

from studio.core.fsutil import new_file_mode
from studio.core.media_pool import Recipe

from .base import GeneratedVideo

CRF = 16
GENERATED_DIR = "generated"
_TAKE = re.compile(r"-take(\d+)\.[^.]+$")


def slug(prompt: str, limit: int = 40) -> str:
    """A file-name-safe short form of a prompt: ``"A red car, at night!"`` -> ``"a-red-car-at-night"``."""
    text = unicodedata.normalize("NFKD", prompt).encode("ascii", "ignore").decode().lower()
    words = re.findall(r"[a-z0-9]+", text)
    out = ""
    for w in words:
        if len(out) + len(w) + 1 > limit:
            break
        out = f"{out}-{w}" if out else w
    return out or "shot"


def reserve_take(folder: str | os.PathLike[str], name: str, suffix: str = ".mp4") -> tuple[Path, int]:
    """Claim ``folder/<name>-take<N><suffix>`` for the next free N (an empty placeholder file is
    created exclusively, so two runs never get the same take and nothing is ever overwritten)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    taken = [int(m.group(1)) for p in folder.glob(f"{name}-take*{suffix}")
             if (m := _TAKE.search(p.name)) and p.name == f"{name}-take{m.group(1)}{suffix}"]
    n = max(taken, default=0) + 1
    while True:
        path = folder / f"{name}-take{n}{suffix}"
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            n += 1
            continue
        os.close(fd)
        return path, n


def encode_mp4(frames: Any, fps: Fraction, out: str | os.PathLike[str], *, crf: int = CRF,
               speed: str = "medium", context: Any = None) -> Path:
    """Encode uint8 ``(T, H, W, 3)`` frames to ``out`` (H.264, yuv420p, BT.709) via a temp file and a rename.
    Odd sizes are padded by one pixel (yuv420p needs even sides). A failure or cancel leaves no temp file."""
    import av
    import numpy as np

    out = Path(out)
    frames = np.ascontiguousarray(frames)
    t, h, w, _ = frames.shape
    if h % 2 or w % 2:
        frames = np.pad(frames, ((0, 0), (0, h % 2), (0, w % 2), (0, 0)), mode="edge")
        h, w = h + h % 2, w + w % 2
    fps = Fraction(fps).limit_denominator(1_000_000)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.stem}.", suffix=f".partial{out.suffix}", dir=out.parent)
    os.close(fd)
    try:
        with av.open(tmp, "w", format="mp4") as container:
            stream = container.add_stream("libx264", rate=fps)
            stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
            ctx = stream.codec_context
            ctx.time_base = 1 / fps
            ctx.colorspace = ctx.color_primaries = ctx.color_trc = 1  # BT.709
            stream.options = {"crf": str(int(crf)), "preset": speed}
            for i in range(t):
                if context is not None:
                    context.check()
                frame = av.VideoFrame.from_ndarray(frames[i], format="rgb24")
                frame.pts = i
                frame.time_base = ctx.time_base
                container.mux(stream.encode(frame))
            container.mux(stream.encode(None))
        os.chmod(tmp, new_file_mode(out))
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out


def recipe_of(video: GeneratedVideo) -> Recipe:
    r = video.request
    w, h = video.size
    return Recipe(backend=video.backend, model_id=video.model_id, prompt=r.prompt, revision=video.revision,
                  negative_prompt=r.negative_prompt, seed=int(r.seed), steps=int(r.steps),
                  guidance=float(r.guidance), width=w, height=h, frames=video.count, fps=Fraction(video.fps),
                  source_image=os.path.abspath(r.image) if r.image else "")


def recipe_dict(recipe: Recipe) -> dict[str, Any]:
    """The recipe as JSON-ready data (fps as "num/den" text, conform settings as an object)."""
    d = asdict(recipe)
    fps = Fraction(recipe.fps)
    d["fps"] = str(fps.numerator) if fps.denominator == 1 else f"{fps.numerator}/{fps.denominator}"
    d["conform"] = dict(recipe.conform)
    return d


def write_recipe(recipe: Recipe, path: str | os.PathLike[str]) -> Path:
    """Write the recipe as JSON next to a file (atomically)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.partial")
    tmp.write_text(json.dumps(recipe_dict(recipe), indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


def sidecar_for(media: str | os.PathLike[str]) -> Path:
    media = Path(media)
    return media.with_name(media.stem + ".recipe.json")
