"""Generating a shot for a place on the timeline: the job (generate -> encode -> conform, with a take
that never overwrites) and putting its result into the target as one undoable step.

The job is Qt-free (DESIGN.md fixed point 6): the editor runs it in its pool and applies the result
on the UI thread with ``place_in`` / ``add_take``. A failed or cancelled job removes every file it
wrote (the reserved take, the start image, the conformed copy); the list ``made`` it is given holds
them while it runs, so a caller can finish the cleanup when a cancel lands after the job's last check.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path

from studio.core.history import History
from studio.core.media_pool import Asset
from studio.core.timeline import Clip
from studio.jobs import Job, JobContext, Priority, ProgressSpan

from .base import GenerateRequest
from .place import place_generated
from .targets import Target


@dataclass(frozen=True)
class ShotResult:
    """A generated (and maybe conformed) file as an asset with its recipe; ``files`` are all it wrote."""

    asset: Asset
    take: int
    files: tuple[Path, ...]
    native_size: tuple[int, int]
    native_fps: Fraction


def write_still(media: str | os.PathLike[str], seconds: Fraction, out: str | os.PathLike[str]) -> Path:
    """Write the frame shown ``seconds`` after the media start as a PNG (the start image of "Extend")."""
    from PIL import Image

    from studio.media.decode import VideoSource
    from studio.render.colour import to_rgb

    with VideoSource(media) as source:
        rgb = to_rgb(source.frame_at(Fraction(seconds)))
    out = Path(out)
    Image.fromarray(rgb).save(out, format="PNG")
    return out


def unlink_all(paths) -> None:
    for p in list(paths):
        try:
            Path(p).unlink(missing_ok=True)
        except OSError:
            pass


def shot_job(request: GenerateRequest, folder: str | os.PathLike[str], name: str, *,
             conform_to: tuple[Fraction, tuple[int, int]] | None = None,
             still: tuple[str, Fraction] | None = None, made: list[Path] | None = None,
             backend: str = "diffusers", out: str | os.PathLike[str] | None = None) -> Job:
    """A job writing ``folder/<name>-take<N>.mp4`` from ``request`` (or exactly ``out``, take 0, when
    given: ``studio generate -o``); ``still`` = (media, seconds) first writes that frame as the start
    image of an image-to-video request; ``conform_to`` = (fps, (w, h)) conforms the result when it
    differs. Result: a ``ShotResult``. The editor and the CLI both run this one job."""
    made = made if made is not None else []

    def run(ctx: JobContext) -> ShotResult:
        from studio.ai.enhance.conform import conform, recipe_for
        from studio.media.assets import asset_from_file

        from .base import get_backend
        from .output import encode_mp4, recipe_of, reserve_take

        req = request
        try:
            ctx.progress(0.0, "starting")
            if out is None:
                path, take = reserve_take(folder, name)
                made.append(path)  # the reserved (empty) take is ours from here on
            else:
                path, take = Path(out), 0  # an existing file there is replaced only by a finished encode
            if still is not None:
                ctx.progress(0.0, "taking the last frame")
                image = path.with_name(f"{path.stem}-start.png")
                made.append(image)
                write_still(still[0], still[1], image)
                req = replace(req, image=str(image))
            end = 0.8 if conform_to is not None else 0.95
            video = get_backend(backend).generate(req, ProgressSpan(ctx, 0.0, end))
            ctx.check()
            ctx.progress(end, "encoding")
            encode_mp4(video.frames, video.fps, path, context=ctx)
            if out is not None:
                made.append(path)
            recipe, final = recipe_of(video), path
            if conform_to is not None:
                fps, size = Fraction(conform_to[0]), (int(conform_to[1][0]), int(conform_to[1][1]))
                if Fraction(video.fps) != fps or video.size != size:
                    conformed = path.with_name(f"{path.stem}-{size[0]}x{size[1]}.mp4")
                    made.append(conformed)
                    ctx.progress(end, "conforming")
                    result = conform(path, conformed, fps=fps, size=size,
                                     context=ProgressSpan(ctx, end, 0.98, "conforming: "))
                    recipe, final = recipe_for(result, recipe), conformed
            asset = replace(asset_from_file(final), recipe=recipe)
            ctx.check()
            ctx.progress(1.0, f"take {take} ready")
            return ShotResult(asset, take, tuple(made), video.size, Fraction(video.fps))
        except BaseException:
            unlink_all(made)
            made.clear()
            raise

    return Job(run, name=f"generate {name}", gpu=1, priority=Priority.INTERACTIVE)


def place_in(history: History, asset: Asset, target: Target, *, label: str = "Generate shot") -> Clip:
    """Add ``asset`` and place it at ``target`` as one history entry, cut to the target's length when
    the take is longer. The target's track when it is still free there, else the first free video
    track, else a new one."""
    return place_generated(history, asset, target.start, label=label, track_id=target.track_id,
                           frames=target.frames)
