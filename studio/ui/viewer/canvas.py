"""Paints the engine's RGB frames; works out the display size for "fit" or "100%"."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QSizePolicy, QWidget

FIT, ACTUAL = "fit", "100%"


class FrameCanvas(QWidget):
    """Shows one RGB24 frame, centred, at the size it was rendered (the engine renders at
    ``display_size()``, so painting never scales). ``size_wanted`` fires when that size changes."""

    size_wanted = Signal(int, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(160, 90)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # click the picture, then J/K/L and friends work
        self.canvas_size = (1920, 1080)
        self.zoom = FIT
        self._array: np.ndarray | None = None
        self._image: QImage | None = None
        self._wanted = (0, 0)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return QSize(640, 360)

    def set_canvas_size(self, width: int, height: int) -> None:
        self.canvas_size = (int(width), int(height))
        self._update_wanted()

    def set_zoom(self, zoom: str) -> None:
        if zoom not in (FIT, ACTUAL):
            raise ValueError(f"zoom must be {FIT!r} or {ACTUAL!r}")
        self.zoom = zoom
        self._update_wanted()

    def display_size(self) -> tuple[int, int]:
        cw, ch = self.canvas_size
        if self.zoom == ACTUAL:
            return cw, ch
        w, h = max(2, self.width()), max(2, self.height())
        scale = min(w / cw, h / ch)
        return max(2, round(cw * scale)), max(2, round(ch * scale))

    def _update_wanted(self) -> None:
        size = self.display_size()
        if size != self._wanted:
            self._wanted = size
            self.size_wanted.emit(*size)

    def set_image(self, array: np.ndarray) -> None:
        array = np.ascontiguousarray(array)
        h, w = array.shape[:2]
        image = QImage(array.data, w, h, array.strides[0], QImage.Format.Format_RGB888)
        # the QImage borrows the array's buffer: drop the old image before the old buffer
        self._image, self._array = image, array
        self.update()

    def image(self) -> np.ndarray | None:
        """The frame on screen (RGB24, as rendered)."""
        return self._array

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        self._update_wanted()

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt override
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(0, 0, 0))
        if self._image is not None:
            x = (self.width() - self._image.width()) // 2
            y = (self.height() - self._image.height()) // 2
            p.drawImage(QPoint(x, y), self._image)
        p.end()
