"""`studio render PROJECT -o OUT [--preset NAME] [--vcodec C] [--crf N] [--speed P] [--range A-B] [--normalize LUFS]`.

Runs the export as a job (``studio.cli.progress.run_with_progress``: a live bar on a
terminal, plain lines otherwise, both on stderr). Ctrl-C cancels the job, which removes its
partial file; the command then exits 130.
"""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

from studio.core.errors import TimeError
from studio.core.timebase import parse_time

from .errors import UsageError
from .paths import check_output


def parse_range(text: str, fps: Fraction, duration: int) -> tuple[int, int]:
    """``"A-B"`` (seconds or timecode each) -> sequence frames ``(start, end)``, end exclusive.

    An end past the sequence is clamped to it; a start at or past the end is an error.
    """
    parts = text.split("-")
    if len(parts) != 2 or not parts[0].strip() or not parts[1].strip():
        raise UsageError(f"bad --range {text!r}: use START-END in seconds or timecode, e.g. 2-5.5")
    try:
        start, end = (parse_time(p, fps) for p in parts)
    except TimeError as e:
        raise UsageError(f"bad --range {text!r}: {e}") from None
    if end <= start:
        raise UsageError(f"bad --range {text!r}: the end must come after the start")
    if start >= duration:
        raise UsageError(f"bad --range {text!r}: the sequence ends at {float(Fraction(duration) / fps):.3f} s")
    return start, min(end, duration)


def _output_path(text: str, preset) -> Path:
    out = Path(text)
    if not out.suffix:
        out = out.with_suffix(preset.extension)
    elif out.suffix.lower() != preset.extension.lower():
        raise UsageError(f"output {text!r} does not end in {preset.extension}, which preset {preset.name!r} writes")
    return check_output(out)


def _check_media(project, start: int, end: int) -> None:
    used = {c.asset_id for t in project.sequence.tracks for c in t.clips
            if c.enabled and c.position < end and c.end > start}
    missing = [a.name or a.path for a in project.assets if a.id in used and not os.path.exists(a.path)]
    if missing:
        raise UsageError(f"missing media: {', '.join(missing)} (relink it in the editor first)")


def run_export(project, out: Path, preset, frame_range: tuple[int, int], normalize: float | None = None):
    """Run the export as a job with a progress bar; errors come back as their own one line."""
    from studio.jobs import Job, Priority
    from studio.render.export import export

    from .progress import run_command_job

    job = Job(lambda ctx: export(project, out, preset, frame_range=frame_range, context=ctx,
                                 normalise_lufs=normalize),
              name="render", cpu=1, priority=Priority.INTERACTIVE)
    return run_command_job(job, "render")


def cmd_render(args) -> int:
    from studio.core.projectfile import load_project
    from studio.render.presets import load_preset

    if args.crf is not None and args.crf < 0:
        raise UsageError(f"--crf must not be negative, not {args.crf}")
    if args.normalize is not None and not -70.0 < args.normalize < 0.0:
        raise UsageError(f"--normalize takes a loudness in LUFS between -70 and 0 (e.g. -14), not {args.normalize:g}")
    project = load_project(args.project)
    preset = load_preset(args.preset).with_overrides(vcodec=args.vcodec, crf=args.crf, speed=args.speed).validate()
    if args.normalize is not None and preset.audio is None:
        raise UsageError(f"--normalize needs audio, and preset {preset.name!r} has none")
    out = _output_path(args.output, preset)
    fps = project.settings.fps
    duration = project.sequence.duration
    if duration == 0:
        raise UsageError(f"{args.project}: nothing to render, the sequence is empty")
    start, end = parse_range(args.range, fps, duration) if args.range else (0, duration)
    _check_media(project, start, end)

    result = run_export(project, out, preset, (start, end), args.normalize)
    extra = ""
    if result.gain_db is not None:
        extra = f", loudness {result.loudness:.1f} LUFS, gain {result.gain_db:+.1f} dB"
        if result.loudness + result.gain_db < args.normalize - 0.1:
            extra += f" (held by the peak ceiling; {args.normalize:g} LUFS not reached)"
    print(f"rendered {result.path} ({preset.name}, {result.frames} frames, {float(result.duration):.3f} s, "
          f"in {result.seconds:.1f} s{extra})")
    return 0
