"""The editor's foley jobs (Qt-free): detect events on clips, make sounds for events, or both.

Times in the results are float seconds from the sequence start (what the foley marker helpers
and ``design(offset=0)`` take). ``studio.ai`` is imported inside the job functions, so opening
the editor does not pay for it.

What the sounds come from is a ``FoleyChoice`` (the Foley Sounds dialog fills it in): a
``studio.foley_sources`` backend (synth, bank, or ``tta`` with a model folder, seed and steps),
or a ``studio.v2a_models`` plugin that writes each video clip's whole soundtrack (one sound per
clip, placed as the CLI's ``--into`` does). Optional CLIP labels (or a prompt that overrides every
label) are put on the events first. Model steps report progress to, and stop on the cancel of,
the job; a cancel or failure leaves no file behind.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path

from studio.core.project import Project
from studio.core.timeline import Clip
from studio.jobs import Cancelled, Job, JobContext, Priority, ProgressSpan

#: Share of a detect-and-make job's progress bar spent on analysis (the rest: sounds and files).
ANALYSIS_SHARE = 0.8
#: The same with a model making the sounds (generation, not analysis, takes the time).
MODEL_ANALYSIS_SHARE = 0.3
V2A = "v2a"


@dataclass(frozen=True, slots=True)
class FoleyChoice:
    """Where a pass's sounds come from and how events are labelled (what the dialog was accepted with).

    ``backend``: a ``studio.foley_sources`` name ("synth", "bank", "tta", a plugin) or ``"v2a"``;
    ``model``: the text-to-audio folder (tta) or the video-to-audio plugin name (v2a);
    ``clip_model``: a CLIP folder to label events with (None: motion labels);
    ``override``: the prompt becomes every sounding event's label (no model needed);
    ``accepted``: the user accepted the model's licence (a non-commercial v2a model refuses without);
    ``ambience``: a bed (``studio.ai.foley.ambience.KINDS``) under each target clip, "" for none."""

    backend: str = "synth"
    model: str | None = None
    prompt: str = ""
    override: bool = False
    seed: int = 0
    steps: int | None = None
    clip_model: str | None = None
    accepted: bool = False
    name: str = ""
    ambience: str = ""

    @property
    def uses_model(self) -> bool:
        return self.backend in ("tta", V2A) or self.clip_model is not None

    @property
    def label(self) -> str:
        return self.name or self.model or self.backend


@dataclass(frozen=True, slots=True)
class FoleyTarget:
    """A video clip to analyse: its media file and how many frames the analysis will decode."""

    media_path: str
    clip: Clip
    expected_frames: int = 0


def target_for(project: Project, clip: Clip) -> FoleyTarget | None:
    """The target of a clip whose media moves (not a still), or None."""
    asset = project.asset(clip.asset_id)
    if asset is None or not asset.has_video or asset.info.is_still or not asset.info.fps:
        return None
    info = asset.info
    expected = int(info.duration * info.fps) if info.duration and info.fps else 0
    return FoleyTarget(asset.path, clip, expected)


def targets_in_range(project: Project, start: int, end: int) -> list[FoleyTarget]:
    """Every enabled video clip of a moving picture that overlaps frames ``start .. end`` (exclusive)."""
    out = []
    for track in project.sequence.tracks_of("video"):
        for clip in track.clips:
            if clip.enabled and clip.position < end and start < clip.end:
                t = target_for(project, clip)
                if t is not None:
                    out.append(t)
    return out


def clip_events(events: list, clip: Clip, fps: Fraction) -> list:
    """Events (seconds from the media start) inside the clip's source range, re-timed to seconds
    from the clip's start on the sequence. Speed is honoured for timing (reverse too); the sounds
    themselves are not retimed."""
    fps = Fraction(fps)
    speed = Fraction(clip.speed)
    start, end = Fraction(clip.source_in) / fps, clip.source_out / fps
    out = []
    for e in events:
        t = Fraction(e.time)
        if not start <= t < end:
            continue
        offset = (t - start) / speed if speed > 0 else (end - t) / -speed
        out.append(replace(e, time=float(offset)))
    return out


def detect_events_on(ctx: JobContext, targets: Sequence[FoleyTarget], fps: Fraction,
                     span: tuple[int, int] | None = None, share: float = 1.0) -> list:
    """Analyse each target's media once and return its events in sequence seconds, time-sorted.

    ``span`` (frames, end exclusive) keeps only the events whose frame lies in it. Progress runs
    from 0 to ``share``; cancelling raises Cancelled.
    """
    from studio.ai.foley.analysis import analyze
    from studio.ai.foley.events import detect_events
    from studio.ai.foley.markers import shifted_events

    fps = Fraction(fps)
    by_media: dict[str, list[FoleyTarget]] = {}
    for t in targets:
        by_media.setdefault(t.media_path, []).append(t)
    sizes = {path: max(1, group[0].expected_frames) for path, group in by_media.items()}
    total, done = sum(sizes.values()) or 1, 0
    found = []
    for path, group in by_media.items():
        name = os.path.basename(path)
        size = sizes[path]

        def analysed(n: int, done: int = done, size: int = size, name: str = name) -> None:
            ctx.progress(share * (done + min(n, size)) / total, f"analysing {name}: frame {n}")

        ctx.progress(share * done / total, f"analysing {name}")
        try:
            features = analyze(path, progress=analysed, cancelled=lambda: ctx.cancelled)
        except InterruptedError:
            raise Cancelled() from None
        ctx.check()
        events = detect_events(features)
        for t in group:
            for e in shifted_events(clip_events(events, t.clip, fps), float(t.clip.position / fps)):
                frame = int(e.time * float(fps) + 1e-9)
                if span is None or span[0] <= frame < span[1]:
                    found.append(e)
        done += size
    return sorted(found, key=lambda e: e.time)


def target_at(targets: Sequence[FoleyTarget], seconds: float, fps: Fraction) -> FoleyTarget | None:
    """The target whose clip covers sequence time ``seconds`` (the topmost listed first wins)."""
    frame = int(seconds * float(fps) + 1e-9)
    return next((t for t in targets if t.clip.position <= frame < t.clip.end), None)


def media_seconds(target: FoleyTarget, seconds: float, fps: Fraction) -> float:
    """Sequence time ``seconds`` as a time in the target clip's media (speed and reverse honoured)."""
    fps = Fraction(fps)
    clip, speed = target.clip, Fraction(target.clip.speed)
    into = Fraction(seconds).limit_denominator(10**9) - Fraction(clip.position) / fps
    if speed > 0:
        return float(Fraction(clip.source_in) / fps + into * speed)
    return float(Fraction(clip.source_out) / fps + into * speed)


def label_step(ctx: JobContext, events: list, choice: FoleyChoice, targets: Sequence[FoleyTarget], fps: Fraction,
               start: float = 0.0, end: float = 0.0) -> list:
    """``events`` (sequence seconds) with the labels ``choice`` asks for: the prompt on every sounding
    event (override), CLIP's labels from the frame under each event (events over no target keep
    theirs), or unchanged. Progress runs from ``start`` to ``end``."""
    from studio.ai.foley.labels import label_events

    if choice.override:
        return label_events(events, prompt=choice.prompt, override=True)
    if choice.clip_model is None or not events:
        return events
    from studio.ai.foley.labels import ClipLabeler, event_crops

    labeler = ClipLabeler(choice.clip_model)
    groups: dict[str, list[tuple[int, float]]] = {}
    for i, e in enumerate(events):
        t = target_at(targets, e.time, fps)
        if t is not None:
            groups.setdefault(t.media_path, []).append((i, media_seconds(t, e.time, fps)))
    out, total, done = list(events), sum(len(g) for g in groups.values()) or 1, 0
    try:
        for path, members in groups.items():
            ctx.progress(start + (end - start) * done / total, f"labelling events in {os.path.basename(path)}")
            local = [replace(events[i], time=max(0.0, t)) for i, t in members]
            crops = event_crops(path, local, cancelled=lambda: ctx.cancelled)
            labelled = label_events(local, crops=crops, labeler=labeler, prompt=choice.prompt,
                                    cancelled=lambda: ctx.cancelled)
            for (i, _), e in zip(members, labelled, strict=True):
                out[i] = replace(events[i], label=e.label)
            done += len(members)
    except InterruptedError:
        raise Cancelled() from None
    ctx.check()
    return out


def v2a_placed(ctx: JobContext, choice: FoleyChoice, targets: Sequence[FoleyTarget], events: list, *,
               fps: Fraction, sample_rate: int) -> list:
    """Each target clip's whole soundtrack from the video-to-audio plugin ``choice.model``, laid out
    as one sound from the clip's start (the events of the clip go along as timing hints)."""
    from studio.ai.foley.placement import layout
    from studio.ai.foley.sources.video_to_audio import (
        LicenceNotAccepted,
        V2AError,
        V2ARequest,
        bed_event,
        get_model,
        needs_acceptance,
        render_range,
    )

    model = get_model(choice.model or "")
    if needs_acceptance(model) and not choice.accepted:
        lic = model.licence
        raise LicenceNotAccepted(f"{model.name} is under the {lic.name} licence (non-commercial use only, {lic.url}); "
                                 "accept it in the Foley Sounds dialog to use it")
    fps = Fraction(fps)
    placed: list = []
    for k, t in enumerate(targets):
        clip = t.clip
        if Fraction(clip.speed) != 1:
            raise V2AError(f"{model.name} makes a clip's soundtrack at normal speed only; "
                           f"{clip.name or clip.id} plays at {float(clip.speed):g}x")
        at, length = float(Fraction(clip.position) / fps), float(Fraction(clip.duration) / fps)
        hints = tuple(replace(e, time=e.time - at) for e in events if at <= e.time < at + length)
        request = V2ARequest(t.media_path, float(Fraction(clip.source_in) / fps),
                             float(Fraction(clip.source_in) / fps) + length, prompt=choice.prompt, events=hints,
                             sample_rate=sample_rate, seed=choice.seed)
        span = ProgressSpan(ctx, k / len(targets), (k + 1) / len(targets))
        try:
            sound = render_range(model, request, span, accepted=choice.accepted)
        except InterruptedError:
            raise Cancelled() from None
        ctx.check()
        placed += layout([bed_event(model, at, length)], [sound], fps=fps, sample_rate=sample_rate)
    return placed


def make_source(choice: FoleyChoice):
    """The ``studio.foley_sources`` source ``choice`` names (tta: its model folder, seed and steps)."""
    if choice.backend == "tta":
        from studio.ai.foley.sources.text_to_audio import TextToAudioSource

        return TextToAudioSource(choice.model, steps=choice.steps, seed=choice.seed)
    from studio.ai.foley.sources.base import get_source

    return get_source(choice.backend)


def ambience_beds(choice: FoleyChoice, targets: Sequence[FoleyTarget], *, fps: Fraction, sample_rate: int) -> list:
    """One ``choice.ambience`` bed under each target clip, spanning it on the sequence."""
    from studio.ai.foley.ambience import ambience_item

    fps = Fraction(fps)
    return [ambience_item(choice.ambience, float(Fraction(t.clip.position) / fps),
                          float(Fraction(t.clip.duration) / fps), fps=fps, sample_rate=sample_rate, seed=choice.seed)
            for t in targets]


def make_sounds(ctx: JobContext, events: list, *, fps: Fraction, sample_rate: int, folder: Path,
                choice: FoleyChoice | None = None, targets: Sequence[FoleyTarget] = (), start: float = 0.0) -> list:
    """Design a sound for each event (sequence seconds) with ``choice``'s source, or each target
    clip's soundtrack with its video-to-audio model, and write the WAVs into ``folder``:
    ``PassItem``s for ``FoleyPass``. Nothing is left in ``folder`` when cancelled or failing."""
    from studio.ai.foley.pipeline import design
    from studio.ai.foley.placement import write_pass

    choice = choice or FoleyChoice()
    designed = start + (1.0 - start) * (0.9 if choice.uses_model else 0.5)
    span = ProgressSpan(ctx, start, designed)
    if choice.backend == V2A:
        ctx.progress(start, f"{choice.label}: soundtrack of {len(targets)} clips")
        placed = v2a_placed(ctx, choice, targets, events, fps=fps, sample_rate=sample_rate)
    else:
        ctx.progress(start, f"designing {len(events)} sounds ({choice.label})")
        placed = design(events, fps=fps, sample_rate=sample_rate, prompt=choice.prompt, offset=0,
                        source=make_source(choice), context=span)
    if choice.ambience:
        placed = placed + ambience_beds(choice, targets, fps=fps, sample_rate=sample_rate)
    ctx.check()
    ctx.progress(designed, f"writing {len(placed)} sounds")
    items: list = []
    try:
        items = write_pass(placed, folder, sample_rate)
        ctx.check()
    except BaseException:
        for it in items:
            unlink(it.asset.path)
        raise
    return items


def detect_job(targets: Sequence[FoleyTarget], *, fps: Fraction, span: tuple[int, int] | None = None,
               name: str = "") -> Job:
    """A job: the events of ``targets`` (sequence seconds). Nothing is written anywhere."""

    def run(ctx: JobContext) -> list:
        events = detect_events_on(ctx, targets, fps, span)
        ctx.progress(1.0, f"{len(events)} events")
        return events

    return Job(run, name=f"detect foley events {name}".strip(), cpu=1, priority=Priority.INTERACTIVE)


def sounds_job(events: list, *, fps: Fraction, sample_rate: int, folder: Path, choice: FoleyChoice | None = None,
               targets: Sequence[FoleyTarget] = ()) -> Job:
    """A job: sounds for ``events`` (sequence seconds) written into ``folder``; result: the pass items.
    ``targets``: the video clips under the events (for CLIP labels and video-to-audio models)."""
    choice = choice or FoleyChoice()

    def run(ctx: JobContext) -> list:
        labelled = choice.override or choice.clip_model is not None
        found = label_step(ctx, events, choice, targets, fps, 0.0, 0.2 if labelled else 0.0)
        return make_sounds(ctx, found, fps=fps, sample_rate=sample_rate, folder=folder, choice=choice,
                           targets=targets, start=0.2 if labelled else 0.0)

    return Job(run, name=f"make {len(events)} foley sounds ({choice.label})", cpu=1,
               gpu=1 if choice.uses_model else 0, priority=Priority.INTERACTIVE)


def foley_clip_job(target: FoleyTarget, *, fps: Fraction, sample_rate: int, folder: Path,
                   keep: Sequence = (), choice: FoleyChoice | None = None) -> Job:
    """A job: detect the events of one clip, label them as ``choice`` says and make the sounds of
    those plus ``keep`` (events of foley markers elsewhere on the sequence, whose sounds the new pass
    must not lose; a video-to-audio pass holds this clip's soundtrack only).
    Result: ``(items, events)`` with ``events`` the clip's new (labelled) events."""
    choice = choice or FoleyChoice()
    share = MODEL_ANALYSIS_SHARE if choice.uses_model else ANALYSIS_SHARE

    def run(ctx: JobContext) -> tuple[list, list]:
        events = detect_events_on(ctx, [target], fps, share=share)
        ctx.check()
        labelled = share + (0.1 if choice.clip_model is not None else 0.0)
        events = label_step(ctx, events, choice, [target], fps, share, labelled)
        everything = events if choice.backend == V2A else sorted([*events, *keep], key=lambda e: e.time)
        items = make_sounds(ctx, everything, fps=fps, sample_rate=sample_rate, folder=folder, choice=choice,
                            targets=[target], start=labelled)
        return items, events

    return Job(run, name=f"foley {target.clip.name or target.clip.id} ({choice.label})", cpu=1,
               gpu=1 if choice.uses_model else 0, priority=Priority.INTERACTIVE)


def unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
