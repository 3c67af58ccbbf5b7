"""The live rebalancer's persisted state: one JSON file, written atomically after every bar.

``DIR/state.json`` holds everything a restart needs and nothing executable (no pickle):

- ``version``, ``params``: the strategy's class and constructor parameters, the universe
  (symbols, classes, cost rates), bars per year, whether there is an index, the first decision
  row. A restart whose parameters differ is refused (:class:`StateError` naming what differs).
- ``row``, ``time``, ``prices``, ``vix``: the last bar processed and its prices.
- ``weights``, ``cash``, ``value``: the book after that bar.
- ``window``: the estimation window (returns, times, index levels), ``last_key``: the
  schedule's clock, ``warm_start``: the solver's last solution; ``moments``: the Python path's
  rolling sums (null on the compiled path), ``path``: which path wrote it (information only:
  both make the same decisions).
- ``fingerprint``: SHA-256 chained over every bar's time, prices and index level; data that
  contradict the processed bars give a different chain and are refused.
- ``orders_bytes``, ``orders_tail``: size of the orders journal after the last bar and the hash
  of its last line (see :mod:`rwafolio.live.journal`).

Floats are written with Python's shortest round-trip repr, so a reloaded state is bit-identical.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rwafolio.exceptions import DataError, describe
from rwafolio.live.bar import Bar
from rwafolio.live.rebalancer import LiveRebalancer
from rwafolio.live.rolling import RollingMoments
from rwafolio.outputs import atomic_write
from rwafolio.outputs import remove_stale_temporaries as _remove_stale

__all__ = [
    "STATE_NAME",
    "StateError",
    "bar_fingerprint",
    "load_state",
    "restore",
    "save_state",
    "snapshot",
]

STATE_NAME = "state.json"
STATE_VERSION = 1


class StateError(DataError):
    """The live state is unreadable, or contradicts the parameters or data of this run."""


def _num(x: float) -> float | None:
    return None if not math.isfinite(x) else float(x)


def _arr(a: np.ndarray) -> list[Any]:
    return [_num(float(v)) for v in np.asarray(a, dtype=float).ravel()]


def _back(values: list[Any], shape: tuple[int, ...] | None = None) -> np.ndarray:
    a = np.array([np.nan if v is None else float(v) for v in values], dtype=float)
    return a.reshape(shape) if shape is not None else a


def plain(v: Any) -> Any:
    """A JSON-friendly rendering of a parameter value (objects by repr)."""
    if v is None or isinstance(v, bool | int | str):
        return v
    if isinstance(v, float):
        return _num(v)
    if isinstance(v, dict):
        return {str(k): plain(x) for k, x in sorted(v.items())}
    if isinstance(v, list | tuple):
        return [plain(x) for x in v]
    text = repr(v)
    if " at 0x" in text:  # the default repr names a memory address: use the class and fields
        fields = {k: plain(x) for k, x in sorted(getattr(v, "__dict__", {}).items())}
        return f"{type(v).__module__}.{type(v).__qualname__}({fields})"
    return text


def params_of(reb: LiveRebalancer) -> dict[str, Any]:
    """What a restart must agree with: the strategy and the universe."""
    return {
        "strategy": type(reb.strategy).__name__,
        "strategy_params": plain(reb.strategy.get_params()),
        "symbols": list(reb.symbols),
        "asset_classes": list(reb.asset_classes),
        "costs": _arr(reb.cost_model.rates),
        "periods_per_year": reb.periods_per_year,
        "has_vix": reb.has_vix,
        "first_decision": reb.first_decision,
    }


def bar_fingerprint(previous: str, bar: Bar, symbols: list[str]) -> str:
    """The data fingerprint after ``bar``: SHA-256 of the previous one, the time, prices, index."""
    parts = [previous, pd.Timestamp(bar.time).isoformat()]
    parts += [f"{s}={float(bar.prices[s])!r}" if s in bar.prices else f"{s}=-" for s in symbols]
    parts.append("vix=-" if bar.vix is None else f"vix={float(bar.vix)!r}")
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def snapshot(reb: LiveRebalancer, extra: dict[str, Any]) -> dict[str, Any]:
    """The state of ``reb`` as JSON data, plus ``extra`` (fingerprint, journal, paper book)."""
    warm = reb.warm_start
    rows = reb.window_rows()
    m = reb.moments
    return {
        "version": STATE_VERSION,
        "params": params_of(reb),
        "row": reb.row,
        "time": None if reb.time is None else reb.time.isoformat(),
        "prices": _arr(reb.prices),
        "vix": _num(reb.vix),
        "weights": _arr(reb.weights),
        "cash": reb.cash,
        "value": reb.value,
        "window": {
            "returns": _arr(rows),
            "count": rows.shape[0],
            "times": [int(t) for t in reb.times.astype(np.int64)],
            "vix": _arr(reb.vixes),
        },
        "last_key": [int(k) for k in reb.last_key],
        # The Python path's rolling sums (the compiled path re-reads its window instead).
        "moments": None
        if reb.compiled is not None
        else {"mean": m._mean.tolist(), "m2": m._m2.ravel().tolist(), "since": m._since},
        "warm_start": None if warm is None else _arr(warm),
        "path": reb.path,
        **extra,
    }


def restore(reb: LiveRebalancer, state: dict[str, Any]) -> None:
    """Load ``state`` into a freshly built ``reb`` with the same parameters (checked)."""
    want = params_of(reb)
    got = state["params"]
    if got != want:
        diff = sorted(k for k in set(want) | set(got) if want.get(k) != got.get(k))
        raise StateError(
            f"the state was written with other parameters ({', '.join(diff)} differ); use the "
            "run's original parameters or a new --state folder"
        )
    n = len(reb.symbols)
    check_fields(state, n, reb.window)
    reb.row = int(state["row"])
    reb.time = None if state["time"] is None else pd.Timestamp(state["time"])
    reb.prices = _back(state["prices"])
    reb.vix = float("nan") if state["vix"] is None else float(state["vix"])
    reb.weights = _back(state["weights"])
    reb.cash = float(state["cash"])
    reb.value = float(state["value"])
    win = state["window"]
    count = int(win["count"])
    rows = _back(win["returns"], (count, n))
    if reb.compiled is not None:
        reb.compiled.load_window(rows)
    else:
        moments = RollingMoments(n, reb.window)
        for row in rows:
            moments.push(row)
        sums = state.get("moments")
        if sums is not None:
            moments.load_sums(sums["mean"], sums["m2"], sums["since"])
        else:
            moments.recompute()
        reb.moments = moments
        reb._use_moments()
    reb.times = np.array(win["times"], dtype=np.int64).astype("datetime64[ns]")
    reb.vixes = _back(win["vix"])
    reb.last_key = np.array(state["last_key"], dtype=np.int64)
    reb.warm_start = None if state["warm_start"] is None else _back(state["warm_start"])
    if reb.compiled is not None:
        reb._link()


def _finite(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def _whole(x: Any, lo: int = 0, hi: float = math.inf) -> bool:
    return isinstance(x, int) and not isinstance(x, bool) and lo <= x <= hi


def _numbers(x: Any, length: int, missing: bool = False) -> bool:
    """A list of ``length`` finite numbers (``None`` too when ``missing``: NaN is written so)."""
    return (
        isinstance(x, list)
        and len(x) == length
        and all(_finite(v) or (missing and v is None) for v in x)
    )


def _time(x: Any) -> bool:
    try:
        return isinstance(x, str) and not pd.isna(pd.Timestamp(x))
    except (ValueError, TypeError):
        return False


def _paper(book: Any, n: int) -> bool:
    """None, or the paper book's JSON (:meth:`~rwafolio.live.paper.PaperBook.to_json`)."""
    return book is None or (
        isinstance(book, dict)
        and _finite(book.get("cash"))
        and _numbers(book.get("units"), n)
        and _numbers(book.get("pending"), n)
    )


def check_fields(state: dict[str, Any], n: int, window: int) -> None:
    """Refuse a state whose fields do not have the types, lengths and values a run writes.

    ``n`` assets, an estimation window of ``window`` rows. The book must be fractions of value
    (weights and cash summing to 1, value > 0), prices positive. A :class:`StateError` names the
    first bad field: a damaged or hand-edited state is never taken as the book.
    """
    win = state["window"]
    count = win.get("count") if isinstance(win, dict) else None
    book = _numbers(state["weights"], n) and _finite(state["cash"])
    checks = {
        "row": (_whole(state["row"]), "a whole number >= 0"),
        "time": (_time(state["time"]), "an ISO time"),
        "prices": (
            _numbers(state["prices"], n, missing=True)
            and all(v is None or v > 0 for v in state["prices"]),
            f"{n} prices > 0 (null: none yet)",
        ),
        "vix": (state["vix"] is None or _finite(state["vix"]), "a finite number or null"),
        "weights": (
            book and abs(sum(state["weights"]) + state["cash"] - 1.0) <= 1e-6,
            f"{n} finite fractions of value that sum to 1 with `cash`",
        ),
        "value": (_finite(state["value"]) and state["value"] > 0, "a finite number > 0"),
        "window": (
            _whole(count, 0, window)
            and _numbers(win.get("returns"), int(count or 0) * n, missing=True)
            and isinstance(win.get("times"), list)
            and len(win["times"]) == window
            and all(_whole(t, -(2**63)) for t in win["times"])
            and _numbers(win.get("vix"), window, missing=True),
            f"the last <= {window} rows of returns, times and index levels",
        ),
        "last_key": (
            isinstance(state["last_key"], list)
            and len(state["last_key"]) == n
            and all(_whole(k, -(2**63)) for k in state["last_key"]),
            f"{n} whole numbers",
        ),
        "warm_start": (
            state["warm_start"] is None or _numbers(state["warm_start"], n),
            f"null or {n} finite numbers",
        ),
        "fingerprint": (isinstance(state["fingerprint"], str), "a SHA-256 hex digest"),
        "orders_bytes": (_whole(state["orders_bytes"]), "a whole number >= 0"),
        "orders_tail": (
            state["orders_tail"] is None or isinstance(state["orders_tail"], str),
            "null or a SHA-256 hex digest",
        ),
        "paper": (
            _paper(state.get("paper"), n),
            f"null or a paper book (cash, {n} units, pending)",
        ),
    }
    for key, (ok, expected) in checks.items():
        if not ok:
            raise StateError(
                f"`--state` field {key!r} must be {expected}, got "
                f"{describe(state.get(key))}: the state file is damaged or was edited (it was left "
                "unchanged; start a new --state folder)"
            )


_REQUIRED = (
    "version",
    "params",
    "row",
    "time",
    "prices",
    "vix",
    "weights",
    "cash",
    "value",
    "window",
    "last_key",
    "warm_start",
    "fingerprint",
    "orders_bytes",
    "orders_tail",
)


def load_state(folder: Path) -> dict[str, Any] | None:
    """The state in ``folder`` (None when there is none yet); a corrupt file is a StateError."""
    path = Path(folder) / STATE_NAME
    if not path.exists():
        return None
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise StateError(
            f"`--state` {str(path)!r} is not a readable state file ({exc}); it was left unchanged"
        ) from None
    missing = [k for k in _REQUIRED if not isinstance(state, dict) or k not in state]
    if missing or state.get("version") != STATE_VERSION:
        raise StateError(
            f"`--state` {str(path)!r} is not a version-{STATE_VERSION} state file "
            f"(missing {missing or 'nothing'}, version {state.get('version') if isinstance(state, dict) else '?'}); "
            "it was left unchanged"
        )
    return state


def save_state(folder: Path, state: dict[str, Any]) -> Path:
    """Write ``state`` atomically with :func:`rwafolio.outputs.atomic_write` (temporary file in
    the folder, fsync, rename; a temporary file left by a killed writer is removed first)."""
    path = Path(folder) / STATE_NAME
    text = json.dumps(state, allow_nan=False, separators=(",", ":")).encode("utf-8")
    # No fsync of the folder: a rename lost to a power cut leaves the previous state, whose
    # journal size is shorter than the journal; the next start cuts that bar's line and redoes it.
    return atomic_write(path, lambda fh: fh.write(text))


def remove_stale_temporaries(folder: Path) -> list[Path]:
    """Remove temporary state files left by a writer that was killed (its process is gone)."""
    return _remove_stale(Path(folder) / STATE_NAME)
