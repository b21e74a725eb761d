"""Screenshot of the editor: the demo project in the main window at 1600x1000, saved as a PNG.

Usage: ``xvfb-run -a .venv/bin/python scripts/screenshot.py build/screenshot.png [PROJECT]``
(PROJECT defaults to build/demo/demo.studio, made with ``studio demo -o build/demo --no-render``).
Settings go to a throw-away folder so the user's recent list and layout are untouched.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main(argv: list[str]) -> int:
    out = Path(argv[1] if len(argv) > 1 else "build/screenshot.png")
    project = Path(argv[2] if len(argv) > 2 else "build/demo/demo.studio")
    if not project.exists():
        from studio.cli.demo_cmd import make_demo
        make_demo(project.parent)

    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from studio.ui.app import application
    from studio.ui.main_window import MainWindow
    from studio.ui.session import SessionSettings

    temp = tempfile.mkdtemp(prefix="studio-shot-")
    os.environ.setdefault("SHOTLINE_CACHE_DIR", os.path.join(temp, "cache"))
    app = application()
    window = MainWindow(settings=SessionSettings(QSettings(os.path.join(temp, "s.ini"), QSettings.Format.IniFormat)))
    window.resize(1600, 1000)
    window.show()
    if not window.open_project(project):
        print(f"screenshot: cannot open {project}: {window.last_error}", file=sys.stderr)
        return 1
    if window.timeline is not None and window.project.sequence.tracks:
        clips = [c for _, c in window.project.all_clips()]
        if clips:
            window.timeline.select([clips[0].id])
        window.set_playhead(40)
    window.bin.set_grid(False)
    deadline = time.monotonic() + 2.5
    while time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.02)
    out.parent.mkdir(parents=True, exist_ok=True)
    if not window.grab().save(str(out)):
        print(f"screenshot: cannot write {out}", file=sys.stderr)
        return 1
    print(f"screenshot: {out} ({window.width()}x{window.height()})")
    window.history.mark_saved()
    window.close()
    QApplication.processEvents()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
