"""The strict reader of run files (see :mod:`rwafolio.reports.runfile` for the format and rules).

Every check raises :class:`~rwafolio.exceptions.RunFileError` naming the file and what is wrong;
no other exception escapes :func:`read_run` for any content of the file.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from rwafolio.exceptions import ConfigError, RunFileError
from rwafolio.outputs import RUN_MARKER
from rwafolio.reports.record import RunRecord
from rwafolio.reports.sections import ExtraSection

FORMAT = RUN_MARKER.decode()
VERSION = 1
#: Most members a run file may hold.
MAX_MEMBERS = 512
#: Most bytes a run file may hold uncompressed, all members together (and of string data).
MAX_TOTAL_BYTES = 512 << 20
#: Most table cells (rows x columns) a run file may hold, all tables together.
MAX_CELLS = 64_000_000
#: Section kinds a run file may carry (no raw HTML).
RUN_SECTION_KINDS: tuple[str, ...] = ("figure", "table", "text")
REQUIRED_TABLES: tuple[str, ...] = ("values", "stats", "weights", "flows", "decisions", "skipped")
_MEMBER = re.compile(
    r"^(?:manifest\.json|tables/[a-z][a-z0-9_]{0,63}\.parquet|extra/\d{1,4}\.parquet)$"
)
_TABLE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_MANIFEST_KEYS = frozenset({"format", "version", "meta", "tables", "extra_sections"})
_SECTION_KEYS = frozenset({"title", "kind", "note", "content", "table"})
_META_TYPES: dict[str, type | tuple[type, ...]] = {
    "name": str, "params": dict, "panel": dict, "universe": list, "versions": dict,
    "benchmarks": list, "benchmark_params": dict, "seeds": dict, "created": str,
    "init_cash": (int, float), "solver_stats": dict, "forecasts": dict, "scenario": dict,
    "crowding": dict, "walkforward": dict,
}  # fmt: skip
_META_REQUIRED = ("name", "params", "panel", "universe", "versions")
_PANEL_KEYS = ("source", "start", "end", "n_dates", "policy", "periods_per_year", "vix_source")
_UNIVERSE_KEYS = ("symbol", "asset_class", "cost", "calendar")


@dataclass
class _Budget:
    cells: int = MAX_CELLS
    string_bytes: int = MAX_TOTAL_BYTES


class _Reader:
    def __init__(self, path: Path, zf: zipfile.ZipFile) -> None:
        self.label = repr(str(path))
        self.zf = zf
        self.budget = _Budget()

    def fail(self, what: str) -> NoReturn:
        raise RunFileError(f"run file {self.label}: {what}")

    def check_members(self) -> None:
        infos = self.zf.infolist()
        if len(infos) > MAX_MEMBERS:
            self.fail(f"{len(infos)} members, more than the limit {MAX_MEMBERS}")
        total = sum(i.file_size for i in infos)
        if total > MAX_TOTAL_BYTES:
            self.fail(f"{total:,} bytes uncompressed, more than the limit {MAX_TOTAL_BYTES:,}")
        names = set()
        for info in infos:
            if not _MEMBER.match(info.filename):
                self.fail(
                    f"unexpected member {info.filename!r} (a run file holds only manifest.json, "
                    "tables/*.parquet and extra/*.parquet)"
                )
            if info.filename in names:
                self.fail(f"member {info.filename!r} appears twice")
            if info.flag_bits & 0x1:
                self.fail(f"member {info.filename!r} is encrypted")
            names.add(info.filename)

    def read(self, name: str) -> bytes:
        try:
            info = self.zf.getinfo(name)
        except KeyError:
            self.fail(f"missing its member {name!r}")
        try:
            with self.zf.open(info) as fh:
                data = fh.read(info.file_size + 1)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError,
                NotImplementedError, ValueError) as err:  # fmt: skip
            self.fail(f"member {name!r} is corrupt ({type(err).__name__}: {err})")
        if len(data) != info.file_size:
            self.fail(f"member {name!r} does not hold the size its header declares")
        return data

    def manifest(self) -> dict[str, Any]:
        def no_constant(token: str) -> NoReturn:
            self.fail(f"manifest holds {token}, which is not JSON")

        try:
            doc = json.loads(self.read("manifest.json"), parse_constant=no_constant)
        except RunFileError:
            raise
        except (ValueError, RecursionError) as err:
            self.fail(f"unreadable manifest ({type(err).__name__}: {str(err)[:80]})")
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            self.fail("not a rwafolio run file (manifest `format` is not 'rwafolio-run')")
        version = doc.get("version")
        if type(version) is not int or version != VERSION:
            self.fail(f"format version {version!r}; this rwafolio reads version {VERSION}")
        if set(doc) != _MANIFEST_KEYS:
            self.fail(f"manifest keys {sorted(doc)} are not exactly {sorted(_MANIFEST_KEYS)}")
        return doc

    def meta(self, meta: Any) -> dict[str, Any]:
        if not isinstance(meta, dict):
            self.fail("manifest `meta` is not an object")
        for key in _META_REQUIRED:
            if key not in meta:
                self.fail(f"manifest `meta` lacks {key!r}")
        for key, kind in _META_TYPES.items():
            if key in meta and (not isinstance(meta[key], kind) or isinstance(meta[key], bool)):
                self.fail(f"manifest `meta.{key}` is a {type(meta[key]).__name__}")
        for key in _PANEL_KEYS:
            if key not in meta["panel"]:
                self.fail(f"manifest `meta.panel` lacks {key!r}")
        for i, asset in enumerate(meta["universe"]):
            if not isinstance(asset, dict) or any(k not in asset for k in _UNIVERSE_KEYS):
                self.fail(f"manifest `meta.universe[{i}]` is not an asset with {_UNIVERSE_KEYS}")
        return meta

    def parquet(self, name: str) -> pd.DataFrame:
        raw = self.read(name)
        try:
            pf = pq.ParquetFile(io.BytesIO(raw))
            schema = pf.schema_arrow
            cells = pf.metadata.num_rows * max(pf.metadata.num_columns, 1)
        except Exception as err:  # any failure to parse these bytes is a malformed member
            self.fail(f"member {name!r} is not a readable parquet table ({type(err).__name__})")
        self.budget.cells -= cells
        if self.budget.cells < 0:
            self.fail(f"tables hold more than {MAX_CELLS:,} cells in all")
        strings = []
        for field in schema:
            t = field.type.value_type if pa.types.is_dictionary(field.type) else field.type
            if pa.types.is_string(t) or pa.types.is_large_string(t):
                strings.append(field.name)
            elif not (pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t)
                      or pa.types.is_timestamp(t) or pa.types.is_date(t) or pa.types.is_null(t)):  # fmt: skip
                self.fail(f"member {name!r} column {field.name!r} has type {field.type}")
        try:
            table = pq.ParquetFile(io.BytesIO(raw), read_dictionary=strings).read()
            table = self._expand_strings(name, table)
            return table.to_pandas()
        except RunFileError:
            raise
        except Exception as err:  # corrupt pages, bad pandas metadata, ...
            self.fail(f"member {name!r} cannot be read ({type(err).__name__}: {str(err)[:80]})")

    def _expand_strings(self, name: str, table: pa.Table) -> pa.Table:
        """Decode dictionary-encoded string columns after charging their decoded size."""
        for i, field in enumerate(table.schema):
            if not pa.types.is_dictionary(field.type):
                continue
            col = table.column(i)
            for chunk in col.chunks:
                lengths = pc.binary_length(chunk.dictionary)
                used = pc.sum(pc.take(lengths, chunk.indices)).as_py() or 0
                self.budget.string_bytes -= int(used)
            if self.budget.string_bytes < 0:
                self.fail(f"member {name!r} expands to more than {MAX_TOTAL_BYTES:,} bytes of text")
            plain = pa.chunked_array(
                [c.dictionary_decode() for c in col.chunks], field.type.value_type
            )
            table = table.set_column(i, pa.field(field.name, plain.type), plain)
        return table

    def tables(self, listed: Any) -> dict[str, pd.DataFrame]:
        if not isinstance(listed, dict):
            self.fail("manifest `tables` is not an object")
        out = {}
        for name, member in listed.items():
            if not _TABLE_NAME.match(name):
                self.fail(f"invalid table name {name!r}")
            if member != f"tables/{name}.parquet":
                self.fail(f"unexpected member {member!r} for table {name!r} (not its layout name)")
            out[name] = self.parquet(member)
        for key in REQUIRED_TABLES:
            if key not in out:
                self.fail(f"lacks the required table {key!r}")
        return out

    def section(self, i: int, e: Any) -> ExtraSection:
        where = f"extra_sections[{i}]"
        if not isinstance(e, dict) or not set(e) <= _SECTION_KEYS:
            self.fail(f"`{where}` is not an object with keys among {sorted(_SECTION_KEYS)}")
        kind = e.get("kind")
        if kind not in RUN_SECTION_KINDS:
            self.fail(f"`{where}.kind` is {kind!r}; a run file may carry {RUN_SECTION_KINDS}")
        for key in ("title", "note"):
            if not isinstance(e.get(key, ""), str):
                self.fail(f"`{where}.{key}` is not a string")
        if kind == "table":
            if "content" in e or e.get("table") != f"extra/{i}.parquet":
                self.fail(f"`{where}` table must point at 'extra/{i}.parquet' and only there")
            content: str | pd.DataFrame = self.parquet(f"extra/{i}.parquet")
        else:
            if "table" in e or not isinstance(e.get("content"), str):
                self.fail(f"`{where}` must hold its content as a string")
            content = e["content"]
        try:
            return ExtraSection(str(e.get("title", "")), kind, content, str(e.get("note", "")))
        except ConfigError as err:
            self.fail(f"`{where}`: {err}")

    def sections(self, listed: Any) -> tuple[ExtraSection, ...]:
        if not isinstance(listed, list):
            self.fail("manifest `extra_sections` is not a list")
        return tuple(self.section(i, e) for i, e in enumerate(listed))


def _directory_counts(path: Path) -> tuple[int, int] | None:
    """Members and central-directory bytes the zip's end record declares (None: no record).

    Read before :class:`zipfile.ZipFile` parses the central directory, so a zip declaring
    millions of members is refused without building millions of objects.
    """
    with path.open("rb") as fh:
        size = fh.seek(0, 2)
        fh.seek(max(0, size - (65536 + 22)))
        tail = fh.read()
        i = tail.rfind(b"PK\x05\x06")
        if i < 0 or len(tail) < i + 22:
            return None
        entries = int.from_bytes(tail[i + 10 : i + 12], "little")
        cd_bytes = int.from_bytes(tail[i + 12 : i + 16], "little")
        if (entries == 0xFFFF or cd_bytes == 0xFFFFFFFF) and i >= 20:
            locator = tail[i - 20 : i]
            if locator[:4] != b"PK\x06\x07":
                return None
            fh.seek(int.from_bytes(locator[8:16], "little"))
            record = fh.read(56)
            if record[:4] != b"PK\x06\x06" or len(record) < 56:
                return None
            entries = int.from_bytes(record[32:40], "little")
            cd_bytes = int.from_bytes(record[40:48], "little")
    return entries, cd_bytes


def read_run(path: Path) -> RunRecord:
    """Read and check the run file ``path`` (see :func:`rwafolio.reports.runfile.load_run`)."""
    label = repr(str(path))
    try:
        if not path.is_file():
            raise RunFileError(f"run file {label} is not a file")
        if path.stat().st_size > MAX_TOTAL_BYTES:
            raise RunFileError(f"run file {label} is larger than the limit {MAX_TOTAL_BYTES:,}")
        counts = _directory_counts(path)
        if counts is not None and (counts[0] > MAX_MEMBERS or counts[1] > MAX_MEMBERS * 1024):
            raise RunFileError(
                f"run file {label} declares {counts[0]:,} members ({counts[1]:,} directory "
                f"bytes), more than the limit {MAX_MEMBERS} members"
            )
        zf = zipfile.ZipFile(path, "r")
    except RunFileError:
        raise
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as err:
        raise RunFileError(
            f"run file {str(path)!r} is not a rwafolio run file (not a zip: {type(err).__name__})"
        ) from None
    with zf:
        reader = _Reader(path, zf)
        reader.check_members()
        manifest = reader.manifest()
        meta = reader.meta(manifest["meta"])
        tables = reader.tables(manifest["tables"])
        extra = reader.sections(manifest["extra_sections"])
    return RunRecord(meta=meta, tables=tables, extra_sections=extra)
