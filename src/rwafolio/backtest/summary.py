"""The machine-readable summary of a backtest run (``rwafolio backtest --json PATH``).

One JSON object, its schema :data:`SUMMARY_SCHEMA` (JSON Schema, draft 2020-12; the README shows
it in prose):

- ``data``: ``source``, ``start``, ``end`` (ISO dates for daily bars; ISO date-times for
  intraday bars, so an hourly run keeps its hours), ``symbols``, ``policy`` (the calendar
  policy), ``bar`` (``"1d"`` or ``"1h"``), ``periods_per_year``, ``volatility_index`` (the index spec, e.g. ``"file:..."``,
  ``"realized:BTC-USD"``, ``"none"``), ``synthetic`` (bool);
- ``strategy``: ``name`` and ``params`` (every constructor parameter; an object as
  ``{"type": <class>, <its parameters>...}``, see :func:`~rwafolio.utils.jsonable.param_jsonable`);
- ``stats``: one object per run name (the strategy and each benchmark) with every key of
  ``stats()`` (:data:`~rwafolio.backtest.stats.STAT_NAMES`: fractions, 0.7 = 70%), plus
  ``cash`` (what the excess figures are over), ``costs_by_class``, ``holding_period_years`` and
  ``cost_horizon_years``;
- ``final_weights``: the weights held after the last decision's trade, by symbol (fractions of
  value; cash is 1 - their sum); ``last_decision``: that decision's date (ISO; a date-time for
  intraday bars);
- any extra sections a caller adds (e.g. the risk issue's ``risk_tests``).

Numbers that are undefined (a Sharpe ratio with zero volatility, a Sortino ratio without a
losing period) are ``null``; JSON has no NaN or infinity.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from rwafolio.backtest.result import BacktestResult
from rwafolio.backtest.stats import STAT_NAMES, cash_returns, cost_breakdown, stats
from rwafolio.exceptions import ConfigError
from rwafolio.utils.jsonable import param_jsonable

__all__ = ["SUMMARY_SCHEMA", "summary_json"]

REQUIRED_STATS = (
    "sharpe",
    "excess_sharpe",
    "cagr",
    "volatility",
    "max_drawdown",
    "turnover_per_year",
    "costs_paid",
)

_NUM = {"type": ["number", "null"]}
_STATS_ENTRY = {
    "type": "object",
    "required": [*STAT_NAMES, "cash", "costs_by_class", "holding_period_years"],
    "properties": {
        **{k: _NUM for k in STAT_NAMES},
        "cash": {"type": "string"},
        "costs_by_class": {"type": "object", "additionalProperties": {"type": "number"}},
        "holding_period_years": _NUM,
        "cost_horizon_years": _NUM,
    },
}

#: A daily bar's ISO date or an intraday bar's ISO date-time.
_DATE_OR_TIME: dict[str, Any] = {
    "anyOf": [{"type": "string", "format": "date"}, {"type": "string", "format": "date-time"}]
}

#: JSON Schema of the summary object (the README documents the same fields).
SUMMARY_SCHEMA: Mapping[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["data", "strategy", "stats", "final_weights", "last_decision"],
    "properties": {
        "data": {
            "type": "object",
            "required": [
                "source",
                "start",
                "end",
                "symbols",
                "policy",
                "bar",
                "periods_per_year",
                "volatility_index",
            ],
            "properties": {
                "source": {"type": "string"},
                "start": _DATE_OR_TIME,
                "end": _DATE_OR_TIME,
                "symbols": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                "policy": {"enum": ["all_days", "exchange_days"]},
                "bar": {"enum": ["1d", "1h"]},
                "periods_per_year": {"type": "integer"},
                "volatility_index": {"type": "string"},
                "synthetic": {"type": "boolean"},
            },
        },
        "strategy": {
            "type": "object",
            "required": ["name", "params"],
            "properties": {"name": {"type": "string"}, "params": {"type": "object"}},
        },
        "stats": {"type": "object", "minProperties": 1, "additionalProperties": _STATS_ENTRY},
        "final_weights": {"type": "object", "additionalProperties": {"type": "number"}},
        "last_decision": {"anyOf": [_DATE_OR_TIME, {"type": "null"}]},
    },
}


def _num(v: Any) -> float | None:
    x = float(v)
    return x if math.isfinite(x) else None


def _run_stats(result: BacktestResult, risk_free: float) -> dict[str, Any]:
    s = stats(result, risk_free)
    out: dict[str, Any] = {k: _num(s[k]) for k in STAT_NAMES}
    out["cash"] = cash_returns(result, risk_free)[1]
    br = cost_breakdown(result)
    out["costs_by_class"] = {str(k): float(v) for k, v in br["costs_by_class"].items()}  # type: ignore[attr-defined]
    out["holding_period_years"] = _num(br["holding_period_years"])
    h = br["cost_horizon_years"]
    out["cost_horizon_years"] = None if h is None else _num(h)
    return out


def _iso(ts: Any, bar: Any) -> str:
    """``ts`` as an ISO date for daily bars, an ISO date-time (offset kept) for intraday bars."""
    stamp = pd.Timestamp(ts)
    return stamp.date().isoformat() if str(bar) == "1d" else stamp.isoformat()


def summary_json(
    main: BacktestResult,
    strategy: Any,
    benchmarks: Mapping[str, BacktestResult] | None = None,
    *,
    main_name: str = "dynamic",
    risk_free: float = 0.0,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The summary object of one run and its benchmarks (see the module docstring).

    Parameters
    ----------
    main : BacktestResult
        The strategy's run.
    strategy : Strategy
        The strategy object (its ``get_params()`` are recorded).
    benchmarks : mapping name -> BacktestResult, optional
        Runs on the same panel and live period.
    main_name : str
        Key of ``main`` in ``stats``.
    risk_free : float
        Annual rate for the excess figures when the universe has no cash asset.
    extra : mapping, optional
        Further top-level sections (JSON-ready values), e.g. ``{"risk_tests": [...]}``. A key
        that clashes with a built-in section is an error.

    Returns
    -------
    dict
        JSON-ready (``json.dumps(..., allow_nan=False)`` succeeds).
    """
    panel = main.panel
    runs = {main_name: main, **dict(benchmarks or {})}
    decided = main.decisions.index
    last = decided[-1] if len(decided) else None
    weights = main.weights.loc[last] if last is not None else main.weights.iloc[-1]
    doc: dict[str, Any] = {
        "data": {
            "source": str(panel.source),
            "start": _iso(panel.dates[0], panel.bar),
            "end": _iso(panel.dates[-1], panel.bar),
            "symbols": list(panel.symbols),
            "policy": str(panel.policy),
            "bar": str(panel.bar),
            "periods_per_year": int(panel.periods_per_year),
            "volatility_index": str(panel.vix_source),
            "synthetic": bool(panel.synthetic),
        },
        "strategy": {
            "name": str(getattr(strategy, "name", type(strategy).__name__)),
            "params": param_jsonable(strategy.get_params()),
        },
        "stats": {name: _run_stats(r, risk_free) for name, r in runs.items()},
        "final_weights": {str(k): float(v) for k, v in weights.items()},
        "last_decision": None if last is None else _iso(last, panel.bar),
    }
    for key, value in (extra or {}).items():
        if key in doc:
            raise ConfigError(f"`extra` section {key!r} clashes with a built-in section")
        doc[key] = value
    return doc
