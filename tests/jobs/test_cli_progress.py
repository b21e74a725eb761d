"""The CLI side of jobs: studio.cli.progress.run_with_progress (bar, plain lines, Ctrl-C, failure)."""

from __future__ import annotations

import _thread
import io
import threading
import time

import pytest

from studio.cli.progress import ProgressBar, format_eta, run_with_progress
from studio.core.errors import StudioError
from studio.jobs import Job, JobFailed, JobState, Scheduler


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def stepping(ctx, steps=10, pause=0.03):
    for i in range(1, steps + 1):
        ctx.check()
        ctx.sleep(pause)
        ctx.progress(i / steps, f"frame {i}/{steps}")
    return "out.mp4"


def test_plain_lines_when_not_a_terminal():
    out = io.StringIO()
    assert run_with_progress(None, Job(stepping, name="render"), stream=out) == "out.mp4"
    text = out.getvalue()
    assert "\r" not in text and "\x1b" not in text
    lines = text.splitlines()
    assert any(line.startswith("render: ") and "%" in line and "ETA" in line for line in lines)
    assert lines[-1].startswith("render: done in")
    assert len(lines) <= 13  # occasional lines, not one per redraw


def test_bar_redraws_in_place_on_a_terminal():
    out = FakeTTY()
    with Scheduler(cpu_slots=1) as sched:
        assert run_with_progress(sched, Job(stepping, name="export"), stream=out) == "out.mp4"
    text = out.getvalue()
    assert "\rexport [" in text and "%" in text and "ETA" in text and "frame" in text
    assert text.endswith("export: done in " + text.rsplit("done in ", 1)[1])


def test_bar_fits_the_terminal_width():
    out = FakeTTY()
    bar = ProgressBar("generate", out, width=60)
    bar.update(0.5, "denoising step 25 of 50 with a very long message that cannot fit", 75)
    line = out.getvalue().split("\r")[-1].replace("\x1b[K", "")
    assert len(line) <= 59 and " 50%" in line and "ETA 1:15" in line
    assert format_eta(None) == "--:--" and format_eta(3725) == "1:02:05"


def test_failure_raises_a_clear_error_with_the_job_message():
    def broken(ctx):
        ctx.progress(0.3, "decoding")
        raise OSError("cannot read clip.mov: no such file")

    out = io.StringIO()
    with pytest.raises(JobFailed, match="render: cannot read clip.mov: no such file") as info:
        run_with_progress(None, Job(broken, name="render"), stream=out)
    assert isinstance(info.value, StudioError) and "OSError" in info.value.traceback
    assert "render: failed: cannot read clip.mov" in out.getvalue()


def test_ctrl_c_cancels_the_job_waits_for_it_then_reraises():
    stopped = threading.Event()
    seen_cancel = []

    def long_job(ctx):
        ctx.progress(0.1, "working")
        _thread.interrupt_main()  # as if the user pressed Ctrl-C now
        try:
            while not ctx.cancelled:
                ctx.cancel_event.wait(0.01)
            seen_cancel.append(True)
            time.sleep(0.1)  # tidying up takes a moment; run_with_progress must wait for it
        finally:
            stopped.set()

    with Scheduler(cpu_slots=1) as sched:
        out = io.StringIO()
        with pytest.raises(KeyboardInterrupt):
            run_with_progress(sched, Job(long_job, name="generate"), stream=out)
        assert stopped.is_set() and seen_cancel == [True]
        assert "interrupted" in out.getvalue()
        # the scheduler is still usable afterwards
        assert run_with_progress(sched, Job(lambda ctx: 5, name="next"), stream=io.StringIO()) == 5
        assert sched.active() == []


def test_ctrl_c_from_a_patched_wait(monkeypatch):
    from studio.jobs.handle import JobHandle

    real_wait = JobHandle.wait
    calls = []

    def interrupted_wait(self, timeout=None):
        calls.append(timeout)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real_wait(self, timeout)

    monkeypatch.setattr(JobHandle, "wait", interrupted_wait)
    handles = []

    def job(ctx):
        while True:
            ctx.sleep(0.01)

    with Scheduler(cpu_slots=1) as sched:
        sched.on_state.connect(lambda h, st: handles.append(h))
        with pytest.raises(KeyboardInterrupt):
            run_with_progress(sched, Job(job, name="loop"), stream=io.StringIO())
        handle = handles[0]
        assert handle.state is JobState.CANCELLED and handle.stopped
