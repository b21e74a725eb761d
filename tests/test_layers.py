"""Fixed point 1 at run time: importing the non-UI packages loads neither torch nor Qt.

import-linter (``make lint``) checks the static import graph; it cannot tell a lazy
import inside a function from a module-level one, so this test checks the laziness.
"""

import json
import subprocess
import sys

_PROBE = r"""
import importlib, json, pkgutil, sys
import studio
names = []
def walk(path, prefix):
    # walk the folders ourselves: pkgutil.walk_packages imports every package to recurse,
    # studio.ui's included, which would load Qt before we look
    for info in pkgutil.iter_modules(path, prefix):
        if info.name.startswith(("studio.ui", "studio.cli")):
            continue
        module = importlib.import_module(info.name)
        names.append(info.name)
        if info.ispkg:
            walk(module.__path__, info.name + ".")
walk(studio.__path__, "studio.")
heavy = sorted(m for m in ("torch", "diffusers", "transformers", "PySide6") if m in sys.modules)
print(json.dumps({"imported": names, "heavy": heavy}))
"""


def test_non_ui_packages_import_without_torch_or_qt():
    out = subprocess.run(
        [sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=120, check=True
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert "studio.media" in result["imported"]
    assert result["heavy"] == []
