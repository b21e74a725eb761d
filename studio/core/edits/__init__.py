"""Every change to a project is one of these commands (DESIGN.md fixed point 2)."""

from .base import Command
from .moving import Move
from .placement import (
    Extract,
    ExtractRange,
    InsertClip,
    InsertClips,
    Lift,
    OverwriteClip,
    OverwriteClips,
    Razor,
    RemoveClips,
)
from .pool import AddAsset, AddMarker, MoveMarker, RelinkAssets, RemoveAsset, RemoveMarker, SetProjectSettings
from .properties import (
    GroupClips,
    RemoveKeyframe,
    SetClipProperty,
    SetGroup,
    SetKeyframe,
    SetLink,
    SetSpeed,
    SetTake,
    Ungroup,
)
from .tracks import AddTrack, MoveTrack, RemoveTrack, RenameTrack, SetTrackProperty
from .transitions import AddTransition, RemoveTransition
from .trimming import Roll, Slide, Slip, Trim, TrimHead, TrimTail

__all__ = [
    "AddAsset", "AddMarker", "AddTrack", "AddTransition", "Command", "Extract", "ExtractRange",
    "GroupClips", "InsertClip", "InsertClips", "Lift", "Move", "MoveMarker", "MoveTrack", "OverwriteClip",
    "OverwriteClips", "Razor", "RelinkAssets", "RemoveAsset", "RemoveClips", "RemoveKeyframe",
    "RemoveMarker", "RemoveTrack", "RemoveTransition", "RenameTrack", "Roll", "SetClipProperty",
    "SetGroup", "SetKeyframe", "SetLink", "SetProjectSettings", "SetSpeed", "SetTake",
    "SetTrackProperty", "Slide", "Slip", "Trim", "TrimHead", "TrimTail", "Ungroup",
]
