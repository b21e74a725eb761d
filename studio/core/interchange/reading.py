"""Reading a file: the adapter's result into a timeline, and the timeline into a Project."""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path
from typing import Any

import opentimelineio as otio

from ..errors import ProjectFileError, StudioError
from ..project import Project
from .common import DEFAULT_RATE, _name_list
from .flatten import _Importer
from .formats import format_for_path


def project_from_otio(timeline: otio.schema.Timeline, base_dir: str | os.PathLike[str] = "."
                      ) -> tuple[Project, list[str]]:
    """Convert an OTIO timeline into a Project; returns (project, warnings).

    ``base_dir`` resolves relative media urls. The project passes ``invariants.check``.
    """
    importer = _Importer(timeline, Path(base_dir).absolute())
    return importer.run(), importer.warnings


def _read_text(path: Path, fmt: str) -> str:
    try:
        data = path.read_bytes()
    except OSError as e:
        raise ProjectFileError(f"cannot read {str(path)!r} as {fmt}: {e.strerror or e}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")  # old EDLs are often not UTF-8


def read_timeline(path: str | os.PathLike[str], rate: Fraction | int | None = None
                  ) -> tuple[Project, list[str]]:
    """Read an .otio, FCP 7 XML (.xml) or CMX 3600 EDL (.edl) file into a Project.

    ``rate`` is the frame rate an EDL is read at (EDLs do not say; default 24). Returns
    (project, warnings); raises ProjectFileError naming the file when it cannot be read.
    """
    p = Path(path)
    adapter, fmt = format_for_path(p)
    text = _read_text(p, fmt)
    kwargs: dict[str, Any] = {}
    if adapter == "cmx_3600":
        kwargs["rate"] = float(rate if rate is not None else DEFAULT_RATE)
    try:
        result = otio.adapters.read_from_string(
            text, adapter_name=adapter,
            media_linker_name=otio.media_linker.MediaLinkingPolicy.DoNotLinkMedia, **kwargs)
    except Exception as e:  # noqa: BLE001 - adapters raise anything from ValueError to KeyError
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ProjectFileError(f"cannot read {str(path)!r} as {fmt}: {reason}") from None
    warnings: list[str] = []
    timeline = _timeline_of(result, str(path), warnings)
    try:
        project, more = project_from_otio(timeline, p.absolute().parent)
    except StudioError as e:
        raise ProjectFileError(f"cannot import {str(path)!r}: {e}") from None
    return project, warnings + more


def _timeline_of(result: Any, path: str, warnings: list[str]) -> otio.schema.Timeline:
    if isinstance(result, otio.schema.Timeline):
        return result
    if isinstance(result, otio.schema.SerializableCollection):
        timelines = list(result.find_children(descended_from_type=otio.schema.Timeline))
        if not timelines:
            raise ProjectFileError(f"cannot import {path!r}: the collection holds no timeline")
        if len(timelines) > 1:
            dropped = [t.name or f"#{i + 2}" for i, t in enumerate(timelines[1:])]
            warnings.append(f"the file holds {len(timelines)} timelines; only the first "
                            f"({timelines[0].name!r}) was imported, dropped: "
                            f"{_name_list(dropped)}")
        return timelines[0]
    if isinstance(result, otio.schema.Track):
        tl = otio.schema.Timeline(name=result.name)
        tl.tracks.append(result.deepcopy())
        return tl
    if isinstance(result, otio.schema.Stack):
        tl = otio.schema.Timeline(name=result.name)
        tl.tracks = result.deepcopy()
        return tl
    raise ProjectFileError(f"cannot import {path!r}: it holds a {type(result).__name__}, "
                           f"not a timeline")

