"""Finding moved media again: by file name and fingerprint inside a folder the user names."""

from __future__ import annotations

import os
from pathlib import Path

from .fingerprint import fingerprint, size_of
from .project import Project


def missing_assets(project: Project) -> list[str]:
    """Ids of assets whose file is not where the project says."""
    return [a.id for a in project.assets if not a.path or not os.path.exists(a.path)]


def find_relinks(
    project: Project, folder: str | os.PathLike[str], asset_ids: list[str] | None = None
) -> dict[str, str]:
    """``{asset_id: new path}`` for missing assets found under ``folder``.

    A candidate must have the asset's fingerprint when one is recorded. Same-name files are
    preferred; failing that, any file with the right size and fingerprint (a renamed file).
    """
    wanted = [project.asset(a) for a in (asset_ids if asset_ids is not None else missing_assets(project))]
    wanted = [a for a in wanted if a is not None]
    if not wanted:
        return {}
    by_name: dict[str, list[Path]] = {}
    by_size: dict[int, list[Path]] = {}
    for root, _dirs, files in os.walk(folder):
        for name in files:
            p = Path(root) / name
            by_name.setdefault(name, []).append(p)
            try:
                by_size.setdefault(p.stat().st_size, []).append(p)
            except OSError:
                continue
    found: dict[str, str] = {}
    cache: dict[Path, str] = {}

    def fp(p: Path) -> str:
        if p not in cache:
            try:
                cache[p] = fingerprint(p)
            except OSError:
                cache[p] = ""
        return cache[p]

    for asset in wanted:
        name = Path(asset.path).name if asset.path else asset.name
        same_name = by_name.get(name, [])
        if not asset.fingerprint:
            if len(same_name) == 1:
                found[asset.id] = str(same_name[0])
            continue
        match = next((p for p in same_name if fp(p) == asset.fingerprint), None)
        if match is None:
            size = size_of(asset.fingerprint)
            match = next((p for p in by_size.get(size, []) if fp(p) == asset.fingerprint), None) if size else None
        if match is not None:
            found[asset.id] = str(match)
    return found
