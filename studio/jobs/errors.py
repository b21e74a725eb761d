"""How a job's unhappy ending reaches code that waits for it (``JobHandle.get``, the CLI)."""

from __future__ import annotations

from studio.core.errors import StudioError


class JobError(StudioError):
    """A job did not produce a result; ``str()`` is the one-line message for the user.

    ``job_name``, ``state`` (a JobState value string) and ``traceback`` (the formatted
    traceback of a failure, "" otherwise) say more.
    """

    def __init__(self, message: str, *, job_name: str = "", state: str = "", traceback: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.job_name = job_name
        self.state = state
        self.traceback = traceback


class JobFailed(JobError):
    """The job function raised an exception."""


class JobCancelled(JobError):
    """The job was cancelled (by the user, shutdown, or a failed dependency)."""


class JobTimedOut(JobError):
    """The job ran past its timeout."""
