"""Identifiers for model objects.

Commands draw their ids when they are created (or from a seeded factory), so that redoing a
command re-creates objects with the very same ids and serialized projects compare equal.
"""

from __future__ import annotations

import itertools
import uuid


def new_id(prefix: str = "") -> str:
    """A fresh random id, e.g. ``"clip-3f9a1c0b2d4e"``."""
    tail = uuid.uuid4().hex[:12]
    return f"{prefix}-{tail}" if prefix else tail


class IdFactory:
    """Deterministic ids derived from one seed: the n-th call always yields the same id."""

    def __init__(self, seed: str | None = None) -> None:
        self.seed = seed or new_id()
        self._counter = itertools.count(1)

    def reset(self) -> None:
        self._counter = itertools.count(1)

    def __call__(self, prefix: str = "") -> str:
        n = next(self._counter)
        return f"{prefix}-{self.seed}-{n}" if prefix else f"{self.seed}-{n}"
