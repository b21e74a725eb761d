"""`studio foley` starts its analysis before it checks the rest of the command (the decoder uses the
core the checks and imports leave idle): its outcome is the plain analysis's, it reports to the job
once the job starts, stops on the job's cancel, and a command that stops first stops it too."""

from __future__ import annotations

import threading

import pytest

from studio.cli.foley_cmd import _EarlyAnalysis
from studio.jobs import JobContext
from studio.media.synth_scenes import write_bouncing_ball
from tests.cli.helpers import assert_bad_input, run


@pytest.fixture(scope="module")
def ball(tmp_path_factory):
    return write_bouncing_ball(tmp_path_factory.mktemp("early") / "ball.mp4", width=320, height=180, frames=80)


def _analyses() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "foley-analysis"]


def test_early_analysis_finds_the_impacts_and_reports_to_the_job(ball):
    seen: list[int] = []
    early = _EarlyAnalysis(str(ball.path))
    early.attach(JobContext(), seen.append, ball.frames)
    events, fps, duration = early.result()
    assert [round(e.time * float(fps)) for e in events if e.kind == "impact"] == list(ball.impact_frames)
    assert duration == pytest.approx(ball.frames / float(fps))
    assert seen and seen == sorted(seen) and seen[-1] == ball.frames  # frames measured since the job attached


def test_early_analysis_stops_on_the_jobs_cancel(ball):
    ctx = JobContext()
    ctx.cancel()
    early = _EarlyAnalysis(str(ball.path))
    early.attach(ctx, lambda n: None, ball.frames)
    with pytest.raises(InterruptedError):
        early.result()


def test_a_command_that_stops_before_its_job_stops_the_analysis(tmp_path, capsys, ball):
    out = tmp_path / "o.mp4"
    code, _, err = run(capsys, "foley", ball.path, "-o", out, "--backend", "nope")
    assert_bad_input(code, err, "unknown foley backend 'nope'")
    assert not _analyses() and not out.exists()
    code, _, err = run(capsys, "foley", ball.path, "--into", tmp_path / "missing.shotline")
    assert code == 2 and err.count("\n") == 1, err
    assert not _analyses()
