"""The export job: frozen project -> composite + mix -> encode -> temp file -> verify -> rename.

Threads: a producer pulls sequence frames from the video source (the compositor) and audio
blocks from the audio source (the mixer), conforms frames to the output format and feeds a
bounded queue; the calling thread encodes and muxes. Nothing is written under the final
name until the whole file has been written, flushed, probed and found to match.

Time is exact: output frame ``k`` (at the preset's rate) shows sequence frame
``start + floor(k * project_fps / out_fps)``; audio sample ``s`` of the output is sequence
sample ``frames_to_samples(start) + s`` at the project rate, resampled if the preset's rate
differs. Audio is produced in step with video, so the muxer interleaves them tightly.
"""

from __future__ import annotations

import errno
import math
import os
import queue
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from studio.core.errors import StudioError
from studio.core.fsutil import new_file_mode
from studio.core.project import Project
from studio.core.timebase import frames_to_samples
from studio.jobs.context import Cancelled, JobContext
from studio.media.probe import ProbeResult

from .encode import Encoder, conform_frame
from .export_audio import MEASURE_SHARE, AudioReader, measure, normalising_gain, with_gain
from .presets import Preset
from .verify import Expected, VerificationError, verify_output

#: ``video_source(n)``: sequence frame ``n``; None means the source has no more frames.
VideoSource = Callable[[int], "av.VideoFrame | None"]
#: ``audio_source(start_sample, count)``: float32 ``(channels, count)`` at the project's rate.
AudioSource = Callable[[int, int], np.ndarray]

#: Frames the producer may run ahead of the encoder (each 4K yuv420p frame is ~12 MB).
QUEUE_FRAMES = 8
#: How often (seconds) the encoder thread wakes while waiting, to notice a cancel.
POLL = 0.05
#: Progress updates at most this often (seconds).
PROGRESS_INTERVAL = 0.1


class RenderError(StudioError):
    """An export could not be written; the message is one line, and no output was left behind."""


@dataclass(frozen=True)
class RenderPlan:
    """Exact arithmetic of one export (all frame counts integer, rates Fraction)."""

    start: int  # first sequence frame
    end: int  # sequence frame after the last
    project_fps: Fraction
    out_fps: Fraction  # the preset's rate (the project's for audio-only presets)
    frames: int  # output frames (video), or sequence frames for audio-only presets
    src_sample_rate: int
    out_sample_rate: int | None
    channels: int

    def sequence_frame(self, k: int) -> int:
        return self.start + math.floor(k * self.project_fps / self.out_fps)

    @property
    def duration(self) -> Fraction:
        return Fraction(self.frames) / self.out_fps

    @property
    def audio_start(self) -> int:
        return frames_to_samples(self.start, self.project_fps, self.src_sample_rate)

    def src_samples_until(self, k: int) -> int:
        """Source-rate samples (from the range start) that cover output frames ``0..k-1``."""
        return frames_to_samples(k, self.out_fps, self.src_sample_rate)

    @property
    def src_available(self) -> int:
        """Source samples inside the range; anything after is silence."""
        return frames_to_samples(self.end, self.project_fps, self.src_sample_rate) - self.audio_start

    @property
    def out_audio_samples(self) -> int | None:
        if self.out_sample_rate is None:
            return None
        return frames_to_samples(self.frames, self.out_fps, self.out_sample_rate)


@dataclass(frozen=True)
class RenderResult:
    path: str
    preset: str
    frames: int
    duration: Fraction
    probe: ProbeResult
    seconds: float  # wall-clock time taken
    loudness: float | None = None  # measured integrated loudness (LUFS) before normalising
    gain_db: float | None = None  # gain applied by normalisation


def plan_render(project: Project, preset: Preset, frame_range: tuple[int, int] | None = None) -> RenderPlan:
    """Validate the range and work out frame and sample counts; ``RenderError`` if empty."""
    s = project.settings
    start, end = frame_range if frame_range is not None else (0, project.sequence.duration)
    if start < 0 or end <= start:
        if frame_range is None:
            raise RenderError("nothing to render: the sequence is empty")
        raise RenderError(f"bad frame range {start}-{end}: the end must come after the start")
    if preset.video is not None:
        out_fps = preset.video.fps
        frames = math.ceil((end - start) * out_fps / s.fps)  # every output frame starts inside the range
    else:
        out_fps, frames = s.fps, end - start
    return RenderPlan(start=start, end=end, project_fps=s.fps, out_fps=out_fps, frames=frames,
                      src_sample_rate=s.sample_rate,
                      out_sample_rate=preset.audio.sample_rate if preset.audio is not None else None,
                      channels=s.channels)


# --------------------------------------------------------------------------- default sources
def _default_sources(project: Project, preset: Preset, need_video: bool, need_audio: bool):
    """The compositor and the mixer on one private source pool; imported here, so this module
    loads (and runs with explicit sources) without them. Returns ``(video, audio, close)``."""
    from studio.media.source_pool import SourcePool

    pool = SourcePool(cache_bytes=0)  # export reads in order: a frame cache only costs copies
    video = audio = None
    try:
        if need_video:
            from studio.render.compositor import Compositor

            v = preset.video
            # BT.709 YUV at the output size and format, which is what Encoder tags the stream as
            video = Compositor(project, pool, width=v.width, height=v.height, pix_fmt=v.pix_fmt,
                               output_matrix="bt709").frame
        if need_audio:
            from studio.render.mixer import AudioMixer

            s = project.settings
            audio = AudioMixer(project, lambda path: pool.audio(path, s.sample_rate, s.channels)).mix
    except BaseException:
        pool.close()
        raise
    return video, audio, pool.close


# --------------------------------------------------------------------------- pipeline
_END = object()


class _Failure:
    def __init__(self, exc: BaseException):
        self.exc = exc


class _SourceFailed(Exception):
    """Carries an exception of a source out of the pipeline, so it is not taken for a write error."""

    def __init__(self, exc: BaseException):
        super().__init__(str(exc))
        self.exc = exc


def _produce(plan: RenderPlan, preset: Preset, video: VideoSource | None, audio: AudioReader | None,
             out: queue.Queue, stop: threading.Event, context: JobContext) -> None:
    """Producer thread: ``(k, frame, audio block)`` for every output frame, then ``_END``."""

    def put(item) -> bool:
        while not stop.is_set():
            try:
                out.put(item, timeout=POLL)
                return True
            except queue.Full:
                continue
        return False

    try:
        last_n, last_frame = None, None
        v = preset.video
        for k in range(plan.frames):
            if stop.is_set() or context.cancelled:
                return
            frame = None
            if video is not None:
                n = plan.sequence_frame(k)
                if n != last_n:  # a frame shown twice (25 -> 60 fps) is composited once
                    raw = video(n)
                    if raw is None:
                        put(_END)
                        return
                    last_n, last_frame = n, conform_frame(raw, v.width, v.height, v.pix_fmt)
                frame = last_frame
            block = audio.read_until(plan.src_samples_until(k + 1)) if audio is not None else None
            if not put((k, frame, block)):
                return
        put(_END)
    except BaseException as e:  # handed to the encoder thread, which re-raises it
        put(_Failure(e))


def _encode_all(plan: RenderPlan, preset: Preset, encoder: Encoder, video: VideoSource | None,
                audio: AudioReader | None, context: JobContext, share: tuple[float, float]) -> int:
    """Run producer + encoder; return the number of frames encoded."""
    q: queue.Queue = queue.Queue(maxsize=QUEUE_FRAMES)
    stop = threading.Event()
    producer = threading.Thread(target=_produce, args=(plan, preset, video, audio, q, stop, context),
                                name="studio-export-producer", daemon=True)
    base, span = share
    started = time.monotonic()
    last_report = 0.0
    done = 0
    producer.start()
    try:
        while True:
            context.check()
            try:
                item = q.get(timeout=POLL)
            except queue.Empty:
                continue
            if item is _END:
                break
            if isinstance(item, _Failure):
                raise _SourceFailed(item.exc)
            k, frame, block = item
            if block is not None:
                encoder.add_audio(block)
            if frame is not None:
                encoder.add_video(frame, k)
            done = k + 1
            now = time.monotonic()
            if now - last_report >= PROGRESS_INTERVAL or done == plan.frames:
                last_report = now
                rate = done / max(now - started, 1e-6)
                context.progress(base + span * done / plan.frames, f"frame {done}/{plan.frames}, {rate:.1f} fps")
        context.check()
        return done
    finally:
        stop.set()
        while True:  # unblock a producer waiting to put
            try:
                q.get_nowait()
            except queue.Empty:
                break
        producer.join(timeout=0.5)  # a source stuck in a call is left to finish on its own (daemon)


# --------------------------------------------------------------------------- files
def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _os_message(e: OSError, out: Path) -> str:
    why = {errno.EFBIG: "file too large for this file system", errno.ENOSPC: "no space left on device"}
    if hasattr(errno, "EDQUOT"):
        why[errno.EDQUOT] = "disk quota exceeded"
    if e.errno in why:
        return f"cannot write {str(out)!r}: {why[e.errno]}; nothing was saved"
    reason = e.strerror or _one_line(str(e)) or type(e).__name__
    return f"cannot write {str(out)!r}: {reason}; nothing was saved"


def _check_destination(project: Project, out: Path) -> None:
    folder = out.parent
    if not folder.is_dir():
        raise RenderError(f"output folder {str(folder)!r} does not exist")
    if out.is_dir():
        raise RenderError(f"output {str(out)!r} is a folder")
    target = os.path.realpath(out)
    for asset in project.assets:
        if asset.path and os.path.realpath(asset.path) == target:
            raise RenderError(f"output {str(out)!r} is a media file of the project; choose another name")


def _temp_path(out: Path) -> str:
    try:
        fd, temp = tempfile.mkstemp(prefix=f"{out.stem}.partial-", suffix=out.suffix, dir=out.parent)
    except OSError as e:
        raise RenderError(f"cannot write in {str(out.parent)!r}: {e.strerror or e}") from None
    try:
        os.fchmod(fd, new_file_mode(out))  # mkstemp makes 0600; a movie gets the usual mode
    finally:
        os.close(fd)
    return temp


def _fsync(path: str) -> None:
    with open(path, "rb+") as f:
        os.fsync(f.fileno())


def _remove(path: str) -> None:
    try:
        os.remove(path)
    except FileNotFoundError:
        pass
    except OSError:
        pass  # nothing more to do; the name says it is partial


# --------------------------------------------------------------------------- the job
def export(
    project: Project,
    out_path: str | os.PathLike[str],
    preset: Preset,
    *,
    frame_range: tuple[int, int] | None = None,
    context: JobContext | None = None,
    video_source: VideoSource | None = None,
    audio_source: AudioSource | None = None,
    normalise_lufs: float | None = None,
) -> RenderResult:
    """Render ``frame_range`` (sequence frames, end exclusive; default all) of ``project`` to ``out_path``.

    The preset's size and rate win over the project's. Raises ``Cancelled`` when
    ``context`` is cancelled, ``RenderError`` (one line) when the file cannot be written or
    fails verification, ``PresetError`` for a preset this FFmpeg cannot encode; in every
    such case neither the output nor a partial file is left behind.
    """
    context = context if context is not None else JobContext()
    started = time.monotonic()
    preset.validate()
    out = Path(out_path)
    plan = plan_render(project, preset, frame_range)
    _check_destination(project, out)

    need_video = preset.video is not None and video_source is None
    need_audio = preset.audio is not None and audio_source is None
    close_sources = None
    if need_video or need_audio:
        default_video, default_audio, close_sources = _default_sources(project, preset, need_video, need_audio)
        video_source = video_source or default_video
        audio_source = audio_source or default_audio
    try:
        return _export(project, out, preset, plan, context, started, video_source if preset.video else None,
                       audio_source if preset.audio else None, normalise_lufs)
    finally:
        if close_sources is not None:
            close_sources()


def _export(project: Project, out: Path, preset: Preset, plan: RenderPlan, context: JobContext, started: float,
            video_source: VideoSource | None, audio_source: AudioSource | None,
            normalise_lufs: float | None) -> RenderResult:
    """``export`` once the sources are settled: measure, encode to a temp file, verify, rename."""
    loudness = gain = None
    share = (0.0, 0.97)
    if normalise_lufs is not None and audio_source is not None:
        loudness, peak = measure(plan, audio_source, context)
        gain = normalising_gain(normalise_lufs, loudness, peak, context)
        if gain is not None:
            audio_source = with_gain(audio_source, gain)
            context.log(f"loudness {loudness:.1f} LUFS, gain {gain:+.2f} dB")
        share = (MEASURE_SHARE, 0.97 - MEASURE_SHARE)

    temp = _temp_path(out)
    encoder = None
    written = plan.duration
    try:
        encoder = Encoder(temp, preset, channels=plan.channels, layout=project.settings.channel_layout,
                          input_sample_rate=plan.src_sample_rate, frames=plan.frames)
        reader = None
        if audio_source is not None:
            reader = AudioReader(audio_source, plan.audio_start, plan.src_available, plan.channels)
        done = _encode_all(plan, preset, encoder, video_source, reader, context, share)
        written = Fraction(done) / plan.out_fps
        total_audio = None if plan.out_sample_rate is None else frames_to_samples(
            done, plan.out_fps, plan.out_sample_rate)
        encoder.finish(total_audio)
        context.check()
        encoder.close()
        encoder = None
        _fsync(temp)
        context.progress(0.98, "verifying")
        v = preset.video
        expected = Expected(
            duration=plan.duration, frame_rate=plan.out_fps,
            has_video=v is not None, has_audio=preset.audio is not None,
            width=v.width if v else None, height=v.height if v else None,
            frames=plan.frames if v else None,
            sample_rate=plan.out_sample_rate, channels=plan.channels if preset.audio else None,
        )
        result = verify_output(temp, expected)
        os.replace(temp, out)
    except Cancelled:
        _abandon(encoder, temp)
        raise
    except _SourceFailed as e:  # the compositor / mixer failed (e.g. MediaError): its own message
        _abandon(encoder, temp)
        raise e.exc from None
    except VerificationError as e:
        _abandon(encoder, temp)
        short = f" (the sources ended after {float(written):.3f} s)" if written < plan.duration else ""
        raise RenderError(f"{str(out)!r} failed verification: {_one_line(e)}{short}; nothing was saved") from None
    except OSError as e:  # av.error.OSError is one too
        _abandon(encoder, temp)
        raise RenderError(_os_message(e, out)) from None
    except av.FFmpegError as e:
        _abandon(encoder, temp)
        raise RenderError(f"cannot encode {str(out)!r}: {_one_line(e)}; nothing was saved") from None
    except BaseException:
        _abandon(encoder, temp)
        raise
    context.progress(1.0, "done")
    return RenderResult(path=str(out), preset=preset.name, frames=plan.frames, duration=plan.duration,
                        probe=result, seconds=time.monotonic() - started, loudness=loudness, gain_db=gain)


def _abandon(encoder: Encoder | None, temp: str) -> None:
    if encoder is not None:
        encoder.discard()
    _remove(temp)
