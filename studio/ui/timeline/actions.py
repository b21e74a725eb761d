"""The timeline's actions with their shortcuts; the main window puts them in its menus.

Shortcuts are ``WidgetWithChildrenShortcut``: they act while the timeline has focus, so
Delete or Ctrl+C in the bin or inspector do not edit the timeline.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence

from studio.core.edits import Extract, Lift
from studio.core.errors import EditError

from .editing import Copied, copy_clips, paste_command, razor_commands

TOOL_KEYS = (("select", "Select tool", ("V",)), ("razor", "Razor tool", ("B", "C")),
             ("ripple", "Ripple tool", ("R",)), ("roll", "Roll tool", ("N",)),
             ("slip", "Slip tool", ("Y",)), ("slide", "Slide tool", ("U",)))


class Clipboard:
    """Copied clips, shared by every timeline in the application."""

    copied: Copied | None = None


def build(view) -> list[QAction]:  # view: TimelineView
    made: list[QAction] = []

    def action(name: str, text: str, keys: tuple[str, ...], slot: Callable[[], None], *, data: str = "",
               checkable: bool = False) -> QAction:
        a = QAction(text, view)
        a.setObjectName(name)
        a.setShortcuts([QKeySequence(k) for k in keys])
        a.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        a.setCheckable(checkable)
        if data:
            a.setData(data)
        a.triggered.connect(lambda _checked=False: slot())
        made.append(a)
        return a

    tools = QActionGroup(view)
    for name, text, keys in TOOL_KEYS:
        a = action(f"tool-{name}", text, keys, lambda n=name: view.set_tool(n), data=f"tool:{name}", checkable=True)
        a.setChecked(name == "select")
        tools.addAction(a)
    action("toggle-snapping", "Snapping", ("S",), lambda: view.set_snapping(not view.snapping()), data="snapping",
           checkable=True).setChecked(True)
    action("razor-playhead", "Cut at playhead", ("Ctrl+K",), lambda: razor_at_playhead(view))
    action("lift", "Lift (leave gap)", ("Delete",), lambda: remove(view, ripple=False))
    action("ripple-delete", "Ripple delete", ("Shift+Delete",), lambda: remove(view, ripple=True))
    action("close-gap", "Close Gap", (), view.close_gap)
    action("deselect", "Deselect all", ("Escape",), view.clear_selection)
    action("copy", "Copy clips", ("Ctrl+C",), lambda: copy(view))
    action("cut", "Cut clips", ("Ctrl+X",), lambda: copy(view) and remove(view, ripple=False))
    action("paste", "Paste clips at playhead", ("Ctrl+V",), lambda: paste(view))
    action("select-all", "Select all clips", ("Ctrl+A",), view.select_all)
    action("zoom-in", "Zoom in", ("=", "+"), lambda: view.zoom_by(1.5))
    action("zoom-out", "Zoom out", ("-",), lambda: view.zoom_by(1 / 1.5))
    action("zoom-fit", "Zoom to fit", ("Shift+Z",), view.zoom_to_fit)
    return made


def razor_at_playhead(view) -> bool:
    try:
        commands = razor_commands(view.history.project, view.playhead(), view.selected_clip_ids())
    except EditError as e:
        view.status_message.emit(str(e))
        return False
    return view.apply_all("Razor", commands)


def remove(view, *, ripple: bool) -> bool:
    """Delete: the selected marker if one is selected (clicked on the ruler), the selected gap (closed,
    with or without Shift: lifting nothing would do nothing), else lift / extract the clips."""
    marker = view.selected_marker_id()
    if marker is not None:
        return view.delete_marker(marker)
    if view.selected_gap() is not None:
        return view.close_gap()
    ids = view.selected_clip_ids()
    if not ids:
        view.status_message.emit("no clips selected")
        return False
    return view.apply(Extract(ids) if ripple else Lift(ids))


def copy(view) -> bool:
    try:
        Clipboard.copied = copy_clips(view.history.project, view.selected_clip_ids())
    except EditError as e:
        view.status_message.emit(str(e))
        return False
    view.status_message.emit(f"copied {len(Clipboard.copied.clips)} clip(s)")
    return True


def paste(view) -> bool:
    if Clipboard.copied is None:
        view.status_message.emit("nothing to paste")
        return False
    try:
        command, ids = paste_command(view.history.project, Clipboard.copied, view.playhead())
    except EditError as e:
        view.status_message.emit(str(e))
        return False
    if view.apply(command):
        view.select(ids)
        return True
    return False
