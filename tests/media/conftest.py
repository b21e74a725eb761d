"""Synthetic media fixtures (written once per session; each takes well under a second)."""

from fractions import Fraction

import pytest

from studio.media import synth


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session")
def clip_25(media_dir):
    """2 s of 25 fps H.264 with stereo AAC audio."""
    return synth.write_test_video(media_dir / "clip25.mp4", fps=Fraction(25), frames=50)


@pytest.fixture(scope="session")
def clip_ntsc(media_dir):
    """30 frames of 30000/1001 fps H.264 without audio."""
    return synth.write_test_video(
        media_dir / "clip2997.mp4", fps=Fraction(30000, 1001), frames=30, audio=False
    )
