"""`studio new` and `studio info`."""

from __future__ import annotations

import json
import os
from pathlib import Path

from studio.core.factory import new_project
from studio.core.projectfile import SUFFIX, load_project, save_project
from studio.core.timebase import format_rate, format_timecode, parse_rate

from .errors import UsageError


def cmd_new(args) -> int:
    path = Path(args.project)
    if path.suffix != SUFFIX:
        raise UsageError(f"project files end in {SUFFIX}: {path}")
    if path.exists():
        raise UsageError(f"{path} already exists; not overwriting it")
    for name in ("width", "height"):
        v = getattr(args, name)
        if v < 16 or v > 16384 or v % 2:
            raise UsageError(f"--{name} must be an even number of pixels from 16 to 16384, not {v}")
    fps = parse_rate(args.fps)
    project = new_project(args.width, args.height, fps, name=path.stem)
    save_project(project, path)
    print(f"created {path} ({args.width}x{args.height}, {format_rate(fps)} fps)")
    return 0


def project_summary(project) -> dict:
    fps = project.settings.fps
    return {
        "name": project.name,
        "fps": format_rate(fps),
        "width": project.settings.width,
        "height": project.settings.height,
        "sample_rate": project.settings.sample_rate,
        "channel_layout": project.settings.channel_layout,
        "duration": float(project.duration_seconds),
        "frames": project.sequence.duration,
        "tracks": [{"name": t.name, "kind": t.kind, "clips": len(t.clips), "transitions": len(t.transitions),
                    "enabled": t.enabled, "locked": t.locked, "muted": t.muted, "solo": t.solo}
                   for t in project.sequence.tracks],
        "assets": [{"name": a.name, "path": a.path, "kind": a.kind, "missing": not os.path.exists(a.path),
                    "generated": a.recipe is not None} for a in project.assets],
        "markers": len(project.sequence.markers),
    }


def cmd_info(args) -> int:
    project = load_project(args.project)
    info = project_summary(project)
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    fps = project.settings.fps
    print(f"{info['name']}: {info['width']}x{info['height']}, {info['fps']} fps, "
          f"{info['sample_rate']} Hz {info['channel_layout']}")
    print(f"duration {format_timecode(project.sequence.duration, fps)} ({info['duration']:.3f} s), "
          f"{len(info['assets'])} media, {info['markers']} markers")
    for t in info["tracks"]:
        flags = [f for f in ("locked", "muted", "solo") if t[f]] + ([] if t["enabled"] else ["hidden"])
        extra = f" [{', '.join(flags)}]" if flags else ""
        print(f"  {t['name']:<8} {t['kind']:<5} {t['clips']} clips, {t['transitions']} transitions{extra}")
    missing = [a["name"] for a in info["assets"] if a["missing"]]
    if missing:
        print(f"missing media: {', '.join(missing)}")
    return 0
