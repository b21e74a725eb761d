"""Constants and small helpers shared by the import and the export."""

from __future__ import annotations

import math
import os
import urllib.parse
from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path
from typing import Any

import opentimelineio as otio

DEFAULT_RATE = Fraction(24)
DEFAULT_SIZE = (1920, 1080)
#: Key of our own metadata in OTIO objects (settings, asset kinds) for exact round trips.
META = "shotline"

_NTSC = tuple(Fraction(n * 1000, 1001) for n in (24, 30, 48, 60, 120))


def _rate(value: float) -> Fraction:
    """The exact frame rate an OTIO float rate means (23.976... -> 24000/1001)."""
    value = float(value)
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"bad rate {value!r}")
    for ntsc in _NTSC:
        if abs(value - float(ntsc)) < 1e-3:
            return ntsc
    if abs(value - round(value)) < 1e-6:
        return Fraction(round(value))
    return Fraction(value).limit_denominator(1001)


def _exact(value: float) -> Fraction:
    """A float count of frames as the simple fraction it stands for (240.24 -> 6006/25)."""
    f = Fraction(float(value))
    simple = f.limit_denominator(100000)
    return simple if abs(simple - f) < Fraction(1, 10**9) else f


def _name_list(names: Iterable[str], limit: int = 6) -> str:
    names = list(names)
    text = ", ".join(repr(n) for n in names[:limit])
    return text + (f" (+{len(names) - limit} more)" if len(names) > limit else "")


def _describe(obj: Any) -> str:
    """A readable name of an OTIO object for warnings: 'Stack 'Nested Stack 1''."""
    name = getattr(obj, "name", "") or ""
    return f"{obj.schema_name()} {name!r}" if name else obj.schema_name()


_EDL_USED = ("OTIO TRUNCATED REEL NAME FROM", "BLEND, DISSOLVE", "SOURCE FILE:", "TO CLIP:",
             "TO FILE:")


def _edl_comments(clip: otio.schema.Clip) -> tuple[str, str, list[str]]:
    """(B-side url, source file name, other comments) kept by the cmx_3600 reader."""
    meta = clip.metadata.get("cmx_3600")
    comments = meta.get("comments") if hasattr(meta, "get") else None
    to_url = source_file = ""
    rest: list[str] = []
    for line in comments or ():
        text = str(line).strip()
        upper = text.upper()
        if upper.startswith(("TO CLIP:", "TO FILE:")):
            to_url = text.split(":", 1)[1].strip()
        elif upper.startswith("SOURCE FILE:"):
            source_file = text.split(":", 1)[1].strip()
        if not upper.startswith(_EDL_USED):
            rest.append(text)
    return to_url, source_file, rest


def _url_to_path(url: str, base_dir: Path) -> str:
    """A media path from a target url: file:// urls decoded, relative paths made absolute."""
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme == "file":
        path = urllib.parse.unquote(parsed.path)
        if parsed.netloc and parsed.netloc != "localhost":
            path = f"//{parsed.netloc}{path}"  # a UNC share
        elif len(path) > 2 and path[0] == "/" and path[2] == ":":
            path = path[1:]  # file:///C:/media/a.mov
        return path
    if parsed.scheme and len(parsed.scheme) > 1:  # http:, s3: ... (a drive letter is one char)
        return url
    if os.path.isabs(url) or (len(url) > 1 and url[1] == ":"):
        return url
    return os.path.normpath(base_dir / url)


def _path_to_url(path: str) -> str:
    """A file:// url for an absolute path (relative or non-file paths are kept as given)."""
    if "://" in path:
        return path
    p = Path(path)
    if not p.is_absolute():
        return path
    return p.as_uri()


def _find_size(meta: Any, depth: int = 0) -> tuple[int, int] | None:
    """The first (width, height) pair found in nested metadata, audio subtrees skipped."""
    if depth > 8 or not hasattr(meta, "items"):
        return None
    try:
        w, h = int(str(meta["width"])), int(str(meta["height"]))
        if w > 0 and h > 0:
            return w, h
    except (KeyError, TypeError, ValueError):
        pass
    for key, value in meta.items():
        if key == "audio":
            continue
        found = _find_size(value, depth + 1)
        if found:
            return found
    return None


def _meta_dict(obj: Any) -> dict[str, Any]:
    """Our own metadata stored on an OTIO object (an empty dict when there is none)."""
    try:
        raw = obj.metadata.get(META)
    except AttributeError:
        return {}
    return dict(raw) if hasattr(raw, "items") else {}

