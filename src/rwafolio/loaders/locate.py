"""Find price files by symbol in data folders, reading nothing that is not a regular file.

**What a scan reads.** A data folder is walked recursively (symlinked sub-folders are not
entered). An entry whose name ends in one of :data:`SUFFIXES` is a candidate only when it is a
regular file, or a symlink whose target is a regular file *inside the scanned folder*. Anything
else with a price-file name (a FIFO, a socket, a device, a symlink to a device, to a FIFO, to a
missing target or out of the folder) is never opened: it is skipped and listed in
:attr:`FileSearch.skipped`, which the loader turns into severe findings. A FIFO therefore cannot
hang a load and a link to ``/dev/zero`` cannot exhaust memory.

**Preference order.** The first folder (in the order given) that holds a file named after the
symbol wins; later folders' matches are recorded as shadowed. Two matches inside one folder are
ambiguous and raise :class:`~rwafolio.exceptions.DataError` naming both. A symbol with no file of
its own is looked up as a column of wide files, folder by folder; two wide files of one folder
holding it are ambiguous too. A file whose header cannot be read while looking for wide columns
is skipped and listed in :attr:`FileSearch.unreadable`.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rwafolio.exceptions import ConfigError, DataError
from rwafolio.outputs import DATA_SUFFIXES

SUFFIXES: tuple[str, ...] = DATA_SUFFIXES  # outputs refuse these names inside data folders


@dataclass(frozen=True)
class FileMatch:
    """Where a symbol was found: its file, the folder that won, and shadowed files elsewhere."""

    symbol: str
    path: Path
    column: str | None = None
    shadowed: tuple[Path, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class FileSearch:
    """The outcome of a scan: matches per symbol, entries not read and why.

    Attributes
    ----------
    matches : dict of symbol -> FileMatch
    skipped : tuple of (Path, str)
        Entries with a price-file name that were not opened (not a regular file inside the
        folder), with the reason.
    unreadable : tuple of (Path, str)
        Files whose header could not be read while looking for wide columns, with the error.
    """

    matches: dict[str, FileMatch]
    skipped: tuple[tuple[Path, str], ...] = ()
    unreadable: tuple[tuple[Path, str], ...] = ()


def stem_key(name: str) -> str:
    """Case-insensitive file stem or column name, a leading ``^`` optional."""
    return name.lower().lstrip("^")


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISDIR, "a folder"),
    ):
        if test(mode):
            return name
    return "not a regular file"


def _why_not(entry: os.DirEntry[str], root: Path) -> str | None:
    """None when ``entry`` may be read; else why not (never opens it)."""
    if not entry.is_symlink():
        mode = entry.stat(follow_symlinks=False).st_mode
        return None if stat.S_ISREG(mode) else _kind(mode)
    target = Path(os.path.realpath(entry.path))
    try:
        mode = os.stat(target).st_mode
    except OSError:
        return f"a symlink to a missing target {target}"
    if not stat.S_ISREG(mode):
        return f"a symlink to {_kind(mode)} {target}"
    if not target.is_relative_to(root):
        return f"a symlink out of the data folder (to {target})"
    return None


_UNLISTED = "a folder that cannot be listed: "


def scan_folder(directory: Path) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Price files under ``directory`` (sorted) and the entries skipped, with reasons.

    A folder of the tree that cannot be listed (e.g. permission denied) is skipped and listed
    too, so a missing symbol's error can name the real cause.
    """
    root = Path(os.path.realpath(directory))
    files: list[Path] = []
    skipped: list[tuple[Path, str]] = []
    stack = [Path(directory)]
    while stack:
        folder = stack.pop()
        try:
            with os.scandir(folder) as it:
                entries = list(it)
        except PermissionError:
            skipped.append((folder, _UNLISTED + "permission denied"))
            continue
        except OSError as exc:
            skipped.append((folder, _UNLISTED + str(exc.strerror or exc)))
            continue
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                stack.append(Path(entry.path))
                continue
            if Path(entry.name).suffix.lower() not in SUFFIXES:
                continue
            why = _why_not(entry, root)
            if why is None:
                files.append(Path(entry.path))
            else:
                skipped.append((Path(entry.path), why))
    return sorted(files), sorted(skipped)


def head_lines(path: Path, n: int = 6) -> list[str]:
    """The first ``n`` non-blank lines of a text file (leading blank lines skipped).

    Raises
    ------
    DataError
        The file cannot be opened (permission denied, ...), naming it and the cause.
    """
    lines: list[str] = []
    try:
        with open(path, encoding="utf-8-sig", errors="replace") as fh:
            for raw in fh:
                line = raw.rstrip("\r\n")
                if not lines and not line.strip():
                    continue
                lines.append(line)
                if len(lines) >= n:
                    break
    except PermissionError:
        raise DataError(f"cannot read {path}: permission denied") from None
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror or exc}") from None
    return lines


def header_columns(path: Path) -> list[str]:
    """Column names of a CSV (its first non-blank line) or a parquet file (its schema)."""
    if path.suffix.lower() in (".parquet", ".pq"):
        import pyarrow.parquet as pq

        return [str(n) for n in pq.read_schema(path).names]
    lines = head_lines(path, 1)
    return [c.strip() for c in lines[0].split(",")] if lines else []


def _check_dirs(data_dirs: Sequence[str | os.PathLike[str]] | str | os.PathLike[str]) -> list[Path]:
    if isinstance(data_dirs, (str, os.PathLike)):
        data_dirs = [data_dirs]
    dirs = [Path(d) for d in data_dirs]
    if not dirs:
        raise ConfigError("`data_dirs` must name at least one folder, got none")
    missing_dirs = [str(d) for d in dirs if not d.exists()]
    if missing_dirs:
        raise ConfigError(f"`data_dirs` names folders that do not exist: {missing_dirs}")
    not_dirs = [str(d) for d in dirs if not d.is_dir()]
    if not_dirs:
        raise ConfigError(f"`data_dirs` names paths that are not folders: {not_dirs}")
    return dirs


def _wide_match(
    sym: str, listing: list[list[Path]], unreadable: dict[Path, str]
) -> FileMatch | None:
    """The wide file holding ``sym`` as a column: first folder wins, two in one folder raise."""
    for d_files in listing:
        hits: list[tuple[Path, str]] = []
        for f in d_files:
            if f in unreadable:
                continue
            try:
                cols = header_columns(f)
            except Exception as exc:
                unreadable[f] = f"{type(exc).__name__}: {exc}".splitlines()[0][:200]
                continue
            col = next((c for c in cols if stem_key(c) == stem_key(sym)), None)
            if col is not None:
                hits.append((f, col))
        if len(hits) > 1:
            raise DataError(
                f"symbol {sym!r} is a column of two wide files in one data folder: "
                f"{hits[0][0]} and {hits[1][0]}; remove one or pass the folders separately "
                "(the first folder wins)"
            )
        if hits:
            return FileMatch(sym, hits[0][0], hits[0][1])
    return None


def locate(
    symbols: Sequence[str], data_dirs: Sequence[str | os.PathLike[str]] | str | os.PathLike[str]
) -> FileSearch:
    """Locate each symbol's file in ``data_dirs`` (see the module docstring).

    Raises
    ------
    ConfigError
        ``data_dirs`` is empty or names a missing folder.
    DataError
        A symbol has no file (the message names the entries that were not read, e.g. a folder
        without read permission); two files (or two wide files) match it inside one folder.
    """
    dirs = _check_dirs(data_dirs)
    listing: list[list[Path]] = []
    skipped: list[tuple[Path, str]] = []
    for d in dirs:
        files, skip = scan_folder(d)
        listing.append(files)
        skipped.extend(skip)
    found: dict[str, FileMatch] = {}
    for sym in symbols:
        key = stem_key(sym)
        winner: Path | None = None
        shadowed: list[Path] = []
        for d, files in zip(dirs, listing, strict=True):
            hits = [f for f in files if stem_key(f.stem) == key]
            if len(hits) > 1:
                raise DataError(
                    f"symbol {sym!r} is ambiguous in data dir {d}: {hits[0]} and {hits[1]} both "
                    "match; remove one or pass the folders separately (the first folder wins)"
                )
            if hits and winner is None:
                winner = hits[0]
            elif hits:
                shadowed.append(hits[0])
        if winner is not None:
            found[sym] = FileMatch(sym, winner, None, tuple(shadowed))
    unreadable: dict[Path, str] = {}
    for sym in [s for s in symbols if s not in found]:
        match = _wide_match(sym, listing, unreadable)
        if match is not None:
            found[sym] = match
    absent = [s for s in symbols if s not in found]
    if absent:
        keys = {stem_key(s) for s in absent}
        not_read = [
            f"{p} ({why})"
            for p, why in skipped
            if why.startswith(_UNLISTED) or stem_key(p.stem) in keys
        ]
        not_read += [f"{p} ({why})" for p, why in unreadable.items()]
        extra = f"; not read: {'; '.join(not_read[:5])}" if not_read else ""
        raise DataError(
            f"no file for symbol(s) {absent} in `data_dirs` {[str(d) for d in dirs]} "
            f"(looked for <symbol>{{{','.join(SUFFIXES)}}}, case-insensitive, recursively, and "
            f"for a column of that name in wide files){extra}"
        )
    return FileSearch(found, tuple(skipped), tuple(sorted(unreadable.items())))


def find_symbol_files(
    symbols: Sequence[str], data_dirs: Sequence[str | os.PathLike[str]]
) -> dict[str, FileMatch]:
    """Each symbol's :class:`FileMatch` (see :func:`locate`, which also says what was skipped)."""
    return locate(symbols, data_dirs).matches
