"""Scene items: clips, transitions and the playhead line. They paint; the view edits."""

from __future__ import annotations

import logging

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsLineItem, QStyleOptionGraphicsItem, QWidget

from studio.core.timeline import Clip, Transition

from .geometry import Layout, Row

log = logging.getLogger(__name__)

#: Clip body colours: by track kind, stills purple, missing media grey.
KIND_COLORS = {
    "video": QColor(62, 110, 170),
    "image": QColor(128, 88, 160),
    "audio": QColor(58, 140, 96),
}
MISSING_COLOR = QColor(100, 100, 100)
SELECTED_PEN = QPen(QColor(255, 200, 40), 2)
TEXT_COLOR = QColor(240, 240, 240)
LABEL_BACK = QColor(0, 0, 0, 130)


class ClipItem(QGraphicsItem):
    """One clip as a rounded rectangle with its name and link/group marks."""

    def __init__(self, clip: Clip, track_id: str, kind: str, row: Row, layout: Layout) -> None:
        super().__init__()
        self.setZValue(1)
        self.selected = False
        self._rect = QRectF()
        self._media: tuple | None = None  # (asset, previews, fps) when previews are drawn
        # the exposed rect in paint(): only the visible part of a long clip draws its previews
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption, True)
        self.update_clip(clip, track_id, kind, row, layout)

    def update_clip(self, clip: Clip, track_id: str, kind: str, row: Row, layout: Layout) -> None:
        self.clip, self.track_id, self.kind = clip, track_id, kind
        self.place(row, layout)

    def place(self, row: Row, layout: Layout) -> None:
        self.prepareGeometryChange()
        x0, x1 = layout.x(self.clip.position), layout.x(self.clip.end)
        self._rect = QRectF(0, 0, max(1.0, x1 - x0), row.height - 4)
        self.setPos(x0, row.top + 2)
        self.update()

    def set_media(self, asset, previews, fps) -> None:
        """Draw ``asset``'s filmstrip / waveform from ``previews`` (None: plain clips)."""
        media = (asset, previews, fps) if asset is not None and previews is not None else None
        if media != self._media:
            self._media = media
            self.update()

    def set_selected(self, on: bool) -> None:
        if on != self.selected:
            self.selected = on
            self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt API
        return self._rect.adjusted(-1, -1, 1, 1)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        r = self._rect.adjusted(0.5, 0.5, -0.5, -0.5)
        color = KIND_COLORS.get(self.kind, MISSING_COLOR)
        if not self.clip.enabled:
            color = color.darker(180)
        radius = min(4.0, r.width() / 3)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        pen = SELECTED_PEN if self.selected else QPen(color.lighter(140), 1)
        painter.setPen(pen)
        painter.setBrush(QBrush(color))
        painter.drawRoundedRect(r, radius, radius)
        shown = self._paint_media(painter, r, radius, option.exposedRect)
        if shown:  # the border again, over the pictures
            painter.setPen(pen)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(r, radius, radius)
        if r.width() < 14:
            return
        painter.setPen(TEXT_COLOR)
        font = QFont(painter.font())
        font.setPointSizeF(8.5)
        painter.setFont(font)
        text_rect = r.adjusted(5, 2, -4, -2)
        for mark, on in (("G", self.clip.group), ("L", self.clip.link)):  # linked / grouped badges
            if on and text_rect.width() > 40:
                badge = QRectF(text_rect.right() - 11, text_rect.top() + 1, 11, 11)
                painter.setBrush(QColor(0, 0, 0, 90))
                painter.setPen(Qt.PenStyle.NoPen)
                painter.drawRoundedRect(badge, 2, 2)
                painter.setPen(TEXT_COLOR)
                small = QFont(font)
                small.setPointSizeF(6.5)
                painter.setFont(small)
                painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, mark)
                painter.setFont(font)
                text_rect.setRight(text_rect.right() - 14)
        name = self.clip.name or self.clip.id
        metrics = painter.fontMetrics()
        elided = metrics.elidedText(name, Qt.TextElideMode.ElideRight, int(max(0, text_rect.width())))
        if shown and elided:  # a dark label under the name keeps it readable over pictures
            label = QRectF(text_rect.left() - 3, text_rect.top() - 1, metrics.horizontalAdvance(elided) + 6,
                           metrics.height() + 2).intersected(r)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(LABEL_BACK)
            painter.drawRoundedRect(label, 2, 2)
            painter.setPen(TEXT_COLOR)
        painter.drawText(text_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop, elided)
        self._paint_fades(painter, r)

    def _paint_media(self, painter: QPainter, r: QRectF, radius: float, exposed: QRectF) -> bool:
        """Filmstrip (video, stills) or waveform (audio) inside the body; True if drawn."""
        if self._media is None or r.width() < 2:
            return False
        from .previews import paint_filmstrip, paint_waveform

        asset, previews, fps = self._media
        inner = r.adjusted(1, 1, -1, -1)
        ppf = self._rect.width() / max(1, self.clip.duration)
        painter.save()
        clip_path = QPainterPath()
        clip_path.addRoundedRect(inner, radius, radius)
        painter.setClipPath(clip_path, Qt.ClipOperation.IntersectClip)
        try:
            if self.kind in ("video", "image"):
                shown = paint_filmstrip(painter, inner, exposed, self.clip, asset, previews, fps, ppf)
            elif self.kind == "audio":
                shown = paint_waveform(painter, inner, exposed, self.clip, asset, previews, fps, ppf)
            else:
                shown = False
            if shown and not self.clip.enabled:
                painter.fillRect(inner, QColor(0, 0, 0, 120))
        except Exception as e:  # a damaged cache entry must not break painting the timeline
            log.warning("preview of clip %s failed: %s", self.clip.id, e)
            shown = False
        finally:
            painter.restore()
        return shown

    def _paint_fades(self, painter: QPainter, r: QRectF) -> None:
        ppf = r.width() / max(1, self.clip.duration)
        painter.setPen(QPen(QColor(255, 255, 255, 140), 1))
        if self.clip.fade_in:
            painter.drawLine(r.bottomLeft(), QPointF(r.left() + self.clip.fade_in * ppf, r.top()))
        if self.clip.fade_out:
            painter.drawLine(QPointF(r.right() - self.clip.fade_out * ppf, r.top()), r.bottomRight())


class TransitionItem(QGraphicsItem):
    """A cross-hatched overlay across the cut a transition covers."""

    def __init__(self, transition: Transition, cut: int, row: Row, layout: Layout) -> None:
        super().__init__()
        self.setZValue(2)
        self.transition = transition
        x0, x1 = layout.x(cut - transition.before), layout.x(cut + transition.after)
        self._rect = QRectF(0, 0, max(2.0, x1 - x0), row.height - 4)
        self.setPos(x0, row.top + 2)

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt API
        return self._rect

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        painter.setPen(QPen(QColor(255, 255, 255, 200), 1))
        painter.setBrush(QBrush(QColor(20, 20, 20, 90)))
        painter.drawRect(self._rect.adjusted(0.5, 0.5, -0.5, -0.5))
        painter.setBrush(QBrush(QColor(255, 255, 255, 150), Qt.BrushStyle.DiagCrossPattern))
        painter.drawRect(self._rect.adjusted(0.5, 0.5, -0.5, -0.5))
        path = QPainterPath()
        path.moveTo(self._rect.bottomLeft())
        path.lineTo(self._rect.topRight())
        painter.drawPath(path)


class GapItem(QGraphicsItem):
    """The selected gap: a translucent fill between its neighbouring clips with a dashed outline
    (an open gap after the last clip runs to the end of the scene)."""

    FILL = QColor(255, 210, 80, 70)
    EDGE = QColor(255, 200, 40, 210)

    def __init__(self) -> None:
        super().__init__()
        self.setZValue(0.5)  # over the track background, under clips and transitions
        self._rect = QRectF()
        self.open_end = False

    def place(self, row: Row, x0: float, x1: float, *, open_end: bool) -> None:
        self.prepareGeometryChange()
        self._rect = QRectF(0, 0, max(2.0, x1 - x0), row.height - 4)
        self.open_end = open_end
        self.setPos(x0, row.top + 2)
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt API
        return self._rect.adjusted(-1, -1, 1, 1)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        r = self._rect.adjusted(0.5, 0.5, -0.5, -0.5)
        painter.fillRect(r, self.FILL)
        pen = QPen(self.EDGE, 1, Qt.PenStyle.DashLine)
        pen.setCosmetic(True)
        painter.setPen(pen)
        painter.drawLine(r.topLeft(), r.topRight())
        painter.drawLine(r.bottomLeft(), r.bottomRight())
        painter.drawLine(r.topLeft(), r.bottomLeft())
        if not self.open_end:
            painter.drawLine(r.topRight(), r.bottomRight())


class PlayheadItem(QGraphicsLineItem):
    def __init__(self) -> None:
        super().__init__()
        pen = QPen(QColor(235, 60, 60), 1)
        pen.setCosmetic(True)
        self.setPen(pen)
        self.setZValue(100)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations, False)
