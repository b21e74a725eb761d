"""Runs jobs on worker threads within resource slots (DESIGN.md fixed point 6).

- Slots: ``gpu_slots`` (1 by default: one model on the accelerator at a time) and
  ``cpu_slots`` (``os.cpu_count()`` by default). A job runs once its slots are free and
  its dependencies are done; among runnable jobs, INTERACTIVE ones start before BATCH
  ones, then first come first served. A job that cannot get its slots does not hold up
  smaller jobs behind it.
- Cancelling a queued job means it never starts. Cancelling a running job sets its
  context's cancel event (cooperative: the job notices at its next ``check()``); the state
  is CANCELLED at once and whatever the function still returns is discarded. Its slots
  stay taken until the function really returns (``handle.join``), because the work it is
  doing (GPU memory, threads) is only over then.
- Timeouts count from the start of the run. One watchdog thread sleeps until the
  nearest deadline, then cancels the context and marks the job TIMED_OUT.
- Nothing busy-waits: idle workers and the watchdog sleep on one Condition.

Worker threads are plain Python threads started on demand (up to ``max_workers``), daemon
threads so a job that ignores cancellation cannot keep the process alive; ``shutdown``
cancels, then joins them. Callbacks (``on_progress(handle, fraction, message, eta)``,
``on_state(handle, state)``, ``on_log(handle, line)``) fire from worker threads (see
``handle.py``); the Qt adapter marshals them onto the UI thread.
"""

from __future__ import annotations

import itertools
import logging
import os
import threading
import time
import traceback
import weakref
from typing import Any

from .context import Cancelled, JobContext
from .handle import Callbacks, JobHandle
from .job import Job, JobState

log = logging.getLogger(__name__)

_scheduler_ids = itertools.count(1)


class Scheduler:
    def __init__(self, *, gpu_slots: int = 1, cpu_slots: int | None = None, max_workers: int | None = None,
                 name: str = "") -> None:
        self.gpu_slots = gpu_slots
        self.cpu_slots = cpu_slots if cpu_slots is not None else (os.cpu_count() or 1)
        if self.gpu_slots < 0 or self.cpu_slots < 1:
            raise ValueError(f"need gpu_slots >= 0 and cpu_slots >= 1 (got {gpu_slots}, {cpu_slots})")
        self.max_workers = max_workers or (self.cpu_slots + self.gpu_slots)
        self.name = name or f"jobs{next(_scheduler_ids)}"
        self.on_progress = Callbacks("scheduler.on_progress")
        self.on_state = Callbacks("scheduler.on_state")
        self.on_log = Callbacks("scheduler.on_log")
        self._cond = threading.Condition()
        self._gpu_free = self.gpu_slots
        self._cpu_free = self.cpu_slots
        self._queue: list[JobHandle] = []  # queued, in (priority, submission) order
        self._running: dict[JobHandle, JobContext] = {}
        self._dependents: dict[JobHandle, list[JobHandle]] = {}
        self._latest: weakref.WeakKeyDictionary[Job, JobHandle] = weakref.WeakKeyDictionary()
        self._seq = itertools.count(1)
        self._threads: list[threading.Thread] = []
        self._idle = 0
        self._watchdog: threading.Thread | None = None
        self._closing = False

    def __enter__(self) -> Scheduler:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown(cancel=True)

    # --- submitting -----------------------------------------------------------------------
    def submit(self, job: Job) -> JobHandle:
        """Queue ``job`` and return its handle. A dependency given as a Job that was never
        submitted here is submitted first; one that was maps to its latest handle."""
        deps: list[JobHandle] = []
        for dep in job.depends_on:
            if isinstance(dep, JobHandle):
                if dep._scheduler is not self:
                    raise ValueError(f"job {job.label!r} depends on {dep.name!r} from another scheduler")
                deps.append(dep)
            elif isinstance(dep, Job):
                with self._cond:
                    known = self._latest.get(dep)
                deps.append(known if known is not None else self.submit(dep))
            else:
                raise TypeError(f"job {job.label!r}: a dependency must be a Job or JobHandle, not {type(dep).__name__}")
        if job.gpu > self.gpu_slots or job.cpu > self.cpu_slots:
            raise ValueError(f"job {job.label!r} needs gpu={job.gpu}, cpu={job.cpu} but the scheduler has "
                             f"{self.gpu_slots} GPU and {self.cpu_slots} CPU slots")
        with self._cond:
            if self._closing:
                raise RuntimeError(f"scheduler {self.name} is shut down; cannot run {job.label!r}")
            handle = JobHandle(job, f"{self.name}-{next(self._seq)}", self, tuple(deps))
            self._latest[job] = handle
            events: list[tuple[JobHandle, JobState]] = []
            blocker = next((d for d in deps if d.state.terminal and d.state is not JobState.DONE), None)
            if blocker is not None:
                self._end(handle, JobState.CANCELLED, _dependency_message(blocker), events)
            else:
                for d in deps:
                    if not d.state.terminal:
                        self._dependents.setdefault(d, []).append(handle)
                self._enqueue(handle)
                self._note(handle, JobState.QUEUED, events)
                self._maybe_start_worker()
                self._cond.notify_all()
        self._deliver(events)
        return handle

    def _enqueue(self, handle: JobHandle) -> None:
        key = int(handle.job.priority)
        index = len(self._queue)
        while index > 0 and int(self._queue[index - 1].job.priority) > key:
            index -= 1
        self._queue.insert(index, handle)

    def _maybe_start_worker(self) -> None:
        if len(self._queue) > self._idle and len(self._threads) < self.max_workers:
            t = threading.Thread(target=self._worker, name=f"{self.name}-worker-{len(self._threads) + 1}", daemon=True)
            self._threads.append(t)
            t.start()

    # --- cancelling -----------------------------------------------------------------------
    def cancel(self, handle: JobHandle, message: str = "cancelled") -> bool:
        events: list[tuple[JobHandle, JobState]] = []
        with self._cond:
            changed = self._cancel_locked(handle, JobState.CANCELLED, message, events)
        self._deliver(events)
        return changed

    def cancel_all(self, message: str = "cancelled") -> None:
        events: list[tuple[JobHandle, JobState]] = []
        with self._cond:
            for h in [*self._queue, *self._running]:
                self._cancel_locked(h, JobState.CANCELLED, message, events)
        self._deliver(events)

    def _cancel_locked(self, handle: JobHandle, state: JobState, message: str,
                       events: list[tuple[JobHandle, JobState]]) -> bool:
        if handle.state.terminal:
            return False
        if handle in self._running:
            self._running[handle].cancel()
        self._end(handle, state, message, events)
        return True

    # --- state changes (all under self._cond) --------------------------------------------
    def _end(self, handle: JobHandle, state: JobState, message: str | None,
             events: list[tuple[JobHandle, JobState]]) -> None:
        """Move ``handle`` to terminal ``state`` and cancel whatever waited for it to succeed."""
        work = [(handle, state, message)]
        while work:
            h, st, msg = work.pop(0)
            if h.state.terminal:
                continue
            was_queued = h.state is JobState.QUEUED
            if was_queued and h in self._queue:
                self._queue.remove(h)
            h._state = st
            h.error = msg if st is not JobState.DONE else None
            h.finished_at = time.monotonic()
            if was_queued:
                h._stopped.set()
            h._finished.set()
            self._note(h, st, events)
            for dependent in self._dependents.pop(h, []):
                if st is not JobState.DONE:
                    work.append((dependent, JobState.CANCELLED, _dependency_message(h)))
        self._cond.notify_all()

    def _pick(self) -> JobHandle | None:
        for h in self._queue:
            if h.job.gpu > self._gpu_free or h.job.cpu > self._cpu_free:
                continue
            if all(d.state is JobState.DONE for d in h.dependencies):
                return h
        return None

    # --- workers --------------------------------------------------------------------------
    def _worker(self) -> None:
        while True:
            events: list[tuple[JobHandle, JobState]] = []
            with self._cond:
                while True:
                    if self._closing and not self._queue:
                        return
                    handle = self._pick()
                    if handle is not None:
                        break
                    self._idle += 1
                    try:
                        self._cond.wait()
                    finally:
                        self._idle -= 1
                self._queue.remove(handle)
                self._gpu_free -= handle.job.gpu
                self._cpu_free -= handle.job.cpu
                ctx = self._make_context(handle)
                self._running[handle] = ctx
                handle._state = JobState.RUNNING
                handle.started_at = time.monotonic()
                handle._eta.start()
                self._note(handle, JobState.RUNNING, events)
                if ctx.deadline is not None:
                    self._ensure_watchdog()
                self._cond.notify_all()
            self._deliver(events)
            self._run(handle, ctx)

    def _make_context(self, handle: JobHandle) -> JobContext:
        job = handle.job
        return JobContext(
            on_progress=handle._report_progress,
            on_log=handle._report_log,
            job_id=handle.id,
            name=handle.name,
            deadline=None if job.timeout is None else time.monotonic() + job.timeout,
            dependencies=handle.dependencies,
        )

    def _run(self, handle: JobHandle, ctx: JobContext) -> None:
        result: Any = None
        outcome = JobState.DONE
        message: str | None = None
        exc: BaseException | None = None
        tb = ""
        try:
            result = handle.job.fn(ctx)
        except Cancelled as e:
            outcome, message = JobState.CANCELLED, str(e) or "cancelled"
        except BaseException as e:  # noqa: B036 - a job must never take its worker down
            outcome, exc, tb = JobState.FAILED, e, traceback.format_exc()
            _release_frames(e)
            message = str(e) or type(e).__name__
            if not isinstance(e, Exception):
                message = f"{type(e).__name__}: {message}"
        events: list[tuple[JobHandle, JobState]] = []
        with self._cond:
            self._running.pop(handle, None)
            self._gpu_free += handle.job.gpu
            self._cpu_free += handle.job.cpu
            if handle.state is JobState.RUNNING:
                if outcome is JobState.FAILED:
                    handle.exception, handle.traceback = exc, tb
                    log.warning("job %s %r failed: %s\n%s", handle.id, handle.name, message, tb)
                elif outcome is JobState.DONE:
                    handle.result = result
                    handle.progress = 1.0
                    handle.eta = 0.0
                self._end(handle, outcome, message, events)
            elif outcome is JobState.DONE:
                log.info("job %s %r returned after it was %s; result discarded", handle.id, handle.name,
                         handle.state.value)
            handle._stopped.set()
            self._cond.notify_all()
        del result, exc
        self._deliver(events)

    def _ensure_watchdog(self) -> None:
        if self._watchdog is None or not self._watchdog.is_alive():
            self._watchdog = threading.Thread(target=self._watch, name=f"{self.name}-watchdog", daemon=True)
            self._watchdog.start()

    def _watch(self) -> None:
        while True:
            events: list[tuple[JobHandle, JobState]] = []
            with self._cond:
                if self._closing and not self._running and not self._queue:
                    return
                now = time.monotonic()
                due = [(ctx.deadline, h) for h, ctx in self._running.items()
                       if ctx.deadline is not None and not h.state.terminal]
                for deadline, h in due:
                    if deadline <= now:
                        self._cancel_locked(h, JobState.TIMED_OUT, f"timed out after {h.job.timeout:g} s", events)
                if not events:
                    pending = [d for d, h in due if d > now]
                    if not pending and self._closing:
                        return
                    self._cond.wait(min(pending) - now if pending else None)
            self._deliver(events)

    @staticmethod
    def _note(handle: JobHandle, state: JobState, events: list[tuple[JobHandle, JobState]]) -> None:
        """Queue a state event on the handle (under the lock: events keep transition order)."""
        handle._queue_event("state", (state,))
        events.append((handle, state))

    @staticmethod
    def _deliver(events: list[tuple[JobHandle, JobState]]) -> None:
        """Run the observers of the noted events (outside the lock)."""
        for handle in dict.fromkeys(h for h, _ in events):
            handle._drain()

    # --- overview and shutdown ------------------------------------------------------------
    def active(self) -> list[JobHandle]:
        """Jobs queued or running, running first."""
        with self._cond:
            return [*self._running, *self._queue]

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until no job is queued or running (functions returned); False on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while self._queue or self._running:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._cond.wait(left)
        return True

    def shutdown(self, cancel: bool = True, timeout: float | None = 10.0) -> bool:
        """Stop accepting jobs; with ``cancel`` cancel everything queued or running, otherwise
        let the queue run out. Then join the worker threads. Returns True if every thread
        ended within ``timeout`` (a job that ignores cancellation can keep one alive; it is
        a daemon thread, so it cannot keep the process alive)."""
        events: list[tuple[JobHandle, JobState]] = []
        with self._cond:
            self._closing = True
            if cancel:
                for h in [*self._queue, *self._running]:
                    self._cancel_locked(h, JobState.CANCELLED, "cancelled: shutting down", events)
            workers = list(self._threads)
            self._cond.notify_all()
        self._deliver(events)
        deadline = None if timeout is None else time.monotonic() + timeout

        def left() -> float | None:
            return None if deadline is None else max(0.0, deadline - time.monotonic())

        for t in workers:
            t.join(left())
        with self._cond:
            watchdog = self._watchdog
            self._cond.notify_all()
        threads = [*workers, *([watchdog] if watchdog is not None else [])]
        if watchdog is not None:
            watchdog.join(left())
        alive = [t.name for t in threads if t.is_alive()]
        if alive:
            log.warning("scheduler %s: threads still running after shutdown: %s", self.name, ", ".join(alive))
        return not alive

    @property
    def closed(self) -> bool:
        return self._closing

    def threads(self) -> list[threading.Thread]:
        with self._cond:
            return [t for t in [*self._threads, self._watchdog] if t is not None and t.is_alive()]


def _dependency_message(dep: JobHandle) -> str:
    why = f" ({dep.error})" if dep.error and dep.error != dep.state.value else ""
    return f"cancelled: dependency {dep.name!r} {dep.state.value.replace('_', ' ')}{why}"


def _release_frames(exc: BaseException) -> None:
    """Drop the local variables of a failed job's frames (the formatted traceback is kept):
    a kept exception must not pin the tensors of a run that ran out of memory."""
    seen: set[int] = set()
    e: BaseException | None = exc
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        traceback.clear_frames(e.__traceback__)
        e = e.__cause__ or e.__context__
