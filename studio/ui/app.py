"""The editor entry point: a Qt application showing one project window."""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QApplication

from .project_window import APP_NAME, ProjectWindow
from .theme import apply_dark_theme


def application(argv: list[str] | None = None) -> QApplication:
    """The running QApplication (created if needed), in the dark Fusion theme."""
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        app = QApplication(argv if argv is not None else sys.argv[:1])
    app.setApplicationName(APP_NAME)
    apply_dark_theme(app)
    return app


def run_editor(project_path: str | None) -> int:
    """Open ``project_path`` (or an empty project) in a window and run until it closes.

    A file that cannot be loaded leaves an empty project on screen and its one-line error in
    a warning box and the status bar. Returns the event loop's exit code.
    """
    app = application()
    window = ProjectWindow()
    window.show()
    if project_path:
        window.open_project(project_path)
    return int(app.exec())


if __name__ == "__main__":
    raise SystemExit(run_editor(sys.argv[1] if len(sys.argv) > 1 else None))
