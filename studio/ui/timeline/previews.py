"""Media previews inside timeline clips: filmstrip thumbnails for video, waveforms for audio.

``MediaPreviews`` (given the cache store and the jobs adapter) hands out what is ready in
memory and otherwise submits one job per asset fingerprint and kind (``filmstrip_job`` /
``waveform_job``: the job itself reads the disk cache or decodes, never the UI thread), then
emits ``ready(asset_id)`` so the timeline repaints the clips using that asset. A failed job
is not retried until ``retry_failed()`` (the project's assets changed: relinked media).

``paint_filmstrip`` and ``paint_waveform`` draw only the exposed part of a clip, so zooming
into a long clip stays fast; thumbnails are converted to pixmaps once and kept (bounded).
"""

from __future__ import annotations

import logging
import math
from collections import OrderedDict
from fractions import Fraction

import numpy as np
from PySide6.QtCore import QObject, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPainterPath, QPen, QPixmap, QPolygonF

from studio.core.media_pool import Asset
from studio.core.timeline import Clip
from studio.media.cache import CacheStore, Filmstrip, WaveformPeaks, filmstrip_job, waveform_job

log = logging.getLogger(__name__)

#: Filmstrip thumbnails are made this tall (scaled to the clip height when drawn).
THUMB_HEIGHT = 54
#: Thumbnails per second of media, and at most this many per asset.
THUMBS_PER_SECOND = 2
MAX_THUMBS = 480
#: Scaled thumbnail pixmaps kept in memory.
PIXMAP_CACHE = 1500
WAVE_FILL = QColor(150, 235, 175, 200)
WAVE_EDGE = QColor(190, 250, 205)


def filmstrip_count(asset: Asset) -> int:
    duration = asset.info.duration
    if asset.info.is_still or duration is None or duration <= 0:
        return 1
    return max(1, min(MAX_THUMBS, math.ceil(duration * THUMBS_PER_SECOND)))


def image_from_rgb(rgb: np.ndarray) -> QImage:
    """A QImage owning a copy of an RGB uint8 ``(h, w, 3)`` array."""
    h, w = rgb.shape[:2]
    data = np.ascontiguousarray(rgb)
    return QImage(data.data, w, h, data.strides[0], QImage.Format.Format_RGB888).copy()


class MediaPreviews(QObject):
    """Filmstrips and waveform peaks by asset fingerprint, made by background jobs on demand.

    ``filmstrip(asset)`` / ``peaks(asset)`` return the data when it is in memory, else None
    after making sure exactly one job is on its way; ``ready(asset_id)`` follows on the UI thread.
    """

    ready = Signal(str)

    def __init__(self, store: CacheStore | None, jobs, parent: QObject | None = None, *,
                 thumb_height: int = THUMB_HEIGHT) -> None:
        super().__init__(parent)
        self.store = store  # None: the default store, resolved per job (as the bin does)
        self.jobs = jobs
        self.thumb_height = thumb_height
        self._strips: dict[str, Filmstrip] = {}
        self._peaks: dict[str, WaveformPeaks] = {}
        self._pending: set[tuple[str, str]] = set()  # (kind, key) with a job on its way
        self._failed: set[tuple[str, str]] = set()
        self._waiting: dict[tuple[str, str], set[str]] = {}  # asset ids to notify
        self._pixmaps: OrderedDict[tuple[str, int, int], QPixmap] = OrderedDict()

    @staticmethod
    def key(asset: Asset) -> str:
        return asset.fingerprint or asset.path

    # --- data ----------------------------------------------------------------------------
    def filmstrip(self, asset: Asset) -> Filmstrip | None:
        key = self.key(asset)
        strip = self._strips.get(key)
        if strip is None and asset.has_video:
            self._request("filmstrip", key, asset)
        return strip

    def peaks(self, asset: Asset) -> WaveformPeaks | None:
        key = self.key(asset)
        peaks = self._peaks.get(key)
        if peaks is None and asset.has_audio:
            self._request("waveform", key, asset)
        return peaks

    def thumbnail(self, asset: Asset, strip: Filmstrip, index: int, height: int) -> QPixmap:
        """Thumbnail ``index`` of ``strip`` as a pixmap ``height`` pixels tall (made once, kept)."""
        ck = (self.key(asset), index, height)
        pm = self._pixmaps.get(ck)
        if pm is not None:
            self._pixmaps.move_to_end(ck)
            return pm
        image = image_from_rgb(strip.thumbnail(index))
        if image.height() != height:
            image = image.scaledToHeight(height, Qt.TransformationMode.SmoothTransformation)
        pm = QPixmap.fromImage(image)
        self._pixmaps[ck] = pm
        while len(self._pixmaps) > PIXMAP_CACHE:
            self._pixmaps.popitem(last=False)
        return pm

    def pending(self) -> int:
        """Jobs submitted and not yet ended (for tests and idle checks)."""
        return len(self._pending)

    def retry_failed(self) -> None:
        self._failed.clear()

    # --- jobs ----------------------------------------------------------------------------
    def _request(self, kind: str, key: str, asset: Asset) -> None:
        token = (kind, key)
        if token in self._failed:
            return
        self._waiting.setdefault(token, set()).add(asset.id)
        if token in self._pending:
            return
        store = self.store if self.store is not None else CacheStore()
        if kind == "filmstrip":
            job = filmstrip_job(asset, store, height=self.thumb_height, count=filmstrip_count(asset))
        else:
            job = waveform_job(asset, store)
        self._pending.add(token)
        try:
            self.jobs.submit(job, on_done=lambda result: self._arrived(token, result),
                             on_end=lambda handle: self._ended(token, handle))
        except Exception as e:  # a scheduler shutting down: no preview, no crash in paint
            log.warning("cannot schedule %s for %s: %s", kind, key, e)
            self._pending.discard(token)
            self._failed.add(token)

    def _arrived(self, token: tuple[str, str], result) -> None:
        kind, key = token
        if kind == "filmstrip":
            if not isinstance(result, Filmstrip) or not len(result):
                return
            self._strips[key] = result
            for ck in [ck for ck in self._pixmaps if ck[0] == key]:
                del self._pixmaps[ck]
        elif isinstance(result, WaveformPeaks):
            self._peaks[key] = result
        else:
            return
        for asset_id in sorted(self._waiting.pop(token, ())):
            self.ready.emit(asset_id)

    def _ended(self, token: tuple[str, str], handle) -> None:
        self._pending.discard(token)
        kind, key = token
        if key not in (self._strips if kind == "filmstrip" else self._peaks):
            log.info("no %s for %s: %s", kind, key, getattr(handle, "error", None) or "job ended")
            self._failed.add(token)
            self._waiting.pop(token, None)


# --- drawing ---------------------------------------------------------------------------------
def _nearest(strip: Filmstrip, t: Fraction) -> int:
    i = strip.index_at(t)
    if i + 1 < len(strip.times) and strip.times[i + 1] - t < t - strip.times[i]:
        return i + 1
    return i


def paint_filmstrip(painter: QPainter, body: QRectF, exposed: QRectF, clip: Clip, asset: Asset,
                    previews: MediaPreviews, fps: Fraction, ppf: float) -> bool:
    """A row of thumbnails across ``body`` (item coordinates, x 0 = clip start), only where
    ``exposed``. Each shows the strip frame nearest the source time at its left edge."""
    strip = previews.filmstrip(asset)
    if strip is None or body.height() < 4:
        return False
    height = max(2, int(body.height()) - 2)
    width = max(4, round(strip.width * height / max(1, strip.height)))
    left, right = max(body.left(), exposed.left()), min(body.right(), exposed.right())
    if right <= left:
        return True
    top = body.top() + 1
    k0 = max(0, int((left - body.left()) // width))
    k1 = int((right - body.left()) // width)
    last = max(0, clip.duration - 1)
    for k in range(k0, k1 + 1):
        x = body.left() + k * width
        offset = min(last, int(k * width / ppf)) if ppf > 0 else 0
        t = max(Fraction(0), clip.source_frame_at(offset) / fps)
        pm = previews.thumbnail(asset, strip, _nearest(strip, t), height)
        painter.drawPixmap(QPointF(x, top), pm)
    return True


def paint_waveform(painter: QPainter, body: QRectF, exposed: QRectF, clip: Clip, asset: Asset,
                   previews: MediaPreviews, fps: Fraction, ppf: float) -> bool:
    """The min/max waveform (all channels together) of the clip's source range under the
    exposed part of ``body``, as one filled path; the peaks level fits the current zoom."""
    wp = previews.peaks(asset)
    if wp is None or body.height() < 4 or ppf <= 0 or clip.duration <= 0:
        return False
    x0 = math.floor(max(body.left(), exposed.left()))
    x1 = math.ceil(min(body.right(), exposed.right()))
    if x1 <= x0:
        return True
    rate = wp.sample_rate
    speed = Fraction(clip.speed)
    # source sample at each pixel edge (item x -> clip offset frames -> source frames -> samples)
    edges = np.arange(x0, x1 + 1, dtype=np.float64)
    offsets = (edges - body.left()) / ppf
    base = float(clip.source_in if speed > 0 else clip.source_out)
    samples = (base + offsets * float(speed)) / float(fps) * rate
    lo_s = np.minimum(samples[:-1], samples[1:])
    hi_s = np.maximum(samples[:-1], samples[1:])
    valid = (hi_s > 0) & (lo_s < wp.samples)
    if not valid.any():
        return True
    spp = abs(float(speed)) * rate / (ppf * float(fps))
    start = max(0, int(math.floor(lo_s[valid].min())))
    stop = min(wp.samples, int(math.ceil(hi_s[valid].max())))
    peaks = wp.peaks(spp, start, max(start + 1, stop))
    lo_bins, hi_bins = peaks
    nbins = lo_bins.shape[1]
    if nbins == 0:
        return True
    lo_all, hi_all = lo_bins.min(axis=0), hi_bins.max(axis=0)
    spb = peaks.samples_per_bin
    first = np.clip((np.floor(lo_s / spb) - peaks.start_bin).astype(np.int64), 0, nbins - 1)
    # per pixel min / max over its bins: pixel bin ranges abut, so reduceat does it in one go
    # (the level fits the zoom, so a pixel covers about one to two bins; zoomed further in, one)
    order = slice(None, None, -1) if speed < 0 else slice(None)
    lo_px = np.minimum.reduceat(lo_all, first[order])[order]
    hi_px = np.maximum.reduceat(hi_all, first[order])[order]
    gain = 10 ** (clip.gain_db / 20) if clip.gain_db else 1.0
    lo_px = np.where(valid, np.clip(lo_px * gain, -1, 1), 0.0)
    hi_px = np.where(valid, np.clip(hi_px * gain, -1, 1), 0.0)
    mid = body.center().y()
    half = (body.height() - 2) / 2
    xs = np.arange(x0, x1, dtype=np.float64) + 0.5
    top = mid - np.maximum(hi_px, 0.0) * half - 0.5
    bottom = mid - np.minimum(lo_px, 0.0) * half + 0.5
    outline = QPolygonF([QPointF(x, y) for x, y in zip(xs, top, strict=True)]
                        + [QPointF(x, y) for x, y in zip(xs[::-1], bottom[::-1], strict=True)])
    path = QPainterPath()
    path.addPolygon(outline)
    path.closeSubpath()
    painter.setPen(QPen(WAVE_EDGE, 0))
    painter.setBrush(WAVE_FILL)
    painter.drawPath(path)
    return True
