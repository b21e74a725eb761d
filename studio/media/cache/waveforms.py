"""Multi-resolution waveform peaks, cached per asset fingerprint.

Level 0 holds, per channel, the minimum and maximum of every ``BASE`` (256) samples at the
file's native sample rate, counted from the media start exactly as ``AudioSource`` places
them (so sample ``s`` is at ``s / sample_rate`` seconds, the mixer's clock). Level ``k``
covers ``BASE * 2**k`` samples per bin (each bin the min / max of two bins of level
``k - 1``), down to a single bin. Values are stored as int16 (min rounded down, max up, so a
peak is never drawn smaller than it is) in one compressed ``.npz``.

``load_peaks(fp, samples_per_pixel)`` returns the level whose bins are the largest not
exceeding ``samples_per_pixel`` (level 0 when zoomed in further): ``lo, hi = peaks`` as
float32 ``(channels, bins)`` in [-1, 1], with ``peaks.samples_per_bin`` and
``peaks.sample_rate`` alongside.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from studio.jobs import Job, JobContext, Priority

from ..probe import MediaError
from ._video import ERRORS, asset_fingerprint, context_or_new, reason, resolve_fingerprint, trim_quietly
from .store import CacheStore

#: Samples per bin of level 0.
BASE = 256
#: Artefact name in the store.
NAME = "peaks"
#: Samples decoded per read (a multiple of BASE).
_CHUNK = BASE * 2048
_SCALE = 32767.0
_LOADED_MAX = 8
_loaded: OrderedDict[tuple[str, str], WaveformPeaks] = OrderedDict()
_loaded_lock = threading.Lock()


class Peaks(tuple):
    """``(min, max)`` float32 arrays ``(channels, bins)``; also ``samples_per_bin``,
    ``sample_rate``, ``level`` and ``start_bin`` (the first bin's index in its level)."""

    samples_per_bin: int
    sample_rate: int
    level: int
    start_bin: int

    def __new__(cls, lo: np.ndarray, hi: np.ndarray, samples_per_bin: int, sample_rate: int, level: int,
                start_bin: int = 0):
        obj = super().__new__(cls, (lo, hi))
        obj.samples_per_bin = samples_per_bin
        obj.sample_rate = sample_rate
        obj.level = level
        obj.start_bin = start_bin
        return obj

    @property
    def min(self) -> np.ndarray:
        return self[0]

    @property
    def max(self) -> np.ndarray:
        return self[1]


@dataclass(frozen=True)
class WaveformPeaks:
    """All levels of one file's peaks (int16), as cached."""

    path: Path
    sample_rate: int
    channels: int
    samples: int  # native samples per channel
    mins: tuple[np.ndarray, ...]
    maxs: tuple[np.ndarray, ...]

    @property
    def levels(self) -> int:
        return len(self.mins)

    def samples_per_bin(self, level: int) -> int:
        return BASE << level

    def pick_level(self, samples_per_pixel: float) -> int:
        """The coarsest level whose bins are no wider than ``samples_per_pixel``."""
        level = 0
        while level + 1 < self.levels and (BASE << (level + 1)) <= samples_per_pixel:
            level += 1
        return level

    def peaks(self, samples_per_pixel: float, start: int = 0, stop: int | None = None) -> Peaks:
        """Float peaks of the picked level covering native samples ``[start, stop)``."""
        level = self.pick_level(samples_per_pixel)
        spb = BASE << level
        n = self.mins[level].shape[1]
        b0 = max(0, min(n, int(start) // spb))
        b1 = n if stop is None else max(b0, min(n, -(-int(stop) // spb)))
        lo = self.mins[level][:, b0:b1].astype(np.float32) / np.float32(_SCALE)
        hi = self.maxs[level][:, b0:b1].astype(np.float32) / np.float32(_SCALE)
        return Peaks(lo, hi, spb, self.sample_rate, level, b0)


def _levels(lo: np.ndarray, hi: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
    mins, maxs = [lo], [hi]
    while mins[-1].shape[1] > 1:
        a, b = mins[-1], maxs[-1]
        if a.shape[1] % 2:
            a = np.concatenate([a, a[:, -1:]], axis=1)
            b = np.concatenate([b, b[:, -1:]], axis=1)
        mins.append(np.minimum(a[:, 0::2], a[:, 1::2]))
        maxs.append(np.maximum(b[:, 0::2], b[:, 1::2]))
    return mins, maxs


def _quantise(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    qlo = np.clip(np.floor(lo.astype(np.float64) * _SCALE), -32768, 32767).astype(np.int16)
    qhi = np.clip(np.ceil(hi.astype(np.float64) * _SCALE), -32768, 32767).astype(np.int16)
    return qlo, qhi


def _load(art) -> WaveformPeaks | None:
    try:
        meta = art.meta
        rate, channels, samples = int(meta["sample_rate"]), int(meta["channels"]), int(meta["samples"])
        levels = int(meta["levels"])
        path = art.file("peaks")
        with np.load(path, allow_pickle=False) as data:
            mins = tuple(np.asarray(data[f"min{k}"], dtype=np.int16) for k in range(levels))
            maxs = tuple(np.asarray(data[f"max{k}"], dtype=np.int16) for k in range(levels))
    except Exception:  # a damaged file raises all sorts (KeyError, OSError, BadZipFile, zlib.error, ...)
        return None
    if levels < 1 or rate <= 0 or channels <= 0:
        return None
    for k in range(levels):
        if mins[k].ndim != 2 or mins[k].shape != maxs[k].shape or mins[k].shape[0] != channels:
            return None
        if k and mins[k].shape[1] != -(-mins[k - 1].shape[1] // 2):
            return None
    return WaveformPeaks(path, rate, channels, samples, mins, maxs)


def cached_peaks(fingerprint: str, store: CacheStore | None = None) -> WaveformPeaks | None:
    """All levels of ``fingerprint``'s cached peaks, or None (a corrupt entry is dropped)."""
    store = store if store is not None else CacheStore()
    art = store.lookup(fingerprint, NAME)
    if art is None:
        return None
    key = (str(store.root), str(art.file("peaks")) if len(art.files) == 1 else "")
    with _loaded_lock:
        hit = _loaded.get(key)
        if hit is not None:
            _loaded.move_to_end(key)
            return hit
    peaks = _load(art)
    if peaks is None:
        store.discard(fingerprint, NAME)
        return None
    with _loaded_lock:
        _loaded[key] = peaks
        while len(_loaded) > _LOADED_MAX:
            _loaded.popitem(last=False)
    return peaks


def load_peaks(fingerprint: str, samples_per_pixel: float, *, store: CacheStore | None = None, start: int = 0,
               stop: int | None = None) -> Peaks | None:
    """``(min, max)`` of the level fitting ``samples_per_pixel`` (native samples), optionally
    only the bins covering native samples ``[start, stop)``; None when not cached (yet)."""
    peaks = cached_peaks(fingerprint, store)
    return None if peaks is None else peaks.peaks(samples_per_pixel, start, stop)


def make_peaks(source_path: str | os.PathLike[str], fingerprint: str | None = None, *,
               store: CacheStore | None = None, context: JobContext | None = None) -> WaveformPeaks:
    """The peaks of ``source_path``'s first audio stream (cached, else computed and cached).
    Raises MediaError (no audio, unreadable), ``Cancelled`` when ``context`` is cancelled."""
    from ..audio import AudioSource
    from ..probe import probe

    store = store if store is not None else CacheStore()
    context = context_or_new(context)
    fingerprint = resolve_fingerprint(source_path, fingerprint)
    cached = cached_peaks(fingerprint, store)
    if cached is not None:
        context.progress(1.0, "waveform cached")
        return cached
    info = probe(source_path)
    if not info.has_audio or not info.sample_rate or not info.channels:
        raise MediaError(source_path, "no audio stream")
    rate, channels = int(info.sample_rate), int(info.channels)
    los, his = [], []
    try:
        with AudioSource(source_path, rate, channels) as src:
            total = src.duration_samples
            start = 0
            while start < total:
                context.check()
                count = min(_CHUNK, total - start)
                block = src.read(start, count)
                bins = -(-count // BASE)
                if count % BASE:  # the last partial bin: repeat its last sample (no fake zeros)
                    pad = bins * BASE - count
                    block = np.concatenate([block, np.repeat(block[:, -1:], pad, axis=1)], axis=1)
                shaped = block.reshape(channels, bins, BASE)
                lo, hi = _quantise(shaped.min(axis=2), shaped.max(axis=2))
                los.append(lo)
                his.append(hi)
                start += count
                total = src.duration_samples  # exact once the decoder has seen the end
                context.progress(start / total if total else 1.0, "waveform")
            samples = min(start, total)
    except ERRORS as exc:
        raise MediaError(source_path, reason(exc)) from exc
    context.check()
    if los:
        keep = max(1, -(-samples // BASE))
        lo, hi = np.concatenate(los, axis=1)[:, :keep], np.concatenate(his, axis=1)[:, :keep]
    else:
        lo = hi = np.zeros((channels, 1), np.int16)
    mins, maxs = _levels(lo, hi)
    meta = {"sample_rate": rate, "channels": channels, "samples": int(samples), "base": BASE, "levels": len(mins)}
    arrays = {f"min{k}": a for k, a in enumerate(mins)} | {f"max{k}": a for k, a in enumerate(maxs)}
    with store.writer(fingerprint, NAME, meta) as w:
        with open(w.temp("peaks", ".npz"), "wb") as f:
            np.savez_compressed(f, **arrays)
    context.progress(1.0, "waveform done")
    return WaveformPeaks(w.artefact.file("peaks"), rate, channels, int(samples), tuple(mins), tuple(maxs))


def waveform_job(asset, store: CacheStore | None = None) -> Job:
    """A background job (cpu=1, batch) computing ``asset``'s peaks; its result is the ``WaveformPeaks``."""
    store = store if store is not None else CacheStore()

    def run(context: JobContext) -> WaveformPeaks:
        fp = asset_fingerprint(asset)
        peaks = make_peaks(asset.path, fp, store=store, context=context)
        trim_quietly(store, fp)
        return peaks

    return Job(run, name=f"waveform: {getattr(asset, 'name', '') or os.path.basename(asset.path)}", cpu=1,
               priority=Priority.BATCH)
