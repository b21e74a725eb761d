"""What a job sees of the world (DESIGN.md fixed point 6): progress, cancellation, a log.

Qt-free: the editor adapts it to signals, the CLI to a progress bar, tests to lists.
A context can be built by hand (``JobContext(on_progress=...)``) to run a job function
inline; the scheduler builds one per run and also fills in the job's id, name, deadline
and the handles of the jobs it depends on, whose results ``result_of`` reads.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any


class Cancelled(Exception):
    """Raised inside a job when it notices it was cancelled; the runner treats it as a clean stop."""


@dataclass
class JobContext:
    """Handed to every job function. ``progress(fraction, message)``; ``cancelled`` to poll.

    ``dependencies`` holds the handles (anything with ``name``, ``job`` and ``result``) of
    the jobs this one waited for, in the order they were declared.
    """

    on_progress: Callable[[float, str], None] | None = None
    on_log: Callable[[str], None] | None = None
    cancel_event: threading.Event = field(default_factory=threading.Event)
    job_id: str = ""
    name: str = ""
    #: ``time.monotonic()`` value at which the job times out (None: no timeout).
    deadline: float | None = None
    dependencies: Sequence[Any] = ()

    def progress(self, fraction: float, message: str = "") -> None:
        if self.on_progress is not None:
            self.on_progress(min(1.0, max(0.0, fraction)), message)

    def log(self, message: str) -> None:
        if self.on_log is not None:
            self.on_log(message)

    @property
    def cancelled(self) -> bool:
        return self.cancel_event.is_set()

    def cancel(self) -> None:
        self.cancel_event.set()

    def check(self) -> None:
        """Raise Cancelled if the job was cancelled (call it once per frame or step)."""
        if self.cancel_event.is_set():
            raise Cancelled()

    def sleep(self, seconds: float) -> None:
        """Wait up to ``seconds``, waking at once (with Cancelled) if the job is cancelled."""
        if self.cancel_event.wait(max(0.0, seconds)):
            raise Cancelled()

    def remaining(self) -> float | None:
        """Seconds left before the timeout (None when the job has none)."""
        return None if self.deadline is None else max(0.0, self.deadline - time.monotonic())

    # --- dependencies ---------------------------------------------------------------------
    @property
    def inputs(self) -> tuple[Any, ...]:
        """The results of the dependencies, in declaration order."""
        return tuple(dep.result for dep in self.dependencies)

    def result_of(self, which: Any) -> Any:
        """The result of one dependency, named by job name, Job, or handle."""
        for dep in self.dependencies:
            if dep is which or getattr(dep, "job", None) is which or getattr(dep, "name", None) == which:
                return dep.result
        known = ", ".join(repr(getattr(d, "name", d)) for d in self.dependencies) or "none"
        raise KeyError(f"{which!r} is not a dependency of this job (dependencies: {known})")


class ProgressSpan:
    """A job context seen through the sub-range ``start .. end`` of its progress: one step of a bigger
    job (a model's denoising steps inside generate -> encode -> conform) reports 0..1 as if it were the
    whole job. Everything else (check, cancelled, log...) is the context's own."""

    def __init__(self, ctx: Any, start: float, end: float, prefix: str = "") -> None:
        self._ctx, self._start, self._end, self._prefix = ctx, float(start), float(end), prefix

    def progress(self, fraction: float, message: str = "") -> None:
        f = min(1.0, max(0.0, float(fraction)))
        self._ctx.progress(self._start + (self._end - self._start) * f, self._prefix + message)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ctx, name)
