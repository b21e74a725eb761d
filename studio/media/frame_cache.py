"""A bounded, thread-safe LRU cache of decoded video frames.

Entries are keyed by ``(path, pts)``; the size counted is the bytes of the frame's planes.
Frames are stored by reference (never copied) and handed out shared, so nobody may write
into a frame that came from the cache.

Besides the plain ``get``/``put``, the cache keeps for each path the sorted pts it holds
and, where a decoder saw it, the pts of the frame that follows each one. That is what lets
``find`` answer "which frame is on screen at time T" without decoding: the entry with the
largest pts <= T whose successor is known to lie after T (or which is the last frame).
"""

from __future__ import annotations

import bisect
import threading
from collections import OrderedDict
from dataclasses import dataclass

#: Successor marker of the last frame of a stream.
END = float("inf")


def frame_bytes(frame) -> int:
    """Bytes held by a frame's planes (what keeping it costs)."""
    try:
        return sum(p.buffer_size for p in frame.planes)
    except AttributeError:  # anything else cached by a caller: count it as small
        return 1024


@dataclass
class _Entry:
    frame: object
    size: int
    next_pts: int | float | None = None  # None: unknown, END: last frame


class FrameCache:
    """LRU of decoded frames keyed by ``(path, pts)``, bounded by ``max_bytes``."""

    def __init__(self, max_bytes: int = 256 * 1024 * 1024) -> None:
        if max_bytes < 0:
            raise ValueError("max_bytes must be >= 0")
        self.max_bytes = int(max_bytes)
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[str, int], _Entry] = OrderedDict()
        self._sorted: dict[str, list[int]] = {}
        self._bytes = 0
        self.hits = 0
        self.misses = 0

    # --- plain LRU ----------------------------------------------------------------------
    def get(self, key: tuple[str, int]):
        """The frame stored under ``(path, pts)`` or None."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return entry.frame

    def put(self, key: tuple[str, int], frame, next_pts: int | float | None = None) -> None:
        """Store ``frame``; ``next_pts`` is the pts of the following frame if known (END: last)."""
        size = frame_bytes(frame)
        if size > self.max_bytes:
            return
        path, pts = key
        with self._lock:
            old = self._entries.get(key)
            if old is not None:
                self._bytes -= old.size
                old.frame, old.size = frame, size
                if next_pts is not None:
                    old.next_pts = next_pts
                self._bytes += size
                self._entries.move_to_end(key)
            else:
                self._entries[key] = _Entry(frame, size, next_pts)
                self._bytes += size
                keys = self._sorted.setdefault(path, [])
                if not keys or keys[-1] < pts:
                    keys.append(pts)
                else:
                    bisect.insort(keys, pts)
            self._evict()

    def set_next(self, path: str, pts: int, next_pts: int | float) -> None:
        """Record that the frame after ``pts`` has ``next_pts`` (END when ``pts`` is the last)."""
        with self._lock:
            entry = self._entries.get((path, pts))
            if entry is not None:
                entry.next_pts = next_pts

    def find(self, path: str, target: int):
        """``(pts, frame)`` of the cached frame shown at ``target`` (stream ticks), or None.

        A hit needs the frame with the largest pts <= target and proof that the next frame
        starts after target; without it the caller must decode.
        """
        with self._lock:
            keys = self._sorted.get(path)
            if not keys:
                self.misses += 1
                return None
            i = bisect.bisect_right(keys, target) - 1
            if i < 0:
                self.misses += 1
                return None
            pts = keys[i]
            entry = self._entries[(path, pts)]
            if entry.next_pts is None or entry.next_pts <= target:
                self.misses += 1
                return None
            self._entries.move_to_end((path, pts))
            self.hits += 1
            return pts, entry.frame

    # --- housekeeping -------------------------------------------------------------------
    def _evict(self) -> None:
        while self._bytes > self.max_bytes and self._entries:
            (path, pts), entry = self._entries.popitem(last=False)
            self._bytes -= entry.size
            keys = self._sorted.get(path)
            if keys:
                i = bisect.bisect_left(keys, pts)
                if i < len(keys) and keys[i] == pts:
                    del keys[i]
                if not keys:
                    del self._sorted[path]

    def clear(self, path: str | None = None) -> None:
        """Drop everything, or every frame of ``path``."""
        with self._lock:
            if path is None:
                self._entries.clear()
                self._sorted.clear()
                self._bytes = 0
                return
            for pts in self._sorted.pop(path, []):
                entry = self._entries.pop((path, pts), None)
                if entry is not None:
                    self._bytes -= entry.size

    @property
    def bytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: tuple[str, int]) -> bool:
        with self._lock:
            return key in self._entries
