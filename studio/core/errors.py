"""Errors raised by the core model; each carries one clear, user-facing line."""

from __future__ import annotations


class StudioError(Exception):
    """Base of every error the model reports to a user."""


class TimeError(StudioError, ValueError):
    """A time value (seconds, timecode, frame rate) could not be parsed or is out of range."""


class EditError(StudioError):
    """An edit cannot be applied to the current project; the project is left unchanged."""


class InvariantError(StudioError):
    """A command produced a project that breaks a timeline invariant (a bug, never user input)."""


class ProjectFileError(StudioError):
    """A project file cannot be read or written; the file on disk is never touched."""
