"""The compositor: sequence frame N of a project as one ``av.VideoFrame`` (pull-based).

Enabled video tracks stack bottom to top. Each enabled clip's source is fitted to the
canvas (letterbox / pillarbox), then transformed by its keyframed x, y, scale, rotation and
crop, and blended with its keyframed opacity (times its fade in / out ramps). A dissolve
mixes clips a and b linearly over ``[cut - before, cut + after)``; outside their own range
they show their source handles (or hold the edge frame when the media has none). Speed and
reverse come from ``Clip.source_frame_at``; stills show their one frame; offline or broken
media draws a dark red placeholder instead of failing; an empty canvas is black.

Fast paths, cheapest first (``frame`` picks the first that applies):

1. pass-through: one clip, full opacity, identity transform, no transition, source size,
   pixel format and colour equal to the output's: the decoded frame itself is returned;
2. dissolve of two such frames: blended plane by plane in YUV (``cv2.addWeighted``, C, no
   RGB round trip), written straight into the new frame's planes;
3. YUV stacking, when every layer is upright and lands on whole pixels (crop, opacity,
   alpha sources and dissolves allowed): each picture is scaled and converted once by
   swscale (``VideoFrame.reformat``) to the output format (``yuva*`` for alpha) and pasted
   or alpha-blended plane by plane; a single full-canvas layer is that one conversion;
4. anything else (rotation, sub-pixel placement, display-rotated sources): RGB(A) uint8
   composition (swscale to the shown size, ``cv2.warpAffine``, premultiplied alpha
   blending in OpenCV), one conversion back to the output format at the end.

Preview may pass ``proxies``: a callable giving an asset's proxy file (a smaller copy with the
same timestamps, see ``studio.media.cache.proxies``) or None. A proxied layer decodes the proxy
but is placed exactly as the original would be (its geometry uses the asset's probed size),
so the picture differs only in resolution; a proxy that fails falls back to the original.
Export never passes ``proxies``.

Frames returned are shared with the decoder's cache: callers may set ``pts`` but must not
write into the planes. One compositor is meant for one thread (it shares its pool's
decoders); run a second compositor with its own pool in a second thread.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from fractions import Fraction

import av
import cv2
import numpy as np

from studio.core.media_pool import Asset
from studio.core.project import Project
from studio.core.timeline import Clip
from studio.media.probe import MediaError

from . import colour as col
from . import geometry as geo
from .layers import _fade, _Layer, _Mix, _Placed, _TrackIndex

log = logging.getLogger(__name__)

#: The placeholder shown for offline or unreadable media (dark red).
PLACEHOLDER_RGB = (110, 0, 0)
#: swscale never draws a picture larger than this many canvases; warpAffine scales the rest.
MAX_PRESCALE_CANVASES = 4
_PLANAR_8BIT = ("yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p")
_ALPHA_OF = {"yuv420p": "yuva420p", "yuv422p": "yuva422p", "yuv444p": "yuva444p", "yuvj420p": "yuva420p",
             "yuvj422p": "yuva422p", "yuvj444p": "yuva444p"}
_SCALE_PARAMS = ("x", "y", "scale", "rotation", "crop_left", "crop_top", "crop_right", "crop_bottom")


class Compositor:
    """Renders sequence frames of ``project`` at ``width`` x ``height`` in ``pix_fmt``.

    ``output_matrix`` ("bt709" or "bt601") picks the YUV matrix written; by default BT.709
    (what the encoder tags). ``output_colour`` says what was chosen (for tagging streams).
    """

    def __init__(self, project: Project, pool=None, *, width: int | None = None, height: int | None = None,
                 pix_fmt: str = "yuv420p", output_matrix: str | None = None,
                 interpolation=col.SCALE_FLAGS, proxies: Callable[[Asset], str | None] | None = None) -> None:
        self.project = project
        self.proxies = proxies
        self._own_pool = pool is None
        if pool is None:
            from studio.media.source_pool import SourcePool

            pool = SourcePool()
        self.pool = pool
        self.width = int(width or project.settings.width)
        self.height = int(height or project.settings.height)
        self.pix_fmt = pix_fmt
        self.interpolation = interpolation
        self.fps = Fraction(project.settings.fps)
        base = col.output_colour(self.width, self.height, pix_fmt)
        if base.matrix is not None:
            matrix = {"bt601": col.Colorspace.ITU601, "bt709": col.Colorspace.ITU709,
                      None: col.Colorspace.ITU709}[output_matrix]
            base = col.Colour(matrix, base.range)
        self.output_colour = base
        self._assets = {a.id: a for a in project.assets}
        self._tracks = [_TrackIndex(t) for t in project.sequence.tracks_of("video") if t.enabled]
        self._warned: set[str] = set()
        self._bad_proxies: set[str] = set()
        self._placeholder: list[int] | None = None
        self._solid_values: dict[tuple[int, int, int], list[int]] = {}
        self.stats = {"passthrough": 0, "dissolve": 0, "yuv": 0, "general": 0, "black": 0}

    def close(self) -> None:
        """Close the source pool if this compositor made it."""
        if self._own_pool:
            self.pool.close()

    def __enter__(self) -> Compositor:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- what is on screen ----------------------------------------------------------------
    def _layer(self, index: _TrackIndex, clip: Clip, n: int) -> _Layer | None:
        if not clip.enabled:
            return None
        asset = self._assets.get(clip.asset_id)
        if asset is not None and not asset.has_video:
            return None
        offset = n - clip.position
        opacity = clip.value_at("opacity", offset)
        if 0 <= offset < clip.duration:
            opacity *= _fade(clip, offset)
        if opacity <= 0:
            return None
        params = geo.Params(*(clip.value_at(name, offset) for name in _SCALE_PARAMS))
        layer = _Layer(clip, offset, params, min(1.0, opacity), None)
        if asset is None:
            layer.error = f"asset {clip.asset_id!r} is not in the project"
            self._warn(clip.asset_id, layer.error)
            return layer
        layer.still = asset.info.is_still
        slot = index.slot_of.get(clip.id)
        if self.proxies is not None and not layer.still:
            self._use_proxy(layer, asset, slot)
            if layer.source is not None:
                return layer
        try:
            layer.source = self.pool.video(asset.path, slot=slot)
        except MediaError as exc:
            layer.error = str(exc)
            self._warn(asset.path, layer.error)
        return layer

    def _use_proxy(self, layer: _Layer, asset: Asset, slot) -> None:
        """Open ``asset``'s proxy for ``layer`` if the ``proxies`` callable names one."""
        try:
            path = self.proxies(asset)
        except Exception as exc:  # noqa: BLE001 - a broken lookup must not break the preview
            self._warn(f"proxies:{asset.id}", f"proxy lookup failed: {exc}")
            return
        if not path or str(path) in self._bad_proxies or asset.info.width <= 0 or asset.info.height <= 0:
            return
        try:
            layer.source = self.pool.video(path, slot=slot)
        except MediaError as exc:
            self._bad_proxies.add(str(path))
            self._warn(str(path), f"proxy unusable, original used: {exc}")
            return
        layer.size = (asset.info.width, asset.info.height)
        layer.original = (asset.path, slot)

    def _contribution(self, index: _TrackIndex, n: int):
        for start, end, a, b in index.transitions:
            if start <= n < end:
                p = (n - start) / (end - start)
                la, lb = self._layer(index, a, n), self._layer(index, b, n)
                if la is None and lb is None:
                    return None
                return _Mix(la, lb, p)
        clip = index.clip_at(n)
        return None if clip is None else self._layer(index, clip, n)

    def _covers(self, item) -> bool:
        """Whether ``item`` paints every canvas pixel opaquely (so lower tracks are hidden)."""
        if isinstance(item, _Mix):
            return item.a is not None and item.b is not None and self._covers(item.a) and self._covers(item.b)
        if item.opacity < 1:
            return False
        if item.offline:
            return True
        src = item.source
        if col.has_alpha(src.pix_fmt):
            return False
        w, h = geo.upright_size(*(item.size or (src.width, src.height)), float(src.sample_aspect_ratio), src.rotation)
        return geo.covers_canvas(w, h, self.width, self.height, item.params)

    def _plan(self, n: int) -> list:
        items = [c for index in self._tracks if (c := self._contribution(index, n)) is not None]
        for i in range(len(items) - 1, 0, -1):
            if self._covers(items[i]):
                return items[i:]
        return items

    def _eligible(self, layer: _Layer | None, frame: av.VideoFrame | None = None) -> bool:
        """Whether ``layer`` (its ``frame`` if decoded) can go out untouched."""
        if layer is None or layer.offline or layer.opacity < 1 or not layer.params.is_identity:
            return False
        src = layer.source
        if src.rotation % 360 or src.sample_aspect_ratio != 1:
            return False
        if frame is None:
            w, h, fmt = src.width, src.height, src.pix_fmt
            colour = col.source_colour(fmt, w, h, src.colorspace, src.color_range)
        else:
            w, h, fmt = frame.width, frame.height, frame.format.name
            colour = col.frame_colour(frame)
        return (w, h, fmt) == (self.width, self.height, self.pix_fmt) and colour == self.output_colour

    def passthrough(self, n: int) -> bool:
        """Whether ``frame(n)`` hands out the decoded source frame itself (no copy)."""
        items = self._plan(n)
        return len(items) == 1 and isinstance(items[0], _Layer) and self._eligible(items[0])

    # --- frames ---------------------------------------------------------------------------
    def _source_frame(self, layer: _Layer) -> av.VideoFrame | None:
        if layer.offline:
            return None
        if layer.still:
            t = Fraction(0)
        else:
            t = max(Fraction(0), layer.clip.source_frame_at(layer.offset) / self.fps)
        try:
            return layer.source.frame_at(t)
        except MediaError as exc:
            if layer.original is not None:  # a broken proxy: show the original instead
                self._bad_proxies.add(layer.source.path)
                self._warn(layer.source.path, f"proxy unusable, original used: {exc}")
                (path, slot), layer.original, layer.size = layer.original, None, None
                try:
                    layer.source = self.pool.video(path, slot=slot)
                except MediaError as exc2:
                    exc = exc2
                else:
                    return self._source_frame(layer)
            layer.error = str(exc)
            self._warn(layer.source.path, layer.error)
            layer.source = None
            return None

    def frame(self, n: int) -> av.VideoFrame:
        """Sequence frame ``n`` at the canvas size in ``pix_fmt``."""
        items = self._plan(n)
        if not items:
            self.stats["black"] += 1
            return self._solid((0, 0, 0))
        frames: dict[int, av.VideoFrame | None] = {}
        if len(items) == 1 and isinstance(items[0], _Layer):
            layer = items[0]
            frames[id(layer)] = frame = self._source_frame(layer)
            if frame is not None and self._eligible(layer, frame):
                self.stats["passthrough"] += 1
                return frame
        elif len(items) == 1:
            out = self._dissolve(items[0], frames)
            if out is not None:
                self.stats["dissolve"] += 1
                return out
        layers = [x for item in items for x in ((item,) if isinstance(item, _Layer) else (item.a, item.b))
                  if x is not None]
        for layer in layers:
            if id(layer) not in frames:
                frames[id(layer)] = self._source_frame(layer)
        placed = {id(x): self._yuv_place(x, frames[id(x)]) for x in layers}
        if all(v is not None for v in placed.values()):
            self.stats["yuv"] += 1
            return self._yuv_compose(items, placed)
        self.stats["general"] += 1
        return self._general(items, frames)

    def _dissolve(self, mix: _Mix, frames: dict):
        """Plane-wise YUV blend when both sides could pass through; else None."""
        if mix.a is None or mix.b is None or self.pix_fmt not in _PLANAR_8BIT:
            return None
        if not (self._eligible(mix.a) and self._eligible(mix.b)):
            return None
        fa = frames[id(mix.a)] = self._source_frame(mix.a)
        fb = frames[id(mix.b)] = self._source_frame(mix.b)
        if fa is None or fb is None or not (self._eligible(mix.a, fa) and self._eligible(mix.b, fb)):
            return None
        out = av.VideoFrame(self.width, self.height, self.pix_fmt)
        for i in range(len(out.planes)):
            col.mix(col.plane(fa, i), col.plane(fb, i), mix.p, col.plane(out, i))
        return col.tag(out, self.output_colour)

    # --- YUV stacking: upright layers on whole pixels (crop and alpha allowed) -------------
    def _yuv_place(self, layer: _Layer, frame: av.VideoFrame | None) -> _Placed | None:
        """Where ``layer``'s picture goes in the output planes, or None if it needs RGB."""
        if self.pix_fmt not in _PLANAR_8BIT:
            return None
        if frame is None:
            return _Placed(None, 0, 0, 0, 0, self.width, self.height)  # placeholder: the whole canvas
        p = layer.params
        src = layer.source
        if p.rotation % 360 or src.rotation % 360:
            return None
        w, h = geo.upright_size(*(layer.size or (frame.width, frame.height)), float(src.sample_aspect_ratio))
        s = geo.fit_scale(w, h, self.width, self.height) * p.scale
        wi, hi = round(w * s), round(h * s)
        if wi <= 0 or hi <= 0 or wi * hi > MAX_PRESCALE_CANVASES * self.width * self.height:
            return None
        left = geo.snapped(self.width / 2 + p.x - wi / 2)
        top = geo.snapped(self.height / 2 + p.y - hi / 2)
        if left is None or top is None:
            return None
        cl, ct, cr, cb = p.crops
        x0, x1 = round(cl * wi), round(wi * (1 - cr))
        y0, y1 = round(ct * hi), round(hi * (1 - cb))
        if (x1 <= x0 or y1 <= y0 or left + x0 >= self.width or top + y0 >= self.height
                or left + x1 <= 0 or top + y1 <= 0):
            return _Placed(False, 0, 0, 0, 0, 0, 0)  # nothing visible
        fmt = _ALPHA_OF.get(self.pix_fmt, self.pix_fmt) if col.has_alpha(frame.format.name) else self.pix_fmt
        pic = col.convert(frame, width=wi, height=hi, format=fmt, dst=self.output_colour,
                          interpolation=self.interpolation)
        return _Placed(pic, left, top, x0, y0, x1, y1)

    def _yuv_compose(self, items: list, placed: dict) -> av.VideoFrame:
        first = items[0]
        if len(items) == 1 and isinstance(first, _Layer) and first.opacity >= 1:
            pl = placed[id(first)]
            whole = (pl.left, pl.top, pl.x0, pl.y0, pl.x1, pl.y1) == (0, 0, 0, 0, self.width, self.height)
            if whole and isinstance(pl.pic, av.VideoFrame) and pl.pic.format.name == self.pix_fmt:
                return pl.pic  # one conversion straight to the canvas (tagged by convert)
        out = self._solid((0, 0, 0))
        planes = [col.plane(out, i) for i in range(len(out.planes))]
        for item in items:
            if isinstance(item, _Layer):
                self._yuv_draw(planes, item, placed[id(item)])
                continue
            under = [p.copy() for p in planes]
            if item.a is not None:
                self._yuv_draw(under, item.a, placed[id(item.a)])
            if item.b is not None:
                self._yuv_draw(planes, item.b, placed[id(item.b)])
            for u, p in zip(under, planes, strict=True):
                col.mix(u, p, item.p, p)
        return out

    def _yuv_draw(self, planes: list[np.ndarray], layer: _Layer, pl: _Placed) -> None:
        if pl.pic is False:
            return
        op = layer.opacity
        if pl.pic is None:  # placeholder
            for plane, value in zip(planes, self._placeholder_yuv(), strict=True):
                col.blend_plane(plane, np.full_like(plane, value), None, op)
            return
        alpha = col.plane(pl.pic, 3) if len(pl.pic.planes) == 4 else None
        full_w, full_h = planes[0].shape[1], planes[0].shape[0]
        for i, dst in enumerate(planes):
            src = col.plane(pl.pic, i)
            # chroma planes are subsampled: an odd luma offset shifts chroma by half a chroma sample
            fx, fy = -(-full_w // dst.shape[1]), -(-full_h // dst.shape[0])
            ox, oy = pl.left // fx, pl.top // fy
            sx0, sy0 = max(pl.x0 // fx, -ox), max(pl.y0 // fy, -oy)
            sx1 = min(-(-pl.x1 // fx), src.shape[1], dst.shape[1] - ox)
            sy1 = min(-(-pl.y1 // fy), src.shape[0], dst.shape[0] - oy)
            if sx1 <= sx0 or sy1 <= sy0:
                continue
            a = None
            if alpha is not None:
                a = alpha[sy0 * fy: sy1 * fy: fy, sx0 * fx: sx1 * fx: fx]
            col.blend_plane(dst[sy0 + oy: sy1 + oy, sx0 + ox: sx1 + ox], src[sy0:sy1, sx0:sx1], a, op)

    def _placeholder_yuv(self) -> list[int]:
        if self._placeholder is None:
            probe = col.from_rgb(np.full((2, 2, 3), PLACEHOLDER_RGB, np.uint8), self.pix_fmt, self.output_colour)
            self._placeholder = [int(col.plane(probe, i)[0, 0]) for i in range(len(probe.planes))]
        return self._placeholder

    # --- general path: RGB, for rotation and sub-pixel placement ---------------------------
    def _general(self, items: list, frames: dict) -> av.VideoFrame:
        canvas = np.zeros((self.height, self.width, 3), np.uint8)
        for k, item in enumerate(items):
            if isinstance(item, _Layer):
                self._draw(canvas, item, frames, blank=k == 0)
                continue
            under = canvas.copy()
            if item.a is not None:
                self._draw(under, item.a, frames)
            if item.b is not None:
                self._draw(canvas, item.b, frames)
            col.mix(under, canvas, item.p, canvas)
        return col.from_rgb(canvas, self.pix_fmt, self.output_colour, zero_copy=True)

    def _draw(self, canvas: np.ndarray, layer: _Layer, frames: dict, blank: bool = False) -> None:
        """Draw ``layer`` onto ``canvas`` (``blank``: the canvas is still all black)."""
        key = id(layer)
        frame = frames[key] if key in frames else self._source_frame(layer)
        if frame is None:
            col.blend_rgb(canvas, np.broadcast_to(np.array(PLACEHOLDER_RGB, np.uint8), canvas.shape), None,
                       layer.opacity)
            return
        p = layer.params
        src = layer.source
        sar = float(src.sample_aspect_ratio)
        rot = src.rotation % 360 if src.rotation % 90 == 0 else 0
        fw, fh = layer.size or (frame.width, frame.height)  # a proxy is placed as its original
        up_w, up_h = geo.upright_size(fw, fh, sar, rot)
        s = geo.fit_scale(up_w, up_h, self.width, self.height) * p.scale
        cl, ct, cr, cb = p.crops
        if s <= 0 or cl + cr >= 1 or ct + cb >= 1:
            return
        # swscale to the shown size (in the frame's own orientation), capped for huge zooms
        tw, th = fw * sar * s, fh * s
        cap = min(1.0, (MAX_PRESCALE_CANVASES * self.width * self.height / (tw * th)) ** 0.5)
        pw, ph = max(1, round(tw * cap)), max(1, round(th * cap))
        full_w, full_h = (ph, pw) if rot in (90, 270) else (pw, ph)
        kx, ky = up_w * s / full_w, up_h * s / full_h
        x0, x1 = round(cl * full_w), round(full_w * (1 - cr))
        y0, y1 = round(ct * full_h), round(full_h * (1 - cb))
        if x1 <= x0 or y1 <= y0:
            return
        m = geo.affine(x1 - x0, y1 - y0, full_w, full_h, x0, y0, kx, ky, self.width, self.height, p)
        tx, ty = geo.snapped(m[0, 2]), geo.snapped(m[1, 2])
        paste = cap == 1.0 and p.rotation % 360 == 0 and tx is not None and ty is not None
        alpha = col.has_alpha(frame.format.name)
        rgb = col.to_rgb(frame, width=pw, height=ph, alpha=alpha or not paste, interpolation=self.interpolation)
        if rot:
            rgb = np.rot90(rgb, k=rot // 90)
        img = rgb[y0:y1, x0:x1]
        if img.shape[2] == 4:  # premultiply: edges and alpha then blend the same way
            img = cv2.cvtColor(np.ascontiguousarray(img), cv2.COLOR_RGBA2mRGBA)
        if paste:
            h, w = img.shape[:2]
            cx0, cy0 = max(0, tx), max(0, ty)
            cx1, cy1 = min(self.width, tx + w), min(self.height, ty + h)
            if cx1 <= cx0 or cy1 <= cy0:
                return
            part = img[cy0 - ty: cy1 - ty, cx0 - tx: cx1 - tx]
            region = canvas[cy0:cy1, cx0:cx1]
        else:
            box = geo.bbox(m, img.shape[1], img.shape[0], self.width, self.height)
            if box is None:
                return
            bx0, by0, bx1, by1 = box
            m2 = m.copy()
            m2[:, 2] -= (bx0, by0)
            region = canvas[by0:by1, bx0:bx1]
            # (4-channel warps are faster than 3-channel ones in OpenCV)
            part = cv2.warpAffine(np.ascontiguousarray(img), m2, (bx1 - bx0, by1 - by0), flags=cv2.INTER_LINEAR,
                                  borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0, 0))
            if blank:  # onto black: the premultiplied colour is the result
                region[:] = cv2.cvtColor(part, cv2.COLOR_RGBA2RGB)
                if layer.opacity < 1:
                    region[:] = cv2.convertScaleAbs(region, alpha=layer.opacity)
                return
        if part.shape[2] == 4:
            col.blend_rgb(region, cv2.cvtColor(part, cv2.COLOR_RGBA2RGB), cv2.extractChannel(part, 3), layer.opacity,
                       premultiplied=True)
        else:
            col.blend_rgb(region, part, None, layer.opacity)

    # --- helpers --------------------------------------------------------------------------
    def _solid(self, rgb: tuple[int, int, int]) -> av.VideoFrame:
        """A new frame of one colour in the output format."""
        out = av.VideoFrame(self.width, self.height, self.pix_fmt)
        if self.pix_fmt in _PLANAR_8BIT:
            values = self._solid_values.get(rgb)
            if values is None:
                probe = col.from_rgb(np.full((2, 2, 3), rgb, np.uint8), self.pix_fmt, self.output_colour)
                values = self._solid_values[rgb] = [int(col.plane(probe, i)[0, 0]) for i in range(len(probe.planes))]
            for i, value in enumerate(values):
                col.plane(out, i)[:] = value
            return col.tag(out, self.output_colour)
        return col.from_rgb(np.full((self.height, self.width, 3), rgb, np.uint8), self.pix_fmt, self.output_colour)

    def _warn(self, key: str, message: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            log.warning("offline media shown as a placeholder: %s", message)
