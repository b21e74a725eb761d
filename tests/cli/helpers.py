"""What every CLI test does: run ``studio`` in-process, and check a bad input's one clear line."""

from __future__ import annotations

from studio.cli.main import main


def run(capsys, *argv):
    """``(exit code, stdout, stderr)`` of ``studio ARGV...`` (paths may be ``Path``s)."""
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def assert_bad_input(code, err, *fragments):
    """Exit 2 with exactly one line on stderr, no traceback, naming each of ``fragments``."""
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    for f in fragments:
        assert f in lines[0], lines[0]
