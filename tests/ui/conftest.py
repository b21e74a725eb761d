"""Fixtures the editor tests share: a job pool on Qt signals, and main windows that never block."""

from __future__ import annotations

from pathlib import Path

import pytest

from studio.core.projectfile import save_project
from studio.jobs import Scheduler
from studio.media.cache import CacheStore
from studio.ui.jobs_adapter import JobsAdapter
from studio.ui.main_window import MainWindow
from studio.ui.session import SessionSettings


def accept_as_is(dialog) -> bool:
    """The Foley Sounds dialog's ``ask`` in tests: accept it as it opens (never shown)."""
    assert dialog.ok_button.isEnabled(), dialog.problem_text()
    return True


@pytest.fixture
def jobs(qapp):
    adapter = JobsAdapter(Scheduler(cpu_slots=2))
    yield adapter
    adapter.shutdown()
    adapter.scheduler.shutdown(cancel=True, timeout=10)


@pytest.fixture
def make_window(qtbot, jobs, tmp_path):
    """``make(project, path)``: a MainWindow on ``project`` saved at ``path`` (None: unsaved), with fake
    prompts, its own settings and cache, and the foley dialog answered without being shown."""
    from tests.ui.test_main_window import FakePrompts

    windows = []

    def make(project, path=tmp_path / "proj" / "film.studio") -> MainWindow:
        if path is not None:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            save_project(project, path)
        w = MainWindow(project, path, prompts=FakePrompts(), settings=SessionSettings.at(tmp_path / "settings.ini"),
                       jobs=jobs, store=CacheStore(tmp_path / "cache"), autosave_interval=3600)
        qtbot.addWidget(w)
        w.ai_actions.ask = accept_as_is  # never a modal dialog in tests
        windows.append(w)
        return w

    yield make
    for w in windows:
        w.history.mark_saved()
        w._force_dirty = False
        w.close()
