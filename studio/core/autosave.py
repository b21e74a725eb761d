"""Autosave into rotating files beside the project; recovery lists them and never deletes.

Shotcut #1096 and Flowblade #891 lost work when recovery removed the only good copy: here only
the writer rotates (keeping the newest ``keep``), and recovery only reads.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from .project import Project
from .projectfile import atomic_write, document, dumps, load_document

KEEP = 10


def autosave_dir(project_path: str | os.PathLike[str]) -> Path:
    p = Path(project_path)
    return p.parent / f".{p.name}.autosave"


@dataclass(frozen=True)
class AutosaveFile:
    path: Path
    mtime: float


def list_autosaves(project_path: str | os.PathLike[str]) -> list[AutosaveFile]:
    """Autosaves of a project, newest first."""
    folder = autosave_dir(project_path)
    if not folder.is_dir():
        return []
    found = []
    for p in folder.glob("autosave-*.studio"):
        try:
            found.append(AutosaveFile(p, p.stat().st_mtime))
        except OSError:
            continue
    return sorted(found, key=lambda a: (a.mtime, a.path.name), reverse=True)


def newer_autosave(project_path: str | os.PathLike[str]) -> AutosaveFile | None:
    """The newest autosave if it is newer than the project file (or the file is gone)."""
    saves = list_autosaves(project_path)
    if not saves:
        return None
    try:
        project_mtime = Path(project_path).stat().st_mtime
    except OSError:
        return saves[0]
    return saves[0] if saves[0].mtime > project_mtime else None


def recover(autosave: str | os.PathLike[str] | AutosaveFile) -> Project:
    """Load an autosave (media paths resolve against the project's folder). Deletes nothing."""
    p = autosave.path if isinstance(autosave, AutosaveFile) else Path(autosave)
    return load_document(p, base=p.parent.parent.resolve())


def write_autosave(project: Project, project_path: str | os.PathLike[str], keep: int = KEEP) -> Path:
    """Write one autosave and drop the oldest beyond ``keep``."""
    folder = autosave_dir(project_path)
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S-%f")
    target = folder / f"autosave-{stamp}.studio"
    n = 1
    while target.exists():
        target = folder / f"autosave-{stamp}-{n}.studio"
        n += 1
    base = Path(project_path).parent.resolve()
    atomic_write(target, dumps(document(project, base, {"autosave_of": Path(project_path).name})))
    for old in list_autosaves(project_path)[keep:]:
        try:
            old.path.unlink()
        except OSError:
            pass
    return target


class Autosaver:
    """Saves ``get_project()`` every ``interval`` seconds on a thread, when it has changed.

    Project states are immutable, so reading one from another thread is safe.
    """

    def __init__(self, get_project: Callable[[], Project], project_path: str | os.PathLike[str],
                 interval: float = 60.0, keep: int = KEEP,
                 on_error: Callable[[Exception], None] | None = None) -> None:
        self.get_project, self.project_path = get_project, project_path
        self.interval, self.keep, self.on_error = interval, keep, on_error
        self._last: Project | None = get_project()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def save_now(self) -> Path | None:
        project = self.get_project()
        if project is self._last:
            return None
        try:
            path = write_autosave(project, self.project_path, self.keep)
        except OSError as e:
            if self.on_error:
                self.on_error(e)
            return None
        self._last = project
        return path

    def _run(self) -> None:
        next_at = time.monotonic() + self.interval
        while not self._stop.wait(max(0.0, next_at - time.monotonic())):
            self.save_now()
            next_at = time.monotonic() + self.interval

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="autosave", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
