"""The orders journal: one JSON line per processed bar, appended, never rewritten.

A bar is committed in two writes: its line is appended to the journal (flushed and fsynced),
then the state is replaced atomically with the journal's new size (``orders_bytes``) and the hash
of the line (``orders_tail``). A process killed between the two leaves one line the state does
not know: on restart it is cut off (:func:`reconcile`) and the bar, processed again from the same
state, writes the same line. So the journal never holds a bar twice and never misses one.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from rwafolio.live.bar import LiveDecision

__all__ = ["append_line", "decision_line", "line_hash", "reconcile"]


def _f(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def decision_line(
    decision: LiveDecision,
    symbols: list[str],
    prices: np.ndarray,
    portfolio_value: float | None,
    paper: dict[str, Any] | None,
) -> dict[str, Any]:
    """The journal's record of one bar (JSON data; NaN written as null).

    ``orders`` (when ``portfolio_value`` is given): per traded symbol, ``notional`` (currency,
    signed: + buys) and ``units`` (notional / the bar's price), sized on the book's value before
    the trade (``portfolio_value`` times its growth since the first bar).
    """
    by = lambda a: {s: _f(float(v)) for s, v in zip(symbols, a)}  # noqa: E731
    line: dict[str, Any] = {
        "time": decision.time.isoformat(),
        "row": decision.row,
        "status": decision.status,
        "lam": _f(decision.lam),
        "vix": _f(decision.vix),
        "weights_before": by(decision.weights_before),
        "weights_after": by(decision.weights_after),
        "trades": {s: float(v) for s, v in zip(symbols, decision.trades) if v != 0.0},
        "fees": float(decision.fees),
        "frozen": sorted(decision.frozen),
        "frozen_why": dict(sorted(decision.frozen.items())),
        "value": float(decision.value),
        **{k: (_f(v) if isinstance(v, float) else v) for k, v in decision.diagnostics.items()},
    }
    if portfolio_value is not None:
        before = portfolio_value * decision.value / (1.0 - decision.fees)
        line["orders"] = {
            s: {"notional": float(v * before), "units": float(v * before / p)}
            for s, v, p in zip(symbols, decision.trades, prices)
            if v != 0.0
        }
    if paper is not None:
        line["paper"] = paper
    return line


def line_hash(line: bytes) -> str:
    return hashlib.sha256(line).hexdigest()


def append_line(path: Path, record: dict[str, Any]) -> tuple[int, str]:
    """Append ``record`` as one line, fsynced; returns the journal's new size and the line's hash."""
    data = (json.dumps(record, allow_nan=False, separators=(",", ":")) + "\n").encode()
    with open(path, "ab") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
        size = f.tell()
    return size, line_hash(data)


def reconcile(path: Path, size: int, tail: str | None, next_row: int | None = None) -> bool:
    """Bring the journal back to the state's view of it; True when a stray line was cut.

    The bytes after the state's last recorded line may only be the line of the next bar (row
    ``next_row``) that a killed run wrote before its state, whole or torn: those are cut (the
    bar is redone). Anything else is never cut.

    Raises :class:`~rwafolio.live.state.StateError` when the journal is shorter than the state
    records, its last recorded line differs, or what follows it is not the next bar's line
    (the journal was edited or replaced, or another writer appended to it).
    """
    from rwafolio.live.state import StateError

    actual = path.stat().st_size if path.exists() else 0
    if actual < size:
        raise StateError(
            f"`--orders` {str(path)!r} holds {actual} bytes but the state recorded {size}: the "
            "journal was truncated or replaced (state and journal left unchanged)"
        )
    if size > 0 and tail is not None:
        with open(path, "rb") as f:
            f.seek(max(0, size - 1_000_000))
            head = f.read(size - max(0, size - 1_000_000))
        last = head[:-1].rsplit(b"\n", 1)[-1] + b"\n"
        if line_hash(last) != tail:
            raise StateError(
                f"`--orders` {str(path)!r}: its last recorded line differs from the one the state "
                "wrote (the journal was edited; state and journal left unchanged)"
            )
    if actual > size:
        with open(path, "rb") as f:
            f.seek(size)
            extra = f.read(min(actual - size, 1_000_001))
        if not _next_line(extra, next_row):
            raise StateError(
                f"`--orders` {str(path)!r} holds {actual - size} bytes after the last bar the state "
                "recorded that are not the next bar's line (edited, or written by another run); "
                "state and journal left unchanged"
            )
        with open(path, "r+b") as f:
            f.truncate(size)
            f.flush()
            os.fsync(f.fileno())
        return True
    return False


def _next_line(extra: bytes, next_row: int | None) -> bool:
    """Whether ``extra`` is the journal line of bar ``next_row`` (None: any row), whole (one
    JSON line) or torn by a kill (the start of one, no newline)."""
    if b"\n" not in extra:  # a torn write: the start of a line, as json.dumps begins it
        return extra.startswith(b'{"time":"') or b'{"time":"'.startswith(extra)
    if extra.count(b"\n") != 1 or not extra.endswith(b"\n"):
        return False
    try:
        line = json.loads(extra)
    except ValueError:
        return False
    return (
        isinstance(line, dict)
        and {"time", "row", "status"} <= set(line)
        and (next_row is None or line["row"] == next_row)
    )
