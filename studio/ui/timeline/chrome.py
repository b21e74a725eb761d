"""The parts around the clip area: the timecode ruler (scrubbing, markers) and track headers."""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction

from PySide6.QtCore import QEvent, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QContextMenuEvent, QHelpEvent, QMouseEvent, QPainter, QPaintEvent, QPen, QPolygonF
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QMenu, QToolButton, QToolTip, QVBoxLayout, QWidget

from studio.core.timebase import format_timecode
from studio.core.timeline import Marker, Track

from .geometry import Row
from .markers import MarkerDrag, marker_at, tooltip

#: Ruler label spacing candidates, in seconds (frames below one second).
_STEPS_S = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600)
MARKER_COLORS = {"red": "#e04848", "green": "#48c060", "blue": "#4890e0", "yellow": "#e0c040",
                 "orange": "#e08a30", "purple": "#a060d0", "cyan": "#40c0d0", "white": "#e0e0e0"}
PLAYHEAD_COLOR = QColor(235, 60, 60)


def marker_color(m: Marker) -> QColor:
    """A marker's colour: a named one, any ``#rrggbb``, else red."""
    color = QColor(MARKER_COLORS.get(m.color, m.color))
    return color if color.isValid() else QColor(MARKER_COLORS["red"])


class Ruler(QWidget):
    """Timecode ticks, sequence markers and the playhead head; press or drag to scrub.

    On a marker a press selects it (Delete removes it), a drag moves it (one undo step), a right
    click offers "Delete Marker" and hovering shows its name and note.
    """

    def __init__(self, view, parent: QWidget) -> None:  # view: TimelineView
        super().__init__(parent)
        self._view = view
        self._drag: MarkerDrag | None = None
        #: The last marker menu shown (tests trigger its actions).
        self.context_menu: QMenu | None = None
        self.setObjectName("timeline-ruler")
        self.setMouseTracking(False)

    def _step(self, ppf: float, fps: Fraction) -> int:
        for frames in (1, 2, 5, 10):
            if frames * ppf >= 70 and frames < fps:
                return frames
        for s in _STEPS_S:
            frames = max(1, round(s * fps))
            if frames * ppf >= 70:
                return frames
        return max(1, round(_STEPS_S[-1] * fps))

    def marker_at(self, x: float, y: float) -> Marker | None:
        """The sequence marker under ruler point (x, y), or None."""
        view = self._view
        return marker_at(view.history.project.sequence.markers, x, y, view.pixels_per_frame(), view.scroll_x())

    def marker_x(self, marker_id: str) -> float | None:
        """Ruler x of a marker (for tests and menus), or None when there is no such marker."""
        view = self._view
        for m in view.history.project.sequence.markers:
            if m.id == marker_id:
                return m.frame * view.pixels_per_frame() - view.scroll_x()
        return None

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt API
        view = self._view
        project = view.history.project
        ppf, left = view.pixels_per_frame(), view.scroll_x()
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(38, 38, 41))
        p.setPen(QColor(80, 80, 84))
        p.drawLine(0, self.height() - 1, self.width(), self.height() - 1)
        step = self._step(ppf, project.fps)
        minor = max(1, step // 5)
        first = max(0, int(left / ppf) // minor * minor)
        last = int((left + self.width()) / ppf) + minor
        font = p.font()
        font.setPointSizeF(7.5)
        p.setFont(font)
        for f in range(first, last + 1, minor):
            x = f * ppf - left
            major = f % step == 0
            p.setPen(QColor(170, 170, 170) if major else QColor(95, 95, 100))
            p.drawLine(QPointF(x, self.height() - (12 if major else 5)), QPointF(x, self.height() - 1))
            if major:
                p.setPen(QColor(200, 200, 200))
                p.drawText(QPointF(x + 3, 11), format_timecode(f, project.fps))
        markers = project.sequence.markers
        selected = view.selected_marker_id()
        for i, m in enumerate(markers):
            room = (markers[i + 1].frame - m.frame) * ppf - 10 if i + 1 < len(markers) else float(self.width())
            self._paint_marker(p, m, ppf, left, room, m.id == selected)
        x = view.playhead() * ppf - left
        p.setPen(QPen(PLAYHEAD_COLOR, 1))
        p.setBrush(PLAYHEAD_COLOR)
        h = self.height()
        p.drawPolygon(QPolygonF([QPointF(x - 5, h - 10), QPointF(x + 5, h - 10), QPointF(x, h - 1)]))
        p.drawLine(QPointF(x, h - 10), QPointF(x, h))
        p.end()

    def _paint_marker(self, p: QPainter, m: Marker, ppf: float, left: float, room: float = 1e9,
                      selected: bool = False) -> None:
        color = marker_color(m)
        x = m.frame * ppf - left
        if x < -200 or x > self.width() + 8:
            return
        if m.duration:
            span = QColor(color)
            span.setAlpha(70)
            p.fillRect(int(x), 14, max(1, int(m.duration * ppf)), 6, span)
        p.setPen(QPen(QColor(255, 255, 255), 1.5) if selected else QPen(color.darker(150), 1))
        p.setBrush(color.lighter(125) if selected else color)
        p.drawPolygon(QPolygonF([QPointF(x - 4, 13), QPointF(x + 4, 13), QPointF(x + 4, 19), QPointF(x, 23),
                                 QPointF(x - 4, 19)]))
        if m.name and room > 36:
            # the name, cut to the room before the next marker so neighbours' names never overlap
            text = p.fontMetrics().elidedText(m.name, Qt.TextElideMode.ElideRight, int(room))
            p.setPen(QColor(255, 255, 255) if selected else color.lighter(130))
            p.drawText(QRectF(x + 6, 13, room, 11), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, text)

    def _scrub(self, event: QMouseEvent) -> None:
        view = self._view
        view.set_playhead(max(0, round((event.position().x() + view.scroll_x()) / view.pixels_per_frame())))

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        if event.button() != Qt.MouseButton.LeftButton:
            return
        view = self._view
        view.setFocus(Qt.FocusReason.MouseFocusReason)  # so Delete reaches the timeline's actions
        view.history.end_merge()
        pos = event.position()
        marker = self.marker_at(pos.x(), pos.y())
        if marker is not None:
            view.select_marker(marker.id)
            self._drag = MarkerDrag(view, pos.x() + view.scroll_x(), marker)
            return
        view.select_marker(None)
        self._scrub(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        if self._drag is not None:
            self._drag.move(event.position().x() + self._view.scroll_x(), 0.0)
        elif event.buttons() & Qt.MouseButton.LeftButton:
            self._scrub(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        if self._drag is not None and event.button() == Qt.MouseButton.LeftButton:
            x = event.position().x() + self._view.scroll_x()
            self._drag.move(x, 0.0)
            self._drag.release(x, 0.0)
            self._drag = None

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            marker = self.marker_at(event.pos().x(), event.pos().y())
            if marker is None:
                QToolTip.hideText()
                event.ignore()
            else:
                QToolTip.showText(event.globalPos(), tooltip(marker, self._view.history.project.fps), self)
            return True
        return super().event(event)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:  # noqa: N802 - Qt API
        """Right click on a marker: select it and offer "Delete Marker" (never the clip menu)."""
        event.accept()
        marker = self.marker_at(event.pos().x(), event.pos().y())
        if marker is None:
            return
        view = self._view
        view.select_marker(marker.id)
        menu = QMenu(self)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        delete = menu.addAction("Delete Marker")
        delete.setObjectName("delete-marker")
        delete.triggered.connect(lambda _checked=False, mid=marker.id: view.delete_marker(mid))
        menu.popup(event.globalPos())
        self.context_menu = menu


_SWITCH_STYLE = ("QToolButton {{ background: #3a3a3f; color: #cfcfcf; border: 1px solid #2a2a2e; border-radius: 3px;"
                 " font-size: 9px; font-weight: bold; }}"
                 " QToolButton:checked {{ background: {on}; color: #111; border-color: {on}; }}")
_SWITCH_COLORS = {"enabled": "#9aa4b4", "muted": "#e0893a", "solo": "#e6c84a", "locked": "#d9574f"}
#: (track property, button text, tooltip, kinds it applies to, checked means property == value)
_SWITCHES = (
    ("enabled", "H", "Hide track (off: the track is not rendered)", ("video",), False),
    ("muted", "M", "Mute", ("audio",), True),
    ("solo", "S", "Solo", ("video", "audio"), True),
    ("locked", "L", "Lock (no edits)", ("video", "audio"), True),
)


#: The bottom edge of a header, in pixels, that drags the track's height.
RESIZE_GRIP = 5


class TrackHeader(QFrame):
    """Name and switches of one track; a toggle calls ``on_switch(track_id, prop, value)``.

    Dragging the bottom edge calls ``on_resize(track_id, height, done)`` as the height changes.
    """

    def __init__(self, track: Track, on_switch: Callable[[str, str, bool], None], parent: QWidget,
                 on_resize: Callable[[str, int, bool], None] | None = None) -> None:
        super().__init__(parent)
        self.track_id = track.id
        self._on_resize = on_resize
        self._drag: tuple[float, int] | None = None  # (global y at press, height at press)
        self.setMouseTracking(True)
        self.setObjectName(f"header-{track.id}")
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setAutoFillBackground(True)
        pal = self.palette()
        pal.setColor(self.backgroundRole(), QColor(48, 52, 60) if track.kind == "video" else QColor(46, 56, 50))
        self.setPalette(pal)
        box = QVBoxLayout(self)
        box.setContentsMargins(6, 3, 4, 3)
        box.setSpacing(2)
        self.name = QLabel(track.name, self)
        box.addWidget(self.name)
        row = QHBoxLayout()
        row.setSpacing(2)
        self.buttons: dict[str, QToolButton] = {}
        for prop, text, tip, kinds, on_value in _SWITCHES:
            if track.kind not in kinds:
                continue
            b = QToolButton(self)
            b.setObjectName(f"{prop}-{track.id}")
            b.setText(text)
            b.setToolTip(tip)
            b.setCheckable(True)
            b.setFixedSize(20, 18)
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            b.setStyleSheet(_SWITCH_STYLE.format(on=_SWITCH_COLORS[prop]))
            b.toggled.connect(lambda checked, p=prop, v=on_value: on_switch(self.track_id, p,
                                                                           checked if v else not checked))
            self.buttons[prop] = b
            row.addWidget(b)
        row.addStretch(1)
        box.addLayout(row)
        box.addStretch(1)
        self.set_track(track)

    def _on_grip(self, y: float) -> bool:
        return self._on_resize is not None and y >= self.height() - RESIZE_GRIP

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        if event.button() == Qt.MouseButton.LeftButton and self._on_grip(event.position().y()):
            self._drag = (event.globalPosition().y(), self.height() + 1)
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        if self._drag is not None and self._on_resize is not None:
            start_y, start_h = self._drag
            height = max(16, min(400, round(start_h + event.globalPosition().y() - start_y)))
            self._on_resize(self.track_id, height, False)
            return
        grip = self._on_grip(event.position().y())
        self.setCursor(Qt.CursorShape.SizeVerCursor if grip else Qt.CursorShape.ArrowCursor)
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        if self._drag is not None and self._on_resize is not None:
            self._drag = None
            self._on_resize(self.track_id, self.height() + 1, True)
            return
        super().mouseReleaseEvent(event)

    def set_track(self, track: Track) -> None:
        self.name.setText(track.name)
        self.name.setToolTip(f"{track.name} ({track.kind})")
        for prop, _text, _tip, _kinds, on_value in _SWITCHES:
            b = self.buttons.get(prop)
            if b is not None:
                b.blockSignals(True)
                b.setChecked(getattr(track, prop) == on_value)
                b.blockSignals(False)


class HeaderPanel(QWidget):
    """The column of track headers left of the clips; scrolls vertically with them."""

    def __init__(self, on_switch: Callable[[str, str, bool], None], parent: QWidget,
                 on_resize: Callable[[str, int, bool], None] | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("timeline-headers")
        self._on_switch = on_switch
        self._on_resize = on_resize
        self._content = QWidget(self)
        self._headers: dict[str, TrackHeader] = {}
        self._shape: list[tuple[str, float, float]] = []
        self._offset = 0

    def header(self, track_id: str) -> TrackHeader | None:
        return self._headers.get(track_id)

    def set_rows(self, rows: list[Row]) -> None:
        shape = [(r.track.id, r.top, r.height) for r in rows]
        if [x[0] for x in shape] == [x[0] for x in self._shape] and shape != self._shape:
            # same tracks, new heights (a header being dragged must survive): move, don't rebuild
            for r in rows:
                h = self._headers[r.track.id]
                h.setGeometry(0, int(r.top), self.width(), int(r.height) - 1)
                h.set_track(r.track)
            self._shape = shape
        elif shape != self._shape:
            for h in self._headers.values():
                h.hide()
                h.deleteLater()  # a header may be deleted from inside its own button's signal
            self._headers = {}
            for r in rows:
                h = TrackHeader(r.track, self._on_switch, self._content, self._on_resize)
                h.setGeometry(0, int(r.top), self.width(), int(r.height) - 1)
                h.show()
                self._headers[r.track.id] = h
            self._shape = shape
        else:
            for r in rows:
                self._headers[r.track.id].set_track(r.track)
        height = int(rows[-1].bottom) if rows else 0
        self._content.setGeometry(0, -self._offset, self.width(), max(height, self.height()))

    def set_offset(self, offset: int) -> None:
        self._offset = offset
        self._content.move(0, -offset)

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt API
        self._content.resize(self.width(), max(self._content.height(), self.height()))
        for h in self._headers.values():
            h.resize(self.width(), h.height())

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt API
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(36, 36, 39))
        p.end()
