"""YUV <-> RGB with the right matrix and range for each source (all through swscale).

A source's matrix comes from its tags; untagged material follows the usual convention:
BT.709 for HD and larger (width >= 1280 or height >= 720), BT.601 for SD. Its range is
limited ("MPEG", 16-235) unless tagged full or a JPEG pixel format (``yuvj*``). RGB sources
have no matrix. Output is BT.709 limited for HD/UHD canvases, BT.601 limited for SD.

Conversions go through PyAV's ``VideoFrame.reformat`` with explicit
``src_colorspace``/``dst_colorspace`` and ``src_color_range``/``dst_color_range``, never
relying on frame tags (PyAV's defaults mix up FFmpeg's AVCOL_SPC and SWS_CS numbering).
Only the matrix and range are converted: primaries and transfer (HDR) are not.

The pixel arithmetic of compositing lives here too: plane views of frames (no copy) and
alpha / opacity blending of planes and RGB images with OpenCV (SIMD, multi-threaded).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import av
import cv2
import numpy as np
from av.video.reformatter import ColorRange, Colorspace, Interpolation

# FFmpeg AVColorSpace values (what frame.colorspace / codec_context.colorspace hold).
AVCOL_SPC_RGB = 0
AVCOL_SPC_BT709 = 1
AVCOL_SPC_UNSPECIFIED = 2
AVCOL_SPC_FCC = 4
AVCOL_SPC_BT470BG = 5
AVCOL_SPC_SMPTE170M = 6
AVCOL_SPC_SMPTE240M = 7
AVCOL_SPC_BT2020_NCL = 9
AVCOL_SPC_BT2020_CL = 10
# FFmpeg AVColorRange values.
AVCOL_RANGE_UNSPECIFIED = 0
AVCOL_RANGE_MPEG = 1
AVCOL_RANGE_JPEG = 2

_SWS_OF_AVCOL = {
    AVCOL_SPC_BT709: Colorspace.ITU709,
    AVCOL_SPC_FCC: Colorspace.FCC,
    AVCOL_SPC_BT470BG: Colorspace.ITU601,
    AVCOL_SPC_SMPTE170M: Colorspace.ITU601,
    AVCOL_SPC_SMPTE240M: Colorspace.SMPTE240M,
    AVCOL_SPC_BT2020_NCL: Colorspace.BT2020,
    AVCOL_SPC_BT2020_CL: Colorspace.BT2020,
}
_AVCOL_OF_SWS = {Colorspace.ITU709: AVCOL_SPC_BT709, Colorspace.ITU601: AVCOL_SPC_SMPTE170M,
                 Colorspace.BT2020: AVCOL_SPC_BT2020_NCL, Colorspace.SMPTE240M: AVCOL_SPC_SMPTE240M,
                 Colorspace.FCC: AVCOL_SPC_FCC}

#: Default scaler flags. Plain bilinear keeps swscale on its SIMD paths: ACCURATE_RND makes
#: a 4K YUV->RGB conversion ~8x slower and FULL_CHR_H_INT ~35x, for about one code value.
SCALE_FLAGS = Interpolation.BILINEAR
#: Slower, finer flags (e.g. for a final-quality export or stills).
FINE_FLAGS = Interpolation.BICUBIC | Interpolation.ACCURATE_RND | Interpolation.FULL_CHR_H_INT


@dataclass(frozen=True, slots=True)
class Colour:
    """How a frame's YUV numbers are to be read: swscale matrix and AVColorRange."""

    matrix: Colorspace | None  # None for RGB formats
    range: ColorRange

    @property
    def avcol_space(self) -> int:
        return _AVCOL_OF_SWS.get(self.matrix, AVCOL_SPC_RGB if self.matrix is None else AVCOL_SPC_UNSPECIFIED)


def default_matrix(width: int, height: int) -> Colorspace:
    """BT.709 for HD and larger, BT.601 for SD."""
    return Colorspace.ITU709 if width >= 1280 or height >= 720 else Colorspace.ITU601


@lru_cache(maxsize=256)
def is_rgb(pix_fmt: str) -> bool:
    fmt = av.VideoFormat(pix_fmt)
    return bool(fmt.is_rgb) or fmt.has_palette or pix_fmt.startswith(("gray", "ya8", "ya16"))


@lru_cache(maxsize=256)
def has_alpha(pix_fmt: str) -> bool:
    fmt = av.VideoFormat(pix_fmt)
    return fmt.has_palette or any(c.is_alpha for c in fmt.components)


def source_colour(pix_fmt: str, width: int, height: int, colorspace: int = AVCOL_SPC_UNSPECIFIED,
                  color_range: int = AVCOL_RANGE_UNSPECIFIED) -> Colour:
    """Matrix and range of a source from its tags, else from its size and pixel format."""
    full = ColorRange.JPEG
    if is_rgb(pix_fmt):
        return Colour(None, full)
    matrix = _SWS_OF_AVCOL.get(int(colorspace or 0)) or default_matrix(width, height)
    if color_range == AVCOL_RANGE_JPEG or (color_range != AVCOL_RANGE_MPEG and pix_fmt.startswith("yuvj")):
        return Colour(matrix, full)
    return Colour(matrix, ColorRange.MPEG)


def frame_colour(frame: av.VideoFrame) -> Colour:
    return source_colour(frame.format.name, frame.width, frame.height, frame.colorspace, frame.color_range)


def output_colour(width: int, height: int, pix_fmt: str = "yuv420p") -> Colour:
    """What the compositor writes: BT.709 limited for HD/UHD, BT.601 limited for SD."""
    if is_rgb(pix_fmt):
        return Colour(None, ColorRange.JPEG)
    if pix_fmt.startswith("yuvj"):
        return Colour(default_matrix(width, height), ColorRange.JPEG)
    return Colour(default_matrix(width, height), ColorRange.MPEG)


def convert(frame: av.VideoFrame, *, width: int | None = None, height: int | None = None, format: str,
            src: Colour | None = None, dst: Colour | None = None, interpolation=SCALE_FLAGS) -> av.VideoFrame:
    """Scale and/or convert ``frame`` with explicit colours (``src`` defaults to its tags)."""
    src = src or frame_colour(frame)
    if dst is None:
        dst = output_colour(width or frame.width, height or frame.height, format)
    if src.matrix is not None and dst.matrix is not None and src != dst:
        # YUV -> YUV with another matrix or range: without accurate rounding swscale is off by
        # up to 6 code values (3 with it); the case is rare (SD or full-range sources).
        interpolation = interpolation | Interpolation.ACCURATE_RND
    src_matrix = src.matrix if src.matrix is not None else (dst.matrix or Colorspace.ITU709)
    dst_matrix = dst.matrix if dst.matrix is not None else src_matrix
    out = frame.reformat(width=width, height=height, format=format, src_colorspace=src_matrix,
                         dst_colorspace=dst_matrix, src_color_range=src.range, dst_color_range=dst.range,
                         interpolation=interpolation)
    if out is not frame and dst.matrix is not None:
        try:
            out.colorspace = dst.avcol_space
            out.color_range = int(dst.range)
        except (AttributeError, TypeError, ValueError):
            pass
    return out


def to_rgb(frame: av.VideoFrame, *, width: int | None = None, height: int | None = None, alpha: bool = False,
           src: Colour | None = None, interpolation=SCALE_FLAGS) -> np.ndarray:
    """Full-range RGB(A) uint8 array ``(h, w, 3|4)`` of ``frame``, optionally resized."""
    fmt = "rgba" if alpha else "rgb24"
    out = convert(frame, width=width, height=height, format=fmt, src=src, dst=Colour(None, ColorRange.JPEG),
                  interpolation=interpolation)
    return out.to_ndarray()


def from_rgb(rgb: np.ndarray, pix_fmt: str = "yuv420p", dst: Colour | None = None,
             interpolation=SCALE_FLAGS, *, zero_copy: bool = False) -> av.VideoFrame:
    """A ``pix_fmt`` frame from a full-range RGB24 array, written with ``dst``'s matrix.

    ``zero_copy`` wraps the array instead of copying it (it must then stay unchanged until
    this returns; the result never shares memory with it unless ``pix_fmt`` is rgb24).
    """
    rgb = np.ascontiguousarray(rgb)
    if zero_copy and pix_fmt != "rgb24":
        frame = av.VideoFrame.from_numpy_buffer(rgb, format="rgb24")
    else:
        frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
    height, width = rgb.shape[:2]
    dst = dst or output_colour(width, height, pix_fmt)
    return convert(frame, format=pix_fmt, src=Colour(None, ColorRange.JPEG), dst=dst, interpolation=interpolation)


def tag(frame: av.VideoFrame, colour: Colour) -> av.VideoFrame:
    """Set a frame's colorspace/range tags (metadata only) and return it."""
    if colour.matrix is not None:
        frame.colorspace = colour.avcol_space
        frame.color_range = int(colour.range)
    return frame


# --------------------------------------------------------------------------- pixel arithmetic
def plane(frame: av.VideoFrame, i: int) -> np.ndarray:
    """Writable uint8 view ``(h, w)`` of plane ``i`` (no copy; strides keep the padding)."""
    p = frame.planes[i]
    return np.frombuffer(p, np.uint8).reshape(p.height, p.line_size)[:, : p.width]


def _into(result: np.ndarray, region: np.ndarray) -> None:
    """OpenCV writes into ``dst`` views in place; copy if it ever had to allocate instead."""
    if result is not region:
        region[:] = result


def mix(a: np.ndarray, b: np.ndarray, p: float, dst: np.ndarray) -> None:
    """``dst`` <- ``(1 - p) * a + p * b``, rounded (uint8 arrays or views of one shape)."""
    _into(cv2.addWeighted(a, 1.0 - p, b, p, 0.0, dst=dst), dst)


def blend_plane(region: np.ndarray, src: np.ndarray, alpha: np.ndarray | None, opacity: float) -> None:
    """One plane: ``region`` <- ``src`` over it with ``alpha`` (uint8, straight) times ``opacity``."""
    if alpha is None:
        if opacity >= 1:
            region[:] = src
        else:
            _into(cv2.addWeighted(src, opacity, region, 1.0 - opacity, 0.0, dst=region), region)
        return
    a = alpha if opacity >= 1 else cv2.convertScaleAbs(alpha, alpha=opacity)
    h, w = min(a.shape[0], src.shape[0]), min(a.shape[1], src.shape[1])
    a, src, region = a[:h, :w], src[:h, :w], region[:h, :w]
    fg = cv2.multiply(src, a, scale=1 / 255)
    bg = cv2.multiply(region, cv2.bitwise_not(a), scale=1 / 255)
    _into(cv2.add(fg, bg, dst=region), region)


def blend_rgb(region: np.ndarray, rgb: np.ndarray, alpha: np.ndarray | None, opacity: float,
               premultiplied: bool = False) -> None:
    """RGB: ``region`` <- ``rgb`` over it; ``alpha`` uint8 (``rgb`` premultiplied by it if said so)."""
    if alpha is None:
        if opacity >= 1:
            region[:] = rgb
        elif rgb.strides[-1] == 1 and rgb.strides[-2] == 3 and rgb.shape == region.shape:
            _into(cv2.addWeighted(rgb, opacity, region, 1.0 - opacity, 0.0, dst=region), region)
        else:  # a broadcast colour
            region[:] = (rgb.astype(np.float32) * opacity + region * (1.0 - opacity) + 0.5).astype(np.uint8)
        return
    a = alpha if opacity >= 1 else cv2.convertScaleAbs(alpha, alpha=opacity)
    a3 = cv2.cvtColor(a, cv2.COLOR_GRAY2RGB)
    if premultiplied:
        fg = rgb if opacity >= 1 else cv2.convertScaleAbs(rgb, alpha=opacity)
    else:
        fg = cv2.multiply(rgb, a3, scale=1 / 255)
    bg = cv2.multiply(region, cv2.bitwise_not(a3), scale=1 / 255)
    _into(cv2.add(fg, bg, dst=region), region)
