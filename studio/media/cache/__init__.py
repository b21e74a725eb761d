"""On-disk caches keyed by asset fingerprint: thumbnail filmstrips, waveform peaks, proxies.

Everything is made by background jobs (``filmstrip_job``, ``waveform_job``, ``proxy_job``:
cpu=1, batch priority) that the editor and the CLI run through ``studio.jobs.Scheduler``;
the same functions run inline with a hand-made ``JobContext``. Preview may decode proxies
(``Compositor(..., proxies=proxy_resolver(store))``); export always reads the originals.
"""

from .proxies import GOP, PROXY_HEIGHT, make_proxy, proxy_job, proxy_path, proxy_resolver, proxy_size
from .store import CACHE_ENV, Artefact, CacheStore, EntryInfo, cache_key, default_root
from .thumbnails import Filmstrip, cached_filmstrip, filmstrip, filmstrip_job
from .waveforms import BASE, Peaks, WaveformPeaks, cached_peaks, load_peaks, make_peaks, waveform_job

__all__ = [
    "BASE", "CACHE_ENV", "GOP", "PROXY_HEIGHT", "Artefact", "CacheStore", "EntryInfo", "Filmstrip", "Peaks",
    "WaveformPeaks", "cache_key", "cached_filmstrip", "cached_peaks", "default_root", "filmstrip", "filmstrip_job",
    "load_peaks", "make_peaks", "make_proxy", "proxy_job", "proxy_path", "proxy_resolver", "proxy_size",
    "waveform_job",
]
