"""The Qt-free work behind the bin: probing files and finding moved media, run as jobs."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from studio.core.media_pool import Asset
from studio.core.project import Project
from studio.core.relink import find_relinks
from studio.jobs import Job, JobContext, Priority
from studio.media.assets import asset_from_file
from studio.media.probe import MediaError


@dataclass
class ProbeResult:
    assets: list[Asset] = field(default_factory=list)
    #: One line per file that could not be read: ``"name: reason"``.
    errors: list[str] = field(default_factory=list)


def probe_paths(paths: list[str], context: JobContext | None = None) -> ProbeResult:
    """Probe and fingerprint every file (folders are not walked); unreadable files become errors."""
    context = context if context is not None else JobContext()
    result = ProbeResult()
    for i, path in enumerate(paths):
        context.check()
        context.progress(i / max(1, len(paths)), os.path.basename(path))
        try:
            result.assets.append(asset_from_file(path))
        except MediaError as e:
            result.errors.append(f"{os.path.basename(path)}: {e.reason}")
        except OSError as e:
            result.errors.append(f"{os.path.basename(path)}: {e.strerror or e}")
    context.progress(1.0, "probed")
    return result


def probe_job(paths: list[str]) -> Job:
    n = len(paths)
    name = f"import {os.path.basename(paths[0])}" if n == 1 else f"import {n} files"
    return Job(lambda ctx: probe_paths(list(paths), ctx), name=name, cpu=1, priority=Priority.INTERACTIVE)


def relink_job(project: Project, folder: str, asset_ids: list[str] | None = None) -> Job:
    """Finds ``{asset_id: new path}`` for missing media under ``folder`` (fingerprints files: a job)."""
    return Job(lambda ctx: find_relinks(project, folder, asset_ids), name=f"relink in {os.path.basename(folder)}",
               cpu=1, priority=Priority.INTERACTIVE)
