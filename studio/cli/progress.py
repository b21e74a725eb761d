"""Run a job from the command line with a progress bar (DESIGN.md fixed point 6).

The CLI runs the very same jobs as the editor. On a terminal the bar redraws in place
(percent, message, ETA); when stderr is a file or pipe it prints a plain line now and
then instead. Ctrl-C cancels the job, waits for it to stop, then re-raises
KeyboardInterrupt (``studio`` maps it to exit status 130); a second Ctrl-C stops waiting.
"""

from __future__ import annotations

import shutil
import sys
import time
from typing import Any, TextIO

from studio.jobs import Job, JobHandle, JobState, Scheduler

#: How often the bar redraws (seconds); also how soon a Ctrl-C is noticed.
REFRESH = 0.1
#: A plain (non-terminal) line at least every this many percent ...
PLAIN_STEP = 10
#: ... or when the message changed and this many seconds passed.
PLAIN_QUIET = 5.0


def format_eta(seconds: float | None) -> str:
    if seconds is None:
        return "--:--"
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class ProgressBar:
    """Draws one job's progress on ``stream``; ``tty`` decides bar or plain lines."""

    def __init__(self, label: str, stream: TextIO, *, tty: bool | None = None, width: int | None = None) -> None:
        self.label = label
        self.stream = stream
        self.tty = _isatty(stream) if tty is None else tty
        self.width = width
        self._drawn = False
        self._last_step = -1
        self._last_message = ""
        self._last_line_at = 0.0

    def update(self, fraction: float, message: str, eta: float | None) -> None:
        percent = int(fraction * 100)
        if self.tty:
            self._draw(fraction, message, eta)
            return
        step = percent // PLAIN_STEP
        now = time.monotonic()
        changed = message and message != self._last_message and now - self._last_line_at >= PLAIN_QUIET
        if step > self._last_step or changed:
            self._last_step, self._last_message, self._last_line_at = step, message, now
            tail = f" {message}" if message else ""
            self._write(f"{self.label}: {percent:3d}%{tail} (ETA {format_eta(eta)})\n")

    def _draw(self, fraction: float, message: str, eta: float | None) -> None:
        columns = self.width or shutil.get_terminal_size((80, 24)).columns
        bar_width = 24
        filled = int(round(fraction * bar_width))
        head = f"{self.label} [{'#' * filled}{'-' * (bar_width - filled)}] {int(fraction * 100):3d}%"
        tail = f"  ETA {format_eta(eta)}"
        room = columns - 1 - len(head) - len(tail) - 2
        text = message if len(message) <= room else message[: max(0, room - 1)] + "…"
        line = f"{head}  {text}{tail}" if room > 0 else f"{head}{tail}"[: columns - 1]
        self._write("\r" + line + "\x1b[K")
        self._drawn = True

    def finish(self, text: str) -> None:
        """End the bar with one closing line."""
        if self.tty and self._drawn:
            self._write("\r\x1b[K")
        self._write(f"{self.label}: {text}\n")
        self._drawn = False

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # a closed pipe must not take the job down
            pass


def run_with_progress(scheduler: Scheduler | None, job: Job, *, stream: TextIO | None = None,
                      label: str | None = None, stop_timeout: float = 30.0) -> Any:
    """Run ``job`` (on ``scheduler``, or on a private one shut down afterwards), drawing its
    progress on ``stream`` (stderr by default), and return its result.

    Raises the job's JobFailed / JobCancelled / JobTimedOut (a StudioError whose message is
    the job's) when it does not finish, and KeyboardInterrupt after Ctrl-C once the job
    has been cancelled and has stopped (or ``stop_timeout`` passed).
    """
    stream = sys.stderr if stream is None else stream
    own = scheduler is None
    sched = Scheduler() if scheduler is None else scheduler
    try:
        handle = sched.submit(job)
        bar = ProgressBar(label or handle.name, stream)
        try:
            while not handle.wait(REFRESH):
                if handle.state is JobState.RUNNING:
                    bar.update(handle.progress, handle.message, handle.eta)
        except KeyboardInterrupt:
            _stop(handle, bar, stop_timeout)
            raise
        if handle.state is JobState.DONE:
            bar.finish(f"done in {handle.elapsed:.1f} s")
        else:
            bar.finish(f"{handle.state.value.replace('_', ' ')}: {handle.error}")
        return handle.get(0)
    finally:
        if own:
            sched.shutdown(cancel=True, timeout=stop_timeout)


def _stop(handle: JobHandle, bar: ProgressBar, stop_timeout: float) -> None:
    handle.cancel("interrupted")
    if handle.stopped:
        bar.finish("interrupted")
        return
    bar.finish("interrupted, stopping…")
    try:
        stopped = handle.join(stop_timeout)
    except KeyboardInterrupt:  # a second Ctrl-C: stop waiting
        stopped = handle.stopped
    if not stopped:
        bar.finish(f"still stopping after {stop_timeout:g} s; giving up waiting")


def _isatty(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def run_command_job(job: Job, label: str) -> Any:
    """Run a command's job with a progress bar; errors come back as the command's own one line.

    A failure whose cause is a user-facing error (StudioError, MediaError, OSError) re-raises that
    cause, so ``studio`` prints its message and exits 2; a cancel becomes KeyboardInterrupt (130).
    """
    import logging

    from studio.core.errors import StudioError
    from studio.jobs import JobCancelled, JobFailed
    from studio.media.probe import MediaError

    # The scheduler logs a failed job with its traceback at WARNING; with logging unconfigured
    # Python would print that to stderr. The command reports the failure itself, in one line.
    logging.getLogger("studio.jobs").addHandler(logging.NullHandler())
    try:
        return run_with_progress(None, job, label=label)
    except JobFailed as e:
        cause = e.__cause__
        if isinstance(cause, (StudioError, MediaError, OSError)):
            raise cause from None
        raise
    except JobCancelled:
        raise KeyboardInterrupt from None
