"""AudioMixer, PeakLimiter and loudness: placement, gain, pan, fades, crossfades, speed, limits."""

import math
from fractions import Fraction

import av
import numpy as np
import pyloudnorm
import pytest

from studio.core.keyframes import Keyframe
from studio.core.media_pool import Asset, MediaInfo
from studio.core.project import Project, ProjectSettings
from studio.core.timebase import frames_to_samples
from studio.core.timeline import Clip, Sequence, Track, Transition
from studio.media.audio import AudioSource
from studio.render.limiter import PeakLimiter
from studio.render.loudness import (
    LoudnessMeter,
    integrated_lufs,
    measure_project,
    normalisation_gain_db,
    normalise,
    normalise_mixer,
)
from studio.render.mixer import AudioMixer

SR = 48000
NTSC = Fraction(30000, 1001)  # 1601.6 samples per frame: placement must floor exactly
CEILING = 10 ** (-1 / 20)


def write_wav(path, data: np.ndarray, rate: int = SR) -> str:
    data = np.atleast_2d(np.asarray(data, dtype=np.float32))
    with av.open(str(path), "w") as container:
        stream = container.add_stream("pcm_f32le", rate=rate, layout={1: "mono", 2: "stereo"}[data.shape[0]])
        for s in range(0, data.shape[1], 4096):
            chunk = np.ascontiguousarray(data[:, s : s + 4096].T.reshape(1, -1))
            frame = av.AudioFrame.from_ndarray(chunk, format="flt", layout=stream.codec_context.layout.name)
            frame.sample_rate, frame.pts, frame.time_base = rate, s, Fraction(1, rate)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return str(path)


class Media:
    """Test sources: name -> (path, samples)."""

    def __init__(self, root):
        self.root, self.files = root, {}

    def add(self, name: str, data: np.ndarray) -> str:
        data = np.atleast_2d(np.asarray(data, dtype=np.float32))
        self.files[name] = (write_wav(self.root / f"{name}.wav", data), data)
        return name

    def asset(self, name: str) -> Asset:
        path, data = self.files[name]
        return Asset(id=name, path=path, name=name, kind="audio",
                     info=MediaInfo(duration=Fraction(data.shape[1], SR), has_audio=True))

    def data(self, name: str) -> np.ndarray:
        return self.files[name][1]


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    m = Media(tmp_path_factory.mktemp("mix"))
    rng = np.random.default_rng(7)
    click = np.zeros((1, 4 * SR), dtype=np.float32)
    click[0, 0] = 0.5
    click[0, 1000] = 0.25
    m.add("click", click)
    m.add("noise_a", rng.standard_normal((2, 4 * SR)) * 0.05)
    m.add("noise_b", rng.standard_normal((2, 4 * SR)) * 0.05)
    m.add("ramp", np.linspace(-0.5, 0.5, 2 * SR)[np.newaxis, :])
    m.add("dc", np.full((1, 4 * SR), 0.5))  # a constant source shows an envelope itself
    t = np.arange(4 * SR) / SR
    m.add("loud", np.sin(2 * np.pi * 220 * t)[np.newaxis, :] * 0.9)
    m.add("sine20", np.sin(2 * np.pi * 997 * t)[np.newaxis, :] * 0.1)  # -20 dBFS peak
    return m


def make_project(media: Media, tracks: list[list[Clip]] | list[Track], fps=Fraction(25), layout="stereo",
                 transitions=()) -> Project:
    built = []
    for i, t in enumerate(tracks):
        if isinstance(t, Track):
            built.append(t)
        else:
            built.append(Track(id=f"a{i}", kind="audio", name=f"A{i + 1}", clips=tuple(t),
                               transitions=tuple(transitions) if i == 0 else ()))
    assets = tuple(media.asset(n) for n in media.files)
    return Project(ProjectSettings(fps=fps, sample_rate=SR, channel_layout=layout), assets=assets,
                   sequence=Sequence(tuple(built)))


def mixer_for(project: Project, **kw) -> AudioMixer:
    channels = project.settings.channels
    return AudioMixer(project, lambda path: AudioSource(path, SR, channels), **kw)


def clip(asset: str, position: int, duration: int, cid: str = "c", **kw) -> Clip:
    return Clip(id=cid, asset_id=asset, position=position, duration=duration, **kw)


# --- placement ---------------------------------------------------------------------------
def test_first_sample_lands_on_frames_to_samples_of_position(media):
    for position in (0, 1, 7, 13):
        project = make_project(media, [[clip("click", position, 30)]], fps=NTSC)
        start = frames_to_samples(position, NTSC, SR)
        out = mixer_for(project).mix(0, start + 5000)
        assert np.flatnonzero(out[0]).tolist() == [start, start + 1000]
        assert out[0, start] == np.float32(0.5) and out[1, start] == np.float32(0.5)  # mono duplicated, unity


def test_source_in_is_sample_exact(media):
    source_in = Fraction(-1)  # one frame of nothing before the media start, then the click
    project = make_project(media, [[clip("click", 10, 20, source_in=source_in + 1)]], fps=NTSC)
    out = mixer_for(project).mix(0, 40000)
    assert np.flatnonzero(out[0])[0] == frames_to_samples(10, NTSC, SR)
    project = make_project(media, [[clip("click", 10, 20, source_in=Fraction(1, 2))]], fps=Fraction(25))
    out = mixer_for(project).mix(0, 40000)
    # source_in half a frame (960 samples) in: the click at source 1000 plays 40 samples after the start
    assert np.flatnonzero(out[0]).tolist() == [10 * 1920 + 40]


def test_a_unity_clip_passes_the_source_through_bit_exact(media):
    project = make_project(media, [[clip("noise_a", 5, 50, source_in=Fraction(3))]])
    out = mixer_for(project).mix(5 * 1920, 50 * 1920)
    assert np.array_equal(out, media.data("noise_a")[:, 3 * 1920 : 53 * 1920])


def test_any_chunking_gives_the_same_samples(media):
    clips = [clip("loud", 0, 50, "x", gain_db=3.0), clip("noise_a", 20, 60, "y", pan=-0.3, fade_in=5)]
    project = make_project(media, [clips[:1], clips[1:]])
    whole = mixer_for(project).mix(0, 80 * 1920)
    m = mixer_for(project)
    parts = [m.mix(s, min(1601, 80 * 1920 - s)) for s in range(0, 80 * 1920, 1601)]
    assert np.array_equal(np.concatenate(parts, axis=1), whole)
    assert np.array_equal(mixer_for(project).mix(30000, 777), whole[:, 30000:30777])  # a cold seek


# --- gain, pan, fades ---------------------------------------------------------------------
def test_gain_minus_6_db_halves_amplitude(media):
    ref = mixer_for(make_project(media, [[clip("noise_a", 0, 40)]])).mix(0, 40 * 1920)
    out = mixer_for(make_project(media, [[clip("noise_a", 0, 40, gain_db=-6.0)]])).mix(0, 40 * 1920)
    assert np.allclose(out, ref * 10 ** (-6 / 20), atol=1e-7)
    assert abs(np.abs(out).max() / np.abs(ref).max() - 0.5) < 0.01


def test_keyframed_gain_is_smooth_and_reaches_its_keys(media):
    keys = (("gain_db", (Keyframe(0, 0.0), Keyframe(25, -20.0))),)
    project = make_project(media, [[clip("dc", 0, 50, keyframes=keys)]])
    env = mixer_for(project).mix_unlimited(0, 50 * 1920)[0] / 0.5
    assert env[0] == pytest.approx(1.0) and env[25 * 1920] == pytest.approx(0.1, rel=1e-3)
    assert env[12 * 1920] == pytest.approx(10 ** (-9.6 / 20), rel=1e-3)  # linear in dB between keys
    assert np.all(np.diff(env[: 25 * 1920]) <= 1e-9)  # monotonic down
    assert np.abs(np.diff(env)).max() < 1e-3  # no steps
    assert np.allclose(env[25 * 1920 :], 0.1, rtol=1e-6)


def test_pan_hard_left_silences_the_right_and_is_constant_power(media):
    src = media.data("noise_a")
    left = mixer_for(make_project(media, [[clip("noise_a", 0, 40, pan=-1.0)]])).mix(0, 40 * 1920)
    assert not left[1].any()
    assert np.allclose(left[0], src[0, : 40 * 1920] * math.sqrt(2), atol=1e-6)
    half = mixer_for(make_project(media, [[clip("click", 0, 40, pan=0.5)]])).mix(0, 10)
    assert half[0, 0] ** 2 + half[1, 0] ** 2 == pytest.approx(2 * 0.5**2)  # same power as at centre
    mono = make_project(media, [[clip("noise_a", 0, 40, pan=-1.0)]], layout="mono")
    out = mixer_for(mono).mix(0, 1920)
    assert np.allclose(out[0], (src[0, :1920] + src[1, :1920]) / 2, atol=1e-7)  # no pan on mono; averaged


def test_fades_ramp_in_and_out(media):
    project = make_project(media, [[clip("dc", 0, 40, fade_in=10, fade_out=5)]])
    env = mixer_for(project).mix(0, 40 * 1920)[0] / 0.5
    fade_in, fade_out = 10 * 1920, 5 * 1920
    assert env[0] == 0.0
    assert np.allclose(env[:fade_in], np.arange(fade_in) / fade_in, atol=1e-7)
    assert np.all(env[fade_in : 35 * 1920] == 1.0)
    assert np.all(np.diff(env[35 * 1920 :]) < 0) and env[-1] == pytest.approx(1 / fade_out)


# --- crossfades ---------------------------------------------------------------------------
def test_crossfade_keeps_equal_power_and_uses_handles(media):
    a = clip("noise_a", 0, 50, "a", source_in=Fraction(10))
    b = clip("noise_b", 50, 50, "b", source_in=Fraction(10))
    tr = Transition("t", "a", "b", before=10, after=10, kind="crossfade")
    m = mixer_for(make_project(media, [[a, b]], transitions=[tr]))
    out = m.mix_unlimited(0, 100 * 1920)
    power = np.mean(m.mix_unlimited(0, 40 * 1920) ** 2)  # one uncorrelated clip, unfaded
    mid = 50 * 1920
    win = out[:, mid - 960 : mid + 960]
    assert abs(10 * np.log10(np.mean(win**2) / power)) < 1.0
    # each side is an equal-power half at the cut: a's handle past its end is real media
    only_a = mixer_for(make_project(media, [[a, b.__class__(**{**_fields(b), "enabled": False})]],
                                    transitions=[tr])).mix_unlimited(0, 100 * 1920)
    assert not only_a[:, mid:].any()  # a disabled partner disables the crossfade: a ends at the cut
    src_a = media.data("noise_a")
    k = mid + 500  # a's handle, 500 samples past its end
    gain = math.cos(math.pi / 2 * (k - 40 * 1920 + 0.5) / (20 * 1920))
    x_a = src_a[:, 10 * 1920 + k]
    x_b = media.data("noise_b")[:, 10 * 1920 + k - mid]
    gain_b = math.sin(math.pi / 2 * (k - 40 * 1920 + 0.5) / (20 * 1920))
    assert np.allclose(out[:, k], gain * x_a + gain_b * x_b, atol=1e-6)


def test_crossfade_without_handles_is_silent_past_the_media(media):
    a = clip("noise_a", 0, 50, "a", source_in=Fraction(150))  # noise_a lasts 200 frames: no tail handle
    b = clip("noise_b", 50, 50, "b")  # source_in 0: no head handle
    tr = Transition("t", "a", "b", before=10, after=10, kind="crossfade")
    m = mixer_for(make_project(media, [[a, b]], transitions=[tr]))
    only_a = mixer_for(make_project(media, [[a]])).mix_unlimited(0, 60 * 1920)
    full = m.mix_unlimited(0, 60 * 1920)
    cut = 50 * 1920
    # before the cut b contributes nothing (no head handle); after it a contributes nothing
    head = full[:, 40 * 1920 : cut]
    fade = np.cos(math.pi / 2 * (np.arange(40 * 1920, cut) - 40 * 1920 + 0.5) / (20 * 1920))
    assert np.allclose(head, only_a[:, 40 * 1920 : cut] * fade, atol=1e-7)
    only_b = mixer_for(make_project(media, [[b]])).mix_unlimited(cut, 10 * 1920)
    rise = np.sin(math.pi / 2 * (np.arange(cut, cut + 10 * 1920) - 40 * 1920 + 0.5) / (20 * 1920))
    assert np.allclose(full[:, cut : cut + 10 * 1920], only_b * rise, atol=1e-7)


def _fields(c: Clip) -> dict:
    return {f: getattr(c, f) for f in c.__slots__}


# --- tracks -------------------------------------------------------------------------------
def test_mute_solo_and_disabled(media):
    a = [clip("noise_a", 0, 20, "a")]
    b = [clip("noise_b", 0, 20, "b")]
    src_a, src_b = media.data("noise_a")[:, : 20 * 1920], media.data("noise_b")[:, : 20 * 1920]

    def run(ta, tb):
        return mixer_for(make_project(media, [ta, tb])).mix_unlimited(0, 20 * 1920)

    def track(i, clips, **kw):
        return Track(id=f"t{i}", kind="audio", name=f"A{i}", clips=tuple(clips), **kw)

    assert np.allclose(run(track(0, a), track(1, b)), src_a + src_b, atol=1e-7)
    assert np.array_equal(run(track(0, a, muted=True), track(1, b)), src_b)
    assert np.array_equal(run(track(0, a), track(1, b, solo=True)), src_b)
    assert np.allclose(run(track(0, a, solo=True), track(1, b, solo=True)), src_a + src_b, atol=1e-7)
    assert not run(track(0, a, muted=True, solo=True), track(1, b)).any()  # mute wins over solo
    assert np.array_equal(run(track(0, a, enabled=False), track(1, b)), src_b)
    off = [Clip(**{**_fields(a[0]), "enabled": False})]
    assert np.array_equal(run(track(0, off), track(1, b)), src_b)
    video = Track(id="v", kind="video", name="V1", clips=tuple(a))
    assert np.array_equal(run(video, track(1, b)), src_b)  # video tracks are not mixed


# --- speed --------------------------------------------------------------------------------
def test_reverse_clip_reverses_samples(media):
    src = media.data("noise_a")
    project = make_project(media, [[clip("noise_a", 10, 30, source_in=Fraction(5), speed=Fraction(-1))]])
    out = mixer_for(project).mix(10 * 1920, 30 * 1920)
    assert np.array_equal(out, src[:, 5 * 1920 : 35 * 1920][:, ::-1])


def test_speed_2_halves_duration(media):
    project = make_project(media, [[clip("click", 0, 100, speed=Fraction(2))]])
    out = mixer_for(project).mix(0, 100 * 1920)
    assert np.flatnonzero(out[0]).tolist() == [0, 500]  # source samples 0 and 1000
    ramp = media.data("ramp")  # 2 s of ramp at speed 2 lasts 1 s, then silence
    project = make_project(media, [[clip("ramp", 0, 50, speed=Fraction(2))]])
    out = mixer_for(project).mix_unlimited(0, 50 * 1920)
    assert np.allclose(out[0, : SR - 1], ramp[0, 0 : 2 * SR - 2 : 2], atol=1e-7)
    assert not out[:, SR:].any()
    half = mixer_for(make_project(media, [[clip("ramp", 0, 50, speed=Fraction(1, 2))]])).mix_unlimited(1, 1)
    assert half[0, 0] == pytest.approx((ramp[0, 0] + ramp[0, 1]) / 2)  # interpolated between source samples


# --- limiter ------------------------------------------------------------------------------
def test_limiter_holds_a_loud_sum_under_minus_1_dbfs_smoothly(media):
    loud = [[clip("loud", 0, 100, f"l{i}")] for i in range(3)]  # three in-phase 0.9 sines: peak 2.7
    m = mixer_for(make_project(media, loud))
    raw = m.mix_unlimited(0, 100 * 1920)
    out = m.mix(0, 100 * 1920)
    assert np.abs(raw).max() > 2.5
    assert np.abs(out).max() <= CEILING
    steady = out[:, 20000:150000]
    assert np.abs(steady).max() > 0.88  # limited, not crushed
    gain = out[0, 5000:] / np.where(np.abs(raw[0, 5000:]) > 0.1, raw[0, 5000:], np.inf)
    g = gain[np.abs(raw[0, 5000:]) > 0.1]
    assert np.abs(np.diff(g)).max() < 0.01  # no clicks: the gain only glides


def test_limiter_leaves_a_quiet_signal_untouched():
    x = (np.random.default_rng(3).standard_normal((2, 20000)) * 0.2).astype(np.float32)
    x = np.clip(x, -CEILING, CEILING)
    assert np.array_equal(PeakLimiter(SR).limit(x), x)
    spike = np.zeros((1, 5000), dtype=np.float32)
    spike[0, 2500] = 4.0
    y = PeakLimiter(SR).limit(spike)
    assert 0.88 < y[0, 2500] <= CEILING


# --- loudness -----------------------------------------------------------------------------
def test_sine_loudness_reference_values(media):
    sine = media.data("sine20").astype(np.float64)
    mono = integrated_lufs(sine, SR)
    stereo = integrated_lufs(np.vstack([sine, sine]), SR)
    # BS.1770: a 997 Hz sine at -20 dBFS peak is -23 LUFS in one channel, -20 LUFS in both
    assert mono == pytest.approx(-23.0, abs=0.1)
    assert stereo == pytest.approx(-20.0, abs=0.1)
    assert mono == pytest.approx(pyloudnorm.Meter(SR).integrated_loudness(sine[0]), abs=1e-9)
    assert integrated_lufs(np.zeros((2, SR)), SR) == -math.inf
    assert math.isfinite(integrated_lufs(sine[:, : SR // 10], SR))  # shorter than a gating block


def test_streaming_meter_matches_pyloudnorm():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 5 * SR)) * 0.05
    x[:, SR : 2 * SR] *= 0.01  # a quiet second the relative gate drops
    ref = pyloudnorm.Meter(SR).integrated_loudness(x.T)
    meter = LoudnessMeter(SR, 2)
    for s in range(0, x.shape[1], 7777):
        meter.add(x[:, s : s + 7777])
    assert meter.integrated() == pytest.approx(ref, abs=0.01)
    tone = np.sin(2 * np.pi * SR / 4 * np.arange(4800) / SR + math.pi / 4)  # samples peak at 0.707
    meter = LoudnessMeter(SR, 1)
    meter.add(tone)
    assert meter.sample_peak == pytest.approx(0.7071, abs=1e-3) and meter.true_peak > 0.95


def test_normalisation_gain_is_capped_by_the_ceiling():
    assert normalisation_gain_db(-20.0, -14.0) == pytest.approx(6.0)
    assert normalisation_gain_db(-20.0, -14.0, peak_db=-3.0) == pytest.approx(2.0)
    assert normalisation_gain_db(-10.0, -14.0, peak_db=0.0) == pytest.approx(-4.0)  # cuts are never capped
    assert normalisation_gain_db(-math.inf, -14.0) == 0.0


def test_normalising_a_mix_to_minus_14_lufs(media):
    project = make_project(media, [[clip("sine20", 0, 100)]])
    m = mixer_for(project)
    measured = measure_project(m, m.duration_samples, block=SR // 3)
    assert measured.integrated_lufs == pytest.approx(-20.0, abs=0.1)  # stereo (duplicated mono) sine
    gain = normalise_mixer(m, -14.0, block=SR // 3)
    assert gain == pytest.approx(6.0, abs=0.1) and m.output_gain_db == gain
    out = m.mix(0, m.duration_samples)
    assert integrated_lufs(out, SR) == pytest.approx(-14.0, abs=0.5)
    assert np.abs(out).max() <= CEILING
    # broadcast target on a loud mix: a cut
    loud = mixer_for(make_project(media, [[clip("loud", 0, 100)]]))
    normalise_mixer(loud, -23.0)
    assert integrated_lufs(loud.mix(0, loud.duration_samples), SR) == pytest.approx(-23.0, abs=0.5)
    # a peaky signal cannot be lifted past the ceiling
    spiky = np.zeros((2, 2 * SR))
    spiky[:, ::4800] = 0.8
    y, g = normalise(spiky, SR, -14.0)
    assert np.abs(y).max() <= CEILING * (1 + 1e-6) and g < 1.0
