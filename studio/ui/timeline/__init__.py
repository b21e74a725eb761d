"""The timeline panel: a QGraphicsView over the sequence, editing only through commands.

Names are loaded lazily, so importing the package (as ``pkgutil.walk_packages`` does in the
layer test) does not load Qt.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .editing import ASSET_MIME
    from .view import TOOLS, TimelineView

__all__ = ["ASSET_MIME", "TOOLS", "TimelineView"]


def __getattr__(name: str) -> Any:
    if name == "ASSET_MIME":
        from .editing import ASSET_MIME

        return ASSET_MIME
    if name in ("TOOLS", "TimelineView"):
        from . import view

        return getattr(view, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
