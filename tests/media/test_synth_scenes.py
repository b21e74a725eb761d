"""The demo scenes carry the ground truth they claim: impacts are audible at their frames."""

from fractions import Fraction

import av
import numpy as np

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
