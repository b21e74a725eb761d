"""`studio foley IN (-o OUT | --into PROJECT [--at TIME]) [--prompt TEXT] [--backend NAME]
[--events-json FILE] [--use-events FILE] [--mix] [--labels motion|clip] [--clip-model DIR|ID]
[--prompt-mode bias|override] [--model DIR|ID] [--steps N] [--seed N] [--accept-licence]`.

Detects visual events in IN (impacts, motion onsets, flashes, cuts) and designs synced
sounds with a ``studio.foley_sources`` backend (``synth``: procedural, the default; ``bank``:
CC0 samples). ``-o OUT`` writes IN's video (stream copied) with the foley as the first audio
stream and IN's own audio kept as further streams; ``--mix`` sums them into one stream
instead. ``--into PROJECT`` places the pass in a project as one undoable command (WAVs in
``<project>_foley/``; IN's time 0 at ``--at``, default 0); running it again replaces the
previous pass. ``--events-json FILE`` writes the detected events there; ``--use-events
FILE`` reads events from FILE instead of detecting them.

Labels: ``--labels clip`` names each event's sound with a local CLIP model (``--clip-model``,
default the catalogue's ``clip-vit-base-patch32``); ``--prompt`` biases those labels, or with
``--prompt-mode override`` becomes every event's label. Models: ``--backend tta`` generates
the sounds with a text-to-audio model (``--model``: a diffusers folder or catalogue id;
``--steps``, ``--seed``); a ``--backend`` naming a ``studio.v2a_models`` plugin makes the whole
soundtrack with that video-to-audio model, which needs ``--accept-licence`` when its licence is
non-commercial (MMAudio: CC BY-NC 4.0).

The pipeline runs as a job (``studio.cli.progress.run_with_progress``: a progress bar on
stderr). Ctrl-C cancels it and the command exits 130, leaving no output file, no sounds and
the project unchanged.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import UsageError

_VIDEO_SUFFIXES = (".mp4", ".mov", ".mkv", ".m4v")


class _EarlyAnalysis:
    """The analysis, started before the rest of the command is set up.

    Checking the input, resolving the plan and importing the rest of the pipeline take a
    fifth of a second on one core; the decoder uses the other meanwhile. The job attaches its
    context when it starts (progress from then on, its cancel); a command that stops before
    its job (bad input, Ctrl-C) stops the analysis and waits for it. Its outcome is what
    ``detect`` would return or raise.
    """

    def __init__(self, path: str) -> None:
        self._path = path
        self._stop = threading.Event()
        self._ctx = None
        self._report = None
        self._next = 0
        self._step = 1
        self._result: Any = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="foley-analysis", daemon=True)
        self._thread.start()

    def _cancelled(self) -> bool:
        return self._stop.is_set() or (self._ctx is not None and self._ctx.cancelled)

    def _progress(self, n: int) -> None:
        report = self._report
        if report is not None and n >= self._next:  # every 1%: a report per frame costs ~2% of the analysis
            self._next = n + self._step
            report(n)

    def _run(self) -> None:
        try:
            from studio.ai.foley.analysis import analyze
            from studio.ai.foley.events import detect_events

            f = analyze(self._path, progress=self._progress, cancelled=self._cancelled)
            self._result = detect_events(f), f.fps, f.duration
        except BaseException as e:  # handed to the job (or dropped, when the command stopped first)
            self._error = e

    def attach(self, ctx, report, frames: int) -> None:
        """Report progress to ``report(n)`` (about every 1% of ``frames``) and stop on ``ctx``'s cancel."""
        self._step = max(1, frames // 100)
        self._ctx, self._report = ctx, report

    def result(self):
        """``(events, fps, duration)`` once the analysis ends; its error re-raised."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._result

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


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


@dataclass
class Plan:
    """What the command will run, resolved (and checked) before any work starts."""

    source: Any = None  # a FoleySource, or None with a video-to-audio model
    v2a: Any = None
    labeler: Any = None  # a ClipLabeler for --labels clip
    override: bool = False  # --prompt-mode override: the prompt is every event's label


def _builtin_source(name: str):
    """The in-tree ``synth`` / ``bank`` source, without scanning the installed plugins (in-tree names
    always win over a plugin's, and the scan plus importlib.metadata cost ~40 ms of start-up)."""
    if name == "synth":
        from studio.ai.foley.sources.synth import SynthSource

        return SynthSource()
    from studio.ai.foley.sources.bank import BankSource

    return BankSource()


def _plan(args) -> Plan:
    """The source, video-to-audio model and labeler the options name; one-line errors for bad ones."""
    plan = Plan(override=args.prompt_mode == "override")
    if args.steps is not None and args.steps < 1:
        raise UsageError(f"studio foley: --steps must be at least 1, not {args.steps}")
    if plan.override and not (args.prompt or "").strip():
        raise UsageError("studio foley: --prompt-mode override needs --prompt TEXT")
    if args.backend in ("synth", "bank"):
        if args.model:
            raise UsageError("studio foley: --model goes with --backend tta or a video-to-audio model")
        plan.source = _builtin_source(args.backend)
        return _plan_labels(args, plan)
    from studio.ai.foley.sources.base import available_sources, get_source
    from studio.ai.foley.sources.video_to_audio import available_models, get_model, require_accepted

    sources = available_sources()
    if args.backend == "tta":
        from studio.ai.foley.sources.text_to_audio import TextToAudioSource

        plan.source = TextToAudioSource(args.model, steps=args.steps, seed=args.seed)
    elif args.backend in sources:
        if args.model:
            raise UsageError("studio foley: --model goes with --backend tta or a video-to-audio model")
        plan.source = get_source(args.backend)
    elif args.backend in available_models():
        plan.v2a = get_model(args.backend)
        require_accepted(plan.v2a, args.accept_licence)
    else:
        names = sorted(set(sources) | set(available_models()))
        raise UsageError(f"unknown foley backend {args.backend!r} (available: {', '.join(names)})")
    return _plan_labels(args, plan)


def _plan_labels(args, plan: Plan) -> Plan:
    if args.labels == "clip" and not plan.override:
        from studio.ai.foley.labels import ClipLabeler

        plan.labeler = ClipLabeler(args.clip_model)
    elif args.clip_model and args.labels != "clip":
        raise UsageError("studio foley: --clip-model goes with --labels clip")
    return plan


def _label(args, plan: Plan, found, ctx, start: float, end: float):
    if plan.labeler is None and not plan.override:
        return found
    from studio.ai.foley.labels import event_crops, label_events

    if plan.override:
        return label_events(found, prompt=args.prompt or "", override=True)
    ctx.progress(start, "labelling events")
    try:
        crops = event_crops(args.input, found, cancelled=lambda: ctx.cancelled)
        return label_events(found, crops=crops, labeler=plan.labeler, prompt=args.prompt or "",
                            progress=lambda f, m: ctx.progress(start + (end - start) * f, m),
                            cancelled=lambda: ctx.cancelled)
    except InterruptedError:
        from studio.jobs import Cancelled

        raise Cancelled() from None


def _sounds(args, plan: Plan, found, ctx, *, fps, sample_rate: int, offset: int, duration: float, start: float,
            end: float):
    """Lay out the sounds: one per event from the source, or the video-to-audio soundtrack."""
    from studio.ai.foley.pipeline import design
    from studio.ai.foley.placement import layout
    from studio.jobs import ProgressSpan

    span = ProgressSpan(ctx, start, end)
    if plan.v2a is not None:
        from studio.ai.foley.sources.video_to_audio import V2ARequest, bed_event, render_range, shift_events

        request = V2ARequest(args.input, 0.0, duration, prompt=args.prompt or "", events=shift_events(found, 0.0),
                             sample_rate=sample_rate, seed=args.seed)
        try:
            sound = render_range(plan.v2a, request, span, accepted=args.accept_licence)
        except InterruptedError:
            from studio.jobs import Cancelled

            raise Cancelled() from None
        placed = layout([bed_event(plan.v2a, 0.0, duration)], [sound], fps=fps, sample_rate=sample_rate,
                        offset=offset)
    else:
        placed = design(found, fps=fps, sample_rate=sample_rate, prompt=args.prompt or "", offset=offset,
                        source=plan.source, context=span)
    if args.ambience:
        from studio.ai.foley.ambience import ambience_item

        placed.append(ambience_item(args.ambience, 0.0, duration, fps=fps, sample_rate=sample_rate, offset=offset,
                                    seed=args.seed))
    return placed


def _job(args, info, events, out, plan: Plan, project=None, offset: int = 0, early: _EarlyAnalysis | None = None):
    """The pipeline as one job: detect (unless events were given; ``early``: already started),
    label, design, write. Its result is ``(events, fps, placed, items)``; a cancel or failure
    leaves no file behind."""
    from studio.ai.foley.pipeline import FoleyResult, detect, foley_audio
    from studio.jobs import Cancelled, Job, Priority

    frames = int(info.video_frames or (info.duration or 0) * (info.fps or 0)) or 1
    models = plan.labeler is not None or plan.v2a is not None or args.backend == "tta"
    share = 0.0 if events is not None else (0.3 if models else 0.8)
    labelled = share + (0.1 if plan.labeler is not None else 0.0)
    designed = labelled + (1 - labelled) * (0.9 if models else 0.5)

    def run(ctx):
        found, fps, duration = events, info.fps, float(info.duration)
        if found is None:
            ctx.progress(0.0, "analysing")

            def report(n: int) -> None:
                ctx.progress(share * min(1.0, n / frames), f"analysing frame {n}")

            try:
                if early is not None:
                    early.attach(ctx, report, frames)
                    found, fps, duration = early.result()
                else:
                    found, fps, duration = detect(args.input, cancelled=lambda: ctx.cancelled, progress=report)
            except InterruptedError:
                raise Cancelled() from None
        ctx.check()
        found = _label(args, plan, found, ctx, share, labelled)
        ctx.check()
        ctx.progress(labelled, f"{len(found)} events; designing sounds")
        if out is not None:
            placed = _sounds(args, plan, found, ctx, fps=fps, sample_rate=48000, offset=0, duration=duration,
                             start=labelled, end=designed)
            ctx.check()
            ctx.progress(designed, "writing")
            from studio.ai.foley.mux import write_with_foley

            write_with_foley(args.input, out, foley_audio(FoleyResult(found, placed, fps, duration, 48000)), 48000,
                             mix=args.mix)
            return found, fps, placed, []
        from studio.ai.foley.placement import foley_folder, write_pass

        sr = int(project.settings.sample_rate)
        placed = _sounds(args, plan, found, ctx, fps=project.fps, sample_rate=sr, offset=offset, duration=duration,
                         start=labelled, end=designed)
        ctx.check()
        ctx.progress(designed, f"writing {len(placed)} sounds")
        items = []
        try:
            items = write_pass(placed, foley_folder(args.into), sr)
            ctx.check()
        except BaseException:
            for it in items:
                Path(it.asset.path).unlink(missing_ok=True)
            raise
        return found, fps, placed, items

    return Job(run, name="foley", cpu=1, gpu=1 if models else 0, priority=Priority.INTERACTIVE)


def _run(job):
    """Run ``job`` with a progress bar on stderr; Ctrl-C cancels it (KeyboardInterrupt, exit 130)."""
    from .progress import run_command_job

    return run_command_job(job, "foley")


def cmd_foley(args) -> int:
    if bool(args.output) == bool(args.into):
        raise UsageError("studio foley: give exactly one of -o OUT or --into PROJECT")
    if args.mix and not args.output:
        raise UsageError("studio foley: --mix goes with -o OUT")
    if args.at and not args.into:
        raise UsageError("studio foley: --at goes with --into PROJECT")
    early = None if args.use_events or not os.path.isfile(args.input) else _EarlyAnalysis(args.input)
    try:
        from studio.ai.foley.events import load_events, save_events

        info = _check_input(args.input)
        out = _check_output(args.output) if args.output else None
        events = load_events(args.use_events) if args.use_events else None
        plan = _plan(args)  # an unknown backend, a missing model or an unaccepted licence: one line, before any work
        project, offset = None, 0
        if args.into:
            from studio.core.projectfile import load_project
            from studio.core.timebase import parse_time

            project = load_project(args.into)
            offset = parse_time(args.at, project.fps) if args.at else 0
        events, _fps, placed, items = _run(_job(args, info, events, out, plan, project, offset, early))
    finally:
        if early is not None:  # a bad input or a Ctrl-C before the job got to it: stop the analysis
            early.stop()
    if args.events_json:
        save_events(events, args.events_json)
    counts = ", ".join(f"{sum(e.kind == k for e in events)} {k}" for k in sorted({e.kind for e in events}))
    if out is not None:
        print(f"wrote {out} ({len(events)} events{': ' + counts if counts else ''}; {len(placed)} sounds, "
              f"backend {args.backend})")
        return 0
    return _into_project(args, project, items, events, counts)


def add_model_options(p) -> None:
    """The model options of ``studio foley`` (labels, text-to-audio, video-to-audio)."""
    p.add_argument("--labels", default="motion", choices=("motion", "clip"),
                   help="event labels: motion (default) or clip (zero-shot, a local CLIP model)")
    p.add_argument("--clip-model", metavar="DIR|ID", help="CLIP folder or model id (default: clip-vit-base-patch32)")
    p.add_argument("--prompt-mode", default="bias", choices=("bias", "override"),
                   help="bias: the prompt nudges CLIP's labels (default); override: it is every event's label")
    p.add_argument("--model", metavar="DIR|ID", help="with --backend tta: text-to-audio diffusers folder or model id")
    p.add_argument("--steps", type=int, metavar="N", help="denoising steps of a model backend (default: the model's)")
    p.add_argument("--seed", type=int, default=0, metavar="N", help="random seed of a model backend (default 0)")
    p.add_argument("--accept-licence", "--accept-license", dest="accept_licence", action="store_true",
                   help="accept a non-commercial model licence (video-to-audio models such as MMAudio)")
    p.add_argument("--ambience", choices=("room", "wind", "rain"),
                   help="add a quiet ambience bed under the whole clip (on its own Ambience track with --into)")


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
