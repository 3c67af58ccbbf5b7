"""Numba's on-disk cache of compiled kernels, keyed by rwafolio's kernel source.

Numba stamps a cached kernel with its own file's time and size only. A kernel that calls a kernel
of another file (the strategy-aware Monte Carlo calls the decision, which calls the solver) keeps
its old machine code when only the callee changed: after an in-place upgrade or an edited checkout
it would return results of code that no longer exists. rwafolio therefore keeps its cache in a
folder named by a digest of every source file of the package that holds numba code,
``<base>/rwafolio-<digest>``: any change to any kernel selects a fresh folder (compiled once,
then reused). ``<base>`` is ``NUMBA_CACHE_DIR`` when set, else the platform's cache folder
(``platformdirs.user_cache_dir("rwafolio")/numba``). The folder is also what numba's other users
in the process (vectorbt) cache into, so they recompile once after a kernel change too.

Each kernel change leaves the previous folder behind (tens of MiB). :func:`cache_folders` lists
the folders of every version under ``<base>`` and :func:`prune` deletes all but this version's
(``rwafolio cache [--prune]``): only real folders named ``rwafolio-<16 hex digits>``, never a
symlink or anything else in ``<base>``.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import stat
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1]
PREFIX = "rwafolio-"
#: The names :func:`cache_dir` gives, and the only ones :func:`prune` deletes.
FOLDER_NAME = re.compile(r"rwafolio-[0-9a-f]{16}")


@lru_cache(maxsize=1)
def kernel_digest(root: Path = PACKAGE) -> str:
    """SHA-256 (16 hex digits) over the path and bytes of each package file that uses numba."""
    h = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        data = path.read_bytes()
        if b"numba" in data:
            h.update(path.relative_to(root).as_posix().encode() + b"\0" + data + b"\0")
    return h.hexdigest()[:16]


def cache_dir(base: str | os.PathLike[str] | None = None) -> Path:
    """The cache folder of this source: ``<base>/rwafolio-<digest>`` (see the module docs).

    A ``base`` that already is such a folder (inherited by a worker process) is taken as its
    parent, so the folder is never nested.
    """
    if base is None:
        base = os.environ.get("NUMBA_CACHE_DIR") or None
    if base is None:
        from platformdirs import user_cache_dir

        base = Path(user_cache_dir("rwafolio")) / "numba"
    root = Path(base)
    if root.name.startswith(PREFIX):
        root = root.parent
    return root / f"{PREFIX}{kernel_digest()}"


def configure() -> Path:
    """Point numba's cache at :func:`cache_dir` for this process and the processes it starts.

    Sets ``NUMBA_CACHE_DIR`` (read by numba when it is first imported, and inherited by worker
    processes) and, when numba is already imported, ``numba.config.CACHE_DIR`` (read when a
    kernel is defined); kernels defined before the call keep the folder they had.
    """
    path = cache_dir()
    os.environ["NUMBA_CACHE_DIR"] = str(path)
    config = sys.modules.get("numba.core.config")
    if config is not None:
        config.CACHE_DIR = str(path)  # type: ignore[attr-defined]
    return path


@dataclass(frozen=True)
class CacheFolder:
    """One version's compiled-kernel folder.

    Attributes
    ----------
    path : Path
    current : bool
        The folder of this source (what this process uses).
    size : int
        Bytes of its regular files.
    modified : float
        Newest modification time inside it (seconds since the epoch; 0 when empty).
    """

    path: Path
    current: bool
    size: int
    modified: float


def _usage(folder: Path) -> tuple[int, float]:
    """Bytes and newest modification time of the regular files under ``folder`` (no links
    followed)."""
    size, newest = 0, 0.0
    for top, _dirs, files in os.walk(folder):
        for name in files:
            st = os.lstat(os.path.join(top, name))
            if stat.S_ISREG(st.st_mode):
                size += st.st_size
                newest = max(newest, st.st_mtime)
    return size, newest


def cache_folders(base: str | os.PathLike[str] | None = None) -> list[CacheFolder]:
    """Every version's folder under ``base`` (as :func:`cache_dir` resolves it), by name."""
    current = cache_dir(base)
    root = current.parent
    if not root.is_dir():
        return []
    out = []
    for entry in sorted(root.iterdir()):
        if FOLDER_NAME.fullmatch(entry.name) is None or entry.is_symlink() or not entry.is_dir():
            continue
        size, modified = _usage(entry)
        out.append(CacheFolder(entry, entry == current, size, modified))
    return out


def prune(base: str | os.PathLike[str] | None = None) -> list[CacheFolder]:
    """Delete every version's folder under ``base`` but this version's; return those deleted.

    A process of another version still using its folder only compiles afresh.
    """
    gone = []
    for folder in cache_folders(base):
        if not folder.current:
            shutil.rmtree(folder.path)
            gone.append(folder)
    return gone
