"""Qt-free job model, scheduler, resource slots and executors."""

from .context import Cancelled, JobContext, ProgressSpan
from .errors import JobCancelled, JobError, JobFailed, JobTimedOut
from .handle import Callbacks, EtaEstimator, JobHandle
from .job import Job, JobState, Priority
from .scheduler import Scheduler

__all__ = [
    "Callbacks", "Cancelled", "EtaEstimator", "Job", "JobCancelled", "JobContext", "JobError", "JobFailed",
    "JobHandle", "JobState", "JobTimedOut", "Priority", "ProgressSpan", "Scheduler",
]
