"""Probe a media file with PyAV: streams, exact frame rate, duration, audio format.

``probe`` never lets a PyAV exception escape: anything unreadable becomes ``MediaError``.
It also decodes the first frame of the main stream, so a file whose header parses but
whose data is missing (a truncated download) is rejected here rather than at render time.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from fractions import Fraction

import av

# Seconds PyAV may block in open/read (matters for network paths; files never wait).
OPEN_TIMEOUT = 10.0
# Upper bound on packets demuxed while looking for the first decodable frame.
_MAX_PACKETS = 2000
# Relative difference between average and "real base" frame rate reported as VFR.
_VFR_TOLERANCE = Fraction(1, 100)
# Demuxers that read single images (png/jpg/... as "<codec>_pipe", image sequences).
_IMAGE_FORMATS = ("image2", "image2pipe")


class MediaError(Exception):
    """A media file is missing, unreadable, corrupt, or has nothing we can use."""

    def __init__(self, path: str | os.PathLike[str], reason: str):
        self.path = os.fspath(path)
        self.reason = reason
        super().__init__(self.path, reason)

    def __str__(self) -> str:
        return f"cannot read media {self.path!r}: {self.reason}"


@dataclass(frozen=True)
class ProbeResult:
    """What a media file holds. Times are exact ``Fraction`` seconds, never floats."""

    path: str
    container: str  # demuxer name(s), e.g. "mov,mp4,m4a,3gp,3g2,mj2"
    duration: Fraction | None  # seconds; None for a still image
    is_still: bool
    has_video: bool
    has_audio: bool
    # video (None / "" when there is no video stream)
    video_codec: str | None
    width: int | None
    height: int | None
    fps: Fraction | None  # exact, e.g. Fraction(30000, 1001); None for stills
    vfr: bool  # best effort: average rate differs from the stream's base rate
    video_frames: int | None  # from the header, else estimated from duration * fps
    pixel_format: str | None
    rotation: int  # display rotation, counter-clockwise degrees in [0, 360)
    # audio (None / "" when there is no audio stream)
    audio_codec: str | None
    sample_rate: int | None
    channels: int | None
    channel_layout: str  # e.g. "stereo"; "" without audio
    # colour description of the video as tagged ("" without video; "unknown" when untagged)
    color_space: str = ""  # matrix: "bt709", "smpte170m" (BT.601), "bt2020nc", ...
    color_range: str = ""  # "tv" (limited) or "pc" (full)
    color_primaries: str = ""
    color_transfer: str = ""


def _rate(value) -> Fraction | None:
    if value is None:
        return None
    rate = Fraction(value)
    return rate if rate > 0 else None


def _stream_duration(stream) -> Fraction | None:
    if stream.duration is not None and stream.duration > 0 and stream.time_base is not None:
        return stream.duration * Fraction(stream.time_base)
    # Matroska keeps per-stream durations as a "DURATION" tag: "HH:MM:SS.nnnnnnnnn".
    tag = stream.metadata.get("DURATION") or stream.metadata.get("duration")
    if tag:
        try:
            hours, minutes, seconds = tag.strip().split(":")
            value = int(hours) * 3600 + int(minutes) * 60 + Fraction(seconds)
        except ValueError:
            return None
        return value if value > 0 else None
    return None


def _layout_name(ctx) -> str:
    name = ctx.layout.name
    if name.endswith("channels") and ctx.channels:
        # unspecified order (e.g. plain WAV): report FFmpeg's default layout for the count
        try:
            return av.AudioLayout(f"{ctx.channels}c").name
        except (ValueError, TypeError, av.FFmpegError):
            return name
    return name


def _is_vfr(average: Fraction | None, base: Fraction | None) -> bool:
    if average is None or base is None:
        return False
    return abs(average - base) / base > _VFR_TOLERANCE


def _first_frame(container, stream):
    """Decode the first frame of ``stream``; None if the data holds none."""
    packets = 0
    for packet in container.demux(stream):
        packets += 1
        if packets > _MAX_PACKETS:
            return None
        for frame in packet.decode():
            return frame
    return None


def _probe_open(path: str) -> ProbeResult:
    with av.open(path, "r", timeout=OPEN_TIMEOUT) as container:
        fmt = container.format.name
        videos = [
            s
            for s in container.streams.video
            if not (s.disposition & av.stream.Disposition.attached_pic)
        ]
        audios = list(container.streams.audio)
        if not videos and not audios:
            raise MediaError(path, "no audio or video stream")
        video = videos[0] if videos else None
        audio = audios[0] if audios else None

        main = video if video is not None else audio
        frame = _first_frame(container, main)
        if frame is None:
            raise MediaError(path, f"no decodable {main.type} data (truncated or corrupt?)")

        durations = [d for d in (_stream_duration(s) for s in (video, audio) if s) if d]
        if durations:
            duration = max(durations)
        elif container.duration is not None and container.duration > 0:
            duration = Fraction(container.duration, av.time_base)
        else:
            duration = None

        vctx = video.codec_context if video is not None else None
        is_still = False
        fps = None
        vfr = False
        video_frames = None
        rotation = 0
        if video is not None:
            is_still = audio is None and (fmt in _IMAGE_FORMATS or fmt.endswith("_pipe"))
            rotation = int(round(frame.rotation or 0)) % 360
            if is_still:
                duration = None
                video_frames = 1
            else:
                average = _rate(video.average_rate)
                base = _rate(video.base_rate) or _rate(video.guessed_rate)
                fps = average or base
                vfr = _is_vfr(average, base)
                if video.frames > 0:
                    video_frames = video.frames
                else:
                    vdur = _stream_duration(video) or duration
                    if vdur is not None and fps is not None:
                        video_frames = round(vdur * fps)

        return ProbeResult(
            path=path,
            container=fmt,
            duration=duration,
            is_still=is_still,
            has_video=video is not None,
            has_audio=audio is not None,
            video_codec=video.codec_context.name if video is not None else None,
            width=vctx.width if video is not None else None,
            height=vctx.height if video is not None else None,
            fps=fps,
            vfr=vfr,
            video_frames=video_frames,
            pixel_format=(vctx.pix_fmt or frame.format.name) if video is not None else None,
            rotation=rotation,
            audio_codec=audio.codec_context.name if audio is not None else None,
            sample_rate=audio.codec_context.sample_rate if audio is not None else None,
            channels=audio.codec_context.channels if audio is not None else None,
            channel_layout=_layout_name(audio.codec_context) if audio is not None else "",
            **(_colour(frame) if video is not None and main is video else {}),
        )


# FFmpeg's enum values (pixfmt.h) -> the names ffprobe prints
_SPACES = {0: "gbr", 1: "bt709", 4: "fcc", 5: "bt470bg", 6: "smpte170m", 7: "smpte240m", 8: "ycgco", 9: "bt2020nc",
           10: "bt2020c"}
_RANGES = {1: "tv", 2: "pc"}
_PRIMARIES = {1: "bt709", 4: "bt470m", 5: "bt470bg", 6: "smpte170m", 7: "smpte240m", 8: "film", 9: "bt2020",
              11: "smpte431", 12: "smpte432"}
_TRANSFERS = {1: "bt709", 4: "gamma22", 5: "gamma28", 6: "smpte170m", 7: "smpte240m", 8: "linear",
              13: "iec61966-2-1", 14: "bt2020-10", 15: "bt2020-12", 16: "smpte2084", 18: "arib-std-b67"}


def _colour(frame) -> dict[str, str]:
    def name(table: dict[int, str], value) -> str:
        return table.get(int(value or 0), "unknown")

    return {"color_space": name(_SPACES, frame.colorspace), "color_range": name(_RANGES, frame.color_range),
            "color_primaries": name(_PRIMARIES, frame.color_primaries),
            "color_transfer": name(_TRANSFERS, frame.color_trc)}


def probe(path: str | os.PathLike[str]) -> ProbeResult:
    """Describe the media file at ``path``; raise ``MediaError`` if it is not usable."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise MediaError(path, "no such file")
    if os.path.isdir(path):
        raise MediaError(path, "is a directory")
    if os.path.getsize(path) == 0:
        raise MediaError(path, "empty file")
    try:
        return _probe_open(path)
    except MediaError:
        raise
    except av.FFmpegError as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise MediaError(path, reason) from exc
    except (OSError, ValueError, RuntimeError, EOFError) as exc:
        raise MediaError(path, str(exc) or type(exc).__name__) from exc
