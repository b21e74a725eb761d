"""File-system details of atomic writes shared by project files, interchange and exports."""

from __future__ import annotations

import os
from pathlib import Path


def _read_umask() -> int:
    """The process umask without changing it where the OS tells (Linux), else the classic dance."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def new_file_mode(target: str | os.PathLike[str]) -> int:
    """Permissions for a file about to replace ``target``.

    ``mkstemp`` creates 0600 files; a saved project or a rendered movie should get the mode an
    ordinary ``open()`` would give (0666 minus the umask), or keep the mode of the file it replaces.
    """
    try:
        return os.stat(target).st_mode & 0o7777
    except OSError:
        return 0o666 & ~_read_umask()
