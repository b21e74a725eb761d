"""The job pool: slots, priorities, cancellation, timeouts, dependencies, shutdown."""

from __future__ import annotations

import threading
import time

import pytest

from studio.jobs import (
    Cancelled,
    EtaEstimator,
    Job,
    JobCancelled,
    JobContext,
    JobFailed,
    JobState,
    JobTimedOut,
    Priority,
    Scheduler,
)

WAIT = 5.0  # generous upper bound for anything that should happen "at once"


@pytest.fixture
def sched():
    s = Scheduler(gpu_slots=1, cpu_slots=2)
    yield s
    assert s.shutdown(cancel=True, timeout=WAIT)
    assert s.threads() == []


def spin_until_cancelled(ctx: JobContext) -> str:
    while True:
        ctx.sleep(0.01)


# --- results, failures, observers ---------------------------------------------------------------
def test_result_progress_and_state_callbacks(sched):
    progress, states = [], []

    def work(ctx):
        for i in range(1, 5):
            ctx.progress(i / 4, f"step {i}")
        ctx.log("almost")
        return 42

    sched.on_state.connect(lambda h, st: states.append(st))
    handle = sched.submit(Job(work, name="work"))
    handle.on_progress.connect(lambda f, msg, eta: progress.append((f, msg)))
    assert handle.get(WAIT) == 42
    assert handle.state is JobState.DONE and handle.progress == 1.0 and handle.error is None
    assert handle.message == "step 4" and "almost" in handle.log_lines
    assert states[0] is JobState.QUEUED and states[-1] is JobState.DONE and JobState.RUNNING in states
    assert all(0 <= f <= 1 for f, _ in progress)


def test_failure_keeps_message_and_traceback(sched):
    def broken(ctx):
        raise ValueError("bad frame 12")

    handle = sched.submit(Job(broken, name="decode"))
    assert handle.wait(WAIT)
    assert handle.state is JobState.FAILED
    assert handle.error == "bad frame 12"
    assert "Traceback" in handle.traceback and "ValueError: bad frame 12" in handle.traceback
    assert "broken" in handle.traceback
    with pytest.raises(JobFailed, match="decode: bad frame 12") as info:
        handle.get()
    assert info.value.traceback == handle.traceback and isinstance(info.value.__cause__, ValueError)
    # the pool survives a failing job
    assert sched.submit(Job(lambda ctx: "ok")).get(WAIT) == "ok"


def test_failing_callback_never_reaches_the_job(sched, caplog):
    sched.on_progress.connect(lambda *a: 1 / 0)
    handle = sched.submit(Job(lambda ctx: (ctx.progress(0.5, "half"), "fine")[1]))
    assert handle.get(WAIT) == "fine"


def test_wait_timeout_and_get_timeout(sched):
    gate = threading.Event()
    handle = sched.submit(Job(lambda ctx: gate.wait(WAIT)))
    assert not handle.wait(0.05)
    with pytest.raises(TimeoutError):
        handle.get(0.01)
    gate.set()
    assert handle.get(WAIT) is True


# --- cancellation --------------------------------------------------------------------------------
def test_cancel_queued_job_never_starts():
    with Scheduler(cpu_slots=1) as sched:
        gate, started = threading.Event(), []
        blocker = sched.submit(Job(lambda ctx: gate.wait(WAIT)))
        queued = sched.submit(Job(lambda ctx: started.append(1), name="later"))
        assert queued.state is JobState.QUEUED
        assert queued.cancel()
        assert queued.state is JobState.CANCELLED and queued.stopped
        gate.set()
        assert blocker.get(WAIT) is True
        assert sched.wait_idle(WAIT)
        assert started == []
        with pytest.raises(JobCancelled):
            queued.get(0)
        assert not queued.cancel()  # already over


def test_cancel_running_job_cooperatively(sched):
    running, stopped = threading.Event(), threading.Event()

    def work(ctx):
        running.set()
        try:
            while True:
                ctx.sleep(0.01)
        finally:
            stopped.set()

    handle = sched.submit(Job(work, name="render"))
    assert running.wait(WAIT)
    assert handle.cancel("user pressed stop")
    assert handle.state is JobState.CANCELLED and handle.error == "user pressed stop"
    assert handle.join(WAIT) and stopped.is_set()


def test_cancelled_job_that_ignores_cancel_has_its_result_discarded(sched):
    running, release = threading.Event(), threading.Event()

    def stubborn(ctx):
        running.set()
        release.wait(WAIT)
        ctx.progress(0.9, "still going")
        return "late result"

    handle = sched.submit(Job(stubborn, gpu=1))
    assert running.wait(WAIT)
    handle.cancel()
    assert handle.wait(0) and handle.state is JobState.CANCELLED
    assert not handle.stopped  # it keeps its GPU slot until it really returns
    follower = sched.submit(Job(lambda ctx: "next", gpu=1))
    assert not follower.wait(0.1)
    release.set()
    assert handle.join(WAIT)
    assert handle.result is None and handle.state is JobState.CANCELLED and handle.progress < 0.9
    assert follower.get(WAIT) == "next"


def test_job_raising_cancelled_itself_ends_cancelled(sched):
    def quits(ctx):
        raise Cancelled("nothing to do")

    handle = sched.submit(Job(quits))
    assert handle.wait(WAIT) and handle.state is JobState.CANCELLED and handle.error == "nothing to do"


# --- timeouts --------------------------------------------------------------------------------
def test_timeout_cancels_the_context(sched):
    seen = []

    def slow(ctx):
        try:
            spin_until_cancelled(ctx)
        finally:
            seen.append(ctx.cancelled)

    t0 = time.monotonic()
    handle = sched.submit(Job(slow, name="slow", timeout=0.2))
    assert handle.wait(WAIT)
    assert 0.15 <= time.monotonic() - t0 < 2.0
    assert handle.state is JobState.TIMED_OUT and "timed out after 0.2 s" in handle.error
    assert handle.join(WAIT) and seen == [True]
    with pytest.raises(JobTimedOut):
        handle.get()


def test_timeout_of_a_job_that_ignores_it(sched):
    release = threading.Event()
    handle = sched.submit(Job(lambda ctx: release.wait(WAIT) and "too late", timeout=0.1))
    assert handle.wait(WAIT) and handle.state is JobState.TIMED_OUT
    release.set()
    assert handle.join(WAIT) and handle.result is None


def test_job_finishing_before_its_timeout_is_done(sched):
    handles = [sched.submit(Job(lambda ctx: "quick", timeout=0.5)) for _ in range(3)]
    assert [h.get(WAIT) for h in handles] == ["quick"] * 3
    time.sleep(0.6)
    assert all(h.state is JobState.DONE for h in handles)


# --- slots and priority ----------------------------------------------------------------------
def test_gpu_slot_is_exclusive():
    intervals, lock = [], threading.Lock()

    def gen(ctx):
        start = time.monotonic()
        time.sleep(0.05)
        with lock:
            intervals.append((start, time.monotonic()))

    with Scheduler(gpu_slots=1, cpu_slots=4) as sched:
        handles = [sched.submit(Job(gen, gpu=1, cpu=0)) for _ in range(4)]
        for h in handles:
            h.get(WAIT)
    intervals.sort()
    assert len(intervals) == 4
    for (_, end), (start, _) in zip(intervals, intervals[1:], strict=False):
        assert start >= end, "two gpu:1 jobs overlapped"


def test_cpu_slots_run_in_parallel():
    barrier = threading.Barrier(3, timeout=WAIT)  # only passes if three jobs run at once
    with Scheduler(cpu_slots=3) as sched:
        handles = [sched.submit(Job(lambda ctx: barrier.wait())) for _ in range(3)]
        assert sorted(h.get(WAIT) for h in handles) == [0, 1, 2]


def test_cpu_slots_are_a_limit():
    active, peak, lock = [0], [0], threading.Lock()

    def work(ctx):
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        time.sleep(0.03)
        with lock:
            active[0] -= 1

    with Scheduler(cpu_slots=2) as sched:
        for h in [sched.submit(Job(work)) for _ in range(6)]:
            h.get(WAIT)
    assert peak[0] == 2


def test_interactive_jobs_start_before_queued_batch_jobs():
    order, gate = [], threading.Event()
    with Scheduler(cpu_slots=1) as sched:
        sched.submit(Job(lambda ctx: gate.wait(WAIT), name="blocker"))
        for name, prio in [("batch1", Priority.BATCH), ("batch2", Priority.BATCH),
                           ("thumb1", Priority.INTERACTIVE), ("thumb2", Priority.INTERACTIVE)]:
            sched.submit(Job(lambda ctx, n=name: order.append(n), name=name, priority=prio))
        gate.set()
        assert sched.wait_idle(WAIT)
    assert order == ["thumb1", "thumb2", "batch1", "batch2"]


def test_job_too_big_for_the_scheduler_is_refused(sched):
    with pytest.raises(ValueError, match="needs gpu=2"):
        sched.submit(Job(lambda ctx: None, gpu=2))


# --- dependencies ----------------------------------------------------------------------------
def test_dependencies_run_in_order_and_pass_results(sched):
    generate = Job(lambda ctx: "raw.mp4", name="generate", gpu=1)
    conform = Job(lambda ctx: ctx.result_of("generate").replace("raw", "4k60"), name="conform", depends_on=[generate])
    place = Job(lambda ctx: ("place", ctx.result_of(conform), ctx.inputs), name="place", depends_on=[conform])
    handle = sched.submit(place)  # submits the whole chain
    assert handle.get(WAIT) == ("place", "4k60.mp4", ("4k60.mp4",))
    # a submitted Job used as a dependency maps to its handle: it does not run again
    runs = []
    base = Job(lambda ctx: runs.append(1) or 7, name="base")
    h_base = sched.submit(base)
    h_next = sched.submit(Job(lambda ctx: ctx.result_of(h_base) + 1, depends_on=[base]))
    assert h_next.get(WAIT) == 8 and runs == [1]


def test_failed_dependency_cancels_dependents_with_a_message_naming_it(sched):
    def generate(ctx):
        raise RuntimeError("model weights missing")

    started = []
    g = sched.submit(Job(generate, name="generate"))
    c = sched.submit(Job(lambda ctx: started.append("conform"), name="conform", depends_on=[g]))
    p = sched.submit(Job(lambda ctx: started.append("place"), name="place", depends_on=[c]))
    assert p.wait(WAIT) and c.wait(WAIT)
    assert g.state is JobState.FAILED
    assert c.state is JobState.CANCELLED and "'generate' failed" in c.error and "model weights missing" in c.error
    assert p.state is JobState.CANCELLED and "'conform' cancelled" in p.error
    assert started == []
    # depending on a job that already failed cancels at once
    late = sched.submit(Job(lambda ctx: None, name="late", depends_on=[g]))
    assert late.state is JobState.CANCELLED and "generate" in late.error


def test_cancelling_a_dependency_cancels_the_chain(sched):
    gate = threading.Event()
    g = sched.submit(Job(lambda ctx: gate.wait(WAIT), name="generate"))
    c = sched.submit(Job(lambda ctx: None, name="conform", depends_on=[g]))
    g.cancel()
    assert c.wait(WAIT) and c.state is JobState.CANCELLED and "'generate' cancelled" in c.error
    gate.set()


# --- shutdown --------------------------------------------------------------------------------
def test_shutdown_with_running_jobs_returns_promptly_and_leaves_no_thread():
    sched = Scheduler(gpu_slots=1, cpu_slots=2)
    running = [sched.submit(Job(spin_until_cancelled, name=f"r{i}")) for i in range(2)]
    queued = sched.submit(Job(spin_until_cancelled, name="queued"))
    timed = sched.submit(Job(spin_until_cancelled, name="gpu", gpu=1, cpu=0, timeout=60))
    deadline = time.monotonic() + WAIT
    while any(h.state is not JobState.RUNNING for h in [*running, timed]) and time.monotonic() < deadline:
        time.sleep(0.01)
    threads = sched.threads()
    assert threads
    t0 = time.monotonic()
    assert sched.shutdown(cancel=True, timeout=WAIT)
    assert time.monotonic() - t0 < 1.0
    assert all(h.state is JobState.CANCELLED for h in [*running, queued, timed])
    assert not any(t.is_alive() for t in threads) and sched.threads() == []
    with pytest.raises(RuntimeError, match="shut down"):
        sched.submit(Job(lambda ctx: None))


def test_shutdown_without_cancel_lets_the_queue_run_out():
    sched = Scheduler(cpu_slots=1)
    handles = [sched.submit(Job(lambda ctx, i=i: (time.sleep(0.01), i)[1])) for i in range(4)]
    assert sched.shutdown(cancel=False, timeout=WAIT)
    assert [h.result for h in handles] == [0, 1, 2, 3]


# --- context and ETA -------------------------------------------------------------------------
def test_context_works_without_a_scheduler():
    seen = []
    ctx = JobContext(on_progress=lambda f, m: seen.append((f, m)))
    ctx.progress(1.5, "over")
    assert seen == [(1.0, "over")] and ctx.remaining() is None
    ctx.cancel()
    with pytest.raises(Cancelled):
        ctx.sleep(10)
    with pytest.raises(KeyError, match="not a dependency"):
        ctx.result_of("nothing")


def test_eta_from_progress_rate():
    now = [100.0]
    eta = EtaEstimator(window=10.0, clock=lambda: now[0])
    eta.start()
    now[0] += 30.0  # a slow model load before the first step
    assert eta.update(0.0) is None
    fraction, value = 0.0, None
    for _ in range(15):  # then 0.05 per second; the window slides past the load
        now[0] += 1.0
        fraction += 0.05
        value = eta.update(fraction)
    assert value == pytest.approx((1 - 0.75) / 0.05, rel=0.01)
    assert eta.update(1.0) == 0.0


def test_observers_see_states_in_transition_order_when_cancels_race_starts():
    seen: dict[str, list[JobState]] = {}
    lock = threading.Lock()

    def record(handle, state):
        with lock:
            seen.setdefault(handle.id, []).append(state)

    with Scheduler(cpu_slots=2) as sched:
        sched.on_state.connect(record)
        handles = []
        for i in range(60):
            h = sched.submit(Job(lambda ctx: ctx.sleep(0.002), name=f"j{i}"))
            if i % 2:
                h.cancel()
            handles.append(h)
        assert sched.wait_idle(WAIT)
        for h in handles:
            assert h.wait(WAIT)
    for h in handles:
        states = seen[h.id]
        assert states[0] is JobState.QUEUED and states[-1] is h.state
        assert sum(s.terminal for s in states) == 1 and states.count(JobState.RUNNING) <= 1


def test_a_progress_span_maps_a_step_into_its_share_and_keeps_the_context():
    from studio.jobs import Cancelled, JobContext, ProgressSpan

    seen: list[tuple[float, str]] = []
    ctx = JobContext(on_progress=lambda f, m: seen.append((round(f, 6), m)))
    span = ProgressSpan(ctx, 0.2, 0.6, "conforming: ")
    span.progress(0.5, "frame 5")
    span.progress(2.0)  # clamped to the end of the span
    assert seen == [(0.4, "conforming: frame 5"), (0.6, "conforming: ")]
    ctx.cancel()
    assert span.cancelled
    with pytest.raises(Cancelled):
        span.check()
