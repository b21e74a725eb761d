"""Drops of media-bin assets on the timeline: insert (or overwrite with Ctrl) at the snapped frame,
linked audio for A/V assets.

A mixin of ``TimelineView``: it uses the view's ``history``, ``_hit``, ``_layout``, ``_ppf``,
``_snapping``, ``_playhead``, ``select``, ``apply`` and ``status_message``.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent

from studio.core.errors import EditError

from .editing import ASSET_MIME, drop_placements
from .geometry import SNAP_PX, snap_offset, snap_points


class AssetDrops:
    """Drag-and-drop of bin assets onto the tracks."""

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt API
        if event.mimeData().hasFormat(ASSET_MIME):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:  # noqa: N802 - Qt API
        if event.mimeData().hasFormat(ASSET_MIME):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt API
        if not event.mimeData().hasFormat(ASSET_MIME):
            event.ignore()
            return
        asset_id = bytes(event.mimeData().data(ASSET_MIME).data()).decode("utf-8").strip()
        scene, hit = self._hit(event.position())
        event.acceptProposedAction()
        if hit.row is None:
            self.status_message.emit("drop media on a track")
            return
        frame = self.drop_frame(scene.x())
        overwrite = bool(event.modifiers() & Qt.KeyboardModifier.ControlModifier)
        self.drop_asset(asset_id, hit.row.track.id, frame, overwrite=overwrite)

    def drop_frame(self, x: float) -> int:
        frame = self._layout.frame(x)
        if self._snapping:
            frame += snap_offset([frame], snap_points(self.history.project, extra=[self._playhead]),
                                 SNAP_PX / self._ppf)
        return frame

    def drop_asset(self, asset_id: str, track_id: str, frame: int, *, overwrite: bool = False) -> bool:
        """Put an asset on a track at a frame (insert, or overwrite), with linked audio for A/V."""
        from studio.core.edits import InsertClips, OverwriteClips

        project = self.history.project
        track = project.track(track_id)
        if track is None:
            return False
        try:
            placements = drop_placements(project, asset_id, track, frame)
        except EditError as e:
            self.status_message.emit(str(e))
            return False
        command = OverwriteClips(placements) if overwrite else InsertClips(placements)
        if self.apply(command):
            self.select([c.id for _, c in placements])
            return True
        return False
