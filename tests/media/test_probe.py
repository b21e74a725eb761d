"""probe(): exact stream facts for synthetic media, MediaError for everything unusable."""

from fractions import Fraction

import av
import pytest

from studio.media import synth
from studio.media.probe import MediaError, ProbeResult, probe


def _within_one_frame(duration, frames, fps):
    assert duration is not None
    assert abs(duration - Fraction(frames) / fps) <= 1 / fps


def test_25fps_clip_with_audio(clip_25):
    info = probe(clip_25.path)
    assert isinstance(info, ProbeResult)
    assert info.path == clip_25.path
    assert info.has_video and info.has_audio and not info.is_still
    assert (info.width, info.height) == (320, 180)
    assert info.fps == Fraction(25)
    assert isinstance(info.fps, Fraction)
    assert info.vfr is False
    assert info.video_frames == 50
    _within_one_frame(info.duration, 50, Fraction(25))
    assert isinstance(info.duration, Fraction)
    assert info.video_codec == "h264"
    assert info.pixel_format == "yuv420p"
    assert info.rotation == 0
    assert info.audio_codec == "aac"
    assert info.sample_rate == 48000
    assert info.channels == 2
    assert info.channel_layout == "stereo"


def test_ntsc_rate_stays_exact(clip_ntsc):
    info = probe(clip_ntsc.path)
    assert info.fps == Fraction(30000, 1001)
    assert info.has_video and not info.has_audio
    assert info.video_frames == 30
    _within_one_frame(info.duration, 30, Fraction(30000, 1001))
    assert info.sample_rate is None and info.channels is None and info.channel_layout == ""
    assert info.audio_codec is None


def test_audio_only_wav(media_dir):
    path = media_dir / "tone.wav"
    samples = synth.write_test_audio(path, Fraction(3, 2), 44100, 440.0, channels=1)
    assert samples == 66150
    info = probe(path)
    assert info.has_audio and not info.has_video and not info.is_still
    assert info.sample_rate == 44100
    assert info.channels == 1
    assert info.channel_layout == "mono"
    assert info.audio_codec == "pcm_s16le"
    assert info.duration == Fraction(3, 2)
    assert info.fps is None and info.width is None and info.video_frames is None


def test_audio_only_m4a(media_dir):
    path = media_dir / "tone.m4a"
    synth.write_test_audio(path, 1, 48000, 1000.0)
    info = probe(path)
    assert info.has_audio and not info.has_video
    assert (info.sample_rate, info.channels, info.audio_codec) == (48000, 2, "aac")
    assert abs(info.duration - 1) < Fraction(1, 25)


def test_png_is_a_still(media_dir):
    path = media_dir / "still.png"
    synth.write_test_image(path, 64, 48)
    info = probe(path)
    assert info.is_still and info.has_video and not info.has_audio
    assert (info.width, info.height) == (64, 48)
    assert info.duration is None and info.fps is None
    assert info.video_frames == 1
    assert info.video_codec == "png"


def test_rotation_and_mkv_frame_count(media_dir):
    path = media_dir / "rotated.mkv"
    synth.write_test_video(path, width=64, height=48, fps=24, frames=24, rotation=90)
    info = probe(path)
    assert info.rotation == 90
    assert info.fps == Fraction(24)
    assert info.video_frames == 24  # matroska has no frame count; derived from DURATION tag
    assert info.has_audio


def test_variable_frame_rate_is_flagged(media_dir):
    path = str(media_dir / "vfr.mp4")
    tb = Fraction(1, 1000)
    with av.open(path, "w") as container:
        stream = container.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        stream.codec_context.time_base = tb
        pts = 0
        for i in range(20):
            frame = av.VideoFrame.from_ndarray(synth.draw_frame(i, 64, 48, 20), "rgb24")
            frame.pts, frame.time_base = pts, tb
            pts += 33 if i % 2 else 100
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    info = probe(path)
    assert info.vfr is True
    assert info.video_frames == 20


def test_frame_counter_round_trips(clip_25):
    with av.open(clip_25.path) as container:
        counters = [
            synth.read_frame_counter(f.to_ndarray(format="rgb24"))
            for f in container.decode(video=0)
        ]
    assert counters == list(range(50))
    assert clip_25.beep_frames == (0, 25)


# ------------------------------------------------------------------ errors


def _assert_media_error(path, match=None):
    with pytest.raises(MediaError) as info:
        probe(path)
    message = str(info.value)
    assert str(path) in message
    assert message.startswith("cannot read media ")
    assert "\n" not in message
    assert info.value.path == str(path)
    if match:
        assert match in message
    return info.value


def test_missing_file(tmp_path):
    _assert_media_error(tmp_path / "nope.mp4", "no such file")


def test_directory(tmp_path):
    _assert_media_error(tmp_path, "is a directory")


def test_empty_file(tmp_path):
    path = tmp_path / "empty.mp4"
    path.write_bytes(b"")
    _assert_media_error(path)


def test_text_file_named_mp4(tmp_path):
    path = tmp_path / "notes.mp4"
    path.write_text("this is not a video\n" * 50)
    _assert_media_error(path)


def test_truncated_mp4(tmp_path, clip_25):
    path = tmp_path / "truncated.mp4"
    with open(clip_25.path, "rb") as f:
        path.write_bytes(f.read(2048))
    err = _assert_media_error(path)
    assert not isinstance(err, av.FFmpegError)


def test_no_audio_or_video_stream(tmp_path):
    path = str(tmp_path / "subs.mkv")
    with av.open(path, "w") as container:
        container.add_stream("ass")
    _assert_media_error(path)


def test_media_error_is_plain_exception():
    err = MediaError("x.mp4", "broken")
    assert str(err) == "cannot read media 'x.mp4': broken"
    assert isinstance(err, Exception) and not isinstance(err, av.FFmpegError)


def test_colour_tags_are_reported(tmp_path):
    import numpy as np

    path = tmp_path / "tagged.mp4"
    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=25)
        s.width, s.height, s.pix_fmt = 64, 36, "yuv420p"
        ctx = s.codec_context
        ctx.colorspace = ctx.color_primaries = ctx.color_trc = 1  # BT.709
        ctx.color_range = 2  # full
        for i in range(3):
            f = av.VideoFrame.from_ndarray(np.full((36, 64, 3), 40 * i, np.uint8), "rgb24")
            f.pts = i
            for p in s.encode(f):
                c.mux(p)
        for p in s.encode(None):
            c.mux(p)
    r = probe(path)
    assert (r.color_space, r.color_range, r.color_primaries, r.color_transfer) == ("bt709", "pc", "bt709", "bt709")
    untagged = tmp_path / "plain.mp4"
    synth.write_test_video(untagged, frames=2, audio=False)
    assert probe(untagged).color_space == "unknown"
