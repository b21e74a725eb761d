"""Video-to-audio plugins: found through the entry-point lookup, refused until their
non-commercial licence is accepted, and their soundtrack lands in the placed audio."""

from __future__ import annotations

from fractions import Fraction
from importlib.metadata import EntryPoint

import numpy as np
import pytest

import studio.ai.foley.sources.video_to_audio as v2a
from studio.ai.foley.events import Event
from studio.ai.foley.placement import layout, mixdown
from studio.ai.foley.sources.video_to_audio import (
    GROUP,
    MMAUDIO_LICENCE,
    LicenceNotAccepted,
    V2AError,
    V2ARequest,
    VideoToAudioModel,
    available_models,
    bed_event,
    get_model,
    licence_notice,
    render_range,
    shift_events,
)
from studio.jobs import JobContext


class ClickModel:
    """A stand-in video-to-audio model: a click at every event time, frames checked."""

    name = "clicks"
    licence = MMAUDIO_LICENCE
    frame_rate = 8.0
    frame_size = 48
    last: V2ARequest | None = None

    def generate(self, request: V2ARequest, context) -> np.ndarray:
        ClickModel.last = request
        out = np.zeros((2, int(round(request.duration * request.sample_rate))), np.float32)
        for k, e in enumerate(request.events):
            context.progress((k + 1) / len(request.events), "clicking")
            context.check()
            i = round(e.time * request.sample_rate)
            out[:, i:i + 48] = 0.8
        return out


def install(monkeypatch) -> None:
    """Register ``ClickModel`` as the ``clicks`` plugin of ``studio.v2a_models``."""
    ep = EntryPoint(name="clicks", value=f"{__name__}:ClickModel", group=GROUP)
    real = v2a.entry_points
    monkeypatch.setattr(v2a, "entry_points", lambda group: [ep] if group == GROUP else real(group=group))


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    from studio.media.synth_scenes import write_bouncing_ball

    return write_bouncing_ball(tmp_path_factory.mktemp("v2a") / "b.mp4", width=160, height=120, fps=Fraction(25),
                               frames=50)


EVENTS = (Event(0.3131, "impact", 0.9, 0.3, "hit"), Event(1.2502, "impact", 0.5, 0.7, "hit"))


def test_lookup_and_licence_notice(monkeypatch):
    with pytest.raises(V2AError, match="unknown video-to-audio model 'clicks'"):
        get_model("clicks")
    install(monkeypatch)
    assert "clicks" in available_models()
    model = get_model("clicks")
    assert isinstance(model, VideoToAudioModel)
    notice = licence_notice(model)
    assert "CC BY-NC 4.0" in notice and "NON-COMMERCIAL" in notice and MMAUDIO_LICENCE.url in notice


def test_refused_until_the_licence_is_accepted(clip, monkeypatch):
    install(monkeypatch)
    model = get_model("clicks")
    request = V2ARequest(clip.path, 0.0, 2.0, events=EVENTS)
    ClickModel.last = None
    with pytest.raises(LicenceNotAccepted, match=r"CC BY-NC 4\.0.*--accept-licence") as err:
        render_range(model, request, JobContext(), accepted=False)
    assert "\n" not in str(err.value) and ClickModel.last is None  # refused before running


@pytest.mark.parametrize("fps, sr", [(Fraction(25), 48000), (Fraction(30000, 1001), 44100)])
def test_the_soundtrack_lands_in_the_mix(clip, monkeypatch, fps, sr):
    install(monkeypatch)
    model = get_model("clicks")
    start = 0.2  # the range starts into the clip: event times become relative to it
    request = V2ARequest(clip.path, start, 2.0, prompt="bounces", events=shift_events(EVENTS, start), sample_rate=sr)
    seen = []
    sound = render_range(model, request, JobContext(on_progress=lambda f, m: seen.append(f)), accepted=True)
    assert len(sound.samples) == round(1.8 * sr) and sound.onset == 0 and seen[-1] == 1.0
    frames = ClickModel.last.frames
    assert frames.shape == (15, 48, 64, 3) and ClickModel.last.frame_rate == 8.0  # 1.8 s at 8 fps, short side 48
    placed = layout([bed_event(model, start, 1.8)], [sound], fps=fps, sample_rate=sr)
    mix = np.abs(mixdown(placed, 2 * sr, sr, fps)).max(axis=0)
    found = np.nonzero(np.diff((mix > 0.1).astype(int)) == 1)[0] + 1
    assert len(found) == len(EVENTS)
    for i, e in zip(found, EVENTS, strict=True):
        assert abs(i / sr - e.time) <= 0.001


def test_cancel_and_bad_output(clip, monkeypatch):
    install(monkeypatch)
    model = get_model("clicks")
    ctx = JobContext()
    ctx.cancel()
    with pytest.raises(InterruptedError):  # cancelled while reading frames
        render_range(model, V2ARequest(clip.path, 0.0, 1.0, events=EVENTS), ctx, accepted=True)
    monkeypatch.setattr(ClickModel, "generate", lambda self, r, c: np.full(10, np.nan))
    with pytest.raises(V2AError, match="unusable audio"):
        render_range(model, V2ARequest(clip.path, 0.0, 1.0), JobContext(), accepted=True)
    with pytest.raises(V2AError, match="empty range"):
        render_range(model, V2ARequest(clip.path, 1.0, 1.0), JobContext(), accepted=True)
