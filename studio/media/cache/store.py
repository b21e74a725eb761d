"""The on-disk media cache: one folder per asset fingerprint, atomic artefacts, LRU trimming.

Layout under ``root`` (``SHOTLINE_CACHE_DIR``, else ``<user cache dir>/shotline-studio/media``)::

    <key>/                      key: the fingerprint made file-name safe ("123:abc" -> "123-abc")
        .used                   touched when the entry is read (least-recently-used order)
        <name>.json             an artefact's manifest: the commit point
        <name>.<token>.<ext>    the artefact's data files, named by the manifest
        .tmp-<token>-<file>     files being written (removed on failure, swept by ``trim``)

An artefact (``"proxy-540"``, ``"peaks"``, ...) is written through ``store.writer(fp, name)``:
data goes to temp files, which are renamed to fresh unique names; the manifest (listing the
files with their sizes, plus free-form ``meta``) is written last, also as temp + rename.
A reader therefore sees either the old artefact, the new one, or none - never half of one -
and no file that someone may still have open (a proxy being played) is ever overwritten.

``lookup`` returns None for anything that is not a complete artefact (no or unreadable
manifest, other version, missing file, wrong size); callers then rebuild it. Loaders that
find a file corrupt in spite of that call ``discard`` and rebuild. Nothing here raises for
a damaged cache; only failing to *write* (disk full, read-only folder) raises ``OSError``.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

#: Environment variable naming the cache root (the folder that holds one folder per fingerprint).
CACHE_ENV = "SHOTLINE_CACHE_DIR"
#: Manifest format; a manifest of any other version is treated as missing.
VERSION = 1
#: Default size budget of ``trim()`` without an argument.
DEFAULT_MAX_BYTES = 20 * 1024**3
#: Temp files younger than this are someone's write in progress; ``trim`` leaves them alone.
STALE_TEMP_SECONDS = 6 * 3600
#: ``.used`` is rewritten at most this often per entry (lookups happen per frame).
_TOUCH_INTERVAL = 30.0
_TEMP_PREFIX = ".tmp-"
_USED = ".used"
_SAFE = re.compile(r"[^A-Za-z0-9._-]")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def default_root() -> Path:
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_cache_dir("shotline-studio")) / "media"


def cache_key(fingerprint: str) -> str:
    """A folder name for ``fingerprint``: ``:`` becomes ``-``; anything else unsafe is replaced
    and a short hash of the original keeps distinct fingerprints apart."""
    if not fingerprint:
        raise ValueError("empty fingerprint")
    plain = fingerprint.replace(":", "-")
    safe = _SAFE.sub("_", plain)
    if safe != plain or safe.startswith("."):
        import hashlib

        safe = "x" + safe.lstrip(".")[:64] + "-" + hashlib.sha256(fingerprint.encode()).hexdigest()[:12]
    return safe


@dataclass(frozen=True)
class Artefact:
    """A complete cached artefact: its data files by logical name, and its meta data."""

    fingerprint: str
    name: str
    files: dict[str, Path]
    meta: dict[str, Any]

    def file(self, logical: str | None = None) -> Path:
        """The path of data file ``logical`` (the only one when omitted)."""
        if logical is None:
            if len(self.files) != 1:
                raise KeyError(f"artefact {self.name!r} has {len(self.files)} files: name one")
            return next(iter(self.files.values()))
        return self.files[logical]


@dataclass(frozen=True)
class EntryInfo:
    """One fingerprint's folder: its key, total size on disk, and when it was last used."""

    key: str
    path: Path
    size: int
    last_used: float


@dataclass
class ArtefactWriter:
    """Collects an artefact's files while they are written; see ``CacheStore.writer``."""

    store: CacheStore
    fingerprint: str
    name: str
    meta: dict[str, Any] = field(default_factory=dict)
    #: The committed artefact, once the ``with`` block has ended cleanly.
    artefact: Artefact | None = None
    _temps: dict[str, tuple[Path, str]] = field(default_factory=dict)

    def temp(self, logical: str, suffix: str) -> Path:
        """A fresh temp path to write data file ``logical`` (extension ``suffix``, e.g. ``".mp4"``)."""
        if not _NAME.match(logical) or "/" in suffix or (suffix and not suffix.startswith(".")):
            raise ValueError(f"bad file name {logical!r}{suffix!r}")
        if logical in self._temps:
            return self._temps[logical][0]
        folder = self.store.entry_dir(self.fingerprint)
        folder.mkdir(parents=True, exist_ok=True)
        token = uuid.uuid4().hex[:12]
        final = f"{self.name}.{logical}.{token}{suffix}"
        path = folder / f"{_TEMP_PREFIX}{token}-{final}"
        self._temps[logical] = (path, final)
        return path

    def _discard_temps(self) -> None:
        for path, _ in self._temps.values():
            _unlink(path)
        self._temps.clear()

    def _commit(self) -> Artefact:
        folder = self.store.entry_dir(self.fingerprint)
        files: dict[str, dict[str, Any]] = {}
        for logical, (temp, _final) in self._temps.items():
            if not temp.is_file():
                raise FileNotFoundError(f"cache file {logical!r} of {self.name!r} was never written")
            _fsync(temp)
        old = self.store.lookup(self.fingerprint, self.name, touch=False)
        # invalidate the old artefact first, so no reader pairs its manifest with new files
        _unlink(self.store._manifest(self.fingerprint, self.name))
        for logical, (temp, final) in self._temps.items():
            os.replace(temp, folder / final)
            with contextlib.suppress(OSError):  # fresh, so a concurrent trim sees a commit in progress
                os.utime(folder / final)
            files[logical] = {"file": final, "size": (folder / final).stat().st_size}
        self._temps.clear()
        manifest = {"version": VERSION, "fingerprint": self.fingerprint, "name": self.name,
                    "created": time.time(), "files": files, "meta": self.meta}
        self.store._write_json(self.store._manifest(self.fingerprint, self.name), manifest)
        self.store._touch(folder, force=True)
        if old is not None:  # the superseded data files (may fail on Windows while open: trim sweeps them)
            for path in old.files.values():
                if path.name not in {f["file"] for f in files.values()}:
                    _unlink(path)
        art = self.store.lookup(self.fingerprint, self.name, touch=False)
        if art is None:  # pragma: no cover - only if someone removed it under our feet
            raise OSError(f"cache artefact {self.name!r} vanished after writing")
        return art


class CacheStore:
    """Artefacts keyed by (fingerprint, name) under ``root``; see the module docstring.

    ``max_bytes`` is the budget ``trim()`` enforces when called without an argument.
    """

    def __init__(self, root: str | os.PathLike[str] | None = None, *, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.root = Path(root).expanduser() if root is not None else default_root()
        self.max_bytes = int(max_bytes)
        self._touched: dict[Path, float] = {}

    def __repr__(self) -> str:
        return f"CacheStore({str(self.root)!r})"

    # --- paths ----------------------------------------------------------------------------
    def entry_dir(self, fingerprint: str) -> Path:
        return self.root / cache_key(fingerprint)

    def _manifest(self, fingerprint: str, name: str) -> Path:
        if not _NAME.match(name):
            raise ValueError(f"bad artefact name {name!r}")
        return self.entry_dir(fingerprint) / f"{name}.json"

    # --- reading --------------------------------------------------------------------------
    def lookup(self, fingerprint: str, name: str, *, touch: bool = True) -> Artefact | None:
        """The complete artefact ``name`` of ``fingerprint``, or None (missing, partial, corrupt)."""
        try:
            path = self._manifest(fingerprint, name)
            with open(path, encoding="utf-8") as f:
                manifest = json.load(f)
            if not isinstance(manifest, dict) or manifest.get("version") != VERSION:
                return None
            if manifest.get("fingerprint") != fingerprint or manifest.get("name") != name:
                return None
            folder = path.parent
            files: dict[str, Path] = {}
            for logical, entry in dict(manifest["files"]).items():
                final = str(entry["file"])
                if not _NAME.match(final):
                    return None
                data = folder / final
                if data.stat().st_size != int(entry["size"]):
                    return None
                files[str(logical)] = data
            meta = manifest.get("meta", {})
            if not isinstance(meta, dict):
                return None
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            return None
        if touch:
            self._touch(path.parent)
        return Artefact(fingerprint, name, files, meta)

    # --- writing --------------------------------------------------------------------------
    @contextlib.contextmanager
    def writer(self, fingerprint: str, name: str, meta: dict[str, Any] | None = None) -> Iterator[ArtefactWriter]:
        """``with store.writer(fp, name) as w: write to w.temp("data", ".npz"); w.meta[...] = ...``

        On a clean exit the artefact is committed (and returned by ``w.artefact``); on any
        exception (``Cancelled`` included) the temp files are removed and the old artefact,
        if any, is left as it was.
        """
        self._manifest(fingerprint, name)  # validates the name
        w = ArtefactWriter(self, fingerprint, name, dict(meta or {}))
        try:
            yield w
        except BaseException:
            w._discard_temps()
            raise
        try:
            w.artefact = w._commit()
        except BaseException:
            w._discard_temps()
            raise

    def put_bytes(self, fingerprint: str, name: str, data: bytes, *, suffix: str = "",
                  meta: dict[str, Any] | None = None) -> Artefact:
        """Store one file of ``data`` as artefact ``name``."""
        with self.writer(fingerprint, name, meta) as w:
            with open(w.temp("data", suffix), "wb") as f:
                f.write(data)
        assert w.artefact is not None
        return w.artefact

    def discard(self, fingerprint: str, name: str) -> None:
        """Remove artefact ``name`` (e.g. found corrupt by its loader); missing is fine."""
        art = self.lookup(fingerprint, name, touch=False)
        try:
            _unlink(self._manifest(fingerprint, name))
        except ValueError:
            return
        if art is not None:
            for path in art.files.values():
                _unlink(path)

    def remove(self, fingerprint: str) -> None:
        """Remove everything cached for ``fingerprint``."""
        shutil.rmtree(self.entry_dir(fingerprint), ignore_errors=True)

    def clear(self) -> None:
        """Remove every entry (the root folder stays)."""
        for entry in self._entry_dirs():
            shutil.rmtree(entry, ignore_errors=True)

    # --- size and LRU ---------------------------------------------------------------------
    def entries(self) -> list[EntryInfo]:
        """Every fingerprint folder, least recently used first."""
        out = []
        for folder in self._entry_dirs():
            size, newest = 0, 0.0
            try:
                for child in folder.iterdir():
                    try:
                        st = child.stat()
                    except OSError:
                        continue
                    if child.is_file():
                        size += st.st_size
                    if child.name == _USED or child.suffix == ".json":
                        newest = max(newest, st.st_mtime)
                if not newest:
                    newest = folder.stat().st_mtime
            except OSError:
                continue
            out.append(EntryInfo(folder.name, folder, size, newest))
        out.sort(key=lambda e: (e.last_used, e.key))
        return out

    def total_bytes(self) -> int:
        return sum(e.size for e in self.entries())

    def trim(self, max_bytes: int | None = None, *, keep: Iterable[str] = ()) -> int:
        """Sweep stale temp and orphaned files, then remove least recently used entries until
        the cache holds at most ``max_bytes`` (default: the store's budget). Entries of the
        fingerprints in ``keep`` (e.g. the open project's) and entries being written are never
        removed. Returns the bytes freed."""
        limit = self.max_bytes if max_bytes is None else int(max_bytes)
        kept = {cache_key(fp) for fp in keep}
        freed = 0
        for entry in self.entries():
            freed += self._sweep(entry.path)
        entries = self.entries()
        total = sum(e.size for e in entries)
        for entry in entries:
            if total <= limit:
                break
            if entry.key in kept or self._busy(entry.path):
                continue
            shutil.rmtree(entry.path, ignore_errors=True)
            self._touched.pop(entry.path, None)
            if not entry.path.exists():
                total -= entry.size
                freed += entry.size
        return freed

    # --- internals ------------------------------------------------------------------------
    def _entry_dirs(self) -> list[Path]:
        try:
            return [p for p in self.root.iterdir() if p.is_dir() and not p.name.startswith(".")]
        except OSError:
            return []

    def _touch(self, folder: Path, force: bool = False) -> None:
        now = time.time()
        if not force and now - self._touched.get(folder, 0.0) < _TOUCH_INTERVAL:
            return
        self._touched[folder] = now
        used = folder / _USED
        try:
            used.touch(exist_ok=True)
            os.utime(used, (now, now))
        except OSError:
            pass  # a read-only cache still serves what it holds

    def _busy(self, folder: Path) -> bool:
        """Whether someone is writing into ``folder`` (a recent temp file)."""
        now = time.time()
        try:
            for child in folder.iterdir():
                if child.name.startswith(_TEMP_PREFIX):
                    with contextlib.suppress(OSError):
                        if now - child.stat().st_mtime < STALE_TEMP_SECONDS:
                            return True
        except OSError:
            return False
        return False

    def _sweep(self, folder: Path) -> int:
        """Remove stale temp files and data files no manifest names; returns bytes freed."""
        now = time.time()
        referenced: set[str] = set()
        try:
            children = list(folder.iterdir())
        except OSError:
            return 0
        for child in children:
            if child.suffix == ".json" and not child.name.startswith(_TEMP_PREFIX):
                try:
                    with open(child, encoding="utf-8") as f:
                        manifest = json.load(f)
                    referenced.update(str(e["file"]) for e in manifest["files"].values())
                except (OSError, ValueError, TypeError, KeyError, AttributeError):
                    pass
        freed = 0
        for child in children:
            name = child.name
            if name == _USED or (child.suffix == ".json" and not name.startswith(_TEMP_PREFIX)):
                continue
            if name in referenced:
                continue
            try:
                st = child.stat()
            except OSError:
                continue
            # fresh files may be a commit in progress (renamed, manifest not yet written)
            if now - st.st_mtime < (STALE_TEMP_SECONDS if name.startswith(_TEMP_PREFIX) else 60.0):
                continue
            if child.is_file() and _unlink(child):
                freed += st.st_size
        return freed

    def _write_json(self, path: Path, data: dict) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = path.with_name(f"{_TEMP_PREFIX}{uuid.uuid4().hex[:12]}-{path.name}")
        try:
            with open(temp, "w", encoding="utf-8") as f:
                json.dump(data, f, indent=1, sort_keys=True)
                f.flush()
                os.fsync(f.fileno())
            os.replace(temp, path)
        except BaseException:
            _unlink(temp)
            raise


def _fsync(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _unlink(path: Path) -> bool:
    try:
        os.unlink(path)
        return True
    except FileNotFoundError:
        return True
    except OSError:
        return False
