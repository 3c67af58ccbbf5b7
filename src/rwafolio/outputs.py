"""Every file rwafolio writes goes through here: atomic writes and output-path checks.

Atomic writes
    :func:`atomic_write` writes to a temporary file beside the target
    (``.<name>.<pid>-<random>.tmp``), fsyncs it and renames it over the target, so a reader never
    sees half a file. A temporary file left by a killed writer (its process id no longer runs,
    POSIX only) is removed by the next write to the same target. The target must be a regular file or absent:
    a directory, FIFO, socket or device is refused, never replaced. A symbolic link is written
    through (its target is replaced, the link stays).

Output checks (the command line)
    :func:`check_outputs` refuses, before anything is written,

    - a path that exists and is not a regular file (directory, FIFO, socket, device) or is a
      dangling symbolic link, or whose folder is not a folder;
    - a path that is one of the command's inputs (a data file read, the run being rendered, the
      config or grid file), or a data-file name (``.csv``, ``.parquet``, ...) inside a
      ``--data-dir`` folder, also when reached through a symbolic link of another name;
    - two outputs of one command that are the same file;
    - an existing regular file that rwafolio did not write, unless ``force`` is true.

    rwafolio knows its own files by a marker inside them: an HTML report carries
    ``<meta name="generator" content="rwafolio">`` in its first 4 KiB, a run file is a zip whose
    archive comment (or manifest) says ``rwafolio-run``, a ``--json`` summary is a JSON object
    (at most 1 MiB) holding every key of the summary schema's ``required`` list. Only a file of the same kind counts (a
    report output does not silently replace a saved run).
"""

from __future__ import annotations

import json
import os
import re
import stat
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Literal

from rwafolio.exceptions import OutputError

OutputKind = Literal["report", "run", "summary", "crowding", "journal"]

#: The marker of a report rwafolio wrote (in the template's head).
REPORT_MARKER = b'<meta name="generator" content="rwafolio">'
#: The archive comment of a run file rwafolio wrote.
RUN_MARKER = b"rwafolio-run"
#: Keys every ``--json`` summary holds (``rwafolio.backtest.summary.SUMMARY_SCHEMA["required"]``).
SUMMARY_KEYS = frozenset({"data", "strategy", "stats", "final_weights", "last_decision"})
#: Keys every ``var --crowding --json`` answer holds (``CrowdingSurface.to_dict``).
CROWDING_KEYS = frozenset({"without", "surface"})
#: Data-file suffixes the files loader reads (``rwafolio.loaders.files.SUFFIXES`` is this).
DATA_SUFFIXES: tuple[str, ...] = (".csv", ".txt", ".parquet", ".pq")
_HEAD_BYTES = 4096
_MANIFEST_PEEK = 1 << 20


# ---------------------------------------------------------------------------- atomic writes
def _kind_of(mode: int) -> str:
    for test, name in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
    ):
        if test(mode):
            return name
    return "not a regular file"


def _existing(path: Path, what: str) -> os.stat_result | None:
    """``stat`` of ``path`` (links followed); None when absent; refuse anything not regular."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        if os.path.lexists(path):
            raise OutputError(f"{what} {str(path)!r} is a dangling symbolic link") from None
        return None
    except NotADirectoryError:
        raise OutputError(f"{what} {str(path)!r}: a parent in the path is not a folder") from None
    except OSError as err:
        raise OutputError(f"{what} {str(path)!r} cannot be inspected: {err.strerror}") from None
    if not stat.S_ISREG(st.st_mode):
        raise OutputError(
            f"{what} {str(path)!r} is {_kind_of(st.st_mode)}; an output must be a regular file "
            "or not exist (nothing was written)"
        )
    return st


def _pid_alive(pid: int) -> bool:
    """Whether process ``pid`` runs (assumed True where it cannot be asked safely)."""
    if pid == os.getpid() or os.name != "posix":  # on Windows os.kill(pid, 0) is not a probe
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process, or no permission to ask: assume it runs
        return True
    return True


def remove_stale_temporaries(target: Path) -> list[Path]:
    """Remove temporary files of earlier writes to ``target`` whose writer no longer runs."""
    pattern = re.compile(rf"^\.{re.escape(target.name)}\.(\d+)-[^/]*\.tmp$")
    removed: list[Path] = []
    try:
        names = os.listdir(target.parent)
    except OSError:
        return removed
    for name in names:
        m = pattern.match(name)
        if m and not _pid_alive(int(m.group(1))):
            p = target.parent / name
            try:
                if stat.S_ISREG(os.lstat(p).st_mode):
                    p.unlink()
                    removed.append(p)
            except OSError:
                pass
    return removed


def atomic_write(path: str | os.PathLike[str], write: Callable[[IO[bytes]], object]) -> Path:
    """Call ``write`` on a temporary file beside ``path``, then rename it over ``path``.

    The temporary file is fsynced and renamed only after ``write`` returned; on any error it is
    removed and ``path`` is left as it was.

    Parameters
    ----------
    path : str or PathLike
        Target: a regular file or absent; its folder must exist. A symbolic link is followed.
    write : callable
        Writes the content to the binary stream it is given.

    Returns
    -------
    Path
        ``path`` as given.

    Raises
    ------
    OutputError
        If the target is a directory, FIFO, socket, device or dangling link, if its folder does
        not exist, or if the system refuses the write (permissions, read-only, disk full).
    """
    given = Path(path)
    _existing(given, "`path`")
    target = Path(os.path.realpath(given))
    folder = target.parent
    if not folder.is_dir():
        raise OutputError(f"`path` folder {str(given.parent)!r} does not exist")
    remove_stale_temporaries(target)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.{os.getpid()}-", suffix=".tmp",
                                   dir=folder)  # fmt: skip
    except OSError as err:
        raise OutputError(f"cannot write {str(given)!r}: {err.strerror or err}") from err
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        if isinstance(exc, OSError) and not isinstance(exc, OutputError):
            raise OutputError(f"cannot write {str(given)!r}: {exc.strerror or exc}") from exc
        raise
    return given


def write_atomic(path: str | os.PathLike[str], chunks: Iterable[str]) -> Path:
    """Write text chunks (UTF-8) to ``path`` atomically (see :func:`atomic_write`)."""

    def write(fh: IO[bytes]) -> None:
        for chunk in chunks:
            fh.write(chunk.encode("utf-8"))

    return atomic_write(path, write)


# ---------------------------------------------------------------------------- ownership markers
def written_by_rwafolio(path: str | os.PathLike[str], kind: OutputKind) -> bool:
    """Whether the regular file ``path`` carries rwafolio's marker for ``kind``."""
    try:
        if kind == "report":
            with open(path, "rb") as fh:
                return REPORT_MARKER in fh.read(_HEAD_BYTES)
        if kind in ("summary", "crowding"):
            with open(path, "rb") as fh:
                doc = json.loads(fh.read(_MANIFEST_PEEK + 1) or b"null")
            keys = SUMMARY_KEYS if kind == "summary" else CROWDING_KEYS
            return isinstance(doc, dict) and keys <= set(doc)
        with zipfile.ZipFile(path) as zf:
            if zf.comment.startswith(RUN_MARKER):
                return True
            info = zf.getinfo("manifest.json")
            if info.file_size > _MANIFEST_PEEK:
                return False
            doc = json.loads(zf.read(info))
            return isinstance(doc, dict) and doc.get("format") == RUN_MARKER.decode()
    except (OSError, zipfile.BadZipFile, KeyError, ValueError, RuntimeError, EOFError,
            RecursionError):  # fmt: skip
        return False


# ---------------------------------------------------------------------------- output checks
@dataclass(frozen=True)
class Output:
    """One output of a command: the flag that named it, its path and what is written there."""

    flag: str
    path: Path
    kind: OutputKind


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def _inside(path: Path, folder: Path) -> bool:
    try:
        Path(os.path.realpath(path)).relative_to(os.path.realpath(folder))
    except ValueError:
        return False
    return True


def is_data_file_in(path: Path, folder: Path) -> bool:
    """Whether ``path``, or the file a symbolic link at ``path`` leads to, has a data-file name
    (:data:`DATA_SUFFIXES`) inside ``folder``: ``report.html`` linking to ``folder/VNQ.csv`` is
    that data file."""
    real = Path(os.path.realpath(path))
    lexical = Path(os.path.abspath(path))
    return any(p.suffix.lower() in DATA_SUFFIXES and _inside(p, folder) for p in {real, lexical})


def check_outputs(
    outputs: Sequence[Output],
    *,
    inputs: Iterable[str | os.PathLike[str]] = (),
    data_dirs: Iterable[str | os.PathLike[str]] = (),
    force: bool = False,
) -> None:
    """Refuse unsafe output paths before anything is written (see the module docstring).

    Parameters
    ----------
    outputs : sequence of Output
        What the command will write.
    inputs : iterable of path
        Files the command reads (data files, config, grid, the run being rendered).
    data_dirs : iterable of path
        ``--data-dir`` folders: a data-file name inside one is never an output.
    force : bool
        Allow replacing an existing regular file rwafolio did not write.

    Raises
    ------
    OutputError
        Naming the flag and the path.
    """
    read = {}
    for p in inputs:
        ident = _identity(Path(p))
        if ident is not None:
            read[ident] = str(p)
    dirs = [Path(d) for d in data_dirs]
    seen: dict[str | tuple[int, int], Output] = {}
    for out in outputs:
        what = f"`{out.flag}`"
        st = _existing(out.path, what)
        parent = out.path.parent
        if parent.exists() and not parent.is_dir():
            raise OutputError(f"{what} {str(out.path)!r}: {str(parent)!r} is not a folder")
        keys: list[str | tuple[int, int]] = [os.path.realpath(out.path)]
        if st is not None:
            keys.append((st.st_dev, st.st_ino))  # hard links
        for key in keys:
            if key in seen:
                raise OutputError(
                    f"{what} and `{seen[key].flag}` name the same file {str(out.path)!r}; give "
                    "each output its own path (nothing was written)"
                )
        seen.update(dict.fromkeys(keys, out))
        if st is not None and (st.st_dev, st.st_ino) in read:
            raise OutputError(
                f"{what} {str(out.path)!r} is an input of this command "
                f"({read[(st.st_dev, st.st_ino)]!r}); refusing to overwrite it"
            )
        for d in dirs:
            if is_data_file_in(out.path, d):
                raise OutputError(
                    f"{what} {str(out.path)!r} is a data-file name inside the data folder "
                    f"{str(d)!r} (`--data-dir`, `--cache-dir`); write outputs elsewhere"
                )
        if st is not None and not force and not written_by_rwafolio(out.path, out.kind):
            what_kind = {"report": "an HTML report", "run": "a run file",
                         "summary": "a JSON summary", "crowding": "a crowding answer",
                         "journal": "an orders journal"}[out.kind]  # fmt: skip
            raise OutputError(
                f"{what} {str(out.path)!r} exists and is not {what_kind} rwafolio wrote; pass "
                "--force to replace it"
            )


def ensure_parent(path: str | os.PathLike[str], what: str = "`path`") -> Path:
    """Create ``path``'s folder (and its parents) when missing; a typed error when it cannot."""
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise OutputError(f"{what} {str(target)!r}: a parent in the path is not a folder") from None
    except OSError as err:
        raise OutputError(
            f"{what} {str(target)!r}: cannot create its folder ({err.strerror or err})"
        ) from None
    return target
