"""Thumbnail filmstrips: ``count`` (or one per ``every`` seconds) small pictures of a clip.

Thumbnail ``i`` shows the clip at ``i * duration / count`` (or ``i * every``) seconds from the
media start. It is made fast: each target is reached by seeking to the keyframe before it,
and when that keyframe is within half a thumbnail spacing of the target, the keyframe itself
is used (no further decoding); otherwise the decoder runs on to the exact frame (or simply
decodes on without seeking, when the next keyframe lies beyond the target). ``times`` holds
the exact media time of the frame each thumbnail really shows, so it never decreases.
Frames are scaled (and colour converted) once by swscale straight to the thumbnail size.

The strip is one PNG sheet of ``columns`` thumbnails per row (one row for short strips),
cached in the ``CacheStore`` under the asset's fingerprint; the times live in its manifest.
"""

from __future__ import annotations

import bisect
import math
import os
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

from studio.jobs import Job, JobContext, Priority

from ..probe import MediaError
from ._video import (
    ERRORS,
    VideoInput,
    asset_fingerprint,
    context_or_new,
    open_video,
    reason,
    resolve_fingerprint,
    restart,
    trim_quietly,
)
from .store import CacheStore

#: Default number of thumbnails when neither ``count`` nor ``every`` is given.
DEFAULT_COUNT = 24
#: At most this many thumbnails in one strip.
MAX_COUNT = 3600
#: A sheet row is at most this many pixels wide.
MAX_SHEET_WIDTH = 8192
#: Without a keyframe index, targets at most this far ahead are reached by decoding on.
_FORWARD_SECONDS = Fraction(2)


@dataclass
class Filmstrip:
    """A cached strip: ``path`` (PNG sheet), ``times`` (exact seconds of each thumbnail's
    frame from the media start), thumbnail ``width`` x ``height`` and sheet ``columns``."""

    path: Path
    times: tuple[Fraction, ...]
    width: int
    height: int
    columns: int
    _image: np.ndarray | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.times)

    def image(self) -> np.ndarray:
        """The whole sheet as RGB uint8 (rows of ``columns`` thumbnails)."""
        if self._image is None:
            self._image = _read_png(self.path)
            if self._image is None:
                raise MediaError(self.path, "unreadable filmstrip image")
        return self._image

    def thumbnail(self, i: int) -> np.ndarray:
        """Thumbnail ``i`` as RGB uint8 ``(height, width, 3)`` (a view into the sheet)."""
        if not 0 <= i < len(self.times):
            raise IndexError(i)
        r, c = divmod(i, self.columns)
        return self.image()[r * self.height:(r + 1) * self.height, c * self.width:(c + 1) * self.width]

    def index_at(self, t: Fraction) -> int:
        """The thumbnail that stands for media time ``t`` (the last one not after it)."""
        return max(0, bisect.bisect_right(self.times, Fraction(t)) - 1)


def artefact_name(height: int, count: int | None, every: Fraction | None) -> str:
    if every is not None:
        return f"filmstrip-h{height}-e{every.numerator}_{every.denominator}"
    return f"filmstrip-h{height}-n{count}"


def _args(height: int, count: int | None, every) -> tuple[int, int | None, Fraction | None]:
    height = int(height)
    if height < 2:
        raise ValueError(f"thumbnail height must be at least 2, not {height}")
    if count is not None and every is not None:
        raise ValueError("give count or every, not both")
    if every is not None:
        every = Fraction(every).limit_denominator(1_000_000)
        if every <= 0:
            raise ValueError(f"every must be positive, not {every}")
        return height, None, every
    count = DEFAULT_COUNT if count is None else int(count)
    if not 1 <= count <= MAX_COUNT:
        raise ValueError(f"count must be 1..{MAX_COUNT}, not {count}")
    return height, count, None


def _read_png(path: Path) -> np.ndarray | None:
    try:
        data = np.fromfile(path, dtype=np.uint8)
    except OSError:
        return None
    if data.size < 8:
        return None
    img = cv2.imdecode(data, cv2.IMREAD_COLOR)
    if img is None:
        return None
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


def _from_artefact(art, height: int) -> Filmstrip | None:
    try:
        meta = art.meta
        times = tuple(Fraction(t) for t in meta["times"])
        strip = Filmstrip(art.file("sheet"), times, int(meta["width"]), int(meta["height"]), int(meta["columns"]))
    except (KeyError, ValueError, TypeError, ZeroDivisionError):
        return None
    if strip.height != height or not times or strip.columns < 1:
        return None
    img = _read_png(strip.path)
    rows = -(-len(times) // strip.columns)
    shape = (rows * strip.height, min(len(times), strip.columns) * strip.width)
    if img is None or img.shape[:2] != shape:
        return None
    strip._image = img
    return strip


def cached_filmstrip(fingerprint: str, *, height: int = 72, count: int | None = None, every=None,
                     store: CacheStore | None = None) -> Filmstrip | None:
    """The cached strip for these settings, or None (never decodes; a corrupt one is dropped)."""
    height, count, every = _args(height, count, every)
    store = store if store is not None else CacheStore()
    name = artefact_name(height, count, every)
    art = store.lookup(fingerprint, name)
    if art is None:
        return None
    strip = _from_artefact(art, height)
    if strip is None:
        store.discard(fingerprint, name)
    return strip


def filmstrip(source_path: str | os.PathLike[str], fingerprint: str | None = None, *, height: int = 72,
              count: int | None = None, every=None, store: CacheStore | None = None,
              context: JobContext | None = None) -> Filmstrip:
    """The filmstrip of ``source_path`` (from the cache, else made and cached). Raises
    MediaError for unreadable media, ``Cancelled`` when ``context`` is cancelled."""
    height, count, every = _args(height, count, every)
    store = store if store is not None else CacheStore()
    context = context_or_new(context)
    fingerprint = resolve_fingerprint(source_path, fingerprint)
    cached = cached_filmstrip(fingerprint, height=height, count=count, every=every, store=store)
    if cached is not None:
        context.progress(1.0, "filmstrip cached")
        return cached
    inp = open_video(source_path)
    try:
        thumbs, times, tw = _make(inp, height, count, every, context)
    except ERRORS as exc:
        raise MediaError(source_path, reason(exc)) from exc
    finally:
        inp.container.close()
    context.check()
    columns = max(1, min(len(thumbs), MAX_SHEET_WIDTH // tw))
    rows = -(-len(thumbs) // columns)
    sheet = np.zeros((rows * height, min(len(thumbs), columns) * tw, 3), np.uint8)
    for i, thumb in enumerate(thumbs):
        r, c = divmod(i, columns)
        sheet[r * height:(r + 1) * height, c * tw:(c + 1) * tw] = thumb
    ok, png = cv2.imencode(".png", cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_PNG_COMPRESSION, 3])
    if not ok:  # pragma: no cover - OpenCV always encodes uint8 RGB
        raise MediaError(source_path, "could not encode the filmstrip")
    meta = {"times": [str(t) for t in times], "seconds": [float(t) for t in times], "width": tw, "height": height,
            "columns": columns, "source_width": inp.width, "source_height": inp.height}
    with store.writer(fingerprint, artefact_name(height, count, every), meta) as w:
        with open(w.temp("sheet", ".png"), "wb") as f:
            f.write(png.tobytes())
    context.progress(1.0, "filmstrip done")
    return Filmstrip(w.artefact.file("sheet"), tuple(times), tw, height, columns, sheet)


def _thumb_size(inp: VideoInput, height: int) -> tuple[int, int, int]:
    """(thumbnail width, coded width, coded height) to scale frames to before rotating them."""
    w, h = inp.width * inp.sar, Fraction(inp.height)
    if inp.rotation % 180 == 90:
        w, h = h, w
    tw = max(1, round(height * w / h))
    if inp.rotation % 180 == 90:
        return tw, height, tw
    return tw, tw, height


def _targets(inp: VideoInput, count: int | None, every: Fraction | None) -> tuple[list[Fraction], Fraction]:
    duration = inp.duration
    if duration is None or duration <= 0:
        return [Fraction(0)], Fraction(1)  # unknown length: the first frame only
    if every is not None:
        n = min(MAX_COUNT, max(1, math.ceil(duration / every)))
        return [i * every for i in range(n)], every
    return [duration * i / count for i in range(count)], duration / count


def _make(inp: VideoInput, height: int, count: int | None, every: Fraction | None, context: JobContext):
    targets, spacing = _targets(inp, count, every)
    tw, cw, ch = _thumb_size(inp, height)
    tol = max(0, math.floor(spacing / 2 / inp.time_base))
    thumbs: list[np.ndarray] = []
    times: list[Fraction] = []
    last = None  # pts of the last thumbnail

    def emit(pts: int, frame) -> None:
        nonlocal last
        if pts == last and thumbs:
            thumbs.append(thumbs[-1])
        else:
            rgb = frame.reformat(width=cw, height=ch, format="rgb24", src_colorspace=inp.sws_colorspace,
                                 src_color_range=inp.sws_range, interpolation="AREA").to_ndarray()
            if inp.rotation % 90 == 0 and inp.rotation:
                rgb = np.ascontiguousarray(np.rot90(rgb, k=inp.rotation // 90))
            thumbs.append(rgb)
        times.append(inp.time_of(pts))
        last = pts

    def should_seek(here: int, target: int) -> bool:
        if len(index):
            try:
                k = index.search_timestamp(target, backward=True)
            except ERRORS:
                k = -1
            if k >= 0:
                return index[k].timestamp > here
        return (target - here) * inp.time_base > _FORWARD_SECONDS

    restart(inp)  # decode from the very top (the probe's first frame left the decoder mid-stream)
    index = inp.stream.index_entries  # (after the reopen: the old container's index is freed)
    frames = inp.frames()
    ahead = next(frames, None)  # the next frame not yet passed
    shown = None  # the last frame passed
    if ahead is None:
        raise MediaError(inp.container.name, "no decodable video frames")
    for i, t in enumerate(targets):
        context.check()
        target = inp.ticks(t)
        if ahead is not None and ahead[0] < target and should_seek(ahead[0], target):
            inp.seek(target)
            frames = inp.frames()
            ahead, shown = next(frames, None), None
            if (ahead is not None and ahead[0] <= target and target - ahead[0] <= tol
                    and (last is None or ahead[0] > last)):
                emit(*ahead)  # the keyframe is close enough: no decoding on
                shown, ahead = ahead, next(frames, None)
                context.progress((i + 1) / len(targets), "filmstrip")
                continue
        while ahead is not None and ahead[0] <= target:
            context.check()
            shown, ahead = ahead, next(frames, None)
        pick = shown if shown is not None else ahead
        if pick is None:
            raise MediaError(inp.container.name, "no decodable video frames after a seek")
        emit(*pick)
        context.progress((i + 1) / len(targets), "filmstrip")
    return thumbs, times, tw


def filmstrip_job(asset, store: CacheStore | None = None, *, height: int = 72, count: int | None = None,
                  every=None) -> Job:
    """A background job (cpu=1, batch) making ``asset``'s filmstrip; its result is the ``Filmstrip``."""
    _args(height, count, every)
    store = store if store is not None else CacheStore()

    def run(context: JobContext) -> Filmstrip:
        fp = asset_fingerprint(asset)
        strip = filmstrip(asset.path, fp, height=height, count=count, every=every, store=store, context=context)
        trim_quietly(store, fp)
        return strip

    return Job(run, name=f"filmstrip: {getattr(asset, 'name', '') or os.path.basename(asset.path)}", cpu=1,
               priority=Priority.BATCH)
