"""Visual features for auto-foley: decode once at analysis size, measure motion per frame.

``analyze(path)`` decodes the first video stream at ~256 px wide straight to grey (PyAV's
luma plane resized by OpenCV, or swscale for other pixel formats; threaded decode; frames are
handed to the measuring loop through a small queue so decoding and measuring overlap; frames
are lightly box-blurred against noise) and measures, per frame ``i`` (values for the
step from frame ``i - 1`` to ``i``; frame 0 holds zeros):

* ``diff``: global mean absolute frame difference (0..255);
* ``luma``: mean luminance of frame ``i`` (0..255) and ``hist_delta``: L1 distance of grey
  histograms of frames ``i - 1`` and ``i`` (0..2), for flashes and cuts;
* ``region_mag`` / ``region_dir``: DIS optical flow (OpenCV, ultrafast preset, on a
  quarter-size picture with its finest level at half that, scaled to analysis pixels) on a
  ``GRID`` of regions: mean magnitude (px/frame at analysis size) and mean direction
  (radians, image axes: y down);
* ``vx`` / ``vy``: velocity of the dominant moving region, ``cx`` / ``cy`` its centroid
  (0..1), ``area`` its share of the frame; ``ay`` is the vertical acceleration (difference of
  ``vy``). With a static camera (in a typical frame at most a quarter of the picture differs
  from the median background) the region is the largest foreground blob (exact for any
  displacement, robust to noise: the threshold follows the measured noise level) and its
  velocity is the change of its centroid; otherwise (a moving camera) it is the mean DIS flow
  (half analysis size) of the pixels whose flow magnitude is at least half the frame's maximum
  (``tracking`` says which: "background" or "flow").

* ``foot_vy``: vertical velocity of the lowest part (bottom quarter of the bounding box) of
  the foreground, where feet and contacts are; ``fg_height``: height of the foreground's
  bounding box (analysis px) -- together they tell a figure stepping (its feet move much less
  than its height) from an object bouncing (it travels more than its own size);
* ``bright_area`` / ``bright_cx`` / ``bright_cy``: share and centroid of near-white pixels
  (grey >= ``BRIGHT``), for fireballs and explosions;
* ``held``: the tracked blob touches the picture's border (something reaching in from outside,
  moved by a hand or a body out of shot; background tracking only);
* ``struck``: per frame, a resting object that something else sets moving between frames
  ``i - 1`` and ``i`` (``struck_contacts``: a hit the dominant region's track misses);
* ``periodicity`` / ``period``: strength (0..1, normalised autocorrelation peak) and lag
  (frames) of the repetition of ``foot_vy`` in a ~4 s window around each frame.

Speed: the decoder skips H.264's deblocking filter (invisible at analysis size, ~20% of the
decode) and hands small grey frames to the measuring loop, which runs OpenCV single-threaded
(its thread pool costs more than it gains on 256 px pictures and competes with the decoder).

Everything is in analysis pixels per frame; ``Features.width`` says what that width is.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from studio.media.probe import MediaError

from .struck import struck_contacts

#: Default analysis width in pixels (height follows the aspect ratio, rounded to even).
ANALYSIS_WIDTH = 256
#: Regions (rows, columns) for the regional flow statistics.
GRID = (3, 4)
_HIST_BINS = 32
#: Grey level (0..255, analysis picture) from which a pixel counts as near-white ("bright").
BRIGHT = 200


@dataclass(frozen=True, slots=True)
class Features:
    """Per-frame measurements of one clip (arrays of length ``frames``)."""

    path: str
    fps: Fraction
    frames: int
    width: int  # analysis size
    height: int
    source_width: int
    source_height: int
    start_time: float  # seconds of the first decoded frame (relative to the stream start)
    diff: np.ndarray
    luma: np.ndarray
    hist_delta: np.ndarray
    vx: np.ndarray
    vy: np.ndarray
    cx: np.ndarray
    cy: np.ndarray
    area: np.ndarray
    region_mag: np.ndarray  # (frames, rows, cols)
    region_dir: np.ndarray  # (frames, rows, cols)
    tracking: str = "flow"
    foot_vy: np.ndarray | None = None
    fg_height: np.ndarray | None = None
    bright_area: np.ndarray | None = None
    bright_cx: np.ndarray | None = None
    bright_cy: np.ndarray | None = None
    periodicity: np.ndarray | None = None
    period: np.ndarray | None = None
    struck: np.ndarray | None = None  # (frames, 3): woke, cx, cy of a resting object set moving (struck_contacts)
    held: np.ndarray | None = None  # bool per frame: the tracked blob reaches the picture's border

    @property
    def ay(self) -> np.ndarray:
        return np.diff(self.vy, prepend=self.vy[:1])

    @property
    def duration(self) -> float:
        return self.frames / float(self.fps)


class _OpenCVThreads:
    """OpenCV single-threaded while analyses run: its thread pool costs more than it gains on
    256 px pictures and competes with the decoder's threads. The setting is process-wide, so
    the first analysis to start saves it and the last to finish restores it (concurrent
    analyses cannot leave it at 1)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._users = 0
        self._saved = 0

    def __enter__(self) -> None:
        import cv2

        with self._lock:
            if self._users == 0:
                self._saved = cv2.getNumThreads()
                cv2.setNumThreads(1)
            self._users += 1

    def __exit__(self, *exc) -> None:
        import cv2

        with self._lock:
            self._users -= 1
            if self._users == 0:
                cv2.setNumThreads(self._saved)


_SINGLE_THREADED = _OpenCVThreads()


def _analysis_size(width: int, height: int, target: int) -> tuple[int, int]:
    w = min(target, width) // 2 * 2
    h = max(2, int(round(height * w / width / 2)) * 2)
    return max(2, w), h


#: Pixel formats whose first plane is 8-bit luma: read it directly (no colour conversion).
_LUMA_FORMATS = frozenset({"yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p", "nv12", "nv21",
                           "yuv440p", "yuvj440p", "yuv411p", "yuv410p", "gray"})


def _grey(frame, w: int, h: int) -> np.ndarray:
    """Frame -> grey ``(h, w)`` uint8: the luma plane resized in OpenCV (cheap), else swscale."""
    import cv2

    if frame.format.name in _LUMA_FORMATS:
        plane = frame.planes[0]
        luma = np.frombuffer(plane, np.uint8).reshape(frame.height, plane.line_size)[:, :frame.width]
        return cv2.resize(luma, (w, h), interpolation=cv2.INTER_LINEAR)
    return frame.reformat(width=w, height=h, format="gray").to_ndarray()


def _decode_grey(path: str, target_width: int, out: queue.Queue, stop: threading.Event, info: dict) -> None:
    import av

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    try:
        with av.open(path) as container:
            if not container.streams.video:
                raise MediaError(path, "no video stream")
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            # one decoder thread per core: FFmpeg's default (cores + 1) oversubscribes the cores the
            # measuring loop needs too (2 cores: a third more CPU, and slower, than 2 threads)
            stream.thread_count = max(1, min(16, cores))
            cc = stream.codec_context
            if cc.name == "h264":
                cc.options = {"skip_loop_filter": "all"}  # deblocking is invisible at analysis size
            if not cc.width or not cc.height:
                raise MediaError(path, "the video stream has no picture size")
            w, h = _analysis_size(cc.width, cc.height, target_width)
            rate = stream.average_rate or stream.guessed_rate or stream.base_rate
            info.update(width=w, height=h, source_width=cc.width, source_height=cc.height,
                        fps=Fraction(rate) if rate else None)
            first = True
            for frame in container.decode(stream):
                if stop.is_set():
                    return
                if first:
                    start = frame.time if frame.time is not None else 0.0
                    base = float(stream.start_time * stream.time_base) if stream.start_time is not None else 0.0
                    info["start_time"] = max(0.0, start - base)
                    first = False
                out.put(_grey(frame, w, h))
    except MediaError as e:
        info["error"] = e
    except (av.FFmpegError, OSError, ValueError) as e:
        info["error"] = MediaError(path, str(e).strip() or type(e).__name__)
    finally:
        out.put(None)


def analyze(path: str | os.PathLike[str], *, width: int = ANALYSIS_WIDTH,
            progress: Callable[[int], None] | None = None,
            cancelled: Callable[[], bool] | None = None) -> Features:
    """Decode ``path`` once at analysis size and measure it. Raises MediaError."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise MediaError(path, "no such file")
    if os.path.isdir(path):
        raise MediaError(path, "is a directory")
    # room for ~8 s of frames (9 MB at 256 px): the decoder need not wait while the measuring loop
    # starts up (imports, flow set-up) or lags behind it for a while
    frames: queue.Queue = queue.Queue(maxsize=256)
    stop = threading.Event()
    info: dict = {}
    worker = threading.Thread(target=_decode_grey, args=(path, width, frames, stop, info), daemon=True)
    worker.start()
    import cv2  # while the decoder opens the file

    with _SINGLE_THREADED:
        dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST)
        dis.setFinestScale(1)  # flow at 1/8 of analysis size: enough for regional means, ~1/5 of the cost
        rows: dict[str, list] = {k: [] for k in ("diff", "luma", "hist", "rm", "rd", "bright")}
        prev = prev_hist = prev_small = None
        greys: list[np.ndarray] = []
        grid_r, grid_c = GRID
        try:
            while True:
                grey = frames.get()
                if grey is None:
                    break
                if cancelled is not None and cancelled():
                    raise InterruptedError("foley analysis cancelled")
                h, w = grey.shape
                grey = cv2.blur(grey, (3, 3))
                greys.append(grey)
                # regional flow on a quarter-size picture: enough for per-region magnitude/direction
                small = cv2.resize(grey, (max(grid_c * 4, w // 4), max(grid_r * 4, h // 4)),
                                   interpolation=cv2.INTER_AREA)
                hist = cv2.calcHist([grey], [0], None, [_HIST_BINS], [0, 256]).ravel() / grey.size
                rows["luma"].append(cv2.mean(grey)[0])
                _, bright = cv2.threshold(grey, BRIGHT - 1, 1, cv2.THRESH_BINARY)
                if cv2.countNonZero(bright):
                    m = cv2.moments(bright, binaryImage=True)
                    rows["bright"].append((m["m00"] / grey.size, (m["m10"] / m["m00"] + 0.5) / w,
                                           (m["m01"] / m["m00"] + 0.5) / h))
                else:
                    rows["bright"].append((0.0, 0.5, 0.5))
                if prev is None:
                    rows["diff"].append(0.0)
                    rows["hist"].append(0.0)
                    rows["rm"].append(np.zeros(GRID))
                    rows["rd"].append(np.zeros(GRID))
                else:
                    rows["diff"].append(cv2.mean(cv2.absdiff(prev, grey))[0])
                    rows["hist"].append(float(np.abs(hist - prev_hist).sum()))
                    scale = w / small.shape[1]
                    fx, fy = cv2.split(dis.calc(prev_small, small, None) * scale)
                    rm, rd = _grid_stats(fx, fy, grid_r, grid_c)
                    rows["rm"].append(rm)
                    rows["rd"].append(rd)
                prev, prev_hist, prev_small = grey, hist, small
                if progress is not None:
                    progress(len(rows["luma"]))
        finally:
            stop.set()
            while worker.is_alive():  # unblock a decoder waiting on a full queue
                try:
                    frames.get(timeout=0.05)
                except queue.Empty:
                    pass
            worker.join()
        if "error" in info:
            raise info["error"]
        n = len(rows["luma"])
        if n == 0:
            raise MediaError(path, "the video stream has no decodable frames")
        fps = info.get("fps")
        if not fps or fps <= 0:
            raise MediaError(path, "the video stream has no frame rate")

        def arr(k: str) -> np.ndarray:
            return np.asarray(rows[k], dtype=np.float64)

        region_mag = np.asarray(rows["rm"])
        tracked = _track_foreground(greys) if n >= 3 else None
        tracking = "background"
        if tracked is None:
            tracking = "flow"
            tracked = _track_flow(greys)
        struck = struck_contacts(greys) if tracking == "background" else None
    vx, vy, cx, cy, area, foot_vy, fg_height, held = tracked
    strength, period = periodicity(foot_vy, float(fps))
    bright = np.asarray(rows["bright"], dtype=np.float64).reshape(n, 3)

    return Features(path=path, fps=fps, frames=n, width=info["width"], height=info["height"],
                    source_width=info["source_width"], source_height=info["source_height"],
                    start_time=float(info.get("start_time", 0.0)), diff=arr("diff"), luma=arr("luma"),
                    hist_delta=arr("hist"), vx=vx, vy=vy, cx=cx, cy=cy, area=area, region_mag=region_mag,
                    region_dir=np.asarray(rows["rd"]), tracking=tracking, foot_vy=foot_vy, fg_height=fg_height,
                    bright_area=bright[:, 0], bright_cx=bright[:, 1], bright_cy=bright[:, 2],
                    periodicity=strength, period=period, struck=struck, held=held)


def periodicity(signal: np.ndarray, fps: float, *, min_s: float = 0.2, max_s: float = 2.0,
                hop_s: float = 0.25) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame repetition of ``signal``: ``(strength, period)``.

    Normalised autocorrelation in a window of ``2 * max_s`` around every ``hop_s`` seconds
    (interpolated between): ``strength`` is the height (0..1) of the first peak among lags of
    ``min_s``..``max_s`` seconds that reaches 80% of the highest one (so a subharmonic never
    wins), ``period`` its lag in frames refined by a parabola (0 where nothing repeats).
    """
    x = np.asarray(signal, dtype=np.float64)
    n = len(x)
    lo, hi = max(2, int(round(min_s * fps))), max(3, int(round(max_s * fps)))
    strength, period = np.zeros(n), np.zeros(n)
    if n < 2 * lo + 2:
        return strength, period
    half = hi
    hop = max(1, int(round(hop_s * fps)))
    centres = np.arange(0, n, hop)
    cs, ps = np.zeros(len(centres)), np.zeros(len(centres))
    for k, c in enumerate(centres):
        seg = x[max(0, c - half):min(n, c + half + 1)]
        seg = seg - seg.mean()
        top = min(hi, len(seg) // 2)
        if top <= lo or not np.any(seg):
            continue
        lags = np.arange(lo - 1, top + 2)
        full = np.correlate(seg, seg, "full")[len(seg) - 1:]  # dot(seg[:-lag], seg[lag:]) per lag
        energy = np.concatenate([[0.0], np.cumsum(seg * seg)])
        head = energy[len(seg) - lags]  # sum of seg[:-lag] ** 2
        tail = energy[-1] - energy[lags]  # sum of seg[lag:] ** 2
        r = full[lags] / (np.sqrt(head * tail) + 1e-12)
        inner = np.arange(1, len(lags) - 1)
        peaks = inner[(r[inner] >= r[inner - 1]) & (r[inner] > r[inner + 1]) & (r[inner] > 0)]
        if not len(peaks):
            continue
        best = r[peaks].max()
        i = peaks[np.argmax(r[peaks] >= 0.8 * best)]
        a, b, c3 = r[i - 1], r[i], r[i + 1]
        shift = 0.5 * (a - c3) / (a - 2 * b + c3) if a - 2 * b + c3 < 0 else 0.0
        cs[k], ps[k] = float(min(1.0, b)), float(lags[i] + np.clip(shift, -0.5, 0.5))
    idx = np.arange(n)
    strength = np.interp(idx, centres, cs)
    # the period is only meaningful where something repeats: nearest centre, not a blend with zeros
    period = ps[np.clip(np.round(idx / hop).astype(int), 0, len(centres) - 1)]
    return strength, period


def _grid_stats(fx: np.ndarray, fy: np.ndarray, rows: int, cols: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean flow magnitude and direction per grid cell (INTER_AREA to the grid size = block means)."""
    import cv2

    h, w = fx.shape
    hh, ww = h // rows * rows, w // cols * cols
    fx, fy = fx[:hh, :ww], fy[:hh, :ww]
    mag = cv2.resize(cv2.magnitude(fx, fy), (cols, rows), interpolation=cv2.INTER_AREA)
    direction = np.arctan2(cv2.resize(fy, (cols, rows), interpolation=cv2.INTER_AREA),
                           cv2.resize(fx, (cols, rows), interpolation=cv2.INTER_AREA))
    return mag, direction


def _track_flow(greys: list[np.ndarray]):
    """Mean flow of the dominant moving region (moving camera): DIS flow at half the analysis size.

    The region is every pixel whose flow magnitude is at least half the frame's maximum.
    Returns ``(vx, vy, cx, cy, area, foot_vy, fg_height, held)`` in analysis pixels per frame /
    fractions of the frame (``foot_vy``: mean vertical flow of the region's bottom quarter; ``held``
    all False: a flow region says nothing of the border).
    """
    import cv2

    n = len(greys)
    vx, vy, cx, cy, area = np.zeros(n), np.zeros(n), np.full(n, 0.5), np.full(n, 0.5), np.zeros(n)
    foot_vy, height = np.zeros(n), np.zeros(n)
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST)
    prev = None
    for i, g in enumerate(greys):
        h, w = g.shape
        cur = cv2.resize(g, (w // 2, h // 2), interpolation=cv2.INTER_AREA) if w >= 128 else g
        if prev is None:
            prev = cur
            continue
        scale = w / cur.shape[1]
        fx, fy = cv2.split(dis.calc(prev, cur, None) * scale)
        prev = cur
        mag = cv2.magnitude(fx, fy)
        peak = cv2.minMaxLoc(mag)[1]
        _, mask = cv2.threshold(mag, max(0.5, 0.5 * peak) - 1e-6, 1, cv2.THRESH_BINARY)
        mask = mask.astype(np.uint8)
        m = cv2.moments(mask, binaryImage=True)
        count = int(m["m00"])
        if count:
            vx[i], vy[i] = cv2.mean(fx, mask=mask)[0], cv2.mean(fy, mask=mask)[0]
            cx[i], cy[i] = (m["m10"] / count + 0.5) / mask.shape[1], (m["m01"] / count + 0.5) / mask.shape[0]
            _, y0, _, bh = cv2.boundingRect(mask)
            low = np.zeros_like(mask)
            top = y0 + bh - max(1, bh // 4)
            low[top:y0 + bh] = mask[top:y0 + bh]
            foot_vy[i] = cv2.mean(fy, mask=low)[0]
            height[i] = bh * scale
        else:
            cx[i], cy[i] = cx[i - 1], cy[i - 1]
        area[i] = count / mask.size
    return vx, vy, cx, cy, area, foot_vy, height, np.zeros(n, bool)


def _track_foreground(greys: list[np.ndarray]):
    """Centroid track of the largest foreground blob against a median background (static camera).

    Also the foreground's lowest part (bottom quarter of the bounding box of every blob of at
    least a hundredth of the largest one): its centroid's vertical velocity (``foot_vy``) and
    the box height. Returns ``(vx, vy, cx, cy, area, foot_vy, fg_height, held)`` (velocities in
    px/frame, centroids 0..1), or None when hardly any frame has a blob or most of the picture
    differs from the background in a typical frame (a moving camera).
    """
    import cv2

    n = len(greys)
    sample = greys[:: max(1, n // 25)]
    background = np.median(np.stack(sample), axis=0).astype(np.uint8)
    h, w = background.shape
    kernel = np.ones((3, 3), np.uint8)
    xs, ys, areas, changed = np.full(n, np.nan), np.full(n, np.nan), np.zeros(n), np.zeros(n)
    foot, height, held = np.full(n, np.nan), np.zeros(n), np.zeros(n, bool)
    # noise level (robust: median absolute deviation from the background) from a few frames
    sigma = 1.4826 * float(np.median([np.median(cv2.absdiff(g, background)[::2, ::2]) for g in sample[:12]]))
    level = max(18.0, 5.0 * sigma)
    def measure(indices: range) -> None:
        for i in indices:
            g = greys[i]
            d = cv2.absdiff(g, background)
            _, mask = cv2.threshold(d, level, 1, cv2.THRESH_BINARY)
            on = cv2.countNonZero(mask)
            changed[i] = on / mask.size
            if on < 4:
                continue
            # opening and labelling only the box around what differs (plus the one pixel the 3x3
            # opening looks past it; it is zero outside either way): foreground is usually a small
            # part of the picture, and both cost by the pixel
            bx, by, bw, bh = cv2.boundingRect(mask)
            bx, by = max(0, bx - 1), max(0, by - 1)
            mask = cv2.morphologyEx(mask[by:by + bh + 2, bx:bx + bw + 2], cv2.MORPH_OPEN, kernel)
            x0, y0, bw, bh = cv2.boundingRect(mask)
            if not bw or not bh:
                continue
            mask = mask[y0:y0 + bh, x0:x0 + bw]
            x0, y0 = x0 + bx, y0 + by
            count, _, stats, centroids = cv2.connectedComponentsWithStats(mask, connectivity=8)
            if count <= 1:
                continue
            # a few blobs at most: plain Python on the rows is cheaper than numpy on tiny arrays
            blobs = stats.tolist()[1:]  # [left, top, width, height, area] in the box
            sizes = [b[cv2.CC_STAT_AREA] for b in blobs]
            k = sizes.index(max(sizes))  # the first largest, as argmax
            if sizes[k] < 4:
                continue
            xs[i], ys[i] = centroids[k + 1, 0] + x0, centroids[k + 1, 1] + y0
            areas[i] = sizes[k] / (h * w)
            left, top_k, width_k, height_k = blobs[k][:4]
            held[i] = (x0 + left == 0 or y0 + top_k == 0 or x0 + left + width_k == w
                       or y0 + top_k + height_k == h)
            least = max(6, sizes[k] // 100)
            big = [b for b in blobs if b[cv2.CC_STAT_AREA] >= least]
            top = min(b[cv2.CC_STAT_TOP] for b in big)
            bottom = max(b[cv2.CC_STAT_TOP] + b[cv2.CC_STAT_HEIGHT] for b in big)
            rows = max(1, (bottom - top) // 4)
            m = cv2.moments(mask[bottom - rows:bottom], binaryImage=True)  # the band: its lowest rows
            if m["m00"]:
                foot[i] = y0 + bottom - rows + m["m01"] / m["m00"]
            height[i] = bottom - top

    # one thread: two halves on two threads were a third slower (each call is a few microseconds of
    # OpenCV, and every one of them hands the GIL back and forth)
    measure(range(n))
    seen = ~np.isnan(xs)
    if seen.sum() < 3 or float(np.median(changed)) > 0.25:
        return None  # nothing moves, or the camera does (everything differs from the median)
    idx = np.arange(n)
    xs = np.interp(idx, idx[seen], xs[seen])
    ys = np.interp(idx, idx[seen], ys[seen])
    has_foot = ~np.isnan(foot)
    foot = np.interp(idx, idx[has_foot], foot[has_foot]) if has_foot.any() else ys
    vx = np.diff(xs, prepend=xs[:1])
    vy = np.diff(ys, prepend=ys[:1])
    return vx, vy, (xs + 0.5) / w, (ys + 0.5) / h, areas, np.diff(foot, prepend=foot[:1]), height, held
