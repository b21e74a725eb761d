"""The timeline: a QGraphicsView over the sequence with a ruler and track headers around it.

It never changes the project itself: gestures, keys and drops build commands and apply them
through the one History; the scene follows ``history.changed`` (only the tracks touched).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QAction,
    QColor,
    QMouseEvent,
    QPainter,
    QPen,
    QWheelEvent,
)
from PySide6.QtWidgets import QApplication, QGraphicsScene, QGraphicsView, QLabel, QMenu, QWidget

from studio.core.changes import Change
from studio.core.edits import Command, SetTrackProperty
from studio.core.errors import EditError
from studio.core.history import History
from studio.core.timebase import format_timecode

from . import actions as timeline_actions
from .chrome import HeaderPanel, Ruler, marker_color
from .dropping import AssetDrops
from .gap_selection import GapSelection
from .geometry import HEADER_WIDTH, MAX_PPF, MIN_PPF, RULER_HEIGHT, Hit, Layout
from .gestures import Drag, RubberBandDrag
from .items import ClipItem, GapItem, PlayheadItem, TransitionItem
from .markers import MarkerSelection
from .tools import start_gesture

if TYPE_CHECKING:  # studio.ai is loaded on first use: opening the editor does not import it
    from studio.ai.generate.targets import Target

_END_ROOM_PX = 60
TOOLS = ("select", "razor", "ripple", "roll", "slip", "slide")
_EDGE_CURSOR = {"select": Qt.CursorShape.SizeHorCursor, "ripple": Qt.CursorShape.SplitHCursor,
                "roll": Qt.CursorShape.SplitHCursor}


class TimelineView(MarkerSelection, GapSelection, AssetDrops, QGraphicsView):
    playhead_changed = Signal(int)
    selection_changed = Signal(list)
    #: the selected gap changed: a ``Target`` (track, start, end or None when open, clip before) or None
    gap_changed = Signal(object)
    status_message = Signal(str)

    def __init__(self, history: History, parent: QWidget | None = None, previews=None) -> None:
        super().__init__(parent)
        self.setObjectName("timeline")
        self.history = history
        #: ``MediaPreviews`` (filmstrips in video clips, waveforms in audio clips) or None: plain clips.
        self.previews = previews
        self._ppf = 2.0
        self._playhead = 0
        self._selected: list[str] = []
        self._marker: str | None = None  # the selected sequence marker (exclusive with clips)
        self._gap: Target | None = None  # the selected gap on a video track (exclusive with clips and markers)
        self._gap_actions: list[QAction] = []  # contributed to the gap's right-click menu (generation)
        #: the last right-click menu over empty track space (tests look at it)
        self.gap_menu: QMenu | None = None
        self._tool = "select"
        self._snapping = True
        self._drag: Drag | None = None
        self._press: tuple[QPointF, Drag] | None = None  # a drag waiting for the mouse to move far enough
        self._clip_items: dict[str, ClipItem] = {}
        self._transition_items: dict[str, list[TransitionItem]] = {}
        self._layout = Layout(history.project, self._ppf)

        self._scene = QGraphicsScene(self)
        self._scene.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.NoIndex)
        self.setScene(self._scene)
        self.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.MinimalViewportUpdate)
        self.setViewportMargins(HEADER_WIDTH, RULER_HEIGHT, 0, 0)
        self.setAcceptDrops(True)
        self.viewport().setAcceptDrops(True)
        self.viewport().setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setBackgroundBrush(QColor(28, 28, 30))

        self._playhead_item = PlayheadItem()
        self._scene.addItem(self._playhead_item)
        self._gap_item = GapItem()
        self._gap_item.hide()
        self._scene.addItem(self._gap_item)
        self.ruler = Ruler(self, self)
        self.headers = HeaderPanel(self._set_track_switch, self, self._resize_track)
        self._corner = QLabel(self)
        self._corner.setObjectName("timeline-timecode")
        self._corner.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._corner.setStyleSheet("background: #26262a; color: #e8e8e8; font-family: monospace;")
        self.horizontalScrollBar().valueChanged.connect(lambda _v: self.ruler.update())
        self.verticalScrollBar().valueChanged.connect(self.headers.set_offset)

        self._actions = timeline_actions.build(self)
        self.addActions(self._actions)
        self._close_gap_action = next(a for a in self._actions if a.objectName() == "close-gap")
        self._close_gap_action.setEnabled(False)
        # right click: clips get the AI actions' menu (ai_actions), empty track space the gap menu
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._context_menu)
        if previews is not None:
            previews.ready.connect(self._preview_ready)
        self._sync(full=True)
        self._update_corner()
        history.changed.connect(self._on_changed)

    # --- public API ---------------------------------------------------------------------
    def playhead(self) -> int:
        return self._playhead

    def set_playhead(self, frame: int) -> None:
        frame = max(0, int(frame))
        if frame == self._playhead:
            return
        self._playhead = frame
        if self._layout.x(frame) + _END_ROOM_PX > self._scene.sceneRect().right():
            self._update_scene_rect()
        self._place_playhead()
        if self._drag is None:  # during playback, page along so the playhead stays in sight
            x, left, width = self._layout.x(frame), self.scroll_x(), self.viewport().width()
            if not left <= x <= left + width:
                self.horizontalScrollBar().setValue(round(x - width * 0.1))
        self.ruler.update()
        self._update_corner()
        self.playhead_changed.emit(frame)

    def selected_clip_ids(self) -> list[str]:
        return list(self._selected)

    def select(self, ids) -> None:
        project = self.history.project
        wanted = [i for i in dict.fromkeys(ids) if project.find_clip(i) is not None]
        if wanted:
            self.select_marker(None)
            self.select_gap(None)
        if wanted == self._selected:
            return
        for cid in set(self._selected) | set(wanted):
            item = self._clip_items.get(cid)
            if item is not None:
                item.set_selected(cid in wanted)
        self._selected = wanted
        self.selection_changed.emit(list(wanted))

    def clear_selection(self) -> None:
        """Escape: nothing selected (clips, marker, gap)."""
        self.select([])
        self.select_marker(None)
        self.select_gap(None)

    def frame_under(self, x: float) -> int:
        """The frame whose span contains scene ``x`` (not the nearest boundary, as ``Layout.frame``)."""
        return max(0, math.floor(x / self._ppf))

    def select_all(self) -> None:
        self.select([c.id for _, c in self.history.project.all_clips()])

    def pixels_per_frame(self) -> float:
        return self._ppf

    def set_zoom(self, pixels_per_frame: float, anchor_view_x: float | None = None) -> None:
        ppf = min(MAX_PPF, max(MIN_PPF, float(pixels_per_frame)))
        if anchor_view_x is None:
            anchor_view_x = self._playhead * self._ppf - self.scroll_x()
            if not 0 <= anchor_view_x <= self.viewport().width():
                anchor_view_x = 0.0
        anchor_frame = (self.scroll_x() + anchor_view_x) / self._ppf
        self._ppf = ppf
        self._sync(full=True)
        self.horizontalScrollBar().setValue(round(anchor_frame * ppf - anchor_view_x))
        self.ruler.update()

    def zoom_by(self, factor: float) -> None:
        self.set_zoom(self._ppf * factor)

    def zoom_to_fit(self) -> None:
        frames = max(self.history.project.sequence.duration, int(self.history.project.fps * 5))
        self.set_zoom((self.viewport().width() - _END_ROOM_PX - 4) / frames)
        self._update_scene_rect()
        self.horizontalScrollBar().setValue(0)

    def tool(self) -> str:
        return self._tool

    def set_tool(self, name: str) -> None:
        if name not in TOOLS:
            raise ValueError(f"unknown timeline tool {name!r}: use one of {', '.join(TOOLS)}")
        self._tool = name
        for a in self._actions:
            if a.data() == f"tool:{name}":
                a.setChecked(True)
        self.viewport().setCursor(Qt.CursorShape.IBeamCursor if name == "razor" else Qt.CursorShape.ArrowCursor)
        self.status_message.emit(f"{name.capitalize()} tool")

    def snapping(self) -> bool:
        return self._snapping

    def set_snapping(self, on: bool) -> None:
        self._snapping = bool(on)
        for a in self._actions:
            if a.data() == "snapping":
                a.setChecked(self._snapping)

    def actions(self) -> list[QAction]:
        """Timeline actions with shortcuts (active while the timeline has focus)."""
        return list(self._actions)

    def timeline_layout(self) -> Layout:
        """Where tracks and frames are in scene coordinates (for gestures and tests)."""
        return self._layout

    def scroll_x(self) -> float:
        return float(self.horizontalScrollBar().value())

    def scene_pos_of(self, frame: int, track_id: str, *, dy: float = 0.5) -> QPointF:
        """Scene point at ``frame`` in a track row (``dy`` is the fraction of its height)."""
        row = self._layout.by_id[track_id]
        return QPointF(self._layout.x(frame), row.top + row.height * dy)

    # --- edits ----------------------------------------------------------------------------
    def apply(self, command: Command) -> bool:
        """Apply a command; an impossible edit becomes a status message. True if applied."""
        try:
            self.history.apply(command)
        except EditError as e:
            self.status_message.emit(str(e))
            return False
        return True

    def apply_all(self, label: str, commands: list[Command]) -> bool:
        try:
            with self.history.transaction(label):
                for c in commands:
                    self.history.apply(c)
        except EditError as e:
            self.status_message.emit(str(e))
            return False
        return True

    def _resize_track(self, track_id: str, height: int, done: bool) -> None:
        """Dragging a header's bottom edge: one merged undo step per drag."""
        if done:
            self.history.end_merge()
            return
        track = self.history.project.track(track_id)
        if track is not None and track.height != height:
            try:
                self.history.apply(SetTrackProperty(track_id, "height", height), merge=True)
            except EditError as e:
                self.status_message.emit(str(e))

    def _set_track_switch(self, track_id: str, prop: str, value: bool) -> None:
        if not self.apply(SetTrackProperty(track_id, prop, value)):
            self._sync(full=True)  # put the button back

    # --- model -> scene -------------------------------------------------------------------
    def _on_changed(self, change: Change) -> None:
        if not shiboken6.isValid(self):
            self.history.changed.disconnect(self._on_changed)
            return
        if change.empty:
            return
        full = change.assets_changed or change.settings_changed  # clip colours/names may change
        if change.assets_changed and self.previews is not None:
            self.previews.retry_failed()  # relinked media may preview now
        self._sync(full=full, track_ids=None if full else change.track_ids)
        if self._gap is not None and self._gap.track_id is not None:
            from studio.ai.generate.targets import gap_on

            # an edit that filled, moved or resized the gap ends its selection
            if gap_on(self.history.project, self._gap.track_id, self._gap.start) != self._gap:
                self.select_gap(None)
        if change.markers_changed:
            markers = self.history.project.sequence.markers
            if self._marker is not None and not any(m.id == self._marker for m in markers):
                self._marker = None
            self.ruler.update()

    def _sync(self, full: bool = False, track_ids=None) -> None:
        project = self.history.project
        old_rows = {tid: (r.top, r.height) for tid, r in self._layout.by_id.items()}
        self._layout = layout = Layout(project, self._ppf)
        if full or old_rows != {tid: (r.top, r.height) for tid, r in layout.by_id.items()}:
            track_ids = None
        kinds = {a.id: "image" if a.kind == "image" else "media" for a in project.assets}
        assets = {a.id: a for a in project.assets} if self.previews is not None else {}
        for row in layout.rows:
            track = row.track
            if track_ids is not None and track.id not in track_ids:
                continue
            for c in track.clips:
                item = self._clip_items.get(c.id)
                kind = kinds.get(c.asset_id, "missing")
                kind = track.kind if kind == "media" else kind
                if item is None:
                    item = ClipItem(c, track.id, kind, row, layout)
                    item.set_selected(c.id in self._selected)
                    self._scene.addItem(item)
                    self._clip_items[c.id] = item
                elif full or item.clip is not c or item.track_id != track.id:
                    item.update_clip(c, track.id, kind, row, layout)
                if self.previews is not None:
                    item.set_media(assets.get(c.asset_id), self.previews, project.fps)
            for tr in self._transition_items.pop(track.id, []):
                self._scene.removeItem(tr)
            by_id = {c.id: c for c in track.clips}
            self._transition_items[track.id] = items = []
            for tr in track.transitions:
                a = by_id.get(tr.a)
                if a is not None:
                    items.append(TransitionItem(tr, a.end, row, layout))
                    self._scene.addItem(items[-1])
        present = {c.id for _, c in project.all_clips()}
        for cid in [cid for cid in self._clip_items if cid not in present]:
            self._scene.removeItem(self._clip_items.pop(cid))
        for tid in [tid for tid in self._transition_items if tid not in layout.by_id]:
            for tr in self._transition_items.pop(tid):
                self._scene.removeItem(tr)
        if any(cid not in present for cid in self._selected):
            self._selected = [cid for cid in self._selected if cid in present]
            self.selection_changed.emit(list(self._selected))
        self._update_scene_rect()
        self.headers.set_rows(layout.rows)
        self.viewport().update()
        self.ruler.update()

    def _preview_ready(self, asset_id: str) -> None:
        """A filmstrip or waveform arrived: repaint the clips that use the asset."""
        if not shiboken6.isValid(self):
            return
        for item in self._clip_items.values():
            if item.clip.asset_id == asset_id:
                item.update()

    def _update_scene_rect(self) -> None:
        project = self.history.project
        # a little room after the end to drop and drag into; it grows as clips move right
        end = max(project.sequence.duration, self._playhead)
        width = max(end * self._ppf + _END_ROOM_PX, self.viewport().width() - 2)
        self._scene.setSceneRect(0, 0, width, max(self._layout.height, 1))
        self._place_playhead()
        self._place_gap()

    def _place_playhead(self) -> None:
        x = self._layout.x(self._playhead)
        self._playhead_item.setLine(x, 0, x, max(self._layout.height, self.viewport().height()))

    def _update_corner(self) -> None:
        self._corner.setText(format_timecode(self._playhead, self.history.project.fps))

    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:  # noqa: N802 - Qt API
        painter.fillRect(rect, QColor(28, 28, 30))
        for i, row in enumerate(self._layout.rows):
            shade = 36 if i % 2 else 32
            painter.fillRect(QRectF(rect.left(), row.top, rect.width(), row.height),
                             QColor(shade, shade, shade + 4) if row.track.kind == "video" else
                             QColor(shade, shade + 3, shade))
            painter.setPen(QColor(20, 20, 22))
            painter.drawLine(QPointF(rect.left(), row.bottom - 0.5), QPointF(rect.right(), row.bottom - 0.5))
            if row.track.locked:
                painter.fillRect(QRectF(rect.left(), row.top, rect.width(), row.height),
                                 QColor(0, 0, 0, 70))

    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:  # noqa: N802 - Qt API
        """The selected marker's line down through the tracks, to line it up with the picture and sounds."""
        if self._marker is None:
            return
        m = next((m for m in self.history.project.sequence.markers if m.id == self._marker), None)
        if m is None:
            return
        color = marker_color(m)
        color.setAlpha(170)
        x = self._layout.x(m.frame)
        painter.setPen(QPen(color, 0, Qt.PenStyle.DashLine))
        painter.drawLine(QPointF(x, rect.top()), QPointF(x, rect.bottom()))

    # --- geometry of the frame around the viewport --------------------------------------
    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(event)
        vp = self.viewport().geometry()
        self.ruler.setGeometry(vp.left(), vp.top() - RULER_HEIGHT, vp.width(), RULER_HEIGHT)
        self.headers.setGeometry(vp.left() - HEADER_WIDTH, vp.top(), HEADER_WIDTH, vp.height())
        self._corner.setGeometry(vp.left() - HEADER_WIDTH, vp.top() - RULER_HEIGHT, HEADER_WIDTH, RULER_HEIGHT)
        self.headers.set_rows(self._layout.rows)
        self._update_scene_rect()

    # --- mouse ----------------------------------------------------------------------------
    def _hit(self, pos: QPointF) -> tuple[QPointF, Hit]:
        scene = self.mapToScene(pos.toPoint())
        return scene, self._layout.hit(scene.x(), scene.y())

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        if event.button() != Qt.MouseButton.LeftButton:
            super().mousePressEvent(event)
            return
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        scene, hit = self._hit(event.position())
        self.history.end_merge()
        drag = self._start(scene, hit, event.modifiers())
        if drag is not None:
            self._press = (event.position(), drag)
        event.accept()

    def _start(self, scene: QPointF, hit: Hit, mods: Qt.KeyboardModifier) -> Drag | None:
        return start_gesture(self, scene, hit, mods)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        if self._press is not None:
            start, drag = self._press
            if isinstance(drag, RubberBandDrag) or (event.position() - start).manhattanLength() >= \
                    QApplication.startDragDistance():
                self._press, self._drag = None, drag
        if self._drag is not None:
            scene = self.mapToScene(event.position().toPoint())
            self._drag.move(scene.x(), scene.y())
            self._autoscroll(event.position())
        else:
            self._hover(event.position())
        event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        if event.button() != Qt.MouseButton.LeftButton:
            super().mouseReleaseEvent(event)
            return
        scene = self.mapToScene(event.position().toPoint())
        if self._drag is not None:
            self._drag.move(scene.x(), scene.y())
            self._drag.release(scene.x(), scene.y())
        elif self._press is not None:
            self._press[1].cancel()
        self._drag = self._press = None
        self.history.end_merge()
        event.accept()

    def _context_menu(self, pos: QPoint) -> None:
        """Right click on empty track space: select the gap there (unless it is selected already) and offer
        what can go into it; clips are left to the clip menu (``AiActions``)."""
        scene = self.mapToScene(pos)
        hit = self._layout.hit(scene.x(), scene.y())
        if hit.clip is not None or hit.row is None:
            return
        frame = self.frame_under(scene.x())
        gap = self._gap
        inside = gap is not None and gap.track_id == hit.row.track.id and gap.start <= frame and (
            gap.end is None or frame < gap.end)
        if not inside:
            self.select_gap_at(hit.row.track.id, frame)
        menu = QMenu(self)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        if self._gap_actions:
            menu.addActions(self._gap_actions)
            menu.addSeparator()
        menu.addAction(self._close_gap_action)
        menu.popup(self.viewport().mapToGlobal(pos))
        self.gap_menu = menu

    def _hover(self, pos: QPointF) -> None:
        _, hit = self._hit(pos)
        if self._tool == "razor":
            return
        if hit.part in ("head", "tail") and self._tool in _EDGE_CURSOR:
            self.viewport().setCursor(_EDGE_CURSOR[self._tool])
        elif hit.clip is not None and self._tool in ("slip", "slide"):
            self.viewport().setCursor(Qt.CursorShape.SizeAllCursor)
        else:
            self.viewport().setCursor(Qt.CursorShape.ArrowCursor)

    def _autoscroll(self, pos: QPointF) -> None:
        bar = self.horizontalScrollBar()
        if pos.x() > self.viewport().width() - 10:
            bar.setValue(bar.value() + 10)
        elif pos.x() < 10:
            bar.setValue(bar.value() - 10)

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 - Qt API
        steps = event.angleDelta().y() / 120
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.set_zoom(self._ppf * math.pow(1.25, steps), anchor_view_x=event.position().x())
            event.accept()
            return
        if event.modifiers() & Qt.KeyboardModifier.ShiftModifier or not self.verticalScrollBar().maximum():
            bar = self.horizontalScrollBar()
            bar.setValue(bar.value() - round(steps * 120))
            event.accept()
            return
        super().wheelEvent(event)
