"""Conform a clip to a frame rate and size: decode -> interpolate -> upscale -> encode (issue 7).

``conform(src, out, fps=..., size=..., interp=..., upscale=..., context=...)`` writes ``out``
(H.264 CRF 18, yuv420p, BT.709; the audio stream copied when the container takes it, else
re-encoded to AAC) through a temp file in the destination folder that is verified
(``studio.render.verify``) and then renamed; a failure or cancel leaves nothing behind.
Output frame ``k`` is at exactly ``k / fps`` (``timing``); the output lasts the input's
duration to within one output frame. ``conform_job`` wraps it as a ``studio.jobs.Job``.

Methods: ``interp`` is ``flow`` (DIS optical flow, ``flow``), ``rife`` (IFNet, ``rife``; needs
weights) or ``auto`` (rife when weights are configured *and* CUDA is available, else flow);
``upscale`` is ``lanczos``, ``esrgan`` (needs weights) or ``auto`` (likewise). Weights come from
the arguments or the ``STUDIO_RIFE_WEIGHTS`` / ``STUDIO_ESRGAN_WEIGHTS`` environment variables.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path

import av

from studio.core.errors import StudioError
from studio.core.fingerprint import fingerprint
from studio.core.fsutil import new_file_mode
from studio.core.media_pool import Recipe
from studio.core.timebase import format_rate
from studio.jobs import Cancelled, Job, JobContext, Priority
from studio.media.probe import MediaError, probe
from studio.render.colour import output_colour, to_rgb
from studio.render.verify import Expected, VerificationError, problems

from .cuts import CutDetector
from .retime import plan
from .timing import output_frame_count

INTERP_METHODS = ("auto", "flow", "rife")
UPSCALE_METHODS = ("auto", "lanczos", "esrgan")
RIFE_ENV = "STUDIO_RIFE_WEIGHTS"
ESRGAN_ENV = "STUDIO_ESRGAN_WEIGHTS"
CRF = 18
#: Output containers by suffix, and the audio codecs each takes as they are (else AAC).
FORMATS = {".mp4": "mp4", ".mov": "mov", ".mkv": "matroska"}
_COPYABLE = {
    "mp4": {"aac", "mp3", "ac3", "eac3", "alac", "opus", "flac"},
    "mov": {"aac", "mp3", "ac3", "eac3", "alac", "pcm_s16le", "pcm_s24le"},
    "matroska": {"aac", "mp3", "ac3", "eac3", "opus", "flac", "vorbis", "pcm_s16le", "pcm_s24le", "alac"},
}
#: Output frames computed ahead of the encoder (bounded memory).
LOOKAHEAD = 6


class ConformError(StudioError):
    """Bad conform settings (one line for the user)."""


@dataclass(frozen=True)
class ConformResult:
    path: str
    frames: int  # output frames written
    source_frames: int
    fps: Fraction
    size: tuple[int, int]
    interp: str  # resolved methods
    upscale: str
    audio: str  # "copy", "aac" or "none"
    cuts: tuple[int, ...]  # source frame i: a cut between i and i + 1
    seconds: float
    settings: tuple[tuple[str, str | int | float | bool], ...]  # Recipe.conform pairs

    @property
    def duration(self) -> Fraction:
        return self.frames / self.fps


def recipe_for(result: ConformResult, base: Recipe | None = None) -> Recipe:
    """The recipe of a conformed file: ``base`` (a generated clip's) with conform settings, or a new one."""
    w, h = result.size
    if base is None:
        base = Recipe(backend="conform", model_id=f"{result.interp}+{result.upscale}", prompt="")
    return replace(base, width=w, height=h, frames=result.frames, fps=result.fps, conform=result.settings)


def _weights(explicit, env: str) -> str | None:
    path = explicit if explicit is not None else os.environ.get(env) or None
    return os.fspath(path) if path else None


def _cuda() -> bool:
    from studio.ai.models.runtime import import_torch

    return bool(import_torch().cuda.is_available())


def resolve_methods(interp: str, upscale: str, rife_weights=None, esrgan_weights=None) -> tuple[str, str]:
    """``auto`` -> a concrete method; explicit learned methods need weights. Raises ConformError."""
    if interp not in INTERP_METHODS:
        raise ConformError(f"unknown interpolation {interp!r} (choose from {', '.join(INTERP_METHODS)})")
    if upscale not in UPSCALE_METHODS:
        raise ConformError(f"unknown upscaler {upscale!r} (choose from {', '.join(UPSCALE_METHODS)})")
    rw, ew = _weights(rife_weights, RIFE_ENV), _weights(esrgan_weights, ESRGAN_ENV)
    for method, name, path, env in (("rife", interp, rw, RIFE_ENV), ("esrgan", upscale, ew, ESRGAN_ENV)):
        if name == method and path is None:
            raise ConformError(f"{method} needs weights: set {env} to a weights file")
        if path is not None and name in (method, "auto") and not os.path.isfile(path):
            raise ConformError(f"{method} weights {path!r} do not exist")
    cuda = None
    if interp == "auto":
        cuda = _cuda() if rw else False
        interp = "rife" if rw and cuda else "flow"
    if upscale == "auto":
        if ew and cuda is None:
            cuda = _cuda()
        upscale = "esrgan" if ew and cuda else "lanczos"
    return interp, upscale


def _check_settings(fps, size) -> tuple[Fraction, tuple[int, int]]:
    try:
        fps = Fraction(fps)
    except (TypeError, ValueError, ZeroDivisionError):
        raise ConformError(f"bad frame rate {fps!r}") from None
    if not 0 < fps <= 1000:
        raise ConformError(f"frame rate {fps} is out of range (0, 1000]")
    try:
        w, h = (int(v) for v in size)
    except (TypeError, ValueError):
        raise ConformError(f"bad size {size!r}: use (width, height)") from None
    if not (16 <= w <= 16384 and 16 <= h <= 16384) or w % 2 or h % 2:
        raise ConformError(f"bad size {w}x{h}: width and height must be even, 16 to 16384")
    return fps, (w, h)


def _frames(path: str):
    """RGB frames of the main video stream, in order; MediaError for anything unreadable."""
    try:
        with av.open(path) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            for frame in container.decode(stream):
                yield to_rgb(frame)
    except (av.FFmpegError, OSError, ValueError, IndexError, EOFError) as e:
        raise MediaError(path, getattr(e, "strerror", None) or str(e) or type(e).__name__) from e


class _Audio:
    """The source's first audio stream into the output: packets copied, or decoded and AAC-encoded."""

    def __init__(self, src: str, out, fmt: str) -> None:
        self.src = av.open(src)
        self.stream_in = self.src.streams.audio[0]
        self.out = out
        codec = self.stream_in.codec_context.name
        self.copy = codec in _COPYABLE.get(fmt, set())
        if self.copy:
            self.stream = out.add_stream_from_template(self.stream_in)
            self.mode = "copy"
        else:
            cc = self.stream_in.codec_context
            rate = cc.sample_rate or 48000
            layout = cc.layout.name if cc.channels <= 2 else "stereo"
            self.stream = out.add_stream("aac", rate=rate, layout=layout)
            self.stream.bit_rate = 192_000
            self.resampler = av.AudioResampler(format="fltp", layout=layout, rate=rate)
            self.mode = "aac"
        self._packets = self._gen()
        self._held = None

    def _gen(self):
        tb = self.stream_in.time_base
        for packet in self.src.demux(self.stream_in):
            if self.copy:
                if packet.dts is None:
                    continue
                packet.stream = self.stream
                yield float((packet.pts if packet.pts is not None else packet.dts) * tb), [packet]
            else:
                for frame in packet.decode():
                    t = float(frame.time or 0.0)
                    out = []
                    for f in self.resampler.resample(frame):
                        f.pts = None
                        out.extend(self.stream.encode(f))
                    yield t, out
        if not self.copy:
            out = []
            for f in self.resampler.resample(None):
                f.pts = None
                out.extend(self.stream.encode(f))
            out.extend(self.stream.encode(None))
            yield float("inf"), out

    def pump(self, until: float) -> None:
        """Mux audio up to ``until`` seconds (keeps the file interleaved)."""
        while True:
            if self._held is None:
                self._held = next(self._packets, None)
                if self._held is None:
                    return
            t, packets = self._held
            if t > until:
                return
            self.out.mux(packets)
            self._held = None

    def close(self) -> None:
        self.src.close()


def _make_interpolator(method: str, weights: str | None, device: str):
    if method == "rife":
        from .rife import RifeInterpolator

        return RifeInterpolator.from_file(weights, device)
    from .flow import FlowInterpolator

    return FlowInterpolator()


def _make_upscaler(method: str, size: tuple[int, int], weights: str | None, device: str):
    if method == "esrgan":
        from .upscale import ModelUpscaler

        return ModelUpscaler.from_file(weights, size, device=device, half=device == "cuda")
    from .upscale import LanczosUpscaler

    return LanczosUpscaler(size)


def conform(src: str | os.PathLike[str], out: str | os.PathLike[str], *, fps: Fraction = Fraction(60),
            size: tuple[int, int] = (3840, 2160), interp: str = "auto", upscale: str = "auto",
            context: JobContext | None = None, rife_weights=None, esrgan_weights=None, crf: int = CRF,
            speed: str = "medium", workers: int | None = None) -> ConformResult:
    """Conform ``src`` into ``out`` (see the module docstring). Raises MediaError / ConformError / OSError."""
    started = time.monotonic()
    ctx = context or JobContext()
    src, out = os.fspath(src), Path(out)
    fps, size = _check_settings(fps, size)
    fmt = FORMATS.get(out.suffix.lower())
    if fmt is None:
        raise ConformError(f"output {str(out)!r}: use a .mp4, .mov or .mkv name")
    info = probe(src)
    if not info.has_video or info.is_still or not info.fps:
        raise ConformError(f"{src!r} has no video to conform")
    interp, upscale = resolve_methods(interp, upscale, rife_weights, esrgan_weights)
    device = "cuda" if (interp == "rife" or upscale == "esrgan") and _cuda() else "cpu"
    rw, ew = _weights(rife_weights, RIFE_ENV), _weights(esrgan_weights, ESRGAN_ENV)
    interpolator = _make_interpolator(interp, rw, device)
    upscaler = _make_upscaler(upscale, size, ew, device)
    src_fps = info.fps
    estimate = output_frame_count(info.video_frames or 1, src_fps, fps)

    fd, tmp = tempfile.mkstemp(prefix=f".{out.stem}.", suffix=f".partial{out.suffix}", dir=out.parent or ".")
    os.close(fd)
    container = audio = None
    pool = ThreadPoolExecutor(max_workers=workers or min(4, os.cpu_count() or 2), thread_name_prefix="conform")
    cuts: list[int] = []
    pending: deque = deque()
    written = 0
    source_frames = 0
    try:
        container = av.open(tmp, "w", format=fmt)
        vs = container.add_stream("libx264", rate=fps)
        vs.width, vs.height = size
        vs.pix_fmt = "yuv420p"
        vctx = vs.codec_context
        vctx.time_base = 1 / fps
        vctx.framerate = fps
        vctx.thread_type = "AUTO"
        colour = output_colour(size[0], size[1], "yuv420p")  # what the upscaler writes: BT.709 for HD/UHD
        vctx.colorspace = colour.avcol_space
        if colour.avcol_space == 1:
            vctx.color_primaries = vctx.color_trc = 1
        vctx.color_range = int(colour.range)
        vs.options = {"crf": str(int(crf)), "preset": speed, "threads": "0"}
        if info.has_audio:
            audio = _Audio(src, container, fmt)

        def counted():
            nonlocal source_frames
            for frame in _frames(src):
                source_frames += 1
                yield frame

        def work(make):
            return upscaler(make())

        def write_one() -> None:
            nonlocal written
            s, fut = pending.popleft()
            frame = fut.result()
            frame.pts = s.index
            frame.time_base = vctx.time_base
            if audio is not None:
                audio.pump(float(s.time) + 0.5)
            container.mux(vs.encode(frame))
            written += 1
            if written % 4 == 0 or written == estimate:
                ctx.progress(min(written / max(estimate, 1), 0.99), f"frame {written}/{estimate} ({interp}, {upscale})")

        for s, make in plan(counted(), src_fps, fps, interpolator, cuts=CutDetector(), on_cut=cuts.append):
            ctx.check()
            pending.append((s, pool.submit(work, make)))
            while len(pending) > LOOKAHEAD:
                write_one()
        while pending:
            ctx.check()
            write_one()
        if written == 0:
            raise MediaError(src, "no decodable video frames")
        container.mux(vs.encode(None))
        if audio is not None:
            audio.pump(float("inf"))
        container.close()
        container = None
        _verify(tmp, written, fps, size, fmt, info.duration if audio is not None else None)
        os.chmod(tmp, new_file_mode(out))  # mkstemp makes 0600; give what open() would
        os.replace(tmp, out)
    except BaseException:
        for _, fut in pending:
            fut.cancel()
        pool.shutdown(wait=True, cancel_futures=True)
        if container is not None:
            try:
                container.close()
            except Exception:  # being thrown away
                pass
        _unlink(tmp)
        raise
    finally:
        pool.shutdown(wait=True)
        if audio is not None:
            audio.close()
    ctx.progress(1.0, f"wrote {written} frames")
    settings = {
        "method": f"{interp}+{upscale}", "interp": interp, "upscale": upscale,
        "fps": format_rate(fps), "width": size[0], "height": size[1], "crf": int(crf), "speed": speed,
        "source": os.path.basename(src), "source_fingerprint": fingerprint(src),
        "source_fps": format_rate(src_fps), "source_frames": source_frames,
    }
    if interp == "rife":
        settings["rife_weights"] = os.path.basename(rw)
    if upscale == "esrgan":
        settings["esrgan_weights"] = os.path.basename(ew)
    return ConformResult(path=str(out), frames=written, source_frames=source_frames, fps=fps, size=size,
                         interp=interp, upscale=upscale, audio=audio.mode if audio else "none", cuts=tuple(cuts),
                         seconds=time.monotonic() - started, settings=tuple(sorted(settings.items())))


def _verify(path: str, frames: int, fps: Fraction, size: tuple[int, int], fmt: str,
            audio_source: Fraction | None) -> None:
    """``studio.render.verify`` with conform's allowances: copied audio keeps its own length (the
    file may last as long as the source's audio), and Matroska stores no frame count."""
    video = Fraction(frames) / fps
    expected = Expected(duration=video, frame_rate=fps, has_video=True, has_audio=audio_source is not None,
                        width=size[0], height=size[1], frames=None if fmt == "matroska" else frames)
    try:
        result = probe(path)
    except MediaError as e:
        raise VerificationError(f"the written file is unreadable: {e.reason}") from None
    longest = max(video, audio_source or video) + 2 / fps
    found = [p for p in problems(result, expected)
             if not ((p.startswith("duration") or p.startswith("audio lasts"))
                     and result.duration is not None and video - 1 / fps <= result.duration <= longest)]
    if found:
        raise VerificationError("; ".join(found))


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def conform_job(src_path, out_path, fps: Fraction = Fraction(60), size: tuple[int, int] = (3840, 2160),
                interp: str = "auto", upscale: str = "auto", **kw) -> Job:
    """``conform`` as a job (cpu slot; a gpu slot too when a learned method may run)."""
    learned = interp in ("rife", "auto") and _weights(kw.get("rife_weights"), RIFE_ENV) or \
        upscale in ("esrgan", "auto") and _weights(kw.get("esrgan_weights"), ESRGAN_ENV)
    return Job(lambda ctx: conform(src_path, out_path, fps=fps, size=size, interp=interp, upscale=upscale,
                                   context=ctx, **kw),
               name=f"conform {os.path.basename(os.fspath(src_path))}", cpu=1, gpu=1 if learned else 0,
               priority=Priority.BATCH)


__all__ = ["Cancelled", "ConformError", "ConformResult", "conform", "conform_job", "recipe_for", "resolve_methods"]
