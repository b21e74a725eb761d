"""Sample-bank foley: CC0 recordings from ``resources/foley`` (see its ATTRIBUTION.md).

Files are named ``<kind>_<name>.flac|wav`` with the transient at sample 0. Per event a
generator seeded from the event's index and kind picks a file of that kind and varies pitch
(+-1.5 semitones, by resampling), gain and brightness (a gentle low-pass), so
repeated hits never sound identical. Kinds without files fall back to the synth source.
"""

from __future__ import annotations

import os
import zlib
from pathlib import Path

import numpy as np

from studio.core.errors import StudioError

from ..events import Event
from .base import Sound
from .synth import spectral_filter

BANK_ENV = "SHOTLINE_FOLEY_BANK"


def bank_dir() -> Path:
    """$SHOTLINE_FOLEY_BANK, else ``resources/foley`` beside the ``studio`` package."""
    env = os.environ.get(BANK_ENV)
    if env:
        return Path(env)
    import studio

    return Path(studio.__file__).resolve().parent.parent / "resources" / "foley"


def _read_mono(path: Path, sample_rate: int) -> np.ndarray:
    import av

    with av.open(str(path)) as c:
        r = av.AudioResampler(format="flt", layout="mono", rate=sample_rate)
        chunks = [f.to_ndarray().reshape(-1) for fr in c.decode(audio=0) for f in r.resample(fr)]
        chunks += [f.to_ndarray().reshape(-1) for f in r.resample(None)]
    return np.concatenate(chunks).astype(np.float32) if chunks else np.zeros(0, np.float32)


class BankSource:
    name = "bank"

    def __init__(self, folder: str | os.PathLike[str] | None = None) -> None:
        self.folder = Path(folder) if folder else bank_dir()
        self.files: dict[str, list[Path]] = {}
        if self.folder.is_dir():
            for p in sorted(self.folder.iterdir()):
                if p.suffix.lower() in (".flac", ".wav") and "_" in p.stem:
                    self.files.setdefault(p.stem.split("_", 1)[0], []).append(p)
        if not self.files:
            raise StudioError(f"no foley sound bank in {str(self.folder)!r}")
        self._cache: dict[tuple[Path, int], np.ndarray] = {}
        self._synth = None

    def _load(self, path: Path, sample_rate: int) -> np.ndarray:
        key = (path, sample_rate)
        if key not in self._cache:
            self._cache[key] = _read_mono(path, sample_rate)
        return self._cache[key]

    def render(self, event: Event, index: int, *, sample_rate: int, prompt: str = "") -> Sound | None:
        files = self.files.get(event.kind)
        if not files:
            if self._synth is None:
                from .synth import SynthSource

                self._synth = SynthSource()
            return self._synth.render(event, index, sample_rate=sample_rate, prompt=prompt)
        rng = np.random.default_rng(zlib.crc32(f"bank:{event.kind}:{index}".encode()))
        path = files[int(rng.integers(len(files)))]
        x = self._load(path, sample_rate)
        ratio = 2 ** (rng.uniform(-1.5, 1.5) / 12)  # >1: higher and shorter
        pos = np.arange(0, len(x) - 1, ratio)
        y = np.interp(pos, np.arange(len(x)), x)
        cutoff = rng.uniform(3000.0, 16000.0)  # gentle low-pass: some hits duller than others
        if cutoff < sample_rate * 0.45:
            y = spectral_filter(y, sample_rate, hi=cutoff)
        y = y * rng.uniform(0.8, 1.0) * (0.5 + 0.5 * event.strength)
        return Sound(y.astype(np.float32), sample_rate, 0, f"{event.kind}-{index + 1:03d}-{path.stem}")
