"""The interchange formats (chosen by file extension) and the atomic write of a file."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from ..errors import ProjectFileError
from ..fsutil import new_file_mode

#: File extension -> (OTIO adapter name, human name of the format).
FORMATS: dict[str, tuple[str, str]] = {
    ".otio": ("otio_json", "OpenTimelineIO"),
    ".xml": ("fcp_xml", "FCP 7 XML"),
    ".edl": ("cmx_3600", "CMX 3600 EDL"),
}


def format_for_path(path: str | os.PathLike[str]) -> tuple[str, str]:
    """(adapter name, format name) chosen by the file extension; ProjectFileError otherwise."""
    ext = Path(path).suffix.lower()
    if ext not in FORMATS:
        known = ", ".join(FORMATS)
        raise ProjectFileError(f"cannot use {str(path)!r}: unknown interchange extension "
                               f"{ext or '(none)'!r} (use {known})")
    return FORMATS[ext]


def _atomic_write(path: Path, text: str, fmt: str) -> None:
    folder = path.absolute().parent
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
        os.fchmod(fd, new_file_mode(path))
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        tmp = None
    except OSError as e:
        raise ProjectFileError(f"cannot write {str(path)!r} as {fmt}: {e.strerror or e}") from None
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
