"""One history for every change: do, undo, redo, transactions, drag merging, dirty flag.

Because project states are immutable, an entry is just (state before, state after): undo
and redo restore exactly the values they had, whatever the command did.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from psygnal import Signal

from . import invariants
from .changes import Change, diff
from .edits.base import Command
from .project import Project


@dataclass(slots=True)
class Entry:
    label: str
    before: Project
    after: Project
    merge_key: Hashable | None = None


class History:
    """Applies commands to a project and remembers how to undo them.

    ``changed`` is emitted after every apply, undo and redo with a ``Change`` saying what
    moved. Set ``check_invariants`` off only in benchmarks.
    """

    changed = Signal(Change)

    def __init__(self, project: Project, *, limit: int = 1000, check_invariants: bool = True) -> None:
        self._project = project
        self._undo: list[Entry] = []
        self._redo: list[Entry] = []
        self._saved: Project | None = project
        self._limit = limit
        self._txn: list[Entry] | None = None
        self._txn_label = ""
        self._txn_depth = 0
        self._merge_open = False
        self.check_invariants = check_invariants

    # --- state -------------------------------------------------------------------------
    @property
    def project(self) -> Project:
        return self._project

    @property
    def dirty(self) -> bool:
        return self._project is not self._saved

    def mark_saved(self) -> None:
        self._saved = self._project

    def reset(self, project: Project) -> None:
        """Start over with ``project`` (after opening a file): history cleared, clean."""
        before = self._project
        self._project = project
        self._undo.clear()
        self._redo.clear()
        self._saved = project
        self.changed.emit(diff(before, project))

    @property
    def can_undo(self) -> bool:
        return bool(self._undo) and self._txn is None

    @property
    def can_redo(self) -> bool:
        return bool(self._redo) and self._txn is None

    @property
    def undo_label(self) -> str:
        return self._undo[-1].label if self._undo else ""

    @property
    def redo_label(self) -> str:
        return self._redo[-1].label if self._redo else ""

    def __len__(self) -> int:
        return len(self._undo)

    # --- doing -------------------------------------------------------------------------
    def apply(self, command: Command, *, merge: bool = False) -> Change:
        """Apply ``command``; raises EditError (project unchanged) if it cannot be done.

        With ``merge=True`` a command whose merge key equals the previous one's folds into
        that history step (a drag becomes one undo step) until ``end_merge()``.
        """
        before = self._project
        after = command.apply(before)
        if after is before:
            return Change()
        if self.check_invariants:
            invariants.check(after)
        target = self._txn if self._txn is not None else self._undo
        last = target[-1] if target else None
        if (merge and self._merge_open and last is not None and command.merge_key is not None
                and last.merge_key == command.merge_key and last.after is before):
            last.after = after
        else:
            target.append(Entry(command.label, before, after, command.merge_key))
            if self._txn is None and len(self._undo) > self._limit:
                del self._undo[0]
        self._merge_open = merge
        self._redo.clear()
        self._project = after
        change = diff(before, after)
        self.changed.emit(change)
        return change

    def end_merge(self) -> None:
        """Close the current drag: the next command starts a new history step."""
        self._merge_open = False

    @contextmanager
    def transaction(self, label: str) -> Iterator[None]:
        """Group the commands applied inside into one undo step; roll back on an exception."""
        if self._txn is not None:  # nested: the outer transaction owns everything
            self._txn_depth += 1
            try:
                yield
            finally:
                self._txn_depth -= 1
            return
        start = self._project
        self._txn, self._txn_label = [], label
        self._merge_open = False
        try:
            yield
        except BaseException:
            self._txn = None
            if self._project is not start:
                current = self._project
                self._project = start
                self.changed.emit(diff(current, start))
            raise
        entries, self._txn = self._txn, None
        if entries:
            self._undo.append(Entry(label, start, self._project))
            if len(self._undo) > self._limit:
                del self._undo[0]
            self._redo.clear()
        self._merge_open = False

    def undo(self) -> Change:
        if not self.can_undo:
            return Change()
        entry = self._undo.pop()
        self._redo.append(entry)
        return self._move_to(entry.before)

    def redo(self) -> Change:
        if not self.can_redo:
            return Change()
        entry = self._redo.pop()
        self._undo.append(entry)
        return self._move_to(entry.after)

    def _move_to(self, project: Project) -> Change:
        before, self._project = self._project, project
        self._merge_open = False
        change = diff(before, project)
        self.changed.emit(change)
        return change
