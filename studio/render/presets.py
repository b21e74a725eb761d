"""Export presets: data in ``resources/presets/*.json``, loaded, overridden and validated here.

A preset names a muxer, a video encoder (size, exact frame rate, pixel format, rate control)
and an audio encoder. Presets are looked up by name, case-insensitively, or by a slug
(``"4K60 H.264"`` is also ``"4k60-h264"``); a path to a ``.json`` file loads a custom preset.
"""

from __future__ import annotations

import io
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path
from typing import Any

import av

from studio.core.errors import StudioError, TimeError
from studio.core.timebase import format_rate, parse_rate

#: Overrides the folder holding ``presets/`` (tests, relocated installs).
RESOURCES_ENV = "SHOTLINE_RESOURCES"
DEFAULT_PRESET = "4K60 H.264"

#: Encoders whose quality is set by a constant rate factor, and its valid range.
CRF_RANGES = {"libx264": (0, 51), "libx265": (0, 51), "libvpx-vp9": (0, 63), "libaom-av1": (0, 63),
              "libsvtav1": (0, 63)}
#: Encoders whose speed/quality trade-off is an x264-style ``preset`` option.
SPEEDS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow", "placebo")
SPEED_CODECS = ("libx264", "libx265")


class PresetError(StudioError):
    """A preset is unknown, malformed, or asks for something this FFmpeg cannot do."""


@dataclass(frozen=True)
class VideoSettings:
    codec: str
    width: int
    height: int
    fps: Fraction
    pix_fmt: str = "yuv420p"
    crf: int | None = None
    speed: str | None = None  # x264/x265 "preset"
    profile: str | None = None
    tag: str | None = None  # container FourCC, e.g. "hvc1"
    bitrate: str | None = None  # e.g. "50M" (used when there is no crf)
    options: Mapping[str, str] = field(default_factory=dict)  # encoder private options

    def encoder_options(self) -> dict[str, str]:
        """The options handed to the encoder (``stream.options``)."""
        opts: dict[str, str] = {}
        if self.crf is not None:
            opts["crf"] = str(self.crf)
        if self.speed is not None:
            opts["preset"] = self.speed
        if self.profile is not None:
            opts["profile"] = self.profile
        opts.update({str(k): str(v) for k, v in self.options.items()})
        return opts


@dataclass(frozen=True)
class AudioSettings:
    codec: str
    sample_rate: int = 48000
    bitrate: str | None = None  # e.g. "320k"; None for PCM
    options: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Preset:
    name: str
    format: str  # FFmpeg muxer name: mp4, mov, wav, matroska...
    extension: str  # ".mp4"
    video: VideoSettings | None
    audio: AudioSettings | None
    faststart: bool = False  # mp4/mov: moov atom first (movflags=+faststart)
    description: str = ""
    source: str = ""  # the file it came from

    @property
    def slug(self) -> str:
        return slugify(self.name)

    @property
    def aliases(self) -> tuple[str, ...]:
        names = {self.slug}
        if self.source:
            names.add(slugify(Path(self.source).stem))
        return tuple(sorted(names))

    @property
    def container_options(self) -> dict[str, str]:
        return {"movflags": "+faststart"} if self.faststart else {}

    def with_overrides(self, *, vcodec: str | None = None, crf: int | None = None,
                       speed: str | None = None) -> Preset:
        """A copy with the command-line overrides applied (validate it afterwards).

        Changing the codec drops settings that belong to the preset's own encoder (profile,
        tag, private options, and crf/speed where the new encoder has none).
        """
        if vcodec is None and crf is None and speed is None:
            return self
        if self.video is None:
            raise PresetError(f"preset {self.name!r} has no video; --vcodec, --crf and --speed do not apply")
        v = self.video
        if vcodec is not None and vcodec != v.codec:
            v = replace(v, codec=vcodec, profile=None, tag=_default_tag(vcodec, self.format), options={},
                        crf=v.crf if vcodec in CRF_RANGES else None,
                        speed=v.speed if vcodec in SPEED_CODECS else None)
        if crf is not None:
            v = replace(v, crf=crf)
        if speed is not None:
            v = replace(v, speed=speed)
        return replace(self, video=v)

    def validate(self) -> Preset:
        """Check the preset against this FFmpeg build; raise ``PresetError`` with one line."""
        validate_preset(self)
        return self

    def summary(self) -> str:
        parts = []
        if self.video is not None:
            v = self.video
            q = f"crf {v.crf}" if v.crf is not None else (v.bitrate or "")
            parts.append(f"{v.width}x{v.height} {format_rate(v.fps).removesuffix('/1')} fps {v.codec} {v.pix_fmt} {q}")
        if self.audio is not None:
            a = self.audio
            parts.append(f"{a.codec} {a.sample_rate} Hz{' ' + a.bitrate if a.bitrate else ''}")
        return f"{self.name} ({', '.join(p.strip() for p in parts)}, {self.extension})"


def slugify(text: str) -> str:
    """``"4K60 H.264"`` -> ``"4k60-h264"``; ``"ProRes 422 HQ (.mov)"`` -> ``"prores-422-hq-mov"``."""
    s = text.strip().lower().replace(".", "")
    return re.sub(r"[^a-z0-9]+", "-", s).strip("-")


def _default_tag(codec: str, fmt: str) -> str | None:
    # Apple players only accept HEVC in MP4/MOV tagged hvc1 (FFmpeg's default is hev1).
    if codec in ("libx265", "hevc_nvenc", "hevc_qsv", "hevc_videotoolbox") and fmt in ("mp4", "mov"):
        return "hvc1"
    return None


# --------------------------------------------------------------------------- locating
def resources_dir() -> Path:
    """The ``resources/`` folder: $SHOTLINE_RESOURCES, else the one beside the ``studio`` package."""
    env = os.environ.get(RESOURCES_ENV)
    if env:
        return Path(env)
    import studio

    return Path(studio.__file__).resolve().parent.parent / "resources"


def presets_dir() -> Path:
    return resources_dir() / "presets"


# --------------------------------------------------------------------------- parsing
def _need(doc: Mapping[str, Any], key: str, where: str, kind: type | tuple[type, ...]) -> Any:
    if key not in doc:
        raise PresetError(f"{where}: missing {key!r}")
    value = doc[key]
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise PresetError(f"{where}: {key!r} has the wrong type ({type(value).__name__})")
    return value


def _opt(doc: Mapping[str, Any], key: str, where: str, kind: type | tuple[type, ...], default: Any = None) -> Any:
    if doc.get(key) is None:
        return default
    return _need(doc, key, where, kind)


def _options(doc: Mapping[str, Any], where: str) -> dict[str, str]:
    opts = _opt(doc, "options", where, dict, {})
    return {str(k): str(v) for k, v in opts.items()}


def preset_from_dict(doc: Mapping[str, Any], source: str = "<dict>") -> Preset:
    """Build a ``Preset`` from its JSON form (see ``resources/presets/``)."""
    if not isinstance(doc, Mapping):
        raise PresetError(f"{source}: a preset is a JSON object")
    name = _need(doc, "name", source, str)
    where = f"preset {name!r} ({source})"
    fmt = _need(doc, "format", where, str)
    ext = _need(doc, "extension", where, str)
    if not ext.startswith("."):
        ext = "." + ext
    video = None
    if doc.get("video") is not None:
        vd = _need(doc, "video", where, dict)
        vw = f"{where} video"
        try:
            fps = parse_rate(str(_need(vd, "fps", vw, (int, str))))
        except TimeError as e:
            raise PresetError(f"{vw}: {e}") from None
        video = VideoSettings(
            codec=_need(vd, "codec", vw, str),
            width=_need(vd, "width", vw, int),
            height=_need(vd, "height", vw, int),
            fps=fps,
            pix_fmt=_opt(vd, "pix_fmt", vw, str, "yuv420p"),
            crf=_opt(vd, "crf", vw, int),
            speed=_opt(vd, "speed", vw, str),
            profile=_opt(vd, "profile", vw, str),
            tag=_opt(vd, "tag", vw, str),
            bitrate=_opt(vd, "bitrate", vw, (str, int)),
            options=_options(vd, vw),
        )
    audio = None
    if doc.get("audio") is not None:
        ad = _need(doc, "audio", where, dict)
        aw = f"{where} audio"
        bitrate = _opt(ad, "bitrate", aw, (str, int))
        audio = AudioSettings(
            codec=_need(ad, "codec", aw, str),
            sample_rate=_opt(ad, "sample_rate", aw, int, 48000),
            bitrate=str(bitrate) if bitrate is not None else None,
            options=_options(ad, aw),
        )
    if video is None and audio is None:
        raise PresetError(f"{where}: has neither video nor audio")
    return Preset(
        name=name,
        format=fmt,
        extension=ext,
        video=video,
        audio=audio,
        faststart=bool(_opt(doc, "faststart", where, bool, False)),
        description=_opt(doc, "description", where, str, ""),
        source=source,
    )


def load_preset_file(path: str | os.PathLike[str]) -> Preset:
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise PresetError(f"cannot read preset {str(path)!r}: {e.strerror or e}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise PresetError(f"preset {str(path)!r} is not valid JSON: {e}") from None
    return preset_from_dict(doc, str(path))


# --------------------------------------------------------------------------- catalogue
def list_presets(folder: str | os.PathLike[str] | None = None) -> list[Preset]:
    """Every preset in ``folder`` (default: ``resources/presets``), sorted by name."""
    folder = Path(folder) if folder is not None else presets_dir()
    if not folder.is_dir():
        raise PresetError(f"no presets folder at {str(folder)!r} (set ${RESOURCES_ENV})")
    presets = [load_preset_file(p) for p in sorted(folder.glob("*.json"))]
    return sorted(presets, key=lambda p: p.name.lower())


def preset_names(folder: str | os.PathLike[str] | None = None) -> list[str]:
    return [p.name for p in list_presets(folder)]


def load_preset(name: str, folder: str | os.PathLike[str] | None = None) -> Preset:
    """A preset by name (case-insensitive), slug, or path to a ``.json`` file."""
    if name.lower().endswith(".json") and (os.sep in name or "/" in name or os.path.exists(name)):
        return load_preset_file(name)
    presets = list_presets(folder)
    key = name.strip().lower()
    for p in presets:
        if p.name.lower() == key:
            return p
    slug = slugify(name)
    for p in presets:
        if slug and slug in p.aliases:
            return p
    names = ", ".join(repr(p.name) for p in presets)
    raise PresetError(f"unknown preset {name!r}; choose one of: {names} (or a path to a .json preset)")


# --------------------------------------------------------------------------- validation
def _encoder(name: str, kind: str, where: str) -> av.codec.Codec:
    try:
        codec = av.codec.Codec(name, "w")
    except (ValueError, av.FFmpegError):
        raise PresetError(f"{where}: this FFmpeg has no {kind} encoder {name!r}") from None
    if codec.type != kind:
        raise PresetError(f"{where}: {name!r} is a {codec.type} encoder, not a {kind} one")
    return codec


def _parse_bitrate(text: str | int, where: str) -> int:
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kKmM]?)\s*", str(text))
    if not m:
        raise PresetError(f"{where}: bad bitrate {text!r} (use e.g. 320k or 50M)")
    scale = {"": 1, "k": 1000, "m": 1000_000}[m.group(2).lower()]
    value = int(float(m.group(1)) * scale)
    if value <= 0:
        raise PresetError(f"{where}: bitrate must be positive, not {text!r}")
    return value


def bitrate_bps(text: str | int) -> int:
    """``"320k"`` -> 320000."""
    return _parse_bitrate(text, "bitrate")


def _muxable_codecs(fmt: str, where: str) -> set[str]:
    """Codec names (e.g. "h264", not the encoder "libx264") the muxer ``fmt`` can hold."""
    try:
        container = av.open(io.BytesIO(), "w", format=fmt)
    except (ValueError, av.FFmpegError):
        raise PresetError(f"{where}: this FFmpeg has no muxer {fmt!r}") from None
    try:
        return set(container.supported_codecs)
    finally:
        container.close()


def _check_muxable(codec: av.codec.Codec, fmt: str, supported: set[str], where: str) -> None:
    if supported and codec.canonical_name not in supported:
        raise PresetError(f"{where}: the {fmt} container cannot hold {codec.canonical_name} ({codec.name})")


def validate_preset(preset: Preset) -> None:
    where = f"preset {preset.name!r}"
    supported = _muxable_codecs(preset.format, where)
    v = preset.video
    if v is not None:
        codec = _encoder(v.codec, "video", where)
        _check_muxable(codec, preset.format, supported, where)
        if not (16 <= v.width <= 16384 and 16 <= v.height <= 16384) or v.width % 2 or v.height % 2:
            raise PresetError(f"{where}: size {v.width}x{v.height} must be even numbers from 16 to 16384")
        formats = [f.name for f in (codec.video_formats or [])]
        if formats and v.pix_fmt not in formats:
            raise PresetError(f"{where}: {v.codec} cannot encode {v.pix_fmt}; it takes {', '.join(formats)}")
        if v.crf is not None:
            if v.codec not in CRF_RANGES:
                raise PresetError(f"{where}: {v.codec} has no crf (crf works with {', '.join(CRF_RANGES)})")
            lo, hi = CRF_RANGES[v.codec]
            if not lo <= v.crf <= hi:
                raise PresetError(f"{where}: crf {v.crf} is out of range for {v.codec} ({lo} to {hi})")
        if v.speed is not None:
            if v.codec not in SPEED_CODECS:
                raise PresetError(f"{where}: speed presets apply to {' and '.join(SPEED_CODECS)}, not {v.codec}")
            if v.speed not in SPEEDS:
                raise PresetError(f"{where}: unknown speed {v.speed!r}; choose one of: {', '.join(SPEEDS)}")
        if v.bitrate is not None:
            _parse_bitrate(v.bitrate, where)
    a = preset.audio
    if a is not None:
        codec = _encoder(a.codec, "audio", where)
        _check_muxable(codec, preset.format, supported, where)
        rates = codec.audio_rates
        if rates and a.sample_rate not in rates:
            raise PresetError(f"{where}: {a.codec} cannot encode {a.sample_rate} Hz")
        if not 8000 <= a.sample_rate <= 384000:
            raise PresetError(f"{where}: sample rate {a.sample_rate} is out of range")
        if a.bitrate is not None:
            _parse_bitrate(a.bitrate, where)
