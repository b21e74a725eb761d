"""The audio device, through sounddevice (PortAudio), with a fallback to "no device" (Qt-free).

``open_output(sample_rate, channels, callback)`` opens a float32 output stream and starts it;
``callback(out)`` is called on PortAudio's thread with ``out`` a ``(frames, channels)`` float32
array to fill (it must only copy: see ``studio.render.playback.AudioRing``). It returns None when
there is no audio: sounddevice not installed, PortAudio missing (``import sounddevice`` raises
OSError) or no usable device (``sounddevice.PortAudioError``); ``open_output_or_reason`` also says
why. The player then runs on the wall clock, silently.

``AudioOutput.peaks()`` gives the per-channel sample peak (0..1) of what was played since the
last call, for level meters.

``AudioRing`` and ``AudioFeed`` sit between the mixer and the device: the feed mixes ahead in its
own thread, the device callback only copies out of the ring.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import numpy as np

log = logging.getLogger(__name__)

#: Samples per block the feed mixes.
FEED_BLOCK = 1024

Callback = Callable[[np.ndarray], None]


def _load_sounddevice():
    import sounddevice  # noqa: PLC0415 - lazy: PortAudio is optional and loading it can fail

    return sounddevice


class AudioOutput:
    """A running output stream; ``latency`` is the device's output latency in seconds."""

    def __init__(self, sd, sample_rate: int, channels: int, callback: Callback, *, blocksize: int = 0) -> None:
        self.sample_rate = int(sample_rate)
        self.channels = int(channels)
        self._callback = callback
        self._peak_lock = threading.Lock()
        self._peaks = np.zeros(self.channels, dtype=np.float32)
        self.underflows = 0
        self.errors = 0
        self._stream = sd.OutputStream(samplerate=self.sample_rate, channels=self.channels, dtype="float32",
                                       blocksize=blocksize, callback=self._on_audio)
        self._stream.start()
        latency = getattr(self._stream, "latency", 0.0)
        self.latency = float(latency if isinstance(latency, int | float) else 0.0)

    def _on_audio(self, outdata, frames, time_info, status) -> None:  # PortAudio's thread
        if status and getattr(status, "output_underflow", False):
            self.underflows += 1
        try:
            self._callback(outdata)
        except Exception:  # noqa: BLE001 - never let an exception kill the device thread
            self.errors += 1
            outdata.fill(0)
        if frames:
            peak = np.abs(outdata).max(axis=0)
            with self._peak_lock:
                np.maximum(self._peaks, peak, out=self._peaks)

    def peaks(self) -> np.ndarray:
        """Per-channel peak since the last call (and reset)."""
        with self._peak_lock:
            out = self._peaks.copy()
            self._peaks[:] = 0
        return out

    def close(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            try:
                stream.stop()
                stream.close()
            except Exception as exc:  # noqa: BLE001 - closing a dead device must not raise
                log.debug("closing audio stream: %s", exc)


def open_output_or_reason(sample_rate: int, channels: int, callback: Callback, *,
                          blocksize: int = 0) -> tuple[AudioOutput | None, str]:
    """``(output, "")`` or ``(None, reason)`` when there is no usable audio device."""
    try:
        sd = _load_sounddevice()
    except OSError as exc:  # PortAudio library not found
        return None, f"PortAudio is not available: {exc}"
    except ImportError as exc:
        return None, f"sounddevice is not installed: {exc}"
    errors: tuple[type[BaseException], ...] = (getattr(sd, "PortAudioError", OSError), ValueError, OSError)
    try:
        return AudioOutput(sd, sample_rate, channels, callback, blocksize=blocksize), ""
    except errors as exc:
        return None, f"no audio output device: {exc}"


def open_output(sample_rate: int, channels: int, callback: Callback, *, blocksize: int = 0) -> AudioOutput | None:
    """A started ``AudioOutput``, or None when there is no audio (see ``open_output_or_reason``)."""
    output, reason = open_output_or_reason(sample_rate, channels, callback, blocksize=blocksize)
    if output is None:
        log.info("playing without sound: %s", reason)
    return output


# --- ring and feed ------------------------------------------------------------------------------------
class AudioRing:
    """Samples ``[start, end)`` of the sequence waiting for the device, ``(n, channels)`` float32.

    The feed ``write``s at ``end``, the device callback ``read``s from ``start`` (copy only).
    ``reset(position)`` flushes (a seek); a write made for an older reset (``epoch``) is dropped.
    """

    def __init__(self, channels: int, capacity: int) -> None:
        self.channels = int(channels)
        self.capacity = int(capacity)
        self._buf = np.zeros((self.capacity, self.channels), dtype=np.float32)
        self._lock = threading.Lock()
        self.start = 0  # sequence sample of the next sample to be played
        self.end = 0  # one past the last sample written
        self.epoch = 0
        self.active = False  # False: the callback plays silence and takes nothing
        self.underruns = 0

    def reset(self, position: int, active: bool = True) -> int:
        with self._lock:
            self.start = self.end = int(position)
            self.epoch += 1
            self.active = active
            return self.epoch

    def stop(self) -> None:
        with self._lock:
            self.active = False
            self.epoch += 1
            self.end = self.start

    def space(self) -> int:
        with self._lock:
            return self.capacity - (self.end - self.start)

    def write(self, block: np.ndarray, epoch: int) -> int:
        """Append ``block`` (``(channels, n)`` as the mixer gives it); returns samples taken."""
        with self._lock:
            if epoch != self.epoch:
                return 0
            n = min(block.shape[1], self.capacity - (self.end - self.start))
            i = self.end % self.capacity
            first = min(n, self.capacity - i)
            self._buf[i : i + first] = block[:, :first].T
            if n > first:
                self._buf[: n - first] = block[:, first:n].T
            self.end += n
            return n

    def read(self, out: np.ndarray) -> int:
        """Fill ``out`` ``(frames, channels)``; returns samples copied (the rest is silence)."""
        with self._lock:
            if not self.active:
                out.fill(0)
                return 0
            n = min(len(out), self.end - self.start)
            i = self.start % self.capacity
            first = min(n, self.capacity - i)
            out[:first] = self._buf[i : i + first]
            if n > first:
                out[first:n] = self._buf[: n - first]
            if n < len(out):
                out[n:] = 0
                self.underruns += 1
            self.start += n
            return n


class AudioFeed:
    """A thread that keeps ``ring`` filled with ``mix(start, count)`` blocks ahead of the device."""

    def __init__(self, mix: Callable[[int, int], np.ndarray], ring: AudioRing, *, block: int = FEED_BLOCK,
                 start_thread: bool = True) -> None:
        self.mix = mix
        self.ring = ring
        self.block = block
        self.errors = 0
        self._wake = threading.Event()
        self._stop = False
        self._thread = None
        if start_thread:
            self._thread = threading.Thread(target=self._run, name="audio-feed", daemon=True)
            self._thread.start()

    def start(self, position: int) -> None:
        """Flush and feed from sequence sample ``position``."""
        self.ring.reset(position, active=True)
        self._wake.set()

    def stop(self) -> None:
        self.ring.stop()

    def fill(self) -> bool:
        """Mix one block into the ring if it is active and has room; False when nothing was done."""
        ring = self.ring
        with ring._lock:
            active, epoch, end, space = ring.active, ring.epoch, ring.end, ring.capacity - (ring.end - ring.start)
        if not active or space < self.block:
            return False
        try:
            block = self.mix(end, self.block)
        except Exception as exc:  # noqa: BLE001 - a broken source plays as silence, never kills the feed
            self.errors += 1
            if self.errors == 1:
                log.warning("audio mix failed, playing silence: %s", exc)
            block = np.zeros((ring.channels, self.block), dtype=np.float32)
        ring.write(block, epoch)
        return True

    def _run(self) -> None:
        while not self._stop:
            if not self.fill():
                self._wake.wait(0.01)
                self._wake.clear()

    def close(self) -> None:
        self._stop = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
