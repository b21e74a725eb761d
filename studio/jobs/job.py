"""A job: a function of a JobContext plus what it needs to run (DESIGN.md fixed point 6)."""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .context import JobContext


class JobState(enum.Enum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"
    TIMED_OUT = "timed_out"

    @property
    def terminal(self) -> bool:
        return self not in (JobState.QUEUED, JobState.RUNNING)


class Priority(enum.IntEnum):
    """Lower runs first: what the user is waiting for now before queued batch work."""

    INTERACTIVE = 0
    BATCH = 1


@dataclass(eq=False)
class Job:
    """``fn(context) -> result`` with a name, resource needs, priority, timeout and dependencies.

    ``gpu`` and ``cpu`` are slot counts (a GPU job usually also drives one CPU thread: keep
    ``cpu=1`` or set it to 0 for a job that mostly waits on the device). ``timeout`` counts
    seconds from the moment the job starts running. ``depends_on`` lists Jobs or JobHandles:
    the job starts once all of them are done and reads their results through
    ``context.result_of(...)`` / ``context.inputs``; if one of them fails, is cancelled or
    times out, this job is cancelled with a message naming it. Jobs compare by identity.
    """

    fn: Callable[[JobContext], Any]
    name: str = ""
    gpu: int = 0
    cpu: int = 1
    priority: Priority = Priority.BATCH
    timeout: float | None = None
    depends_on: Sequence[Any] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if not callable(self.fn):
            raise TypeError(f"job function must be callable, not {type(self.fn).__name__}")
        if self.gpu < 0 or self.cpu < 0:
            raise ValueError(f"job {self.label!r}: resource counts cannot be negative (gpu={self.gpu}, cpu={self.cpu})")
        if self.timeout is not None and self.timeout <= 0:
            raise ValueError(f"job {self.label!r}: timeout must be positive, not {self.timeout}")
        self.priority = Priority(self.priority)
        self.depends_on = tuple(self.depends_on)

    @property
    def label(self) -> str:
        return self.name or getattr(self.fn, "__name__", "job")
