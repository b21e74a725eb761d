"""How the command line reports bad input: one line on stderr, exit status 2."""

from __future__ import annotations


class UsageError(Exception):
    """Bad input on the command line (the message is the whole story)."""


EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130
