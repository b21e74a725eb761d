"""Peak level meters (one bar per channel, dBFS scale, falling slowly)."""

from __future__ import annotations

import math

from PySide6.QtCore import QRectF, QSize
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import QSizePolicy, QWidget

FLOOR_DB = -60.0
#: How fast a bar falls, dB per update.
FALL_DB = 1.5


def to_db(peak: float) -> float:
    return FLOOR_DB if peak <= 10 ** (FLOOR_DB / 20) else max(FLOOR_DB, 20 * math.log10(peak))


class LevelMeter(QWidget):
    """Vertical bars for ``set_peaks([p0, p1, ...])`` (linear 0..1); red above -1 dBFS."""

    def __init__(self, channels: int = 2, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.levels_db = [FLOOR_DB] * channels
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Expanding)
        self.setToolTip("Audio peak level (dBFS)")

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return QSize(6 * len(self.levels_db) + 4, 120)

    def set_peaks(self, peaks) -> None:
        peaks = list(peaks)
        if len(peaks) != len(self.levels_db):
            self.levels_db = [FLOOR_DB] * len(peaks)
        changed = False
        for i, p in enumerate(peaks):
            db = max(to_db(float(p)), self.levels_db[i] - FALL_DB)
            if db != self.levels_db[i]:
                self.levels_db[i], changed = db, True
        if changed:
            self.update()

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt override
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(20, 20, 20))
        n = max(1, len(self.levels_db))
        w = (self.width() - 2) / n
        h = self.height() - 2
        for i, db in enumerate(self.levels_db):
            frac = (db - FLOOR_DB) / -FLOOR_DB
            bar = QRectF(1 + i * w + 1, 1 + h * (1 - frac), w - 2, h * frac)
            colour = QColor(220, 40, 40) if db > -1 else QColor(230, 200, 40) if db > -12 else QColor(60, 200, 90)
            p.fillRect(bar, colour)
        p.end()
