"""`studio conform IN -o OUT [--fps F] [--size WxH] [--interp auto|flow|rife] [--upscale auto|lanczos|esrgan]`.

Frame-interpolates and upscales a clip (default 3840x2160 at 60 fps) as a job with a progress
bar. Bad input exits 2 with one line; Ctrl-C cancels the job, which removes its temp file, and
the command exits 130 leaving nothing under OUT.
"""

from __future__ import annotations

import os
import re
from fractions import Fraction
from pathlib import Path

from studio.core.errors import TimeError
from studio.core.timebase import format_rate, parse_rate

from .errors import UsageError
from .paths import check_output

_SIZE = re.compile(r"\s*(\d+)\s*[xX]\s*(\d+)\s*")
_SUFFIXES = (".mp4", ".mov", ".mkv")


def parse_size(text: str) -> tuple[int, int]:
    """``"3840x2160"`` -> ``(3840, 2160)``; even sides from 16 to 16384."""
    m = _SIZE.fullmatch(text or "")
    if not m:
        raise UsageError(f"bad --size {text!r}: use WIDTHxHEIGHT, e.g. 3840x2160")
    w, h = int(m.group(1)), int(m.group(2))
    if not (16 <= w <= 16384 and 16 <= h <= 16384) or w % 2 or h % 2:
        raise UsageError(f"bad --size {text!r}: width and height must be even numbers from 16 to 16384")
    return w, h


def _parse_fps(text: str) -> Fraction:
    try:
        return parse_rate(text)
    except TimeError as e:
        raise UsageError(f"bad --fps {text!r}: {e}") from None


def _output_path(text: str) -> Path:
    out = Path(text)
    if not out.suffix:
        out = out.with_suffix(".mp4")
    if out.suffix.lower() not in _SUFFIXES:
        raise UsageError(f"output {text!r}: use a .mp4, .mov or .mkv name")
    return check_output(out)


def cmd_conform(args) -> int:
    from studio.ai.enhance.conform import conform, resolve_methods
    from studio.jobs import Job, Priority
    from studio.media.probe import probe

    from .progress import run_command_job

    fps = _parse_fps(args.fps)
    size = parse_size(args.size)
    out = _output_path(args.output)
    src = args.input
    if os.path.abspath(src) == os.path.abspath(out):
        raise UsageError("the output must not be the input")
    info = probe(src)  # MediaError (missing, unreadable, corrupt) -> one line, exit 2
    if not info.has_video or info.is_still:
        raise UsageError(f"{src}: no video stream to conform")
    resolve_methods(args.interp, args.upscale)  # weights missing for an explicit learned method -> exit 2

    job = Job(lambda ctx: conform(src, out, fps=fps, size=size, interp=args.interp, upscale=args.upscale,
                                  context=ctx),
              name="conform", cpu=1, priority=Priority.INTERACTIVE)
    result = run_command_job(job, "conform")
    w, h = result.size
    print(f"conformed {result.path} ({w}x{h} at {format_rate(result.fps)} fps, {result.frames} frames from "
          f"{result.source_frames}, {result.interp} + {result.upscale}, audio {result.audio}, "
          f"{len(result.cuts)} cut(s), in {result.seconds:.1f} s)")
    return 0
