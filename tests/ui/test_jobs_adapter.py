"""The Qt adapter of the job pool: signals arrive on the UI thread; results land as commands."""

from __future__ import annotations

import threading
import time

import pytest
from PySide6.QtCore import QThread, QTimer
from PySide6.QtWidgets import QApplication

from studio.core.edits import RenameTrack
from studio.core.factory import new_project
from studio.core.history import History
from studio.jobs import Job, JobState, Scheduler
from studio.ui.jobs_adapter import JobsAdapter

WAIT_MS = 5000


@pytest.fixture
def adapter(qapp):
    a = JobsAdapter(Scheduler(gpu_slots=1, cpu_slots=2))
    yield a
    a.shutdown()
    assert a.scheduler.shutdown(cancel=True, timeout=5)
    assert a.scheduler.threads() == []


def on_ui_thread() -> bool:
    return QThread.currentThread() is QApplication.instance().thread()


def test_progress_and_finished_arrive_on_the_ui_thread(qtbot, adapter):
    gate = threading.Event()
    seen = []
    adapter.progress.connect(lambda job_id, f, msg, eta: seen.append(("progress", on_ui_thread(), f, msg)))
    adapter.state_changed.connect(lambda job_id, state: seen.append(("state", on_ui_thread(), state)))

    def work(ctx):
        ctx.progress(0.5, "half way")
        gate.wait(5)
        return "clip.mp4"

    with qtbot.waitSignal(adapter.progress, timeout=WAIT_MS) as progress:
        handle = adapter.submit(Job(work, name="generate"))
    assert progress.args[0] == handle.id and progress.args[1:3] == [0.5, "half way"]
    with qtbot.waitSignal(adapter.finished, timeout=WAIT_MS) as finished:
        gate.set()
    assert finished.args == [handle.id, "clip.mp4"]
    assert all(entry[1] for entry in seen), "a signal arrived off the UI thread"
    states = [entry[2] for entry in seen if entry[0] == "state"]
    assert states == ["queued", "running", "done"]


def test_failure_signal_carries_message_and_traceback(qtbot, adapter):
    threads = []
    adapter.failed.connect(lambda *a: threads.append(on_ui_thread()))

    def broken(ctx):
        raise RuntimeError("CUDA out of memory")

    with qtbot.waitSignal(adapter.failed, timeout=WAIT_MS) as failed:
        handle = adapter.submit(Job(broken, name="generate", gpu=1))
    job_id, message, tb = failed.args
    assert job_id == handle.id and message == "CUDA out of memory" and "RuntimeError" in tb
    assert threads == [True]


def test_cancel_and_timeout_signals(qtbot, adapter):
    def loop(ctx):
        while True:
            ctx.sleep(0.01)

    with qtbot.waitSignal(adapter.cancelled, timeout=WAIT_MS) as cancelled:
        handle = adapter.submit(Job(loop, name="export"))
        qtbot.waitUntil(lambda: handle.state is JobState.RUNNING, timeout=WAIT_MS)
        assert adapter.cancel(handle.id, "user pressed stop")
    assert cancelled.args == [handle.id, "user pressed stop"]
    with qtbot.waitSignal(adapter.cancelled, timeout=WAIT_MS) as timed_out:
        slow = adapter.submit(Job(loop, name="slow", timeout=0.1))
    assert timed_out.args[0] == slow.id and "timed out" in timed_out.args[1]


def test_result_applied_as_a_command_on_the_ui_thread(qtbot, adapter):
    history = History(new_project())
    track_id = history.project.sequence.tracks[0].id
    applied_on = []

    def make_command(result):
        applied_on.append(on_ui_thread())
        return RenameTrack(track_id, result)

    handle = adapter.submit(Job(lambda ctx: "Generated", name="generate"))
    adapter.apply_as_command(handle, history, make_command)
    qtbot.waitUntil(lambda: bool(applied_on), timeout=WAIT_MS)
    assert applied_on == [True]
    assert history.project.sequence.tracks[0].name == "Generated"
    history.undo()  # one undo removes the job's result
    assert history.project.sequence.tracks[0].name != "Generated"
    # registering after the job ended still runs the callback, once, on the UI thread
    late = []
    adapter.on_done(handle, lambda result: late.append((result, on_ui_thread())))
    qtbot.waitUntil(lambda: bool(late), timeout=WAIT_MS)
    assert late == [("Generated", True)]


def test_a_result_that_cannot_be_applied_is_reported(qtbot, adapter):
    handle = adapter.submit(Job(lambda ctx: "x"))
    with qtbot.waitSignal(adapter.failed, timeout=WAIT_MS) as failed:
        adapter.on_done(handle, lambda result: 1 / 0)
    assert "could not apply the result" in failed.args[1]


def test_ui_thread_never_blocks_and_progress_is_coalesced(qtbot, adapter):
    gate = threading.Event()
    received = []
    adapter.progress.connect(lambda job_id, f, msg, eta: received.append(f))

    def chatty(ctx):
        for i in range(1, 20001):
            ctx.progress(i / 20000, "frame")
        gate.wait(5)

    ticks = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start(5)
    t0 = time.perf_counter()
    handle = adapter.submit(Job(chatty, name="export", cpu=2))
    assert time.perf_counter() - t0 < 0.05  # submitting does not wait for the pool
    qtbot.waitUntil(lambda: bool(received) and received[-1] == 1.0, timeout=WAIT_MS)
    qtbot.wait(50)
    timer.stop()
    gate.set()
    assert handle.wait(5)
    assert len(received) < 20000 / 10  # coalesced: the UI did not get one event per frame
    assert received == sorted(received)
    assert len(ticks) >= 3


def test_owned_scheduler_is_shut_down_with_the_adapter(qtbot, qapp):
    adapter = JobsAdapter()

    def loop(ctx):
        while True:
            ctx.sleep(0.01)

    handle = adapter.submit(Job(loop))
    qtbot.waitUntil(lambda: handle.state is JobState.RUNNING, timeout=WAIT_MS)
    t0 = time.perf_counter()
    assert adapter.shutdown()
    assert time.perf_counter() - t0 < 1.0
    assert handle.state is JobState.CANCELLED and adapter.scheduler.threads() == []
