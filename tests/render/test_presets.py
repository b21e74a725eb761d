"""Presets: the shipped JSON files load, validate, and each one's encoders really open and write."""

from __future__ import annotations

import json
from dataclasses import replace
from fractions import Fraction

import av
import numpy as np
import pytest

from studio.media.probe import probe
from studio.media.synth import draw_frame
from studio.render.encode import Encoder
from studio.render.presets import (
    DEFAULT_PRESET,
    PresetError,
    list_presets,
    load_preset,
    preset_from_dict,
    presets_dir,
    slugify,
)

PROFILES = {"4K60 H.264": "High", "1080p60 H.264": "High", "4K60 HEVC 10-bit": "Main 10", "ProRes 422 HQ (.mov)": "HQ"}
SHIPPED = {"4K60 H.264", "4K60 HEVC 10-bit", "1080p60 H.264", "ProRes 422 HQ (.mov)", "Audio only (WAV)"}


def test_the_shipped_presets_load_and_validate():
    presets = {p.name: p for p in list_presets()}
    assert set(presets) == SHIPPED
    for p in presets.values():
        assert p.validate() is p
    assert presets_dir().name == "presets" and presets_dir().parent.name == "resources"

    h264 = presets[DEFAULT_PRESET]
    assert (h264.video.width, h264.video.height, h264.video.fps) == (3840, 2160, Fraction(60))
    assert (h264.video.codec, h264.video.profile, h264.video.crf, h264.video.pix_fmt) == ("libx264", "high", 18,
                                                                                          "yuv420p")
    assert (h264.audio.codec, h264.audio.sample_rate, h264.audio.bitrate) == ("aac", 48000, "320k")
    assert h264.faststart and h264.extension == ".mp4"
    hevc = presets["4K60 HEVC 10-bit"]
    assert (hevc.video.codec, hevc.video.pix_fmt, hevc.video.crf, hevc.video.tag) == ("libx265", "yuv420p10le", 20,
                                                                                      "hvc1")
    prores = presets["ProRes 422 HQ (.mov)"]
    assert (prores.video.codec, prores.video.pix_fmt, prores.extension) == ("prores_ks", "yuv422p10le", ".mov")
    assert prores.audio.codec.startswith("pcm_s")
    wav = presets["Audio only (WAV)"]
    assert wav.video is None and wav.audio.codec == "pcm_s16le" and wav.extension == ".wav"
    assert presets["1080p60 H.264"].video.height == 1080


@pytest.mark.parametrize("query, name", [
    ("4K60 H.264", "4K60 H.264"),
    ("4k60 h.264", "4K60 H.264"),
    ("4k60-h264", "4K60 H.264"),
    ("4K60-HEVC-10bit", "4K60 HEVC 10-bit"),
    ("prores-422-hq", "ProRes 422 HQ (.mov)"),
    ("prores 422 hq (.MOV)", "ProRes 422 HQ (.mov)"),
    ("audio-only-wav", "Audio only (WAV)"),
    ("1080P60-H264", "1080p60 H.264"),
])
def test_lookup_by_name_or_slug(query, name):
    assert load_preset(query).name == name


def test_unknown_preset_lists_the_names():
    with pytest.raises(PresetError) as info:
        load_preset("8K120 AV1")
    message = str(info.value)
    assert "unknown preset '8K120 AV1'" in message and "\n" not in message
    for name in SHIPPED:
        assert repr(name) in message


def test_slugify():
    assert slugify("4K60 H.264") == "4k60-h264"
    assert slugify("ProRes 422 HQ (.mov)") == "prores-422-hq-mov"


def _small(preset, w=128, h=72):
    return replace(preset, video=replace(preset.video, width=w, height=h)) if preset.video else preset


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_each_preset_opens_its_encoders_and_writes_a_probeable_file(tmp_path, name):
    preset = _small(load_preset(name))
    path = tmp_path / f"two{preset.extension}"
    enc = Encoder(path, preset, channels=2, input_sample_rate=48000, frames=2)
    if preset.video is not None:
        for i in range(2):
            enc.add_video(av.VideoFrame.from_ndarray(draw_frame(i, 128, 72, 2), "rgb24"), i)
    enc.add_audio(np.zeros((2, 1600), np.float32))
    enc.finish(1600)
    enc.close()
    info = probe(path)
    assert info.has_audio and info.sample_rate == 48000 and info.channels == 2
    if preset.video is not None:
        assert (info.width, info.height, info.fps) == (128, 72, preset.video.fps)
        assert info.pixel_format == preset.video.pix_fmt and info.video_frames == 2
        with av.open(str(path)) as c:
            ctx = c.streams.video[0].codec_context
            tag, profile, colorspace = c.streams.video[0].codec_tag, ctx.profile, ctx.colorspace
        if preset.video.tag:
            assert tag == preset.video.tag
        assert profile == PROFILES[name] and colorspace == 1  # BT.709
    else:
        assert not info.has_video
    if preset.faststart:
        data = path.read_bytes()
        assert data.find(b"moov") < data.find(b"mdat")


def test_overrides():
    base = load_preset("4K60 H.264")
    assert base.with_overrides() is base
    o = base.with_overrides(crf=23, speed="veryfast").validate()
    assert (o.video.crf, o.video.speed, o.video.encoder_options()["preset"]) == (23, "veryfast", "veryfast")
    hevc = base.with_overrides(vcodec="libx265").validate()
    assert hevc.video.codec == "libx265" and hevc.video.profile is None and hevc.video.tag == "hvc1"
    assert hevc.video.crf == 18  # quality carries over between crf encoders
    prores = load_preset("ProRes 422 HQ (.mov)").with_overrides(vcodec="libx264", crf=16).validate()
    assert prores.video.options == {} and prores.video.crf == 16
    assert base.video.crf == 18  # the original is untouched


@pytest.mark.parametrize("preset, kwargs, fragment", [
    ("4K60 H.264", {"crf": 52}, "crf 52 is out of range for libx264 (0 to 51)"),
    ("4K60 H.264", {"speed": "ludicrous"}, "unknown speed 'ludicrous'"),
    ("4K60 H.264", {"vcodec": "h264_nonexistent"}, "no video encoder 'h264_nonexistent'"),
    ("4K60 H.264", {"vcodec": "aac"}, "'aac' is a audio encoder"),
    ("4K60 H.264", {"vcodec": "prores_ks"}, "mp4 container cannot hold prores"),
    ("ProRes 422 HQ (.mov)", {"crf": 10}, "prores_ks has no crf"),
    ("ProRes 422 HQ (.mov)", {"speed": "fast"}, "speed presets apply to libx264 and libx265"),
    ("Audio only (WAV)", {"crf": 10}, "has no video"),
])
def test_bad_overrides_are_one_clear_line(preset, kwargs, fragment):
    with pytest.raises(PresetError) as info:
        load_preset(preset).with_overrides(**kwargs).validate()
    assert fragment in str(info.value) and "\n" not in str(info.value)


def test_custom_json_file_and_malformed_ones(tmp_path):
    doc = {"name": "Small", "format": "matroska", "extension": "mkv",
           "video": {"codec": "libx264", "width": 320, "height": 180, "fps": "30000/1001", "speed": "ultrafast"},
           "audio": {"codec": "libopus", "sample_rate": 48000, "bitrate": "96k"}}
    path = tmp_path / "small.json"
    path.write_text(json.dumps(doc))
    p = load_preset(str(path)).validate()
    assert p.name == "Small" and p.extension == ".mkv" and p.video.fps == Fraction(30000, 1001)

    path.write_text("{ not json")
    with pytest.raises(PresetError, match="not valid JSON"):
        load_preset(str(path))
    with pytest.raises(PresetError, match="missing 'codec'"):
        preset_from_dict({**doc, "video": {"width": 320, "height": 180, "fps": 30}})
    with pytest.raises(PresetError, match="'width' has the wrong type"):
        preset_from_dict({**doc, "video": {**doc["video"], "width": "wide"}})
    with pytest.raises(PresetError, match="bad frame rate"):
        preset_from_dict({**doc, "video": {**doc["video"], "fps": "fast"}})
    with pytest.raises(PresetError, match="neither video nor audio"):
        preset_from_dict({**doc, "video": None, "audio": None})
    with pytest.raises(PresetError, match="size 321x180"):
        preset_from_dict({**doc, "video": {**doc["video"], "width": 321}}).validate()
    with pytest.raises(PresetError, match="no muxer 'nonesuch'"):
        preset_from_dict({**doc, "format": "nonesuch"}).validate()
    with pytest.raises(PresetError, match="cannot encode yuv444p12le"):
        preset_from_dict({**doc, "video": {**doc["video"], "pix_fmt": "yuv444p12le"}}).validate()


def test_resources_folder_can_be_relocated(tmp_path, monkeypatch):
    (tmp_path / "presets").mkdir()
    (tmp_path / "presets" / "only.json").write_text(json.dumps(
        {"name": "Only", "format": "wav", "extension": ".wav", "audio": {"codec": "pcm_s16le"}}))
    monkeypatch.setenv("SHOTLINE_RESOURCES", str(tmp_path))
    assert [p.name for p in list_presets()] == ["Only"]
    with pytest.raises(PresetError, match="choose one of: 'Only'"):
        load_preset("4K60 H.264")


def test_very_short_hevc_exports_always_mux(tmp_path):
    """x265 with B-frames sometimes gives a 1-2 frame stream a pts/dts pair MP4 refuses; the hint avoids it."""
    preset = _small(load_preset("4K60 HEVC 10-bit"))
    for attempt in range(12):
        frames = 1 + attempt % 2
        path = tmp_path / f"h{attempt}.mp4"
        enc = Encoder(path, preset, channels=2, input_sample_rate=48000, frames=frames)
        for i in range(frames):
            enc.add_video(av.VideoFrame.from_ndarray(draw_frame(i, 128, 72, 2), "rgb24"), i)
        enc.finish(800 * frames)
        enc.close()
        assert probe(path).video_frames == frames
