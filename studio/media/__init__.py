"""Media I/O with PyAV: probe, decode, encode, caches."""
