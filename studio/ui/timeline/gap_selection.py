"""Gap selection in the timeline: click the empty stretch between clips on a video track to select
it (highlighted), Delete closes it (one undo step), and the generation actions fill it.

A mixin of ``TimelineView``: it uses the view's ``history``, ``_gap``/``_gap_item``/``_layout``,
``select``, ``select_marker``, ``apply`` and ``status_message``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QAction

from studio.core.errors import EditError
from studio.core.timebase import format_timecode

from .editing import close_gap_command

if TYPE_CHECKING:  # studio.ai is loaded on first use: opening the editor does not import it
    from studio.ai.generate.targets import Target


class GapSelection:
    """The gap half of ``TimelineView``'s selection (clips, a marker, or a gap)."""

    def selected_gap(self) -> Target | None:
        """The selected gap: its track, ``[start, end)`` (``end`` None after the last clip) and the clip before."""
        return self._gap

    def select_gap(self, gap: Target | None) -> None:
        """Select a gap (it replaces the clip and marker selection, so Delete closes it), or none."""
        if gap == self._gap:
            return
        self._gap = gap
        if gap is not None:
            self.select([])
            self.select_marker(None)
        self._close_gap_action.setEnabled(gap is not None and gap.end is not None)
        self._place_gap()
        if gap is not None:
            self.status_message.emit(self._gap_text(gap))
        self.gap_changed.emit(gap)

    def _gap_text(self, gap: Target) -> str:
        """What the status bar says about a selected gap: where, how long, what can be done with it."""
        project = self.history.project
        fps = project.fps
        track = project.track(gap.track_id) if gap.track_id is not None else None
        name = track.name if track is not None else "?"
        if gap.end is None:
            return (f"Gap on {name} after {format_timecode(gap.start, fps)} (open): "
                    "Generate Shot (Ctrl+G) fills it")
        seconds = float(gap.end - gap.start) / float(fps)
        return (f"Gap on {name}, {format_timecode(gap.start, fps)}–{format_timecode(gap.end, fps)} "
                f"({seconds:.2f} s): Delete closes it, Generate Shot (Ctrl+G) fills it")

    def select_gap_at(self, track_id: str, frame: int) -> Target | None:
        """Select the empty stretch around ``frame`` on a video track (None: a clip is there, or the
        track is an audio or locked one)."""
        from studio.ai.generate.targets import gap_on

        track = self.history.project.track(track_id)
        gap = None
        if track is not None and track.kind == "video" and not track.locked:
            gap = gap_on(self.history.project, track_id, frame)
        self.select_gap(gap)
        return gap

    def close_gap(self) -> bool:
        """Ripple-delete the selected gap (one undo step); a gap after the last clip is refused."""
        gap = self._gap
        if gap is None or gap.track_id is None:
            self.status_message.emit("no gap selected: click the empty space between two clips")
            return False
        try:
            command = close_gap_command(self.history.project, gap.track_id, gap.start, gap.end)
        except EditError as e:
            self.status_message.emit(str(e))
            return False
        return self.apply(command)

    def add_gap_actions(self, actions: list[QAction]) -> None:
        """Actions offered first in the right-click menu over a gap (the generation actions)."""
        self._gap_actions.extend(actions)

    def _place_gap(self) -> None:
        gap = self._gap
        row = self._layout.by_id.get(gap.track_id) if gap is not None and gap.track_id is not None else None
        if row is None:
            self._gap_item.hide()
            return
        x0 = self._layout.x(gap.start)
        x1 = self._layout.x(gap.end) if gap.end is not None else max(self._scene.sceneRect().right(), x0 + 2)
        self._gap_item.place(row, x0, x1, open_end=gap.end is None)
        self._gap_item.show()
