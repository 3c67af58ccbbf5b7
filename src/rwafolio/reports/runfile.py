"""Saved runs: one zip file of parquet tables and JSON metadata (never pickle).

Layout of a run file (format ``rwafolio-run``, version 1)::

    manifest.json            {"format": "rwafolio-run", "version": 1, "meta": {...},
                              "tables": {"values": "tables/values.parquet", ...},
                              "extra_sections": [{"title", "kind", "note", "content" | "table"}]}
    tables/<name>.parquet    one per table of the RunRecord (see rwafolio.reports.record)
    extra/<i>.parquet        DataFrame content of extra section i

``meta`` holds what reproduces the run: every strategy parameter, the data source, calendar
policy and date range, the loader's metadata (e.g. the synthetic generator's seed), forecast
and scenario seeds, and package versions. The panel's prices, tradable mask and volatility
index are saved too, so :meth:`~rwafolio.reports.record.RunRecord.rebuild_panel` gives back the
exact data even when the source (a file, yfinance) has changed since.

Reading is safe on untrusted files: JSON and parquet only, no unpickling; members are read by
the names the manifest lists and only if they match the layout above; sizes are bounded.
``rwafolio report RUN --out report.html`` re-renders from these tables without re-running
the backtest.
"""

from __future__ import annotations

import io
import json
import os
import re
import zipfile
from pathlib import Path
from typing import IO, Any

import pandas as pd

from rwafolio.exceptions import ConfigError, DataError
from rwafolio.reports.record import RunRecord, collect
from rwafolio.reports.render import atomic_write
from rwafolio.reports.sections import ExtraSection

FORMAT = "rwafolio-run"
VERSION = 1
#: Largest uncompressed member accepted when reading (bytes).
MAX_MEMBER_BYTES = 1 << 30
_TABLE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


def _parquet_bytes(df: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    df.to_parquet(buf, engine="pyarrow")
    return buf.getvalue()


def record_to_zip(record: RunRecord, fh: IO[bytes]) -> None:
    """Write ``record`` as a run file to the binary stream ``fh``."""
    tables: dict[str, str] = {}
    extra: list[dict[str, Any]] = []
    with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, df in record.tables.items():
            if not _TABLE_NAME.match(name):
                raise ConfigError(f"table name {name!r} is not a valid run-file table name")
            member = f"tables/{name}.parquet"
            zf.writestr(member, _parquet_bytes(df))
            tables[name] = member
        for i, s in enumerate(record.extra_sections):
            entry: dict[str, Any] = {"title": s.title, "kind": s.kind, "note": s.note}
            if isinstance(s.content, pd.DataFrame):
                entry["table"] = f"extra/{i}.parquet"
                zf.writestr(entry["table"], _parquet_bytes(s.content))
            else:
                entry["content"] = s.content
            extra.append(entry)
        manifest = {
            "format": FORMAT,
            "version": VERSION,
            "meta": dict(record.meta),
            "tables": tables,
            "extra_sections": extra,
        }
        zf.writestr("manifest.json", json.dumps(manifest, indent=1, allow_nan=False))


def save_run(
    path: str | os.PathLike[str],
    result: Any,
    forecasts: Any = None,
    walkforward: Any = None,
    *,
    benchmarks: Any = None,
    crowding: Any = None,
    scenario: Any = None,
    extra_sections: Any = None,
    alpha: float = 0.05,
) -> Path:
    """Save a run (results plus forecasts) to one zip file, atomically.

    Parameters
    ----------
    path : str or PathLike
        Target file (``.zip`` suggested); its folder must exist.
    result : BacktestResult or RunRecord
    forecasts, walkforward, benchmarks, crowding, scenario, extra_sections, alpha
        As in :func:`rwafolio.reports.render_html`.

    Returns
    -------
    Path
    """
    if isinstance(result, RunRecord):
        record = result
    else:
        record = collect(
            result, forecasts, walkforward, benchmarks=benchmarks, crowding=crowding,
            scenario=scenario, extra_sections=extra_sections, alpha=alpha,
        )  # fmt: skip
    return atomic_write(path, lambda fh: record_to_zip(record, fh))


def _read_member(zf: zipfile.ZipFile, name: str, pattern: str) -> bytes:
    if not re.fullmatch(pattern, name):
        raise DataError(f"run file lists an unexpected member {name!r}")
    try:
        info = zf.getinfo(name)
    except KeyError:
        raise DataError(f"run file is missing its member {name!r}") from None
    if info.file_size > MAX_MEMBER_BYTES:
        raise DataError(f"run file member {name!r} is too large ({info.file_size} bytes)")
    return zf.read(info)


def load_run(path: str | os.PathLike[str]) -> RunRecord:
    """Read a run file written by :func:`save_run`.

    Raises
    ------
    DataError
        If the file is not a zip, not a rwafolio run, of an unknown version, or malformed.
    """
    p = Path(path)
    if not p.is_file():
        raise DataError(f"`path` {str(p)!r} is not a file")
    try:
        zf = zipfile.ZipFile(p, "r")
    except zipfile.BadZipFile as err:
        raise DataError(f"`path` {str(p)!r} is not a rwafolio run file (not a zip)") from err
    with zf:
        try:
            manifest = json.loads(_read_member(zf, "manifest.json", r"manifest\.json"))
        except json.JSONDecodeError as err:
            raise DataError(f"run file {str(p)!r} has an unreadable manifest: {err}") from err
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise DataError(f"`path` {str(p)!r} is not a rwafolio run file")
        if manifest.get("version") != VERSION:
            raise DataError(
                f"run file {str(p)!r} has format version {manifest.get('version')!r}; this "
                f"rwafolio reads version {VERSION}"
            )
        tables: dict[str, pd.DataFrame] = {}
        for name, member in dict(manifest.get("tables", {})).items():
            if not _TABLE_NAME.match(str(name)):
                raise DataError(f"run file has an invalid table name {name!r}")
            raw = _read_member(zf, str(member), rf"tables/{re.escape(str(name))}\.parquet")
            tables[str(name)] = pd.read_parquet(io.BytesIO(raw), engine="pyarrow")
        extra = []
        for i, e in enumerate(manifest.get("extra_sections", [])):
            if "table" in e:
                raw = _read_member(zf, str(e["table"]), rf"extra/{i}\.parquet")
                content: str | pd.DataFrame = pd.read_parquet(io.BytesIO(raw), engine="pyarrow")
            else:
                content = str(e.get("content", ""))
            extra.append(ExtraSection(str(e["title"]), e["kind"], content, str(e.get("note", ""))))
    meta = manifest.get("meta")
    if not isinstance(meta, dict):
        raise DataError(f"run file {str(p)!r} has no metadata")
    for key in ("values", "stats", "weights", "flows", "decisions", "skipped"):
        if key not in tables:
            raise DataError(f"run file {str(p)!r} lacks the required table {key!r}")
    return RunRecord(meta=meta, tables=tables, extra_sections=tuple(extra))
