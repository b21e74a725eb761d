"""`studio import-otio` and `studio export-otio` (.otio, FCP 7 XML, CMX 3600 EDL)."""

from __future__ import annotations

import sys
from pathlib import Path

from studio.core.interchange import read_timeline, write_timeline
from studio.core.projectfile import SUFFIX, load_project, save_project

from .errors import UsageError


def _warn(warnings: list[str]) -> None:
    for w in warnings:
        print(f"warning: {w}", file=sys.stderr)


def cmd_import_otio(args) -> int:
    out = Path(args.output)
    if out.suffix != SUFFIX:
        raise UsageError(f"the project file must end in {SUFFIX}: {out}")
    project, warnings = read_timeline(args.file)
    _warn(warnings)
    save_project(project, out)
    clips = sum(len(t.clips) for t in project.sequence.tracks)
    print(f"imported {len(project.sequence.tracks)} tracks, {clips} clips into {out}")
    return 0


def cmd_export_otio(args) -> int:
    project = load_project(args.project)
    warnings = write_timeline(project, args.output)
    _warn(warnings)
    print(f"wrote {args.output}")
    return 0
