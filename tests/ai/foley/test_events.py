"""Event detection against ground truth, and the events JSON file."""

from __future__ import annotations

import json

import av
import numpy as np
import pytest

from studio.ai.foley.analysis import analyze
from studio.ai.foley.events import (
    Event,
    EventsError,
    detect_events,
    events_from_json,
    events_to_json,
    load_events,
    refine_contact,
    save_events,
)
from studio.media.probe import MediaError

from .conftest import BALLS


@pytest.mark.parametrize("name", list(BALLS))
def test_impacts_match_ground_truth_within_one_frame(balls, name):
    ball = balls[name]
    features = analyze(ball.path)
    assert features.frames == ball.frames and features.fps == ball.fps
    impacts = [e for e in detect_events(features) if e.kind == "impact"]
    found = [e.time * float(ball.fps) for e in impacts]
    assert len(found) == len(ball.impact_frames)  # precision and recall 1
    for f, truth in zip(found, ball.impact_frames, strict=True):
        assert abs(f - truth) < 1.0
    # the ball travels left to right: pan follows it; floor hits are labelled
    xs = [e.x for e in impacts]
    assert xs == sorted(xs) and xs[0] < 0.3 and xs[-1] > 0.6
    assert all(e.label == "impact (floor)" and 0 < e.strength <= 1 for e in impacts)


def test_refine_contact_finds_a_sub_frame_reversal():
    # constant speed 10 px/frame down, reversing to -8 at t = 20.3 frames: v[k] averages frames k-1..k
    t_c = 20.3
    v = np.array([10.0 if k <= t_c else (-8.0 if k - 1 >= t_c else 10 * (t_c - (k - 1)) - 8 * (k - t_c))
                  for k in range(40)])
    t, dv = refine_contact(v, 22)
    assert abs(t - t_c) < 0.02 and abs(dv - 18) < 0.1


def _write_grey(path, levels, fps=25):
    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=fps)
        s.width, s.height, s.pix_fmt = 128, 96, "yuv420p"
        s.options = {"preset": "ultrafast", "crf": "18"}
        for i, level in enumerate(levels):
            img = np.full((96, 128, 3), level, np.uint8)
            img[:, : 64] = np.clip(np.asarray(level) * 0.5, 0, 255).astype(np.uint8)  # some structure
            f = av.VideoFrame.from_ndarray(img, "rgb24")
            f.pts = i
            for p in s.encode(f):
                c.mux(p)
        for p in s.encode(None):
            c.mux(p)


def test_flash_and_cut(tmp_path):
    levels = [60] * 20 + [230] + [60] * 19 + [[200, 20, 20]] * 20
    path = tmp_path / "fc.mp4"
    _write_grey(path, levels)
    events = detect_events(analyze(path))
    kinds = [(e.kind, round(e.time * 25)) for e in events]
    assert ("flash", 20) in kinds and ("cut", 40) in kinds
    assert not any(k == "cut" and f in (20, 21) for k, f in kinds)  # the flash is not a cut


def test_json_round_trip(tmp_path):
    events = [Event(0.28, "impact", 0.7, 0.11, "impact (floor)", "1,0"), Event(1.5, "flash", 1.0, 0.5, "flash",
                                                                               duration=0.04)]
    path = tmp_path / "ev.json"
    save_events(events, path)
    assert load_events(path) == events
    assert events_from_json(events_to_json(events)["events"]) == events  # a bare list works too


@pytest.mark.parametrize("mutate, field", [
    (lambda e: e.pop("time"), "'time'"),
    (lambda e: e.update(strength=1.5), "[1].strength"),
    (lambda e: e.update(x="left"), "[1].x"),
    (lambda e: e.update(kind="boing"), "[1].kind"),
    (lambda e: e.update(label=3), "[1].label"),
])
def test_bad_json_names_the_field(tmp_path, mutate, field):
    doc = events_to_json([Event(0.1, "impact", 0.5, 0.5, "a"), Event(0.2, "impact", 0.5, 0.5, "b")])
    mutate(doc["events"][1])
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(EventsError) as e:
        load_events(path)
    assert field in str(e.value) and "\n" not in str(e.value)


def test_not_json_is_one_clear_error(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text("{nope")
    with pytest.raises(EventsError, match="not valid JSON"):
        load_events(path)


def test_bad_media(tmp_path):
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"\x00" * 1000)
    with pytest.raises(MediaError):
        analyze(junk)
    with pytest.raises(MediaError, match="no such file"):
        analyze(tmp_path / "missing.mp4")


def test_moving_camera_fallback_uses_optical_flow(balls, monkeypatch):
    import studio.ai.foley.analysis as analysis

    monkeypatch.setattr(analysis, "_track_foreground", lambda greys: None)  # as if the camera moved
    ball = balls["640x360@25"]
    features = analysis.analyze(ball.path)
    assert features.tracking == "flow" and features.region_mag.shape == (ball.frames, 3, 4)
    found = [e.time * float(ball.fps) for e in detect_events(features) if e.kind == "impact"]
    assert len(found) == len(ball.impact_frames)
    assert all(abs(f - t) < 1.0 for f, t in zip(found, ball.impact_frames, strict=True))


def _track_features(ys: np.ndarray, fps: int = 30):
    """Features of a blob whose centroid height (analysis px, y down) is ``ys`` per frame."""
    from fractions import Fraction

    from studio.ai.foley.analysis import Features

    n = len(ys)
    vy = np.diff(ys, prepend=ys[:1])
    zeros = np.zeros(n)
    return Features(path="", fps=Fraction(fps), frames=n, width=256, height=144, source_width=640, source_height=360,
                    start_time=0.0, diff=zeros, luma=np.full(n, 60.0), hist_delta=zeros, vx=np.full(n, 1.0), vy=vy,
                    cx=np.linspace(0.1, 0.9, n), cy=ys / 144, area=np.full(n, 0.01), region_mag=np.zeros((n, 3, 4)),
                    region_dir=np.zeros((n, 3, 4)), tracking="background", foot_vy=vy, fg_height=np.full(n, 12.0))


@pytest.mark.parametrize("first", [15.5, 15.25, 15.0])
def test_contact_in_the_middle_of_a_frame_interval(first):
    """A bounce exactly between two frames shows both frames at the same height: the interval's
    mean velocity is ~0 between a fast fall and a fast rise. It is a contact, not a stop."""
    period, n = 27, 120
    t = np.arange(n, dtype=float)
    phase = ((t - first) % period) / period
    ys = 120 - 100 * 4 * phase * (1 - phase)
    truth = np.arange(first, n - 1, period)
    found = [e.time * 30 for e in detect_events(_track_features(ys)) if e.kind == "impact"]
    assert len(found) == len(truth)
    assert max(abs(f - t) for f, t in zip(found, truth, strict=True)) < 0.1


def test_concurrent_analyses_leave_opencv_threads_as_they_were(balls):
    """Analysis runs OpenCV single-threaded (a process-wide setting): however analyses overlap,
    the setting is restored when the last one ends."""
    import threading

    import cv2

    before = cv2.getNumThreads()
    cv2.setNumThreads(3)
    try:
        paths = [balls["320x240@30"].path, balls["480x270@24"].path]
        results: dict[int, int] = {}
        threads = [threading.Thread(target=lambda k=k: results.update({k: analyze(paths[k]).frames}))
                   for k in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert results == {0: 90, 1: 80}
        assert cv2.getNumThreads() == 3
    finally:
        cv2.setNumThreads(before)
