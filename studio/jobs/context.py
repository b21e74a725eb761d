"""What a job sees of the world (DESIGN.md fixed point 6): progress, cancellation, a log.

Qt-free: the editor adapts it to signals, the CLI to a progress bar, tests to lists.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field


class Cancelled(Exception):
    """Raised inside a job when it notices it was cancelled; the runner treats it as a clean stop."""


@dataclass
class JobContext:
    """Handed to every job function. ``progress(fraction, message)``; ``cancelled`` to poll."""

    on_progress: Callable[[float, str], None] | None = None
    on_log: Callable[[str], None] | None = None
    cancel_event: threading.Event = field(default_factory=threading.Event)

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
