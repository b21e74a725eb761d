"""Media pool, markers and project settings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from fractions import Fraction

from ..errors import EditError
from ..media_pool import Asset
from ..project import CHANNEL_LAYOUTS, Project
from ..timeline import Marker
from .base import Command


class AddAsset(Command):
    label = "Import media"

    def __init__(self, asset: Asset) -> None:
        super().__init__()
        self.asset = asset

    def _apply(self, project: Project) -> Project:
        if project.asset(self.asset.id) is not None:
            raise EditError(f"media id {self.asset.id!r} is already in the project")
        return replace(project, assets=(*project.assets, self.asset))


class RemoveAsset(Command):
    label = "Remove media"

    def __init__(self, asset_id: str) -> None:
        super().__init__()
        self.asset_id = asset_id

    def _apply(self, project: Project) -> Project:
        asset = project.asset(self.asset_id)
        if asset is None:
            raise EditError(f"no media with id {self.asset_id!r}")
        used = [c for _, c in project.all_clips() if c.asset_id == asset.id or asset.id in c.takes]
        if used:
            raise EditError(f"{asset.name} is used by {len(used)} clip(s) on the timeline")
        return replace(project, assets=tuple(a for a in project.assets if a.id != asset.id))


class RelinkAssets(Command):
    """Point assets at new files (after media moved): ``{asset_id: new absolute path}``."""

    label = "Relink media"

    def __init__(self, paths: Mapping[str, str]) -> None:
        super().__init__()
        self.paths = dict(paths)

    def _apply(self, project: Project) -> Project:
        for aid in self.paths:
            if project.asset(aid) is None:
                raise EditError(f"no media with id {aid!r}")
        assets = tuple(replace(a, path=self.paths[a.id]) if a.id in self.paths else a for a in project.assets)
        return replace(project, assets=assets)


class AddMarker(Command):
    label = "Add marker"

    def __init__(self, frame: int, name: str = "", color: str = "red", duration: int = 0, note: str = "",
                 data: str = "") -> None:
        super().__init__()
        self.marker = Marker(f"marker-{self.ids.seed}", frame, name, color, duration, note, data)

    def _apply(self, project: Project) -> Project:
        m = self.marker
        _check_frame(m.frame)
        if not isinstance(m.duration, int) or m.duration < 0:
            raise EditError("marker duration must be a whole number >= 0")
        if any(x.id == m.id for x in project.sequence.markers):
            raise EditError(f"marker id {m.id!r} is already in the sequence")
        return _with_markers(project, (*project.sequence.markers, m))


class RemoveMarker(Command):
    label = "Remove marker"

    def __init__(self, marker_id: str) -> None:
        super().__init__()
        self.marker_id = marker_id

    def _apply(self, project: Project) -> Project:
        markers = tuple(m for m in project.sequence.markers if m.id != self.marker_id)
        if len(markers) == len(project.sequence.markers):
            raise EditError(f"no marker with id {self.marker_id!r}")
        return replace(project, sequence=replace(project.sequence, markers=markers))


class MoveMarker(Command):
    """Move a sequence marker by ``delta`` frames; the moves of one drag merge into one undo step."""

    label = "Move marker"

    def __init__(self, marker_id: str, delta: int) -> None:
        super().__init__()
        self.marker_id, self.delta = marker_id, delta
        self.merge_key = ("move-marker", marker_id)

    def _apply(self, project: Project) -> Project:
        found = [m for m in project.sequence.markers if m.id == self.marker_id]
        if not found:
            raise EditError(f"no marker with id {self.marker_id!r}")
        if isinstance(self.delta, bool) or not isinstance(self.delta, int):
            raise EditError(f"a marker moves by whole frames, not {self.delta!r}")
        frame = found[0].frame + self.delta
        if frame < 0:
            raise EditError("a marker cannot move before the start of the sequence")
        moved = replace(found[0], frame=frame)
        return _with_markers(project, [moved if m.id == self.marker_id else m for m in project.sequence.markers])


def _check_frame(frame: object) -> None:
    if isinstance(frame, bool) or not isinstance(frame, int) or frame < 0:
        raise EditError(f"marker frame must be a whole number >= 0, not {frame!r}")


def _with_markers(project: Project, markers) -> Project:
    """The project with ``markers`` as its sequence markers, in time order (ties by id)."""
    ordered = tuple(sorted(markers, key=lambda x: (x.frame, x.id)))
    return replace(project, sequence=replace(project.sequence, markers=ordered))


class SetProjectSettings(Command):
    """Change canvas size, sample rate, channel layout, or (on an empty timeline) frame rate."""

    label = "Project settings"

    def __init__(self, **changes: object) -> None:
        super().__init__()
        self.changes = changes

    def _apply(self, project: Project) -> Project:
        s = project.settings
        ch = dict(self.changes)
        for key in ("width", "height"):
            if key in ch:
                v = ch[key]
                if isinstance(v, bool) or not isinstance(v, int) or not 16 <= v <= 16384 or v % 2:
                    raise EditError(f"{key} must be an even number of pixels 16-16384, not {v!r}")
        if "sample_rate" in ch and ch["sample_rate"] not in (8000, 16000, 22050, 32000, 44100, 48000, 88200, 96000):
            raise EditError(f"unsupported sample rate {ch['sample_rate']!r}")
        if "channel_layout" in ch and ch["channel_layout"] not in CHANNEL_LAYOUTS:
            raise EditError(f"channel layout must be one of {', '.join(CHANNEL_LAYOUTS)}")
        if "fps" in ch:
            fps = ch["fps"]
            if not isinstance(fps, Fraction) or fps <= 0:
                raise EditError("frame rate must be a positive fraction")
            if fps != s.fps and project.sequence.duration > 0:
                raise EditError("the frame rate can only change while the timeline is empty")
        unknown = set(ch) - {"width", "height", "fps", "sample_rate", "channel_layout"}
        if unknown:
            raise EditError(f"unknown project setting {sorted(unknown)[0]!r}")
        return replace(project, settings=replace(s, **ch))  # type: ignore[arg-type]
