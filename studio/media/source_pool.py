"""Open media sources once and reuse them: a bounded, thread-safe pool.

``pool.video(path)`` returns a shared ``VideoSource``; ``slot`` asks for an independent
decoder of the same file (the compositor uses one per clip, so a dissolve between two parts
of one file does not make a single decoder seek back and forth every frame). All video
sources share one ``FrameCache``. ``pool.audio(path, sample_rate, channels)`` does the same
for ``studio.media.audio.AudioSource`` (imported lazily). The least recently used sources
are closed beyond ``max_open``; a closed source reopens itself if someone still holds it.

A file that failed to open is remembered (with its size and mtime) so that a timeline full
of offline media does not retry the open on every frame; it is retried once the file changes.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict

from .decode import VideoSource
from .frame_cache import FrameCache
from .probe import MediaError

DEFAULT_CACHE_BYTES = 256 * 1024 * 1024


def _stat_key(path: str):
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns)


class SourcePool:
    """Open ``VideoSource`` / ``AudioSource`` objects by path, at most ``max_open`` at once."""

    def __init__(self, max_open: int = 16, cache_bytes: int = DEFAULT_CACHE_BYTES, *, threads: int = 0) -> None:
        if max_open < 1:
            raise ValueError("max_open must be at least 1")
        self.max_open = max_open
        self.threads = threads
        self.cache = FrameCache(cache_bytes)
        self._lock = threading.Lock()
        self._open: OrderedDict[tuple, object] = OrderedDict()
        self._opening: dict[tuple, threading.Lock] = {}
        self._failed: dict[str, tuple[object, MediaError]] = {}
        self._closed = False

    # --- public -------------------------------------------------------------------------
    def video(self, path: str | os.PathLike[str], slot: object = None) -> VideoSource:
        """The pooled ``VideoSource`` for ``path`` (``slot``: an independent decoder)."""
        path = os.fspath(path)
        return self._get(("video", path, slot), path, lambda: VideoSource(path, threads=self.threads,
                                                                          cache=self.cache))

    def audio(self, path: str | os.PathLike[str], sample_rate: int, channels: int, slot: object = None):
        """The pooled ``studio.media.audio.AudioSource(path, sample_rate, channels)``."""
        path = os.fspath(path)

        def make():
            from .audio import AudioSource  # lazy: written separately, needed only for audio

            return AudioSource(path, sample_rate, channels)

        return self._get(("audio", path, int(sample_rate), int(channels), slot), path, make)

    def forget(self, path: str | os.PathLike[str]) -> None:
        """Close every source of ``path`` and drop its cached frames (the file changed)."""
        path = os.fspath(path)
        with self._lock:
            keys = [k for k in self._open if k[1] == path]
            sources = [self._open.pop(k) for k in keys]
            self._failed.pop(path, None)
        for source in sources:
            _close(source)
        self.cache.clear(path)

    def close(self) -> None:
        """Close every open source and empty the cache. The pool can be used again after."""
        with self._lock:
            sources = list(self._open.values())
            self._open.clear()
            self._failed.clear()
        for source in sources:
            _close(source)
        self.cache.clear()

    def __enter__(self) -> SourcePool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __len__(self) -> int:
        return len(self._open)

    # --- internals ----------------------------------------------------------------------
    def _get(self, key: tuple, path: str, make):
        with self._lock:
            source = self._open.get(key)
            if source is not None:
                self._open.move_to_end(key)
                return source
            failed = self._failed.get(path)
            if failed is not None:
                if failed[0] == _stat_key(path):
                    raise failed[1]
                del self._failed[path]
            opening = self._opening.setdefault(key, threading.Lock())
        with opening:  # one thread opens a given key; others wait for it
            with self._lock:
                source = self._open.get(key)
                if source is not None:
                    self._open.move_to_end(key)
                    return source
            try:
                source = make()
            except MediaError as exc:
                with self._lock:
                    self._failed[path] = (_stat_key(path), exc)
                    self._opening.pop(key, None)
                raise
            evicted = []
            with self._lock:
                self._open[key] = source
                self._opening.pop(key, None)
                while len(self._open) > self.max_open:
                    evicted.append(self._open.popitem(last=False)[1])
        for old in evicted:
            _close(old)
        return source


def _close(source) -> None:
    close = getattr(source, "close", None)
    if close is not None:
        try:
            close()
        except Exception:  # noqa: BLE001 - closing must never take the pool down
            pass
