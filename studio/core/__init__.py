"""Timeline model, exact time arithmetic, edit commands with history, project files, OTIO bridge.

Pure Python: imports nothing else of ``studio`` (DESIGN.md fixed point 1).
"""
