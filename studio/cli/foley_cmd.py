"""`studio foley IN (-o OUT | --into PROJECT [--at TIME]) [--prompt TEXT] [--backend NAME]
[--events-json FILE] [--use-events FILE] [--mix]`.

Detects visual events in IN (impacts, motion onsets, flashes, cuts) and designs synced
sounds with a ``studio.foley_sources`` backend (``synth``: procedural, the default; ``bank``:
CC0 samples). ``-o OUT`` writes IN's video (stream copied) with the foley as the first audio
stream and IN's own audio kept as further streams; ``--mix`` sums them into one stream
instead. ``--into PROJECT`` places the pass in a project as one undoable command (WAVs in
``<project>_foley/``; IN's time 0 at ``--at``, default 0); running it again replaces the
previous pass. ``--events-json FILE`` writes the detected events there; ``--use-events
FILE`` reads events from FILE instead of detecting them.

The pipeline runs as a job (``studio.cli.progress.run_with_progress``: a progress bar on
stderr). Ctrl-C cancels it and the command exits 130, leaving no output file, no sounds and
the project unchanged.
"""

from __future__ import annotations

import os
from pathlib import Path

from .errors import UsageError

_VIDEO_SUFFIXES = (".mp4", ".mov", ".mkv", ".m4v")


def _check_input(path: str):
    from studio.media.probe import probe

    if not os.path.exists(path):
        raise UsageError(f"{path}: no such file")
    info = probe(path)
    if not info.has_video or info.is_still:
        raise UsageError(f"{path}: no video stream to find events in")
    if not info.duration or info.duration <= 0:
        raise UsageError(f"{path}: the video is empty (zero length)")
    return info


def _check_output(text: str) -> Path:
    out = Path(text)
    if out.suffix.lower() not in _VIDEO_SUFFIXES:
        raise UsageError(f"output {text!r} must end in one of {', '.join(_VIDEO_SUFFIXES)}")
    if not out.parent.is_dir():
        raise UsageError(f"output folder {str(out.parent)!r} does not exist")
    if out.is_dir():
        raise UsageError(f"output {text!r} is a folder")
    return out


def _job(args, info, events, out, project=None, offset: int = 0):
    """The pipeline as one job: detect (unless events were given), design, write. Its result is
    ``(events, fps, placed, items)``; a cancel or failure leaves no file behind."""
    from studio.ai.foley.pipeline import FoleyResult, design, detect, foley_audio
    from studio.jobs import Cancelled, Job, Priority

    frames = int(info.video_frames or (info.duration or 0) * (info.fps or 0)) or 1
    share = 0.8 if events is None else 0.0

    def run(ctx):
        found, fps, duration = events, info.fps, float(info.duration)
        if found is None:
            ctx.progress(0.0, "analysing")
            try:
                found, fps, duration = detect(
                    args.input, cancelled=lambda: ctx.cancelled,
                    progress=lambda n: ctx.progress(share * min(1.0, n / frames), f"analysing frame {n}"))
            except InterruptedError:
                raise Cancelled() from None
        ctx.check()
        ctx.progress(share, f"{len(found)} events; designing sounds")
        if out is not None:
            placed = design(found, fps=fps, backend=args.backend, prompt=args.prompt or "")
            ctx.check()
            ctx.progress(share + (1 - share) / 2, "writing")
            from studio.ai.foley.mux import write_with_foley

            write_with_foley(args.input, out, foley_audio(FoleyResult(found, placed, fps, duration, 48000)), 48000,
                             mix=args.mix)
            return found, fps, placed, []
        from studio.ai.foley.placement import foley_folder, write_pass

        sr = int(project.settings.sample_rate)
        placed = design(found, fps=project.fps, sample_rate=sr, backend=args.backend, prompt=args.prompt or "",
                        offset=offset)
        ctx.check()
        ctx.progress(share + (1 - share) / 2, f"writing {len(placed)} sounds")
        items = []
        try:
            items = write_pass(placed, foley_folder(args.into), sr)
            ctx.check()
        except BaseException:
            for it in items:
                Path(it.asset.path).unlink(missing_ok=True)
            raise
        return found, fps, placed, items

    return Job(run, name="foley", cpu=1, priority=Priority.INTERACTIVE)


def _run(job):
    """Run ``job`` with a progress bar on stderr; Ctrl-C cancels it (KeyboardInterrupt, exit 130)."""
    from .progress import run_command_job

    return run_command_job(job, "foley")


def cmd_foley(args) -> int:
    from studio.ai.foley.events import load_events, save_events
    from studio.ai.foley.sources.base import get_source

    if bool(args.output) == bool(args.into):
        raise UsageError("studio foley: give exactly one of -o OUT or --into PROJECT")
    if args.mix and not args.output:
        raise UsageError("studio foley: --mix goes with -o OUT")
    if args.at and not args.into:
        raise UsageError("studio foley: --at goes with --into PROJECT")
    info = _check_input(args.input)
    out = _check_output(args.output) if args.output else None
    events = load_events(args.use_events) if args.use_events else None
    get_source(args.backend)  # an unknown backend is a one-line error before any work starts
    project, offset = None, 0
    if args.into:
        from studio.core.projectfile import load_project
        from studio.core.timebase import parse_time

        project = load_project(args.into)
        offset = parse_time(args.at, project.fps) if args.at else 0
    events, _fps, placed, items = _run(_job(args, info, events, out, project, offset))
    if args.events_json:
        save_events(events, args.events_json)
    counts = ", ".join(f"{sum(e.kind == k for e in events)} {k}" for k in sorted({e.kind for e in events}))
    if out is not None:
        print(f"wrote {out} ({len(events)} events{': ' + counts if counts else ''}; {len(placed)} sounds, "
              f"backend {args.backend})")
        return 0
    return _into_project(args, project, items, events, counts)


def _into_project(args, project, items, events, counts: str) -> int:
    from studio.ai.foley.placement import FoleyPass
    from studio.core.history import History
    from studio.core.projectfile import save_project

    sr = int(project.settings.sample_rate)
    history = History(project)
    history.apply(FoleyPass(items, fps=project.fps, sample_rate=sr))
    save_project(history.project, args.into)
    print(f"placed {len(items)} foley clips in {args.into} ({len(events)} events{': ' + counts if counts else ''})")
    return 0
