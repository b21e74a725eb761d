"""Shared bench plumbing: run a command in a child process, measure wall time and peak RSS."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

BIN = Path(sys.executable).parent


@dataclass
class Run:
    seconds: float
    peak_rss_mb: float
    returncode: int
    stderr: str


def run(cmd: list[str], cwd: str | None = None, env: dict | None = None) -> Run:
    """Run ``cmd``; wall-clock seconds and the child's peak resident memory (wait4 rusage)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    stderr_chunks = []
    while True:  # drain stderr so a chatty tool never blocks on a full pipe
        chunk = proc.stderr.read(65536)
        if not chunk:
            break
        stderr_chunks.append(chunk)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = b"".join(stderr_chunks).decode(errors="replace")
    return Run(elapsed, usage.ru_maxrss / 1024, proc.returncode, err[-2000:])


def have(tool: str) -> bool:
    return shutil.which(tool) is not None


def studio(*args: str) -> list[str]:
    return [str(BIN / "studio"), *args]
