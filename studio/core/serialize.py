"""Project <-> plain JSON data, with validation that names the offending field.

Exact numbers stay exact: frame rates and fractional source positions are written as
``"n/d"`` strings (integers stay integers). Never pickle, never eval.
"""

from __future__ import annotations

import os
from dataclasses import asdict, fields
from fractions import Fraction
from pathlib import Path, PurePosixPath
from typing import Any

from .errors import ProjectFileError
from .keyframes import Keyframe
from .media_pool import ASSET_KINDS, Asset, MediaInfo, Recipe
from .project import Project, ProjectSettings
from .timebase import fraction_to_json
from .timeline import Clip, Marker, Sequence, Track, Transform, Transition

FORMAT = "shotline-studio"


# --- writing ------------------------------------------------------------------------------
def _frac(v: Fraction | int | None) -> Any:
    return None if v is None else fraction_to_json(v)


def _path_out(path: str, base: Path | None) -> str:
    """Paths are stored relative to the project folder when it has one (POSIX separators)."""
    if base is None or not path:
        return path
    try:
        rel = os.path.relpath(path, base)
    except ValueError:  # another drive on Windows
        return Path(path).as_posix()
    return PurePosixPath(*Path(rel).parts).as_posix()


def _asset_out(a: Asset, base: Path | None) -> dict[str, Any]:
    info = asdict(a.info)
    info["duration"] = _frac(a.info.duration)
    info["fps"] = _frac(a.info.fps)
    d: dict[str, Any] = {"id": a.id, "path": _path_out(a.path, base), "name": a.name, "kind": a.kind,
                         "fingerprint": a.fingerprint, "info": info}
    if a.recipe is not None:
        r = asdict(a.recipe)
        r["fps"] = _frac(a.recipe.fps)
        r["conform"] = {k: v for k, v in a.recipe.conform}
        d["recipe"] = r
    return d


def _marker_out(m: Marker) -> dict[str, Any]:
    d = asdict(m)
    if not m.data:  # written only when set: files without tool data stay byte-identical
        del d["data"]
    return d


def _clip_out(c: Clip) -> dict[str, Any]:
    return {
        "id": c.id, "asset": c.asset_id, "position": c.position, "duration": c.duration,
        "source_in": _frac(c.source_in), "speed": _frac(c.speed), "name": c.name, "enabled": c.enabled,
        "gain_db": c.gain_db, "pan": c.pan, "opacity": c.opacity, "fade_in": c.fade_in, "fade_out": c.fade_out,
        "transform": asdict(c.transform),
        "keyframes": {p: [[k.frame, k.value, k.interp] for k in keys] for p, keys in c.keyframes},
        "link": c.link, "group": c.group, "markers": [_marker_out(m) for m in c.markers], "takes": list(c.takes),
    }


def project_to_dict(project: Project, base: Path | str | None = None) -> dict[str, Any]:
    """The ``"project"`` object of a project file; paths relative to ``base`` when given."""
    b = Path(base) if base is not None else None
    s = project.settings
    sequence: dict[str, Any] = {
        "tracks": [{
            "id": t.id, "kind": t.kind, "name": t.name, "enabled": t.enabled, "locked": t.locked,
            "muted": t.muted, "solo": t.solo, "height": t.height,
            "clips": [_clip_out(c) for c in t.clips],
            "transitions": [asdict(tr) for tr in t.transitions],
        } for t in project.sequence.tracks],
        "markers": [_marker_out(m) for m in project.sequence.markers],
    }
    if project.sequence.min_length:  # written only when set: older files stay byte-identical
        sequence["min_length"] = project.sequence.min_length
    return {
        "name": project.name,
        "settings": {"width": s.width, "height": s.height, "fps": f"{s.fps.numerator}/{s.fps.denominator}",
                     "sample_rate": s.sample_rate, "channel_layout": s.channel_layout},
        "assets": [_asset_out(a, b) for a in project.assets],
        "sequence": sequence,
    }


# --- reading ------------------------------------------------------------------------------
class Reader:
    """Typed access to a JSON object that reports errors with the field's full path."""

    def __init__(self, data: Any, path: str) -> None:
        if not isinstance(data, dict):
            raise ProjectFileError(f"{path}: expected an object, got {type(data).__name__}")
        self.data, self.path = data, path

    def _where(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def raw(self, key: str, default: Any = ...) -> Any:
        if key not in self.data:
            if default is ...:
                raise ProjectFileError(f"missing field {self._where(key)}")
            return default
        return self.data[key]

    def _typed(self, key: str, kinds: tuple[type, ...], label: str, default: Any) -> Any:
        v = self.raw(key, default)
        if v is default and default is not ...:
            return v
        if isinstance(v, bool) and bool not in kinds or not isinstance(v, kinds):
            raise ProjectFileError(f"field {self._where(key)}: expected {label}, got {json_type(v)}")
        return v

    def str(self, key: str, default: Any = ...) -> str:
        return self._typed(key, (str,), "text", default)

    def int(self, key: str, default: Any = ...) -> int:
        return self._typed(key, (int,), "a whole number", default)

    def float(self, key: str, default: Any = ...) -> float:
        return float(self._typed(key, (int, float), "a number", default))

    def bool(self, key: str, default: Any = ...) -> bool:
        return self._typed(key, (bool,), "true or false", default)

    def opt_str(self, key: str) -> str | None:
        v = self.raw(key, None)
        if v is None:
            return None
        if not isinstance(v, str):
            raise ProjectFileError(f"field {self._where(key)}: expected text or null, got {json_type(v)}")
        return v

    def frac(self, key: str, default: Any = ..., *, allow_none: bool = False) -> Fraction | None:
        v = self.raw(key, default)
        if v is None and allow_none:
            return None
        if v is default and default is not ...:
            return v
        if isinstance(v, int) and not isinstance(v, bool):
            return Fraction(v)
        if isinstance(v, str):
            try:
                return Fraction(v)
            except (ValueError, ZeroDivisionError):
                pass
        raise ProjectFileError(f"field {self._where(key)}: expected an exact number like 25 or \"30000/1001\", "
                               f"got {v!r}")

    def obj(self, key: str, default: Any = ...) -> Reader:
        v = self.raw(key, {} if default is not ... else ...)
        return Reader(v, self._where(key))

    def list(self, key: str, default: Any = ...) -> list[Any]:
        v = self.raw(key, [] if default is not ... else ...)
        if not isinstance(v, list):
            raise ProjectFileError(f"field {self._where(key)}: expected a list, got {json_type(v)}")
        return v

    def objects(self, key: str, default: Any = ...) -> list[Reader]:
        return [Reader(x, f"{self._where(key)}[{i}]") for i, x in enumerate(self.list(key, default))]


def json_type(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true/false"
    if isinstance(v, (int, float)):
        return f"number {v!r}"
    if isinstance(v, str):
        return f"text {v!r}"[:60]
    if isinstance(v, list):
        return "a list"
    return "an object"


def _path_in(r: Reader, base: Path | None, generated: bool) -> str:
    raw = r.str("path")
    if not raw:
        return ""
    p = PurePosixPath(raw.replace("\\", "/"))
    if generated and (p.is_absolute() or ".." in p.parts):
        raise ProjectFileError(f"field {r._where('path')}: generated media must stay inside the project "
                               f"folder, but {raw!r} points outside it")
    if base is None or Path(raw).is_absolute():
        return raw
    return os.path.normpath(base / Path(*p.parts))


def _asset_in(r: Reader, base: Path | None) -> Asset:
    i = r.obj("info", {})
    info = MediaInfo(
        duration=i.frac("duration", None, allow_none=True), has_video=i.bool("has_video", False),
        has_audio=i.bool("has_audio", False), width=i.int("width", 0), height=i.int("height", 0),
        fps=i.frac("fps", None, allow_none=True), vfr=i.bool("vfr", False), sample_rate=i.int("sample_rate", 0),
        channels=i.int("channels", 0), is_still=i.bool("is_still", False))
    recipe = None
    if r.raw("recipe", None) is not None:
        q = r.obj("recipe")
        conform = q.obj("conform", {})
        for k, v in conform.data.items():
            if not isinstance(v, (str, int, float, bool)):
                raise ProjectFileError(f"field {conform._where(k)}: expected a number, text or true/false")
        recipe = Recipe(
            backend=q.str("backend"), model_id=q.str("model_id"), prompt=q.str("prompt"),
            revision=q.str("revision", ""), negative_prompt=q.str("negative_prompt", ""), seed=q.int("seed", 0),
            steps=q.int("steps", 0), guidance=q.float("guidance", 0.0), width=q.int("width", 0),
            height=q.int("height", 0), frames=q.int("frames", 0), fps=q.frac("fps", Fraction(16)),
            source_image=q.str("source_image", ""), conform=tuple(sorted(conform.data.items())))
    kind = r.str("kind")
    if kind not in ASSET_KINDS:
        raise ProjectFileError(f"field {r._where('kind')}: expected one of {', '.join(ASSET_KINDS)}, got {kind!r}")
    return Asset(id=r.str("id"), path=_path_in(r, base, recipe is not None), name=r.str("name", ""), kind=kind,
                 fingerprint=r.str("fingerprint", ""), info=info, recipe=recipe)


def _marker_in(r: Reader) -> Marker:
    return Marker(id=r.str("id"), frame=r.int("frame"), name=r.str("name", ""), color=r.str("color", "red"),
                  duration=r.int("duration", 0), note=r.str("note", ""),
                  data=r.str("data", ""))


def _clip_in(r: Reader) -> Clip:
    tr = r.obj("transform", {})
    transform = Transform(**{f.name: tr.float(f.name, getattr(Transform(), f.name)) for f in fields(Transform)})
    kf = r.obj("keyframes", {})
    curves = []
    for param in sorted(kf.data):
        keys = []
        for j, k in enumerate(kf.list(param)):
            where = f"{kf._where(param)}[{j}]"
            if (not isinstance(k, list) or len(k) != 3 or isinstance(k[0], bool) or not isinstance(k[0], int)
                    or isinstance(k[1], bool) or not isinstance(k[1], (int, float)) or not isinstance(k[2], str)):
                raise ProjectFileError(f"field {where}: expected [frame, value, interpolation]")
            keys.append(Keyframe(k[0], float(k[1]), k[2]))
        curves.append((param, tuple(keys)))
    takes = r.list("takes", [])
    if not all(isinstance(t, str) for t in takes):
        raise ProjectFileError(f"field {r._where('takes')}: expected a list of media ids")
    return Clip(
        id=r.str("id"), asset_id=r.str("asset"), position=r.int("position"), duration=r.int("duration"),
        source_in=r.frac("source_in", Fraction(0)), speed=r.frac("speed", Fraction(1)), name=r.str("name", ""),
        enabled=r.bool("enabled", True), gain_db=r.float("gain_db", 0.0), pan=r.float("pan", 0.0),
        opacity=r.float("opacity", 1.0), fade_in=r.int("fade_in", 0), fade_out=r.int("fade_out", 0),
        transform=transform, keyframes=tuple(curves), link=r.opt_str("link"), group=r.opt_str("group"),
        markers=tuple(_marker_in(m) for m in r.objects("markers", [])), takes=tuple(takes))


def project_from_dict(data: Any, base: Path | str | None = None, where: str = "project") -> Project:
    """Build a Project from the ``"project"`` object; raises ProjectFileError naming the field."""
    b = Path(base) if base is not None else None
    r = Reader(data, where)
    s = r.obj("settings")
    fps = s.frac("fps")
    assert fps is not None
    if fps <= 0:
        raise ProjectFileError(f"field {s._where('fps')}: the frame rate must be positive")
    settings = ProjectSettings(width=s.int("width"), height=s.int("height"), fps=fps,
                               sample_rate=s.int("sample_rate", 48000),
                               channel_layout=s.str("channel_layout", "stereo"))
    assets = tuple(_asset_in(a, b) for a in r.objects("assets", []))
    q = r.obj("sequence")
    tracks = []
    for t in q.objects("tracks", []):
        transitions = tuple(Transition(id=x.str("id"), a=x.str("a"), b=x.str("b"), before=x.int("before"),
                                       after=x.int("after"), kind=x.str("kind", "dissolve"))
                            for x in t.objects("transitions", []))
        tracks.append(Track(
            id=t.str("id"), kind=t.str("kind"), name=t.str("name"), enabled=t.bool("enabled", True),
            locked=t.bool("locked", False), muted=t.bool("muted", False), solo=t.bool("solo", False),
            height=t.int("height", 60), clips=tuple(sorted((_clip_in(c) for c in t.objects("clips", [])),
                                                           key=lambda c: (c.position, c.id))),
            transitions=transitions))
    min_length = q.int("min_length", 0)
    if min_length < 0:
        raise ProjectFileError(f"field {q._where('min_length')}: expected a number of frames of 0 or more, "
                               f"got {min_length}")
    seq = Sequence(tracks=tuple(tracks), markers=tuple(_marker_in(m) for m in q.objects("markers", [])),
                   min_length=min_length)
    return Project(settings=settings, assets=assets, sequence=seq, name=r.str("name", "Untitled"))
