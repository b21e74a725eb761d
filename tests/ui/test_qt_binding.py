"""The Qt binding itself must be sound: PySide6 6.12.0 on Python 3.11 loses a reference to
None on every void call and aborts the interpreter after ~5,000 of them (none_dealloc),
which a timeline repainting for a while reaches quickly. pyproject excludes that release."""

import subprocess
import sys

_LOOP = """
from PySide6.QtCore import QPointF
p = QPointF()
for _ in range(50_000):
    p.setX(1.0)
print("ok")
"""


def test_void_calls_do_not_leak_none():
    proc = subprocess.run([sys.executable, "-c", _LOOP], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr[-500:]
