"""AudioSource: sample-exact random access, resampling alignment, layouts, errors."""

from fractions import Fraction

import av
import numpy as np
import pytest

from studio.media import audio as audio_mod
from studio.media import synth
from studio.media.audio import BLOCK, AudioSource
from studio.media.probe import MediaError

CLICK_44K = 30001  # the click's sample in the 44.1 kHz file


def write_wav(path, data: np.ndarray, rate: int, codec: str = "pcm_f32le") -> str:
    """Write (channels, n) float samples as a WAV file (float32 or s16 PCM)."""
    data = np.atleast_2d(np.asarray(data, dtype=np.float32))
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=rate, layout={1: "mono", 2: "stereo"}[data.shape[0]])
        fmt = stream.codec_context.format.name
        for s in range(0, data.shape[1], 4096):
            chunk = data[:, s : s + 4096]
            if fmt.startswith("s16"):
                chunk = np.round(np.clip(chunk, -1, 1) * 32767).astype(np.int16)
            arr = chunk if fmt.endswith("p") else chunk.T.reshape(1, -1)
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(arr), format=fmt,
                                               layout=stream.codec_context.layout.name)
            frame.sample_rate, frame.pts, frame.time_base = rate, s, Fraction(1, rate)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return str(path)


@pytest.fixture(scope="module")
def noise48(tmp_path_factory):
    """3 s of stereo float noise at 48 kHz, and its samples."""
    data = (np.random.default_rng(1).standard_normal((2, 3 * 48000)) * 0.1).astype(np.float32)
    return write_wav(tmp_path_factory.mktemp("audio") / "noise48.wav", data, 48000), data


@pytest.fixture(scope="module")
def click44(tmp_path_factory):
    """3 s of quiet stereo noise at 44.1 kHz with a full click at CLICK_44K."""
    data = (np.random.default_rng(2).standard_normal((2, 3 * 44100)) * 0.01).astype(np.float32)
    data[:, CLICK_44K] = 0.9
    return write_wav(tmp_path_factory.mktemp("audio") / "click44.wav", data, 44100), data


def _expected(truth: np.ndarray, start: int, count: int) -> np.ndarray:
    out = np.zeros((truth.shape[0], count), dtype=np.float32)
    lo, hi = max(start, 0), min(start + count, truth.shape[1])
    if hi > lo:
        out[:, lo - start : hi - start] = truth[:, lo:hi]
    return out


def test_reads_after_random_seeks_are_sample_exact(noise48):
    path, truth = noise48
    src = AudioSource(path, 48000, 2, cache_blocks=16)
    assert src.duration_samples == truth.shape[1]
    rng = np.random.default_rng(3)
    for _ in range(60):
        start = int(rng.integers(-2000, truth.shape[1] + 2000))
        count = int(rng.integers(1, 3 * BLOCK))
        got = src.read(start, count)
        assert got.dtype == np.float32 and got.shape == (2, count)
        assert np.array_equal(got, _expected(truth, start, count)), (start, count)
    assert src.seek_count > 1  # the reads did go through seeks
    assert len(src._cache) <= 16


def test_resampled_reads_after_random_seeks_match_a_sequential_decode(click44):
    path, _ = click44
    sequential = AudioSource(path, 48000, 2).read(0, 3 * 48000)
    src = AudioSource(path, 48000, 2, cache_blocks=16)
    rng = np.random.default_rng(4)
    for _ in range(40):
        start = int(rng.integers(0, 3 * 48000))
        count = int(rng.integers(1, 2 * BLOCK))
        got = src.read(start, count)
        assert np.array_equal(got, _expected(sequential, start, count)), (start, count)


@pytest.mark.parametrize("rate", [48000, 32000])
def test_click_lands_on_its_sample_after_resampling(click44, rate):
    path, _ = click44
    exact = CLICK_44K * rate / 44100
    src = AudioSource(path, rate, 2)
    src.read(2 * rate, 100)  # leave the decoder elsewhere: the next read seeks
    window = src.read(int(exact) - 500, 1000)
    found = int(exact) - 500 + int(np.argmax(np.abs(window[0])))
    assert abs(found - exact) <= 1
    assert np.argmax(np.abs(window[1])) == np.argmax(np.abs(window[0]))


def test_zeros_outside_the_media_and_duration(noise48, click44):
    path, truth = noise48
    src = AudioSource(path, 48000, 2)
    before = src.read(-100, 200)
    assert not before[:, :100].any() and np.array_equal(before[:, 100:], truth[:, :100])
    after = src.read(truth.shape[1] - 10, 50)
    assert np.array_equal(after[:, :10], truth[:, -10:]) and not after[:, 10:].any()
    assert not src.read(10**9, 64).any()
    assert src.read(5, 0).shape == (2, 0)
    assert AudioSource(click44[0], 48000, 2).duration_samples == 3 * 48000


def test_sequential_reads_take_the_fast_path(noise48):
    path, truth = noise48
    src = AudioSource(path, 48000, 2)
    chunks = [src.read(s, 1000) for s in range(0, truth.shape[1], 1000)]
    assert np.array_equal(np.concatenate(chunks, axis=1), truth)
    assert src.seek_count == 1  # one initial positioning, then decoding forward only


def test_layout_conversion(noise48, tmp_path):
    path, truth = noise48
    mono = AudioSource(path, 48000, 1).read(1000, 500)
    assert np.allclose(mono[0], (truth[0, 1000:1500] + truth[1, 1000:1500]) / 2, atol=1e-7)
    mono_path = write_wav(tmp_path / "mono.wav", truth[:1], 48000)
    stereo = AudioSource(mono_path, 48000, 2).read(0, 2000)
    assert np.array_equal(stereo[0], truth[0, :2000]) and np.array_equal(stereo[1], truth[0, :2000])


def test_int16_pcm_is_scaled(tmp_path):
    data = np.zeros((2, 4800), dtype=np.float32)
    data[0, 10], data[1, 20] = 0.5, -0.25
    src = AudioSource(write_wav(tmp_path / "s16.wav", data, 48000, codec="pcm_s16le"), 48000, 2)
    got = src.read(0, 4800)
    assert abs(got[0, 10] - 0.5) < 1e-4 and abs(got[1, 20] + 0.25) < 1e-4
    assert np.count_nonzero(got) == 2


def test_aac_reads_after_seeks_match_within_codec_noise(tmp_path):
    path = tmp_path / "tone.m4a"
    synth.write_test_audio(path, 2, 44100, channels=1)
    sequential = AudioSource(path, 48000, 2).read(0, 96000)
    src = AudioSource(path, 48000, 2)
    for start in (70000, 5000, 40000, 90000):
        got = src.read(start, 3000)
        want = _expected(sequential, start, 3000)
        # a sample off at 1 kHz would differ by ~0.06; the codec's own noise is ~1e-5 (more in its last frame)
        assert np.abs(got - want).max() < 1e-2
        if start + 3000 < 96000 - 2048:
            assert np.abs(got - want).max() < 1e-4


def _burst_peak(signal: np.ndarray, at: int) -> int:
    """Offset from ``at`` of the centre of the burst nearest to it (envelope maximum)."""
    window = np.abs(signal[at - 2000 : at + 2000])
    return int(np.argmax(np.convolve(window, np.ones(33) / 33, "same"))) - 2000


def test_coarse_timestamps_still_place_samples_exactly(tmp_path):
    """AAC in Matroska: millisecond timestamps (+-22 samples) are snapped to the codec's frame grid."""
    rate = 44100
    data = np.zeros((2, 3 * rate), dtype=np.float32)
    k = np.arange(-32, 33)
    burst = np.hanning(65) * np.cos(2 * np.pi * 3000 * k / rate) * 0.8
    late = 128772  # 2.92 s: its block (17) restarts the decoder 32 samples from a codec frame boundary
    for at in (rate, late):
        data[:, at - 32 : at + 33] = burst
    path = tmp_path / "burst.mka"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("aac", rate=rate, layout="stereo")
        for s in range(0, data.shape[1], 1024):
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(data[:, s : s + 1024]), format="fltp",
                                               layout="stereo")
            frame.sample_rate, frame.pts, frame.time_base = rate, s, Fraction(1, rate)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    sequential = AudioSource(path, 48000, 2).read(0, 3 * 48000)
    assert [_burst_peak(sequential[0], at) for at in (48000, late * 48000 // rate)] == [0, 0]
    for start in (139500, 60000, 46000):
        src = AudioSource(path, 48000, 2)
        got = src.read(start, 5000)
        assert np.abs(got - _expected(sequential, start, 5000)).max() < 1e-4, start


def test_audio_of_a_video_file_is_aligned_with_its_frames(clip_25):
    src = AudioSource(clip_25.path, 48000, 1)
    assert src.duration_samples == 96000
    got = src.read(0, 96000)[0]
    for frame in clip_25.beep_frames:
        at = frame * 48000 // 25
        beep = 0.5 * np.sin(2 * np.pi * synth.BEEP_HZ * np.arange(1920) / 48000)
        lags = range(-8, 9)
        corr = [float(np.dot(got[at + lag : at + lag + 1920], beep)) if at + lag >= 0 else -1.0 for lag in lags]
        assert lags[int(np.argmax(corr))] == 0


def test_errors_are_media_errors(tmp_path, clip_ntsc):
    with pytest.raises(MediaError, match="no such file"):
        AudioSource(tmp_path / "missing.wav", 48000, 2)
    with pytest.raises(MediaError, match="no audio stream") as info:
        AudioSource(clip_ntsc.path, 48000, 2)
    assert info.value.path == clip_ntsc.path
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"RIFF not really a wave file" * 10)
    with pytest.raises(MediaError) as info:
        AudioSource(junk, 48000, 2)
    assert info.value.path == str(junk) and info.value.reason


def test_a_closed_source_reopens_and_keeps_its_cache(noise48):
    path, truth = noise48
    src = AudioSource(path, 48000, 2)
    assert np.array_equal(src.read(1000, 100), truth[:, 1000:1100])
    src.close()  # what a pool does on eviction; holders may still read
    assert src._container is None
    assert np.array_equal(src.read(1000, 100), truth[:, 1000:1100])  # from the cache
    assert np.array_equal(src.read(100000, 100), truth[:, 100000:100100])  # reopened
    with AudioSource(path, 48000, 2) as other:
        assert other.read(0, 10).shape == (2, 10)


def test_float_conversion_of_packed_and_unsigned_formats():
    frame = av.AudioFrame.from_ndarray(np.array([[0, 255, 128, 64]], dtype=np.uint8), format="u8", layout="stereo")
    got = audio_mod._to_float_planar(frame)
    assert got.shape == (2, 2) and got.dtype == np.float32
    assert np.allclose(got, [[-1.0, 0.0], [127 / 128, -0.5]])
