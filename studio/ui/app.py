"""The editor entry point: a Qt application showing the main window (``ProjectWindow`` stays as a
lightweight read-only view)."""

from __future__ import annotations

import sys
from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, QEvent
from PySide6.QtWidgets import QApplication, QMainWindow

from .project_window import APP_NAME, ProjectWindow  # noqa: F401 - kept importable from here
from .theme import apply_dark_theme


def application(argv: list[str] | None = None) -> QApplication:
    """The running QApplication (created if needed), in the dark Fusion theme."""
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        app = QApplication(argv if argv is not None else sys.argv[:1])
    app.setApplicationName(APP_NAME)
    apply_dark_theme(app)
    return app


def run_editor(project_path: str | None, window_factory: Callable[[], QMainWindow] | None = None) -> int:
    """Open ``project_path`` (or an empty project) in the main window and run until it closes.

    ``window_factory`` makes another window instead (``ProjectWindow``: the read-only overview);
    it needs ``show()`` and ``open_project(path)``. A file that cannot be loaded leaves an empty
    project on screen and its one-line error in a warning box and the status bar. Returns the
    event loop's exit code.
    """
    if window_factory is None:
        from .main_window import MainWindow as window_factory  # imported here: the editor's heavier half

    app = application()
    window = window_factory()
    window.show()
    if project_path:
        window.open_project(project_path)
    code = int(app.exec())
    # Closing the last window posts a Quit event; when the loop had already been told to quit it
    # stays queued and would end the next event loop run in this process (tests, a second editor).
    QCoreApplication.removePostedEvents(app, QEvent.Type.Quit)
    return code


if __name__ == "__main__":
    raise SystemExit(run_editor(sys.argv[1] if len(sys.argv) > 1 else None))
