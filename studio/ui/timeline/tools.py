"""What a left press on the clip area does with each tool: the gesture (a :class:`Drag`) it
starts, a selection change, or an immediate edit (razor). Used by :class:`TimelineView`."""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt

from studio.core.edits import Razor, Roll, Slide, Slip, Trim
from studio.core.edits.base import linked_ids

from .geometry import Hit
from .gestures import DeltaDrag, Drag, MoveDrag, RubberBandDrag


def start_gesture(view, scene: QPointF, hit: Hit, mods: Qt.KeyboardModifier) -> Drag | None:
    """The drag a press at ``scene`` (on ``hit``, with ``mods`` held) starts, or None."""
    x = scene.x()
    tool, clip = view._tool, hit.clip
    if clip is None:
        adding = bool(mods & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier))
        keep = view._selected if adding else []
        view.select(keep)
        if tool == "select" and not adding and hit.row is not None:
            view.select_gap_at(hit.row.track.id, view.frame_under(x))  # a click selects the gap; a drag bands
        else:
            view.select_gap(None)
        return RubberBandDrag(view, x, scene.y(), list(keep))
    view.select_gap(None)
    if hit.row is not None and hit.row.track.locked:
        if tool in ("select", "ripple"):
            view.select([clip.id])
        view.status_message.emit(f"track {hit.row.track.name} is locked")
        return None
    if tool == "razor":
        view.apply(Razor(hit.frame, clip.id))
        return None
    project = view.history.project
    partners = linked_ids(project, [clip.id], groups=False)
    if hit.part in ("head", "tail") and tool in ("select", "ripple"):
        edge = clip.position if hit.part == "head" else clip.end
        ripple = tool == "ripple"
        return DeltaDrag(view, x, lambda d: Trim(clip.id, hit.part, d, ripple=ripple), [edge], partners)
    if tool == "roll":
        track = hit.row.track
        cut = clip.position if (hit.part == "head" or (hit.part == "body" and x < view._layout.x(
            clip.position + clip.duration / 2))) else clip.end
        left = next((c for c in track.clips if c.end == cut), None)
        right = next((c for c in track.clips if c.position == cut), None)
        if left is None or right is None:
            view.status_message.emit("roll: click a cut between two adjacent clips")
            return None
        exclude = partners | linked_ids(project, [left.id, right.id], groups=False)
        return DeltaDrag(view, x, lambda d: Roll(left.id, d), [cut], exclude)
    if tool == "slip":
        return DeltaDrag(view, x, lambda d: Slip(clip.id, -d), [], partners)
    if tool == "slide":
        return DeltaDrag(view, x, lambda d: Slide(clip.id, d), [clip.position, clip.end], partners)
    # select / ripple on a clip body: selection, then a move
    if mods & Qt.KeyboardModifier.ControlModifier:
        if clip.id in view._selected:
            view.select([c for c in view._selected if c != clip.id])
            return None
        view.select([*view._selected, clip.id])
    elif mods & Qt.KeyboardModifier.ShiftModifier:
        view.select([*view._selected, clip.id])
    elif clip.id not in view._selected:
        view.select([clip.id])
    return MoveDrag(view, x, view.selected_clip_ids(), hit.row.track.id)
