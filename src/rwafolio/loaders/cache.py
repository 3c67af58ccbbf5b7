"""On-disk per-symbol price cache: one parquet file per symbol, written atomically.

Location, first match wins: the ``cache_dir`` argument, the ``RWAFOLIO_CACHE_DIR`` environment
variable, ``platformdirs.user_cache_dir("rwafolio")``. Files are ``<quoted symbol>.parquet``
(``^VIX`` -> ``%5EVIX.parquet``) holding a normalised price frame (see
:class:`~rwafolio.loaders.frames.PriceData`) and a small JSON record in the parquet metadata (the
range requested so far and when it was fetched). Nothing is pickled: parquet only. Writes go to a
temporary file in the same folder, then ``os.replace`` puts it in place, so a reader never sees a
half-written file.

A cache file that cannot be read, or whose record is not valid JSON with parseable dates, raises
:class:`CacheCorruptError`; :func:`~rwafolio.loaders.yahoo.download` treats that as a miss,
refetches, and reports it. :func:`cache_lock` serialises the read-fetch-merge-write of one symbol
across threads and processes (an advisory ``flock`` on ``.<file>.lock`` beside the cache file),
so two concurrent fetches of different ranges both end up in the cache. On a platform without
``fcntl`` (Windows) the lock is a no-op.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from rwafolio.exceptions import DataError, OutputError
from rwafolio.loaders.frames import COLUMNS
from rwafolio.outputs import atomic_write

ENV_VAR = "RWAFOLIO_CACHE_DIR"
_META_KEY = b"rwafolio"


def resolve_cache_dir(cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """The cache folder: argument, else ``$RWAFOLIO_CACHE_DIR``, else the platform cache dir.

    The folder is not created here (only a write creates it).
    """
    if cache_dir is not None:
        return Path(cache_dir).expanduser()
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("rwafolio"))


def cache_file(symbol: str, cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """Path of a symbol's cache file (the symbol percent-quoted, so any ticker is a safe name)."""
    return resolve_cache_dir(cache_dir) / f"{quote(symbol, safe='-_.')}.parquet"


@dataclass(frozen=True)
class CacheEntry:
    """A cached frame and its record (``start``: earliest date requested so far; ``through``:
    latest date requested so far; ``fetched_at``: UTC time of the last successful fetch)."""

    symbol: str
    frame: pd.DataFrame
    path: Path
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def last_date(self) -> pd.Timestamp:
        return pd.Timestamp(self.frame.index[-1])


class CacheCorruptError(DataError):
    """A cache file or its record cannot be read; callers may treat it as a miss."""


def _read_meta(raw: bytes | None, path: Path) -> dict[str, Any]:
    """The cache record, checked: a JSON object whose ``start``/``through`` are dates."""
    if not raw:
        return {}
    try:
        meta = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise CacheCorruptError(f"cache file {path}: its record is not JSON ({exc})") from None
    if not isinstance(meta, dict):
        raise CacheCorruptError(f"cache file {path}: its record is not a JSON object")
    for key in ("start", "through"):
        if key in meta:
            try:
                ok = isinstance(meta[key], str) and not pd.isna(pd.Timestamp(meta[key]))
            except (ValueError, TypeError):
                ok = False
            if not ok:
                raise CacheCorruptError(
                    f"cache file {path}: record field {key!r} is not a date: {meta[key]!r}"
                )
    return meta


def read_cache(symbol: str, cache_dir: str | os.PathLike[str] | None = None) -> CacheEntry | None:
    """The cached frame of ``symbol`` or None when there is no (non-empty) cache file.

    Raises
    ------
    CacheCorruptError
        The file is not readable parquet, its record is corrupt, or its columns are not prices.
    """
    path = cache_file(symbol, cache_dir)
    if not path.is_file():
        return None
    try:
        table = pq.read_table(path)
        meta = _read_meta((table.schema.metadata or {}).get(_META_KEY), path)
        frame = table.to_pandas()
        if "date" in frame.columns:
            frame = frame.set_index("date")
        frame.index = pd.DatetimeIndex(frame.index, name="date")
        frame = frame[[c for c in COLUMNS if c in frame.columns]].astype(float)
    except CacheCorruptError:
        raise
    except (OSError, ValueError, TypeError, KeyError, pa.ArrowException) as exc:
        msg = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise CacheCorruptError(f"cache file {path} is unreadable ({msg})") from None
    if frame.empty:
        return None
    return CacheEntry(symbol, frame, path, meta)


@contextmanager
def cache_lock(
    symbols: Sequence[str], cache_dir: str | os.PathLike[str] | None = None
) -> Iterator[None]:
    """Hold an exclusive lock on each symbol's cache entry (taken in sorted order, no deadlock).

    A folder where the lock file cannot be created (read-only) is used without a lock: nothing
    can be written there either.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    with ExitStack() as stack:
        for sym in sorted(set(symbols)):
            path = cache_file(sym, cache_dir)
            fd = _open_lock(path.parent / f".{path.name}.lock")
            if fd is None:
                continue
            stack.callback(os.close, fd)
            fcntl.flock(fd, fcntl.LOCK_EX)
            stack.callback(fcntl.flock, fd, fcntl.LOCK_UN)
        yield


def _open_lock(lock: Path) -> int | None:
    """A descriptor on a regular lock file, or None (read-only folder, or something that is not
    a regular file in its place: never block on a FIFO, never follow a symlink)."""
    flags = os.O_RDWR | os.O_CREAT | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0)
    try:
        lock.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock, flags, 0o644)
    except OSError:
        return None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        return None
    return fd


def write_cache(
    symbol: str,
    frame: pd.DataFrame,
    cache_dir: str | os.PathLike[str] | None = None,
    meta: dict[str, Any] | None = None,
) -> Path:
    """Write a symbol's frame atomically (temp file in the same folder, then ``os.replace``).

    Raises
    ------
    DataError
        The cache folder or file cannot be written (read-only, a file in the folder's place...).
    """
    path = cache_file(symbol, cache_dir)
    try:
        return _write(path, symbol, frame, meta)
    except OSError as exc:
        raise DataError(f"cannot write cache file {path}: {exc.strerror or exc}") from None
    except OutputError as exc:  # e.g. a FIFO where the file should be: never replaced
        raise DataError(f"cannot write cache file {path}: {exc}") from None


def _write(path: Path, symbol: str, frame: pd.DataFrame, meta: dict[str, Any] | None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    out = frame[[c for c in COLUMNS if c in frame.columns]].astype(float).copy()
    out.index = pd.DatetimeIndex(out.index, name="date")
    table = pa.Table.from_pandas(out.reset_index(), preserve_index=False)
    record = {"symbol": symbol, **(meta or {})}
    table = table.replace_schema_metadata(
        {**(table.schema.metadata or {}), _META_KEY: json.dumps(record).encode()}
    )
    atomic_write(path, lambda fh: pq.write_table(table, fh))
    return path


def merge_frames(old: pd.DataFrame | None, new: pd.DataFrame) -> pd.DataFrame:
    """Union of two frames by date; rows of ``new`` win on dates both hold."""
    if old is None or old.empty:
        return new.sort_index()
    combined = pd.concat([old[~old.index.isin(new.index)], new])
    return combined.sort_index()
