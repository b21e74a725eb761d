"""`studio generate PROMPT [--model ID | --model-path DIR] [--image FILE] [--seconds S] [--seed N] [--steps N]
[--guidance G] [--size WxH] [--negative TEXT] (-o OUT | --into PROJECT [--at TIME])`.

Generates a shot with a ``studio.generators`` backend (diffusers by default) as a job with a
progress bar. ``-o OUT`` writes an H.264 .mp4 and its recipe next to it (``OUT.recipe.json``).
``--into PROJECT`` writes ``generated/<slug>-take<N>.mp4`` in the project folder (a new take
every run, never overwriting), conforms it to the project's rate and size when they differ,
and places it at TIME on the first free video track as one undoable step, the recipe stored
on the asset. The length snaps to the model's frame rule and says so. Bad input exits 2 with
one line; Ctrl-C cancels (exit 130) and leaves no partial file.
"""

from __future__ import annotations

import logging
import os
from fractions import Fraction
from pathlib import Path

from .errors import UsageError
from .paths import check_output


def _resolve_model(args):
    """(folder, model id, revision, catalogue entry or None)."""
    if args.model and args.model_path:
        raise UsageError("studio generate: give --model ID or --model-path DIR, not both")
    if args.model_path:
        folder = Path(args.model_path)
        if not folder.is_dir():
            raise UsageError(f"model folder {args.model_path!r} does not exist")
        real = folder.resolve()
        revision = real.name if real.parent.name == "snapshots" else ""  # a Hugging Face cache snapshot: its commit
        return folder, real.name if not revision else real.parent.parent.name.removeprefix("models--"), revision, None
    model_id = args.model or os.environ.get("STUDIO_DEFAULT_MODEL", "cogvideox1.5-5b")
    try:
        from studio.ai.models.catalogue import get_model
    except ImportError:
        raise UsageError("--model needs the model catalogue, which this installation lacks; "
                         "use --model-path DIR") from None
    entry = get_model(model_id)  # UnknownModel: one line with close ids
    if not getattr(entry, "is_video", True):
        raise UsageError(f"model {entry.id} is a {entry.task} model, not a video model (see studio models list)")
    try:
        from studio.ai.models.locate import locate
    except ImportError:
        locate = None
    folder = locate(entry) if locate is not None else None
    if folder is None:
        raise UsageError(f"model {entry.id} is not installed; run: studio models pull {entry.id}")
    real = Path(folder).resolve()
    revision = real.name if real.parent.name == "snapshots" else entry.revision  # from the HF cache: its commit
    return Path(folder), entry.id, revision, entry


def _frames(args, caps, entry) -> tuple[int, Fraction, str | None]:
    """(frames, fps, the snapping line or None) for --seconds."""
    fps = Fraction(entry.fps) if entry is not None else caps.fps
    if args.seconds is None:
        frames = entry.frames.default if entry is not None else caps.default_frames
        return frames, fps, None
    if not args.seconds > 0:
        raise UsageError(f"--seconds must be positive, not {args.seconds:g}")
    if entry is not None:
        from studio.ai.models.catalogue import frames_for_seconds

        frames, actual = frames_for_seconds(entry, args.seconds)
    else:
        frames = caps.frame_rule.snap(round(args.seconds * fps))
        actual = float(frames / fps)
    return frames, fps, f"{actual:.2f} s = {frames} frames at {float(fps):g} fps"


def _output_path(text: str) -> Path:
    out = Path(text)
    if not out.suffix:
        out = out.with_suffix(".mp4")
    if out.suffix.lower() != ".mp4":
        raise UsageError(f"output {text!r}: generate writes .mp4 files")
    return check_output(out)


def _run(job):
    """Run ``job`` with a progress bar on stderr; Ctrl-C cancels it (KeyboardInterrupt, exit 130)."""
    from .progress import run_command_job

    return run_command_job(job, "generate")


def cmd_generate(args) -> int:
    from studio.ai.generate.base import GenerateRequest, get_backend

    from .conform_cmd import parse_size

    if bool(args.output) == bool(args.into):
        raise UsageError("studio generate: give exactly one of -o OUT or --into PROJECT")
    if args.at is not None and not args.into:
        raise UsageError("studio generate: --at goes with --into PROJECT")
    if not args.prompt.strip():
        raise UsageError("studio generate: the prompt is empty")
    if args.image and not os.path.isfile(args.image):
        raise UsageError(f"image {args.image!r} does not exist")
    if (args.width is None) != (args.height is None):
        raise UsageError("give --width and --height together (or --size WxH)")
    if args.width is not None:
        if args.size:
            raise UsageError("give either --size or --width/--height, not both")
        args.size = f"{args.width}x{args.height}"
    size = parse_size(args.size) if args.size else None
    if args.steps is not None and args.steps < 1:
        raise UsageError(f"--steps must be at least 1, not {args.steps}")
    out = _output_path(args.output) if args.output else None
    folder, model_id, revision, entry = _resolve_model(args)
    backend = get_backend(args.backend)
    pipeline = entry.pipeline if entry is not None else ""  # one folder can serve two catalogue ids (LTX t2v/i2v)
    probe_request = GenerateRequest(args.prompt, model_path=str(folder), image=args.image, pipeline=pipeline)
    caps = backend.capabilities(probe_request)
    frames, fps, said = _frames(args, caps, entry)
    width, height = size or ((entry.width, entry.height) if entry is not None else caps.default_size)
    request = GenerateRequest(
        args.prompt, negative_prompt=args.negative or "", seed=args.seed,
        steps=args.steps or (entry.steps if entry is not None else 50),
        guidance=args.guidance if args.guidance is not None else (entry.guidance if entry is not None else 6.0),
        width=width, height=height, frames=frames, fps=fps, image=args.image, model_id=model_id,
        model_path=str(folder), revision=revision, device=args.device, pipeline=pipeline)
    if hasattr(backend, "check"):
        backend.check(request)  # GenerateError: one line, before any heavy work
    if said:
        print(said)
    if out is not None:
        return _to_file(args.backend, request, out)
    return _into_project(args.backend, request, args)


def _to_file(backend, request, out: Path) -> int:
    from studio.ai.generate.in_place import shot_job
    from studio.ai.generate.output import recipe_dict, sidecar_for, write_recipe

    shot = _run(shot_job(request, out.parent, out.stem, backend=backend, out=out))
    recipe = shot.asset.recipe
    sidecar = write_recipe(recipe, sidecar_for(out))
    w, h = shot.native_size
    print(f"wrote {out} ({recipe.frames} frames, {w}x{h} at {float(shot.native_fps):g} fps, seed {request.seed}, "
          f"{float(recipe.frames / shot.native_fps):.1f} s); recipe {sidecar}")
    logging.getLogger(__name__).debug("recipe %s", recipe_dict(recipe))
    return 0


def _into_project(backend, request, args) -> int:
    from studio.ai.generate.in_place import shot_job
    from studio.ai.generate.output import GENERATED_DIR, slug
    from studio.ai.generate.place import place_generated
    from studio.core.history import History
    from studio.core.projectfile import load_project, save_project
    from studio.core.timebase import format_timecode, parse_time

    project_path = Path(args.into)
    project = load_project(project_path)
    pfps = project.fps
    at = parse_time(args.at, pfps) if args.at is not None else project.sequence.duration
    settings = project.settings
    psize = (int(settings.width), int(settings.height))
    if Fraction(request.fps) != Fraction(pfps) or (request.width, request.height) != psize:
        print(f"conforming… ({request.width}x{request.height} at {float(request.fps):g} fps -> "
              f"{psize[0]}x{psize[1]} at {float(pfps):g} fps)")
    folder = project_path.absolute().parent / GENERATED_DIR
    shot = _run(shot_job(request, folder, slug(request.prompt), conform_to=(pfps, psize), backend=backend))
    history = History(project)
    clip = place_generated(history, shot.asset, at)
    save_project(history.project, project_path)
    track = next(t for t in history.project.sequence.tracks if any(c.id == clip.id for c in t.clips))
    print(f"placed {Path(shot.asset.path).name} (take {shot.take}, seed {request.seed}) at "
          f"{format_timecode(at, pfps)} for {format_timecode(clip.duration, pfps)} on {track.name} in {project_path}")
    return 0
