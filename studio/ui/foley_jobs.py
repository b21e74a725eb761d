"""The editor's foley jobs (Qt-free): detect events on clips, make sounds for events, or both.

Times in the results are float seconds from the sequence start (what the foley marker helpers
and ``design(offset=0)`` take). ``studio.ai`` is imported inside the job functions, so opening
the editor does not pay for it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path

from studio.core.project import Project
from studio.core.timeline import Clip
from studio.jobs import Cancelled, Job, JobContext, Priority

#: Share of a detect-and-make job's progress bar spent on analysis (the rest: sounds and files).
ANALYSIS_SHARE = 0.8


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


def make_sounds(ctx: JobContext, events: list, *, fps: Fraction, sample_rate: int, folder: Path,
                backend: str | None = None, start: float = 0.0) -> list:
    """Design a sound for each event (sequence seconds) and write the WAVs into ``folder``:
    ``PassItem``s for ``FoleyPass``. Nothing is left in ``folder`` when cancelled or failing."""
    from studio.ai.foley.pipeline import DEFAULT_BACKEND, design
    from studio.ai.foley.placement import write_pass

    ctx.progress(start, f"designing {len(events)} sounds")
    placed = design(events, fps=fps, sample_rate=sample_rate, backend=backend or DEFAULT_BACKEND, offset=0)
    ctx.check()
    ctx.progress(start + (1.0 - start) * 0.5, f"writing {len(placed)} sounds")
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


def sounds_job(events: list, *, fps: Fraction, sample_rate: int, folder: Path, backend: str | None = None) -> Job:
    """A job: sounds for ``events`` (sequence seconds) written into ``folder``; result: the pass items."""

    def run(ctx: JobContext) -> list:
        return make_sounds(ctx, events, fps=fps, sample_rate=sample_rate, folder=folder, backend=backend)

    return Job(run, name=f"make {len(events)} foley sounds", cpu=1, priority=Priority.INTERACTIVE)


def foley_clip_job(target: FoleyTarget, *, fps: Fraction, sample_rate: int, folder: Path,
                   keep: Sequence = (), backend: str | None = None) -> Job:
    """A job: detect the events of one clip and make the sounds of those plus ``keep`` (events of
    foley markers elsewhere on the sequence, whose sounds the new pass must not lose).
    Result: ``(items, events)`` with ``events`` the clip's new events."""

    def run(ctx: JobContext) -> tuple[list, list]:
        events = detect_events_on(ctx, [target], fps, share=ANALYSIS_SHARE)
        ctx.check()
        everything = sorted([*events, *keep], key=lambda e: e.time)
        items = make_sounds(ctx, everything, fps=fps, sample_rate=sample_rate, folder=folder, backend=backend,
                            start=ANALYSIS_SHARE)
        return items, events

    return Job(run, name=f"foley {target.clip.name or target.clip.id}", cpu=1, priority=Priority.INTERACTIVE)


def unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
