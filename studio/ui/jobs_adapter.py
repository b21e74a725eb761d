"""The editor's side of the job pool: scheduler events as Qt signals on the UI thread.

Threads: the workers stay the Scheduler's plain Python threads rather than QThreads.
The same Scheduler then runs jobs in the CLI and in tests with no Qt at all (fixed point
6), a job never needs an event loop of its own, and a QThread would not change how a
Python job shares the GIL. What matters is the UI side: worker-thread callbacks only
store the latest progress or post an event; two private signals, connected with
``Qt.QueuedConnection`` to slots of this object (which lives on the UI thread), carry
them across, and the public signals are emitted from those slots, on the UI thread.
Progress is coalesced per job (a job may report thousands of frames a second; the UI
gets at most one pending update per job). Nothing here waits on a worker, so the UI
thread never blocks (``shutdown`` at quit is the one bounded exception).

Results reach the project only on the UI thread: ``on_done(handle, callback)`` or
``apply_as_command(handle, history, make_command)`` (fixed point 2: a generated shot lands
as one undoable command).
"""

from __future__ import annotations

import logging
import threading
import traceback
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, Qt, QTimer, Signal

from studio.core.edits.base import Command
from studio.core.history import History
from studio.jobs import Job, JobHandle, JobState, Scheduler

log = logging.getLogger(__name__)

DoneCallback = Callable[[Any], None]
EndCallback = Callable[[JobHandle], None]


class JobsAdapter(QObject):
    """Owns (or wraps) a Scheduler and re-emits its events on the UI thread.

    Create it on the UI thread. ``progress(job_id, fraction, message, eta)`` where eta is
    seconds or None; ``finished(job_id, result)``; ``failed(job_id, message, traceback)``;
    ``cancelled(job_id, message)`` (cancelled or timed out); ``state_changed(job_id, state)``
    with a JobState value ("queued", "running", ...).
    """

    progress = Signal(str, float, str, object)
    finished = Signal(str, object)
    failed = Signal(str, str, str)
    cancelled = Signal(str, str)
    state_changed = Signal(str, str)

    _state_posted = Signal(object, object)
    _progress_posted = Signal()

    def __init__(self, scheduler: Scheduler | None = None, parent: QObject | None = None, *,
                 shutdown_timeout: float = 3.0) -> None:
        super().__init__(parent)
        self.scheduler = scheduler if scheduler is not None else Scheduler()
        self._owns_scheduler = scheduler is None
        self.shutdown_timeout = shutdown_timeout
        self._lock = threading.Lock()
        self._pending_progress: dict[JobHandle, tuple[float, str, float | None]] = {}
        self._handles: dict[str, JobHandle] = {}
        self._ended: OrderedDict[str, JobHandle] = OrderedDict()  # recently ended, for late on_done
        self._on_done: dict[str, list[DoneCallback]] = {}
        self._on_end: dict[str, list[EndCallback]] = {}
        self._state_posted.connect(self._deliver_state, Qt.ConnectionType.QueuedConnection)
        self._progress_posted.connect(self._deliver_progress, Qt.ConnectionType.QueuedConnection)
        self.scheduler.on_state.connect(self._state_from_worker)
        self.scheduler.on_progress.connect(self._progress_from_worker)
        self._shut = False
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)

    # --- the UI's API -------------------------------------------------------------------
    def submit(self, job: Job, *, on_done: DoneCallback | None = None,
               on_end: EndCallback | None = None) -> JobHandle:
        """Queue ``job``; ``on_done(result)`` / ``on_end(handle)`` run later on the UI thread."""
        handle = self.scheduler.submit(job)
        self._handles.setdefault(handle.id, handle)
        if on_done is not None:
            self.on_done(handle, on_done)
        if on_end is not None:
            self.on_end(handle, on_end)
        return handle

    def on_done(self, handle: JobHandle, callback: DoneCallback) -> None:
        """Call ``callback(result)`` on the UI thread once ``handle`` is done (never if it fails
        or is cancelled). Call from the UI thread; a job that already ended is handled too."""
        if handle.id in self._ended:
            if handle.state is JobState.DONE:
                QTimer.singleShot(0, self, lambda: self._call_done(handle, callback))
            return
        self._on_done.setdefault(handle.id, []).append(callback)

    def on_end(self, handle: JobHandle, callback: EndCallback) -> None:
        """Call ``callback(handle)`` on the UI thread once ``handle`` ended in any state."""
        if handle.id in self._ended:
            QTimer.singleShot(0, self, lambda: self._call_end(handle, callback))
            return
        self._on_end.setdefault(handle.id, []).append(callback)

    def apply_as_command(self, handle: JobHandle, history: History,
                         make_command: Callable[[Any], Command], *, merge: bool = False) -> None:
        """When ``handle`` is done, ``history.apply(make_command(result))`` on the UI thread: the
        job's result lands as one undoable command. A command that cannot be applied (the
        project changed meanwhile) is reported through ``failed``."""
        self.on_done(handle, lambda result: history.apply(make_command(result), merge=merge))

    def cancel(self, job: JobHandle | str, message: str = "cancelled") -> bool:
        handle = self._handles.get(job) if isinstance(job, str) else job
        return handle.cancel(message) if handle is not None else False

    def handle(self, job_id: str) -> JobHandle | None:
        return self._handles.get(job_id) or self._ended.get(job_id)

    def active(self) -> list[JobHandle]:
        return self.scheduler.active()

    def shutdown(self) -> bool:
        """Stop listening; cancel and join the owned scheduler's jobs (bounded wait)."""
        if self._shut:
            return True
        self._shut = True
        self.scheduler.on_state.disconnect(self._state_from_worker)
        self.scheduler.on_progress.disconnect(self._progress_from_worker)
        if self._owns_scheduler:
            return self.scheduler.shutdown(cancel=True, timeout=self.shutdown_timeout)
        return True

    # --- worker threads: store and post, nothing else -----------------------------------
    def _state_from_worker(self, handle: JobHandle, state: JobState) -> None:
        self._state_posted.emit(handle, state)

    def _progress_from_worker(self, handle: JobHandle, fraction: float, message: str, eta: float | None) -> None:
        with self._lock:
            first = not self._pending_progress
            self._pending_progress[handle] = (fraction, message, eta)
        if first:
            self._progress_posted.emit()

    # --- UI thread ----------------------------------------------------------------------
    def _deliver_progress(self) -> None:
        with self._lock:
            pending, self._pending_progress = self._pending_progress, {}
        for handle, (fraction, message, eta) in pending.items():
            if not handle.done:
                self.progress.emit(handle.id, fraction, message, eta)

    def _deliver_state(self, handle: JobHandle, state: JobState) -> None:
        self._handles.setdefault(handle.id, handle)
        self.state_changed.emit(handle.id, state.value)
        if not state.terminal:
            return
        self._handles.pop(handle.id, None)
        self._ended[handle.id] = handle
        while len(self._ended) > 256:
            self._ended.popitem(last=False)
        done_callbacks = self._on_done.pop(handle.id, [])
        end_callbacks = self._on_end.pop(handle.id, [])
        if state is JobState.DONE:
            self.finished.emit(handle.id, handle.result)
            for callback in done_callbacks:
                self._call_done(handle, callback)
        elif state is JobState.FAILED:
            self.failed.emit(handle.id, handle.error or "failed", handle.traceback)
        else:
            self.cancelled.emit(handle.id, handle.error or state.value)
        for end_callback in end_callbacks:
            self._call_end(handle, end_callback)

    def _call_done(self, handle: JobHandle, callback: DoneCallback) -> None:
        try:
            callback(handle.result)
        except Exception as e:
            log.warning("applying the result of job %s %r failed: %s", handle.id, handle.name, e)
            self.failed.emit(handle.id, f"{handle.name}: could not apply the result: {e}", traceback.format_exc())

    def _call_end(self, handle: JobHandle, callback: EndCallback) -> None:
        try:
            callback(handle)
        except Exception:
            log.exception("on_end callback of job %s %r failed", handle.id, handle.name)
