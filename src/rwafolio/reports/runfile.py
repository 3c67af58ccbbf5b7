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

A run file is data, and reading one is safe on untrusted files (:func:`load_run`):

- JSON and parquet only, never pickle; the zip holds nothing but the members above (at most
  :data:`MAX_MEMBERS`, :data:`MAX_TOTAL_BYTES` uncompressed in all, checked before anything is
  decompressed, and every read is bounded by the size the zip declares);
- the manifest has exactly the keys above; ``meta``'s known keys have their types; table names
  are lower-case identifiers and each table's member is ``tables/<name>.parquet``;
- parquet columns are numbers, booleans, timestamps or strings, at most :data:`MAX_CELLS` cells
  and :data:`MAX_TOTAL_BYTES` of string data in all, measured before strings are expanded;
- an extra section is one of :data:`RUN_SECTION_KINDS` (no raw HTML: a ``text`` section is
  escaped like every other string), and a figure passes
  :func:`~rwafolio.reports.figure_guard.sanitize_figure` (no URLs, no map or image traces);
- anything else is a :class:`~rwafolio.exceptions.RunFileError` naming what is wrong.

Every string of a run file reaches the report through jinja2's autoescape or the figures'
escaping, and the report's Content-Security-Policy forbids network access and any script but
its own, so even a case these checks miss can neither fetch nor run anything.
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

from rwafolio.exceptions import ConfigError, RunFileError, RwafolioError
from rwafolio.outputs import RUN_MARKER, atomic_write
from rwafolio.reports._runfile_read import (
    FORMAT,
    MAX_CELLS,
    MAX_MEMBERS,
    MAX_TOTAL_BYTES,
    RUN_SECTION_KINDS,
    VERSION,
    read_run,
)
from rwafolio.reports.record import RunRecord, collect

_TABLE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
__all__ = [
    "FORMAT", "MAX_CELLS", "MAX_MEMBERS", "MAX_TOTAL_BYTES", "RUN_SECTION_KINDS", "VERSION",
    "load_run", "render_run_file", "save_run",
]  # fmt: skip


def _parquet_bytes(df: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    df.to_parquet(buf, engine="pyarrow")
    return buf.getvalue()


def record_to_zip(record: RunRecord, fh: IO[bytes]) -> None:
    """Write ``record`` as a run file to the binary stream ``fh``."""
    tables: dict[str, str] = {}
    extra: list[dict[str, Any]] = []
    with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.comment = RUN_MARKER
        for name, df in record.tables.items():
            if not _TABLE_NAME.match(name):
                raise ConfigError(f"table name {name!r} is not a valid run-file table name")
            member = f"tables/{name}.parquet"
            zf.writestr(member, _parquet_bytes(df))
            tables[name] = member
        for i, s in enumerate(record.extra_sections):
            if s.kind not in RUN_SECTION_KINDS:
                raise ConfigError(
                    f"extra section {s.title!r} is {s.kind!r}; a run file carries data only "
                    f"({', '.join(RUN_SECTION_KINDS)}), so give it as text, a table or a figure"
                )
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


def load_run(path: str | os.PathLike[str]) -> RunRecord:
    """Read a run file written by :func:`save_run` (safe on untrusted files; see the module).

    Raises
    ------
    RunFileError
        If the file is missing, not a zip, not a rwafolio run, of an unknown version, over a
        limit, or malformed in any way; the message names the member or key.
    """
    return read_run(Path(path))


def render_run_file(
    run: str | os.PathLike[str], *, path: str | os.PathLike[str], title: str | None = None
) -> Path:
    """Re-render the report of the run file ``run`` to ``path`` (``rwafolio report``).

    A run that passes :func:`load_run` but whose tables are not what the report draws (a
    well-formed table with the wrong columns, say) is a :class:`RunFileError` too.

    Raises
    ------
    RunFileError
        If the run file is malformed in any way.
    """
    from rwafolio.reports.render import render_html

    record = load_run(run)
    try:
        return render_html(record, path=path, title=title)
    except RwafolioError:
        raise
    except (KeyError, TypeError, ValueError, IndexError, AttributeError, ArithmeticError) as err:
        lines = str(err).strip().splitlines()
        raise RunFileError(
            f"run file {str(run)!r} is malformed: drawing its report failed "
            f"({type(err).__name__}: {lines[0][:120] if lines else ''})"
        ) from err
