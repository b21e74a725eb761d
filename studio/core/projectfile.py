"""Project files: versioned JSON, upgraded on load, written atomically.

A file that cannot be read raises ProjectFileError with one line that names the file and the
field; reading never writes, so a damaged file is never overwritten by accident.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

from . import invariants
from .errors import ProjectFileError
from .fsutil import new_file_mode
from .project import Project
from .serialize import FORMAT, project_from_dict, project_to_dict

CURRENT_VERSION = 1
SUFFIX = ".studio"


# --- upgrades -------------------------------------------------------------------------------
def _upgrade_0_to_1(doc: dict[str, Any]) -> dict[str, Any]:
    """Version 0 (the prototype's format): flat settings, ``fps`` as [num, den], clips as
    ``start``/``end`` frames with ``in`` source frame, media under ``media``, track ``type``
    "V"/"A" and ``label``."""
    def need(obj: dict[str, Any], key: str, where: str) -> Any:
        if key not in obj:
            raise ProjectFileError(f"missing field {where}.{key} (version 0 file)")
        return obj[key]

    fps = need(doc, "fps", "project")
    if not (isinstance(fps, list) and len(fps) == 2 and all(isinstance(x, int) for x in fps) and fps[1]):
        raise ProjectFileError("field project.fps: expected [numerator, denominator] (version 0 file)")
    assets = []
    for i, m in enumerate(doc.get("media", [])):
        assets.append({"id": need(m, "id", f"media[{i}]"), "path": need(m, "file", f"media[{i}]"),
                       "name": Path(str(m.get("file", ""))).name, "kind": m.get("kind", "av"),
                       "info": {"duration": m.get("duration"), "has_video": m.get("kind", "av") != "audio",
                                "has_audio": m.get("kind", "av") in ("av", "audio")}})
    tracks = []
    for i, t in enumerate(doc.get("tracks", [])):
        kind = {"V": "video", "A": "audio"}.get(need(t, "type", f"tracks[{i}]"))
        if kind is None:
            raise ProjectFileError(f"field tracks[{i}].type: expected \"V\" or \"A\" (version 0 file)")
        clips = []
        for j, c in enumerate(t.get("items", [])):
            start, end = need(c, "start", f"tracks[{i}].items[{j}]"), need(c, "end", f"tracks[{i}].items[{j}]")
            clips.append({"id": need(c, "id", f"tracks[{i}].items[{j}]"), "asset": c.get("media"),
                          "position": start, "duration": end - start if isinstance(start, int)
                          and isinstance(end, int) else None, "source_in": c.get("in", 0)})
        tracks.append({"id": need(t, "id", f"tracks[{i}]"), "kind": kind, "name": t.get("label", f"T{i + 1}"),
                       "clips": clips})
    project = {
        "name": doc.get("title", "Untitled"),
        "settings": {"width": doc.get("width"), "height": doc.get("height"), "fps": f"{fps[0]}/{fps[1]}",
                     "sample_rate": doc.get("sample_rate", 48000), "channel_layout": "stereo"},
        "assets": assets,
        "sequence": {"tracks": tracks, "markers": []},
    }
    return {"format": FORMAT, "version": 1, "project": project}


#: ``UPGRADES[n]`` turns a version-n document into version n+1.
UPGRADES: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {0: _upgrade_0_to_1}


def upgrade(doc: dict[str, Any], name: str = "project") -> dict[str, Any]:
    version = doc.get("version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise ProjectFileError(f"cannot open {name}: field version: expected a whole number, got {version!r}")
    if version > CURRENT_VERSION:
        raise ProjectFileError(f"cannot open {name}: it was written by a newer Shotline Studio "
                               f"(file version {version}, this one reads up to {CURRENT_VERSION})")
    while version < CURRENT_VERSION:
        step = UPGRADES.get(version)
        if step is None:
            raise ProjectFileError(f"cannot open {name}: file version {version} is too old to upgrade")
        doc = step(doc)
        version = doc["version"]
    return doc


# --- reading --------------------------------------------------------------------------------
def load_document(path: str | os.PathLike[str], base: str | os.PathLike[str] | None = None) -> Project:
    p = Path(path)
    name = f"'{p}'"
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise ProjectFileError(f"cannot open {name}: no such file") from None
    except OSError as e:
        raise ProjectFileError(f"cannot open {name}: {e.strerror or e}") from None
    try:
        doc = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ProjectFileError(f"cannot open {name}: not a text file (not UTF-8)") from None
    except json.JSONDecodeError as e:
        raise ProjectFileError(f"cannot open {name}: not valid JSON (line {e.lineno}, column {e.colno}: "
                               f"{e.msg})") from None
    if not isinstance(doc, dict):
        raise ProjectFileError(f"cannot open {name}: expected a JSON object at the top")
    fmt = doc.get("format", FORMAT)
    if fmt != FORMAT:
        raise ProjectFileError(f"cannot open {name}: not a Shotline Studio project (format {fmt!r})")
    doc = upgrade(doc, name)
    try:
        project = project_from_dict(doc.get("project"), base if base is not None else p.parent.resolve())
        invariants.check(project)
    except ProjectFileError as e:
        raise ProjectFileError(f"cannot open {name}: {e}") from None
    except invariants.InvariantError as e:
        raise ProjectFileError(f"cannot open {name}: the timeline is inconsistent: {e}") from None
    except (TypeError, ValueError) as e:  # a value of the right type but unusable
        raise ProjectFileError(f"cannot open {name}: {e}") from None
    return project


def load_project(path: str | os.PathLike[str]) -> Project:
    """Read a project file (any supported version); paths become absolute."""
    return load_document(path)


# --- writing --------------------------------------------------------------------------------
def atomic_write(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` so that a crash leaves either the old or the new file.

    Temp file in the same folder, fsync, rename over the target, fsync the folder.
    """
    target = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        os.fchmod(fd, new_file_mode(target))
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:
        dfd = os.open(target.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)


def document(project: Project, base: Path, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    doc = {"format": FORMAT, "version": CURRENT_VERSION, **(extra or {}),
           "project": project_to_dict(project, base)}
    return doc


def dumps(doc: dict[str, Any]) -> bytes:
    return (json.dumps(doc, indent=1, ensure_ascii=False, default=_json_default) + "\n").encode("utf-8")


def _json_default(v: Any) -> Any:
    if isinstance(v, Fraction):
        return f"{v.numerator}/{v.denominator}"
    raise TypeError(f"cannot store {type(v).__name__} in a project file")


def save_project(project: Project, path: str | os.PathLike[str]) -> None:
    """Save atomically; media paths are written relative to the file's folder."""
    p = Path(path)
    if not p.parent.is_dir():
        raise ProjectFileError(f"cannot save '{p}': folder {str(p.parent)!r} does not exist")
    try:
        atomic_write(p, dumps(document(project, p.parent.resolve())))
    except OSError as e:
        raise ProjectFileError(f"cannot save '{p}': {e.strerror or e} (the previous file is unchanged)") from None
