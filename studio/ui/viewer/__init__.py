"""The viewer: plays the sequence through ``studio.render.playback`` (frames, transport, meters).

Names are loaded on first use, so walking ``studio``'s packages does not load Qt from here.
"""

from __future__ import annotations

import importlib

__all__ = ["LevelMeter", "ViewerWidget"]
_WHERE = {"LevelMeter": ".meters", "ViewerWidget": ".widget"}


def __getattr__(name: str):
    if name in _WHERE:
        return getattr(importlib.import_module(_WHERE[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
