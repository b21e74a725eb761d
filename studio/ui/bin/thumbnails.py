"""Bin thumbnails: the first frame of each asset's filmstrip, made by a cache job, a placeholder until then."""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, QRect, Qt, Signal
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPixmap

from studio.core.media_pool import Asset
from studio.media.cache import CacheStore, Filmstrip, filmstrip_job

from ..jobs_adapter import JobsAdapter
from ..theme import WARNING_COLOR

log = logging.getLogger(__name__)

THUMB_HEIGHT = 72
THUMB_WIDTH = 128


def image_from_rgb(rgb) -> QImage:
    """A QImage owning a copy of an RGB uint8 ``(h, w, 3)`` array."""
    h, w = rgb.shape[:2]
    data = rgb.copy(order="C")
    return QImage(data.data, w, h, data.strides[0], QImage.Format.Format_RGB888).copy()


def placeholder(kind: str, missing: bool = False) -> QPixmap:
    """A dark 16:9 tile with the media kind (or "missing") written on it."""
    pm = QPixmap(THUMB_WIDTH, THUMB_HEIGHT)
    pm.fill(QColor(58, 24, 24) if missing else QColor(36, 36, 40))
    p = QPainter(pm)
    p.setPen(QColor(WARNING_COLOR) if missing else QColor(120, 120, 128))
    font = QFont(p.font())
    font.setPointSize(9)
    p.setFont(font)
    text = "missing" if missing else {"audio": "♪ audio", "image": "still", "av": "…", "video": "…"}.get(kind, kind)
    p.drawText(QRect(0, 0, THUMB_WIDTH, THUMB_HEIGHT), Qt.AlignmentFlag.AlignCenter, text)
    p.end()
    return pm


class ThumbnailCache(QObject):
    """Pixmaps by asset fingerprint; ``request`` submits a filmstrip job (count 1) at most once.

    ``ready(key)`` is emitted on the UI thread when a thumbnail arrives.
    """

    ready = Signal(str)

    def __init__(self, jobs: JobsAdapter, store: CacheStore | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.jobs = jobs
        self.store = store
        self._pixmaps: dict[str, QPixmap] = {}
        self._pending: set[str] = set()
        self._failed: set[str] = set()
        self._placeholders: dict[tuple[str, bool], QPixmap] = {}

    @staticmethod
    def key(asset: Asset) -> str:
        return asset.fingerprint or asset.path

    def has(self, asset: Asset) -> bool:
        return self.key(asset) in self._pixmaps

    def pixmap(self, asset: Asset, missing: bool = False) -> QPixmap:
        found = None if missing else self._pixmaps.get(self.key(asset))
        if found is not None:
            return found
        kind = (asset.kind, missing)
        if kind not in self._placeholders:
            self._placeholders[kind] = placeholder(asset.kind, missing)
        return self._placeholders[kind]

    def request(self, asset: Asset) -> None:
        key = self.key(asset)
        if not asset.has_video or key in self._pixmaps or key in self._pending or key in self._failed:
            return
        self._pending.add(key)
        store = self.store if self.store is not None else CacheStore()
        job = filmstrip_job(asset, store, height=THUMB_HEIGHT, count=1)
        self.jobs.submit(job, on_done=lambda strip: self._arrived(key, strip),
                         on_end=lambda handle: self._ended(key, handle))

    def _arrived(self, key: str, strip: Filmstrip) -> None:
        try:
            image = image_from_rgb(strip.thumbnail(0))
        except Exception as e:  # a damaged strip: keep the placeholder
            log.warning("thumbnail for %s unusable: %s", key, e)
            self._failed.add(key)
            return
        self._pixmaps[key] = QPixmap.fromImage(image)
        self.ready.emit(key)

    def _ended(self, key: str, handle) -> None:
        self._pending.discard(key)
        if key not in self._pixmaps:
            self._failed.add(key)
