"""The caller's view of a submitted job: state, result, progress, ETA, waiting, cancelling.

Observers connect to ``on_progress(fraction, message, eta)``, ``on_state(state)`` and
``on_log(line)``. They are plain callback lists rather than psygnal signals on purpose:
they fire from worker threads, and psygnal holds a lock while it runs the slots and
raises an EmitLoopError into the emitter when a slot fails. Here no lock is held while a
callback runs, a failing callback is logged and never reaches the job, and each handle
delivers its events one at a time in the order they happened (if two threads report on
the same job at once, the one already delivering also delivers the other's event).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .errors import JobCancelled, JobError, JobFailed, JobTimedOut
from .job import Job, JobState

if TYPE_CHECKING:
    from .scheduler import Scheduler

log = logging.getLogger(__name__)


class Callbacks:
    """A thread-safe list of callbacks: ``connect(fn)``, ``disconnect(fn)``, ``emit(*args)``."""

    def __init__(self, name: str = "") -> None:
        self.name = name
        self._lock = threading.Lock()
        self._slots: tuple[Callable[..., Any], ...] = ()

    def connect(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        with self._lock:
            self._slots = (*self._slots, fn)
        return fn

    def disconnect(self, fn: Callable[..., Any]) -> None:
        with self._lock:
            slots = list(self._slots)
            if fn in slots:
                slots.remove(fn)
            self._slots = tuple(slots)

    def __len__(self) -> int:
        return len(self._slots)

    def emit(self, *args: Any) -> None:
        for fn in self._slots:  # a snapshot: connecting during an emit affects the next one
            try:
                fn(*args)
            except Exception:
                log.exception("job callback %s failed (%r)", self.name, fn)


class EtaEstimator:
    """Seconds left from the recent progress rate (a sliding window, so a slow model load
    at the start stops skewing the estimate once the steps are running)."""

    def __init__(self, window: float = 30.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.window = window
        self.clock = clock
        self._samples: deque[tuple[float, float]] = deque()

    def start(self, fraction: float = 0.0) -> None:
        self._samples.clear()
        self._samples.append((self.clock(), fraction))

    def update(self, fraction: float) -> float | None:
        now = self.clock()
        if self._samples and fraction < self._samples[-1][1]:
            self._samples.clear()  # progress went back (a new phase): start over
        self._samples.append((now, fraction))
        while len(self._samples) > 2 and now - self._samples[1][0] >= self.window:
            self._samples.popleft()
        if fraction >= 1.0:
            return 0.0
        t0, f0 = self._samples[0]
        if now - t0 <= 0 or fraction - f0 <= 1e-6:
            return None
        return (1.0 - fraction) * (now - t0) / (fraction - f0)


class JobHandle:
    """One run of a Job in a Scheduler. Attributes are safe to read from any thread."""

    def __init__(self, job: Job, job_id: str, scheduler: Scheduler, dependencies: tuple[JobHandle, ...] = ()) -> None:
        self.job = job
        self.id = job_id
        self.name = job.label
        self.dependencies = dependencies
        self._scheduler = scheduler
        self._state = JobState.QUEUED
        self.result: Any = None
        #: The reason a job did not finish (failure, cancel or timeout message); None while all is well.
        self.error: str | None = None
        self.exception: BaseException | None = None
        self.traceback: str = ""
        self.progress = 0.0
        self.message = ""
        self.eta: float | None = None
        self.log_lines: deque[str] = deque(maxlen=500)
        self.submitted_at = time.monotonic()
        self.started_at: float | None = None
        self.finished_at: float | None = None
        self.on_progress = Callbacks("on_progress")
        self.on_state = Callbacks("on_state")
        self.on_log = Callbacks("on_log")
        self._eta = EtaEstimator()
        self._finished = threading.Event()  # the outcome is decided (state is terminal)
        self._stopped = threading.Event()  # the function returned (or never started): its slots are free
        self._q_lock = threading.Lock()
        self._events: deque[tuple[str, tuple[Any, ...]]] = deque()
        self._draining = False
        self._ended_delivered = False

    def __repr__(self) -> str:
        return f"<JobHandle {self.id} {self.name!r} {self._state.value}>"

    # --- reading --------------------------------------------------------------------------
    @property
    def state(self) -> JobState:
        return self._state

    @property
    def done(self) -> bool:
        """True once the outcome is decided (done, failed, cancelled or timed out)."""
        return self._state.terminal

    @property
    def stopped(self) -> bool:
        """True once the job function has returned (or will never run)."""
        return self._stopped.is_set()

    @property
    def elapsed(self) -> float:
        if self.started_at is None:
            return 0.0
        return (self.finished_at or time.monotonic()) - self.started_at

    # --- waiting and cancelling ---------------------------------------------------------
    def wait(self, timeout: float | None = None) -> bool:
        """Block until the outcome is decided; False if ``timeout`` passed first."""
        return self._finished.wait(timeout)

    def join(self, timeout: float | None = None) -> bool:
        """Block until the job function has really returned (a cancelled job that has not yet
        noticed keeps running, and keeps its slots, until it does); False on timeout."""
        return self._stopped.wait(timeout)

    def cancel(self, message: str = "cancelled") -> bool:
        """Cancel a queued job (it never starts) or ask a running one to stop. The state becomes
        CANCELLED at once and any result the function still returns is discarded. Returns
        False if the job had already ended."""
        return self._scheduler.cancel(self, message)

    def get(self, timeout: float | None = None) -> Any:
        """The result, waiting for it; raises JobFailed / JobCancelled / JobTimedOut otherwise."""
        if not self.wait(timeout):
            raise TimeoutError(f"job {self.name!r} is still {self._state.value} after {timeout} s")
        if self._state is JobState.DONE:
            return self.result
        raise self.error_for_outcome()

    def error_for_outcome(self) -> JobError:
        kind = {JobState.FAILED: JobFailed, JobState.TIMED_OUT: JobTimedOut}.get(self._state, JobCancelled)
        message = self.error or self._state.value
        err = kind(f"{self.name}: {message}", job_name=self.name, state=self._state.value, traceback=self.traceback)
        if self.exception is not None:
            err.__cause__ = self.exception
        return err

    # --- reporting (scheduler and worker side) --------------------------------------------
    def _report_progress(self, fraction: float, message: str) -> None:
        if self._state is not JobState.RUNNING:
            return  # a cancelled job that keeps going reports to no one
        self.progress = fraction
        if message:
            self.message = message
        self.eta = self._eta.update(fraction)
        self._post("progress", (fraction, self.message, self.eta))

    def _report_log(self, line: str) -> None:
        self.log_lines.append(line)
        log.debug("[%s %s] %s", self.id, self.name, line)
        self._post("log", (line,))

    def _post(self, kind: str, args: tuple[Any, ...]) -> None:
        self._queue_event(kind, args)
        self._drain()

    def _queue_event(self, kind: str, args: tuple[Any, ...]) -> None:
        """Record an event (the scheduler does so under its lock, so the order of state
        events is the order of the transitions); ``_drain`` delivers it."""
        with self._q_lock:
            if kind == "progress" and self._events and self._events[-1][0] == "progress":
                self._events[-1] = (kind, args)  # only the latest progress matters
            else:
                self._events.append((kind, args))

    def _drain(self) -> None:
        with self._q_lock:
            if self._draining:
                return  # the thread already delivering will deliver ours too
            self._draining = True
        try:
            while True:
                with self._q_lock:
                    if not self._events:
                        self._draining = False
                        return
                    kind, args = self._events.popleft()
                if kind == "state" and args[0].terminal:
                    self._ended_delivered = True
                elif kind == "progress" and self._ended_delivered:
                    continue  # a late report from a job that was cancelled meanwhile
                self._fire(kind, args)
        except BaseException:
            with self._q_lock:
                self._draining = False
            raise

    def _fire(self, kind: str, args: tuple[Any, ...]) -> None:
        sched = self._scheduler
        if kind == "progress":
            self.on_progress.emit(*args)
            sched.on_progress.emit(self, *args)
        elif kind == "state":
            self.on_state.emit(*args)
            sched.on_state.emit(self, *args)
        elif kind == "log":
            self.on_log.emit(*args)
            sched.on_log.emit(self, *args)
