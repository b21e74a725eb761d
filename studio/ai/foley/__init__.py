"""Event detection, sound design and placement of foley clips."""
