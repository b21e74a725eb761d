"""The demo scenes carry the ground truth they claim: impacts are audible at their frames."""

from fractions import Fraction

import av
import numpy as np
import pytest

from studio.media.probe import probe
from studio.media.synth_scenes import BARS, write_bouncing_ball, write_colour_bars


def _audio(path):
    with av.open(str(path)) as c:
        return np.concatenate([f.to_ndarray()[0] for f in c.decode(audio=0)])


def test_ball_hits_the_floor_at_frame_37_and_the_thump_starts_there(tmp_path):
    truth = write_bouncing_ball(tmp_path / "ball.mp4", width=160, height=90, frames=80)
    assert truth.impact_frames == (7, 37, 67)
    info = probe(truth.path)
    assert info.fps == 25 and info.has_audio
    samples = np.abs(_audio(truth.path))
    onset = int(np.argmax(samples > 0.05))
    # the first thump starts at frame 7 (7/25 s); AAC's priming is trimmed by the decoder
    assert abs(onset - 7 * 48000 // 25) < 48000 // 1000
    assert truth.impact_seconds()[1] == Fraction(37, 25)


def test_colour_bars_and_tone(tmp_path):
    write_colour_bars(tmp_path / "bars.mp4", width=140, height=80, frames=10)
    with av.open(str(tmp_path / "bars.mp4")) as c:
        rgb = next(c.decode(video=0)).to_ndarray(format="rgb24")
    centres = [rgb[40, k * 20 + 10].astype(int) for k in range(7)]
    for got, want in zip(centres, BARS, strict=True):
        assert np.abs(got - want).max() < 24
    rms = np.sqrt(np.mean(_audio(tmp_path / "bars.mp4")[2000:-2000] ** 2))
    assert abs(20 * np.log10(rms * np.sqrt(2)) - (-20)) < 0.5


def test_walker_feet_land_at_the_contact_frames(tmp_path):
    from studio.media.synth_scenes import walker_pose, write_walker

    w = write_walker(tmp_path / "walk.mp4", width=160, height=90, frames=40, first_contact=8.4, period=11.3)
    assert w.contact_frames == pytest.approx((8.4, 19.7, 31.0))
    assert probe(w.path).video_frames == 40
    for k, c in enumerate(w.contact_frames):
        landing = k % 2  # feet alternate
        before = walker_pose(c - 0.05, 8.4, 11.3, 10.0, 5.0)[landing]
        at = walker_pose(c, 8.4, 11.3, 10.0, 5.0)[landing]
        after = walker_pose(c + 0.5, 8.4, 11.3, 10.0, 5.0)[landing]
        assert before[1] > 0.05 and at[1] == 0 and after == at  # comes down, then stays planted


def test_explosion_first_shows_at_its_frame(tmp_path):
    from studio.media.synth_scenes import write_explosion

    e = write_explosion(tmp_path / "boom.mp4", width=160, height=90, frames=50, flash_frame=10, explosion_frame=30)
    with av.open(e.path) as c:
        luma = [f.to_ndarray(format="gray").astype(float) for f in c.decode(video=0)]
    mean = [x.mean() for x in luma]
    assert mean[10] > mean[9] + 60 and abs(mean[11] - mean[9]) < 3  # a one-frame flash
    assert abs(mean[29] - mean[28]) < 3 and mean[30] > mean[29] + 40  # the blast starts at frame 30
    bright = [(x > 200).sum() for x in luma]
    assert bright[29] == 0 and 0 < bright[30] < bright[31] < bright[32]  # and it expands
