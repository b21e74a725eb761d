"""Playback: a clock, J/K/L shuttle, frame scheduling with read-ahead, and an audio feed (Qt-free).

``PlaybackEngine`` plays a project. The clock follows the audio device when one is open and the
rate is 1 (the audio clock leads: position = samples the device has taken, less its latency, over
the sample rate); otherwise it is a monotonic wall clock (``time_fn``). Audio plays only at rate 1.

Video: a background render thread composites frames ahead of the clock (``Compositor``, its own
``SourcePool``) and converts them once to RGB at the display size (``VideoFrame.reformat``, C),
into a small read-ahead queue. ``poll()`` (the UI timer) takes the frame due now and drops the
frames that came too late; the render thread also skips frames it cannot deliver in time. Seeks
and direction changes flush the queue. Nothing here blocks on the audio callback.

Audio (``studio.render.audio_output``): ``AudioFeed`` mixes blocks from ``AudioMixer`` ahead of the
device in its own thread into an ``AudioRing``; the device callback only copies out of the ring
(silence when it runs dry, and the clock then holds: the picture waits for the sound).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from studio.core.project import Project
from studio.core.timebase import frames_to_samples

from .audio_output import AudioFeed, AudioRing

log = logging.getLogger(__name__)

#: Rates J/K/L move through.
SHUTTLE_RATES = (-8, -4, -2, -1, 0, 1, 2, 4, 8)
#: Composited frames kept ahead of the clock.
READ_AHEAD = 8
#: The audio ring holds this much ahead of the device.
RING_SECONDS = 0.5


def next_shuttle_rate(rate: int, key: str) -> int:
    """J/K/L: "l" goes 1, 2, 4, 8 (from reverse or stop: 1); "j" goes -1, -2, -4, -8; "k" stops."""
    key = key.lower()
    if key == "k":
        return 0
    if key == "l":
        return 1 if rate <= 0 else min(8, rate * 2)
    if key == "j":
        return -1 if rate >= 0 else max(-8, rate * 2)
    raise ValueError(f"shuttle key must be j, k or l, not {key!r}")


# --- video ------------------------------------------------------------------------------------
class CompositorSource:
    """Renders sequence frame ``n`` as RGB24 ``(h, w, 3)`` at a display size. Built lazily in the
    thread that uses it (a compositor and its pool belong to one thread)."""

    def __init__(self, project: Project, proxies=None) -> None:
        self.project = project
        self.proxies = proxies
        self._compositor = None
        self._pool = None

    def render(self, n: int, width: int, height: int) -> np.ndarray:
        if self._compositor is None:
            from studio.media.source_pool import SourcePool

            from .compositor import Compositor

            self._pool = SourcePool()
            self._compositor = Compositor(self.project, self._pool, proxies=self.proxies)
        frame = self._compositor.frame(n)
        return frame.reformat(width, height, "rgb24").to_ndarray()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
        self._compositor = self._pool = None


@dataclass
class Shown:
    """A frame due on screen: sequence frame ``n`` as RGB24 ``image``."""

    n: int
    image: np.ndarray


@dataclass
class Stats:
    shown: int = 0
    dropped: int = 0  # rendered but late when its turn came
    skipped: int = 0  # never rendered: the renderer jumped ahead to stay on time
    render_ms: list[float] = field(default_factory=list)


class PlaybackEngine:
    """Plays ``project``: see the module docstring.

    ``source`` renders frames (default ``CompositorSource(project, proxies)``); ``time_fn`` is the
    wall clock; ``open_audio(sample_rate, channels, callback) -> (output | None, reason)`` opens
    the device (default ``audio_output.open_output_or_reason``; pass ``audio=False`` for none).
    With ``threads=False`` nothing runs in the background: call ``render_step()`` / ``feed.fill()``.
    """

    def __init__(self, project: Project, *, proxies=None, source=None, time_fn: Callable[[], float] = time.monotonic,
                 audio: bool = True, open_audio=None, mix=None, threads: bool = True,
                 read_ahead: int = READ_AHEAD) -> None:
        self.project = project
        settings = project.settings
        self.fps = Fraction(settings.fps)
        self._fps = float(self.fps)
        self.sample_rate = int(settings.sample_rate)
        self.channels = int(settings.channels)
        self.width, self.height = int(settings.width), int(settings.height)
        self.display_size = (self.width, self.height)
        self.duration = max(1, int(project.sequence.duration))
        self.time_fn = time_fn
        self.read_ahead = read_ahead
        self.stats = Stats()
        self.in_point: int | None = None
        self.out_point: int | None = None
        self.loop = False
        self._source = source if source is not None else CompositorSource(project, proxies)
        self._cond = threading.Condition()
        self._gen = 0
        self._queue: dict[int, np.ndarray] = {}
        self._rate = 0
        self._anchor_frame = 0.0
        self._anchor_time = time_fn()
        self._audio_anchor: tuple[float, int] | None = None  # (frame, sample) while the audio clock leads
        self._still = 0  # the frame to show while paused
        self._next = 0  # the next frame the renderer will make while playing
        self._last_shown: int | None = None
        self._size_gen = 0  # bumped when the display size changes (old pictures are then useless)
        self._scrub: tuple[int, np.ndarray] | None = None  # a finished still overtaken by a newer seek
        self._render_s = 0.5 / self._fps  # moving estimate of one render while playing
        self._stop = False
        # audio
        self.audio_reason = ""
        self.output = None
        self.ring = AudioRing(self.channels, int(self.sample_rate * RING_SECONDS))
        self.feed = None
        if audio:
            if open_audio is None:
                from .audio_output import open_output_or_reason as open_audio
            self.output, self.audio_reason = open_audio(self.sample_rate, self.channels, self.ring.read)
            if self.output is not None:  # silent playback mixes nothing
                self.feed = AudioFeed(mix if mix is not None else self._preview_mix(), self.ring,
                                      start_thread=threads)
        else:
            self.audio_reason = "audio is off"
        self._thread = None
        if threads:
            self._thread = threading.Thread(target=self._run, name="playback-render", daemon=True)
            self._thread.start()

    def _preview_mix(self) -> Callable[[int, int], np.ndarray]:
        from studio.media.source_pool import SourcePool

        from .mixer import AudioMixer

        pool = SourcePool(max_open=8, cache_bytes=1)
        self._audio_pool = pool
        sr, ch = self.sample_rate, self.channels

        def open_source(path: str):
            return pool.audio(path, sr, ch)

        return AudioMixer(self.project, open_source).mix

    # --- state ------------------------------------------------------------------------------
    @property
    def rate(self) -> int:
        return self._rate

    @property
    def playing(self) -> bool:
        return self._rate != 0

    @property
    def has_audio(self) -> bool:
        return self.output is not None

    def _position_locked(self) -> float:
        if self._rate == 0:
            return float(self._still)
        if self._audio_anchor is not None:
            frame, sample = self._audio_anchor
            latency = int(getattr(self.output, "latency", 0.0) * self.sample_rate)
            played = max(0, self.ring.start - sample - latency)
            return frame + played * self._fps / self.sample_rate
        return self._anchor_frame + (self.time_fn() - self._anchor_time) * self._fps * self._rate

    def position(self) -> float:
        """The clock's position in (fractional) sequence frames."""
        with self._cond:
            return self._position_locked()

    def frame(self) -> int:
        """The sequence frame due now."""
        with self._cond:
            return self._frame_locked()

    def _frame_locked(self) -> int:
        return self._clamp(math.floor(self._position_locked() + 1e-9))

    def _bounds(self) -> tuple[int, int]:
        lo = self.in_point if self.in_point is not None else 0
        hi = self.out_point + 1 if self.out_point is not None else self.duration
        if hi <= lo:
            lo, hi = 0, self.duration
        return lo, hi

    def _clamp(self, n: int) -> int:
        return max(0, min(self.duration - 1, int(n)))

    def _flush_locked(self) -> None:
        self._gen += 1
        self._queue.clear()
        self._cond.notify_all()

    def _anchor_locked(self, frame: float, rate: int) -> None:
        """Restart the clock at ``frame`` with ``rate``; audio follows at rate 1."""
        self._rate = rate
        self._anchor_frame = float(frame)
        self._anchor_time = self.time_fn()
        self._audio_anchor = None
        if self.feed is not None:
            if rate == 1:
                sample = frames_to_samples(int(frame), self.fps, self.sample_rate)
                self.feed.start(sample)
                if self.output is not None:
                    self._audio_anchor = (float(int(frame)), sample)
            else:
                self.feed.stop()
        self._cond.notify_all()

    # --- transport --------------------------------------------------------------------------
    def seek(self, frame: int) -> None:
        """Go to ``frame`` (flushes read-ahead); playback goes on from there if playing."""
        with self._cond:
            frame = self._clamp(frame)
            self._still = frame
            self._next = frame
            self._last_shown = None
            self._flush_locked()
            if self._rate:
                self._anchor_locked(frame, self._rate)

    def set_rate(self, rate: int) -> None:
        """Play at ``rate`` frames per frame (0 pauses; negative plays backwards)."""
        rate = int(rate)
        with self._cond:
            if rate == self._rate:
                return
            here = self._frame_locked() if self._rate else self._still
            self._scrub = None
            if rate == 0:
                self._still = self._last_shown if self._last_shown is not None else here
                self._anchor_locked(self._still, 0)
                if self._still not in self._queue:
                    self._flush_locked()
                return
            lo, hi = self._bounds()
            if self._rate == 0 and rate > 0 and here >= hi - 1:
                here = lo  # play from the start (or the in point) when parked at the end
            if (rate > 0) != (self._rate > 0) or self._rate == 0:
                step = 1 if rate > 0 else -1
                # the paused picture is on screen already: start rendering after it
                self._next = here + step if here == self._last_shown else here
                self._flush_locked()
            self._anchor_locked(here, rate)

    def play(self) -> None:
        self.set_rate(1)

    def pause(self) -> None:
        self.set_rate(0)

    def toggle_play(self) -> None:
        self.set_rate(0 if self._rate else 1)

    def shuttle(self, key: str) -> int:
        """J/K/L; returns the new rate."""
        rate = next_shuttle_rate(self._rate, key)
        self.set_rate(rate)
        return rate

    def step(self, delta: int) -> None:
        """Pause and move ``delta`` frames."""
        self.pause()
        self.seek(self._still + int(delta))

    def set_in(self, frame: int | None) -> None:
        self.in_point = None if frame is None else self._clamp(frame)

    def set_out(self, frame: int | None) -> None:
        self.out_point = None if frame is None else self._clamp(frame)

    def set_display_size(self, width: int, height: int) -> None:
        size = (max(2, int(width)), max(2, int(height)))
        with self._cond:
            if size != self.display_size:
                self.display_size = size
                self._size_gen += 1
                self._scrub = None
                self._last_shown = None
                self._next = self._frame_locked()
                self._flush_locked()

    def levels(self) -> np.ndarray:
        """Per-channel peaks (0..1) played since the last call (zeros without a device)."""
        if self.output is None:
            return np.zeros(self.channels, dtype=np.float32)
        return self.output.peaks()

    # --- scheduling (UI thread) ---------------------------------------------------------------
    def poll(self) -> Shown | None:
        """The frame to show now if it differs from the last one shown; drops late frames.

        Also ends playback at the out point (or loops to the in point)."""
        with self._cond:
            if self._rate:
                pos = self._position_locked()
                lo, hi = self._bounds()
                if (self._rate > 0 and pos >= hi) or (self._rate < 0 and pos < lo):
                    if self.loop:
                        start = lo if self._rate > 0 else hi - 1
                        self._still = self._next = start
                        self._flush_locked()
                        self._anchor_locked(start, self._rate)
                    else:
                        end = hi - 1 if self._rate > 0 else lo
                        self._still = end
                        self._anchor_locked(end, 0)
                        if end not in self._queue:
                            self._flush_locked()
                target = self._frame_locked()
            else:
                target = self._still
            forward = self._rate >= 0
            due = [n for n in self._queue if (n <= target if forward else n >= target)]
            if not self._rate:
                due = [target] if target in self._queue else []
                scrub, self._scrub = self._scrub, None
                if not due and scrub is not None and scrub[0] != self._last_shown:
                    # scrubbing: the asked-for frame is not ready, show the latest finished one
                    self._last_shown = scrub[0]
                    self.stats.shown += 1
                    return Shown(*scrub)
            if not due:
                return None
            pick = max(due) if forward else min(due)
            for n in due:
                image = self._queue.pop(n)
                if n != pick and self._rate:
                    self.stats.dropped += 1
                if n == pick:
                    shown_image = image
            self._cond.notify_all()
            if pick == self._last_shown:
                return None
            self._last_shown = pick
            self.stats.shown += 1
            return Shown(pick, shown_image)

    def wait_ready(self, n: int, timeout: float = 5.0) -> bool:
        """Block until frame ``n`` is in the read-ahead queue (tests and benchmarks)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while n not in self._queue:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
            return True

    # --- rendering (render thread) --------------------------------------------------------------
    def _choose_locked(self) -> int | None:
        """The next frame to render, or None when there is nothing to do."""
        if self._rate == 0:
            n = self._still
            return None if n in self._queue or n == self._last_shown else n
        rate = self._rate
        stride = abs(rate)
        pos = self._position_locked()
        now = math.floor(pos + 1e-9)
        stale = [n for n in self._queue if (n < now if rate > 0 else n > now)]
        for n in stale:  # passed by the clock before the UI took them: they will never show
            del self._queue[n]
            self.stats.dropped += 1
        if len(self._queue) >= self.read_ahead:
            return None
        # frames the clock moves while we render (and a margin for the UI timer); a frame is still
        # worth making if it is done before the next one on the stride grid is due
        lead = self._render_s * self._fps * stride + 0.25
        lo, hi = self._bounds()
        n = self._next
        if rate > 0:
            # the first frame on the stride grid that will still be due when it is done
            earliest = math.floor(pos + lead - stride) + 1
            if n < earliest:
                late = (earliest - n + stride - 1) // stride
                self.stats.skipped += late
                n += late * stride
            if n >= hi:
                return None
        else:
            latest = math.ceil(pos - lead + stride) - 1
            if n > latest:
                late = (n - latest + stride - 1) // stride
                self.stats.skipped += late
                n -= late * stride
            if n < lo:
                return None
        return n

    def render_step(self) -> bool:
        """Render one frame into the queue; False when there was nothing to do."""
        with self._cond:
            n = self._choose_locked()
            if n is None:
                return False
            gen, size_gen, (w, h) = self._gen, self._size_gen, self.display_size
            if self._rate:
                self._next = n + (self._rate if abs(self._rate) > 1 else (1 if self._rate > 0 else -1))
        t0 = time.perf_counter()
        try:
            image = self._source.render(n, w, h)
        except Exception:  # noqa: BLE001 - a broken frame shows black, playback goes on
            log.exception("rendering frame %d failed", n)
            image = np.zeros((h, w, 3), dtype=np.uint8)
        dt = time.perf_counter() - t0
        self.stats.render_ms.append(dt * 1000)
        if len(self.stats.render_ms) > 1000:
            del self.stats.render_ms[:500]
        with self._cond:
            if self._rate:  # sequential renders only: a seek's decode says nothing about playing
                self._render_s = 0.8 * self._render_s + 0.2 * dt
            if gen == self._gen:
                self._queue[n] = image
                self._cond.notify_all()
            elif self._rate == 0 and size_gen == self._size_gen:
                self._scrub = (n, image)
        return True

    def _run(self) -> None:
        while not self._stop:
            if not self.render_step():
                with self._cond:
                    if not self._stop:
                        self._cond.wait(0.005)
        self._source.close()

    def close(self) -> None:
        """Stop the threads and the device."""
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=5)
        else:
            self._source.close()
        if self.output is not None:
            self.output.close()
        if self.feed is not None:
            self.feed.close()
        pool = getattr(self, "_audio_pool", None)
        if pool is not None:
            pool.close()
