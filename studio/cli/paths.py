"""Checks every command makes on the file it is about to write, before any work starts."""

from __future__ import annotations

import os
from pathlib import Path

from .errors import UsageError


def check_output(out: Path) -> Path:
    """``out`` must be a new or replaceable file in an existing, writable folder."""
    folder = out.parent
    if not folder.is_dir():
        raise UsageError(f"output folder {str(folder)!r} does not exist")
    if not os.access(folder, os.W_OK):
        raise UsageError(f"output folder {str(folder)!r} is not writable")
    if out.is_dir():
        raise UsageError(f"output {str(out)!r} is a folder")
    return out
