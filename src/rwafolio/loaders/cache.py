"""On-disk per-symbol price cache: one parquet file per symbol, written atomically.

Location, first match wins: the ``cache_dir`` argument, the ``RWAFOLIO_CACHE_DIR`` environment
variable, ``platformdirs.user_cache_dir("rwafolio")``. Files are ``<quoted symbol>.parquet``
(``^VIX`` -> ``%5EVIX.parquet``) holding a normalised price frame (see
:class:`~rwafolio.loaders.frames.PriceData`) and a small JSON record in the parquet metadata (the
range requested so far and when it was fetched). Nothing is pickled: parquet only. Writes go to a
temporary file in the same folder, then ``os.replace`` puts it in place, so a reader never sees a
half-written file.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from rwafolio.exceptions import DataError
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


def read_cache(symbol: str, cache_dir: str | os.PathLike[str] | None = None) -> CacheEntry | None:
    """The cached frame of ``symbol`` or None when there is no (readable, non-empty) cache file."""
    path = cache_file(symbol, cache_dir)
    if not path.is_file():
        return None
    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowInvalid) as exc:
        raise DataError(f"cache file {path} is unreadable ({exc}); delete it to refetch") from exc
    raw_meta = (table.schema.metadata or {}).get(_META_KEY)
    meta = json.loads(raw_meta) if raw_meta else {}
    frame = table.to_pandas()
    if "date" in frame.columns:
        frame = frame.set_index("date")
    frame.index = pd.DatetimeIndex(frame.index, name="date")
    frame = frame[[c for c in COLUMNS if c in frame.columns]].astype(float)
    if frame.empty:
        return None
    return CacheEntry(symbol, frame, path, meta)


def write_cache(
    symbol: str,
    frame: pd.DataFrame,
    cache_dir: str | os.PathLike[str] | None = None,
    meta: dict[str, Any] | None = None,
) -> Path:
    """Write a symbol's frame atomically (temp file in the same folder, then ``os.replace``)."""
    path = cache_file(symbol, cache_dir)
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
