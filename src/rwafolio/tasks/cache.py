"""On-disk cache of task results, per-task seeds, and the fingerprints that key them.

A task's result is stored as one JSON file named by the SHA-256 of everything that determines it:
the task function, the task's key, payload and seed, the shared data and context, and the code
behind all of them (:mod:`rwafolio.tasks.keys`: rwafolio's own source and the source of every
user class and function involved). Each entry carries a SHA-256 checksum of its content, verified
on read: an edited or damaged entry is a miss, reported, and recomputed. JSON only: nothing read
back is unpickled, so a shared cache folder cannot execute code.
Writes go to a temporary file in the same folder and are renamed into place, so an interrupted
sweep never leaves a half-written result where a good one is expected; re-running it picks up
every finished task.

Seeds are derived per TASK (from a base seed and the task's key), never per worker, so a result
does not depend on which executor or worker ran it.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from rwafolio.exceptions import ConfigError
from rwafolio.outputs import atomic_write

#: Environment variable naming the default cache folder (else no cache unless one is passed).
CACHE_ENV = "RWAFOLIO_WALKFORWARD_CACHE"


def canonical(value: Any) -> Any:
    """A JSON-friendly, deterministic rendering of a value (used for hashing and storage).

    Mappings get sorted string keys, tuples become lists, numpy scalars and arrays become plain
    numbers and lists, and anything else is rendered with ``repr``.
    """
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value)
    if isinstance(value, np.ndarray):
        return canonical(value.tolist())
    if isinstance(value, Mapping):
        return {str(k): canonical(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, list | tuple):
        return [canonical(v) for v in value]
    return repr(value)


def digest(value: Any) -> str:
    """SHA-256 hex digest of the canonical JSON of ``value``."""
    text = json.dumps(canonical(value), sort_keys=True, separators=(",", ":"), allow_nan=True)
    return hashlib.sha256(text.encode()).hexdigest()


@lru_cache(maxsize=1)
def code_version() -> str:
    """Package version plus a hash of every ``.py`` file of the installed rwafolio package.

    Editing any source file changes it, so cached results never outlive the code that made them.
    """
    import rwafolio

    root = Path(rwafolio.__file__).resolve().parent
    h = hashlib.sha256(rwafolio.__version__.encode())
    for p in sorted(root.rglob("*.py")):
        h.update(str(p.relative_to(root)).encode())
        h.update(p.read_bytes())
    return f"{rwafolio.__version__}+{h.hexdigest()[:16]}"


def panel_fingerprint(panel: Any) -> str:
    """SHA-256 of a panel's prices, tradable mask, index, symbols, costs, policy and VIX."""
    h = hashlib.sha256()
    h.update(np.ascontiguousarray(panel.prices.to_numpy(dtype=float)).tobytes())
    h.update(np.ascontiguousarray(panel.tradable.to_numpy(dtype=bool)).tobytes())
    h.update(np.ascontiguousarray(panel.dates.asi8).tobytes())
    h.update(json.dumps(list(panel.symbols)).encode())
    h.update(np.ascontiguousarray(np.asarray(panel.universe.costs, dtype=float)).tobytes())
    h.update(json.dumps(list(panel.universe.classes)).encode())
    h.update(str(panel.policy).encode())
    if panel.vix is not None:
        h.update(np.ascontiguousarray(panel.vix.to_numpy(dtype=float)).tobytes())
    return h.hexdigest()


def task_seed(base_seed: int, key: str) -> int:
    """The seed of task ``key``: ``SeedSequence(base_seed, spawn_key=<sha256 words of key>)``.

    Parameters
    ----------
    base_seed : int
        Non-negative base seed of the sweep.
    key : str
        The task's stable key (e.g. ``"fold3/point17"``).

    Returns
    -------
    int
        A 63-bit seed, the same on every machine and executor.
    """
    if not isinstance(base_seed, int | np.integer) or base_seed < 0:
        raise ConfigError(f"`base_seed` must be a non-negative int, got {base_seed!r}")
    words = np.frombuffer(hashlib.sha256(key.encode()).digest()[:16], dtype="<u4")
    ss = np.random.SeedSequence(int(base_seed), spawn_key=tuple(int(w) for w in words))
    return int(ss.generate_state(1, np.uint64)[0] >> np.uint64(1))


#: Version of the entry layout; entries of another layout are misses.
ENTRY_FORMAT = 2


def checksum(key_hash: str, key: str, value: Any) -> str:
    """SHA-256 of an entry's content (its key hash, task key and canonical value)."""
    return digest({"hash": key_hash, "key": key, "value": canonical(value)})


@dataclass(frozen=True)
class Lookup:
    """What reading one cache entry found.

    Attributes
    ----------
    status : {"hit", "absent", "corrupt", "checksum", "mismatch"}
        ``corrupt``: unreadable or not an entry; ``checksum``: the content does not match its
        checksum (edited or damaged); ``mismatch``: written for another key or layout.
    value : Any
        The stored value on a hit, else None.
    path : Path
    """

    status: str
    value: Any
    path: Path

    @property
    def rejected(self) -> bool:
        """True when an entry exists but was not used (a miss worth reporting)."""
        return self.status not in ("hit", "absent")


def _folder(directory: Path) -> Path:
    """``directory`` when it is a folder or can be created as one (checked before any task
    runs, never created here); else a ConfigError naming it."""
    for p in (directory, *directory.parents):
        if p.exists():
            if not p.is_dir():
                raise ConfigError(
                    f"the task cache folder {str(directory)!r} (`--task-cache`, ${CACHE_ENV}) "
                    f"is a file{'' if p == directory else f' inside the file {str(p)!r}'}, not "
                    "a folder"
                )
            break
    return directory


@dataclass(frozen=True)
class TaskCache:
    """A folder of JSON task results keyed by input hash, each with a checksum of its content.

    Parameters
    ----------
    directory : path
        Created on first write. Share it between runs (and machines) freely: it holds JSON only,
        and an entry whose content does not match its checksum is recomputed, not used.
    """

    directory: Path

    @classmethod
    def resolve(cls, directory: str | os.PathLike[str] | TaskCache | None) -> TaskCache | None:
        """``TaskCache`` from a path, an existing cache, or the ``RWAFOLIO_WALKFORWARD_CACHE``
        environment variable when None (no cache when that is unset too)."""
        if isinstance(directory, TaskCache):
            return directory
        if directory is None:
            env = os.environ.get(CACHE_ENV)
            return cls(_folder(Path(env))) if env else None
        return cls(_folder(Path(directory)))

    def path(self, key_hash: str) -> Path:
        return self.directory / f"{key_hash}.json"

    def lookup(self, key_hash: str) -> Lookup:
        """Read and verify the entry of ``key_hash`` (never raises on a bad file)."""
        p = self.path(key_hash)
        try:
            with p.open("r", encoding="utf-8") as fh:
                doc = json.load(fh)
        except FileNotFoundError:
            return Lookup("absent", None, p)
        except (OSError, ValueError):
            return Lookup("corrupt", None, p)
        if not isinstance(doc, dict) or not {"hash", "key", "value", "checksum"} <= set(doc):
            return Lookup("corrupt", None, p)
        if doc.get("format") != ENTRY_FORMAT or doc["hash"] != key_hash:
            return Lookup("mismatch", None, p)
        if doc["checksum"] != checksum(key_hash, str(doc["key"]), doc["value"]):
            return Lookup("checksum", None, p)
        return Lookup("hit", doc["value"], p)

    def get(self, key_hash: str) -> Any | None:
        """The stored value, or None when absent, unreadable or failing its checksum."""
        return self.lookup(key_hash).value

    def put(self, key_hash: str, value: Any, *, key: str = "") -> None:
        """Write ``value`` with its checksum atomically (temporary file in the folder, rename)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        doc = {
            "format": ENTRY_FORMAT,
            "hash": key_hash,
            "key": key,
            "code": code_version(),
            "checksum": checksum(key_hash, key, value),
            "value": canonical(value),
        }
        text = json.dumps(doc, allow_nan=True, separators=(",", ":"))
        atomic_write(self.path(key_hash), lambda fh: fh.write(text.encode("utf-8")))

    def __len__(self) -> int:
        return len(list(self.directory.glob("[!.]*.json"))) if self.directory.is_dir() else 0
