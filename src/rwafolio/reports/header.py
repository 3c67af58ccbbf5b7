"""The report's header: what was run (universe, data, calendar, parameters, seeds, versions)
and the sign conventions, stated once."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from rwafolio.reports.blocks import cell, table
from rwafolio.reports.record import RunRecord

POLICY_TEXT: Mapping[str, str] = {
    "all_days": (
        "all calendar days: crypto trades every day; exchange-traded proxies are frozen "
        "(no trade, zero return) on days their market is closed; annualized with 365"
    ),
    "exchange_days": (
        "exchange days only (NYSE sessions): crypto prices are sampled on those days; "
        "annualized with 252"
    ),
}

SIGN_CONVENTIONS = (
    "Returns, VaR, CVaR and drawdowns are all shown as returns over their window: negative = "
    "loss. A 95% VaR of -12% over 30 periods means a 5% chance of losing more than 12% in those "
    "30 periods; the CVaR is the average of those worst 5% outcomes (always at or below the "
    "VaR). Drawdowns are at most 0; drawdown-at-risk is the 5% quantile of the deepest fall "
    "inside the window. A breach is a realized outcome below its forecast. Weights are "
    "fractions of portfolio value (cash = 1 - sum of weights); costs are fractions of traded "
    "value (0.001 = 10 bp)."
)


def header(record: RunRecord) -> dict[str, Any]:
    meta = record.meta
    p = meta["panel"]
    uni_rows = []
    for a in meta["universe"]:
        uni_rows.append(
            [
                cell(a["symbol"], cls="sym"), cell(a.get("name") or ""), cell(a["asset_class"]),
                cell(a["cost"], "pct"), cell(f"{float(a['cost']) * 1e4:g} bp"),
                cell(a["calendar"]), cell(a.get("schedule") or ""),
                cell(a.get("proxies") or ("-" if a["asset_class"] != "rwa" else "unspecified")),
            ]
        )  # fmt: skip
    universe = table(
        ["Symbol", "Name", "Class", "Cost", "Cost (bp)", "Trades on", "Update schedule",
         "Stands in for"],
        uni_rows, "universe",
    )  # fmt: skip
    window = meta["params"].get("window")
    params = table(
        ["Parameter", "Value"],
        [[cell(k), cell(param_value(k, v, window))] for k, v in meta["params"].items()],
        "params",
    )
    bench_params = {
        name: table(["Parameter", "Value"],
                    [[cell(k), cell(param_value(k, v, ps.get("window")))] for k, v in ps.items()],
                    f"params-{i}")
        for i, (name, ps) in enumerate(meta.get("benchmark_params", {}).items())
    }  # fmt: skip
    seeds = table(
        ["What", "Seed"], [[cell(k), cell(_param_text(v))] for k, v in meta.get("seeds", {}).items()],
        "seeds",
    )  # fmt: skip
    versions = table(
        ["Package", "Version"],
        [[cell(k), cell(v)] for k, v in meta["versions"].items()],
        "versions",
    )
    loader = table(
        ["Key", "Value"], [[cell(k), cell(_param_text(v))] for k, v in p.get("meta", {}).items()],
        "loader-meta",
    )  # fmt: skip
    return {
        "name": meta["name"],
        "synthetic": bool(p["synthetic"]),
        "source": p["source"],
        "start": p["start"],
        "end": p["end"],
        "n_dates": p["n_dates"],
        "policy": p["policy"],
        "policy_text": POLICY_TEXT.get(p["policy"], p["policy"]),
        "periods_per_year": p["periods_per_year"],
        "vix_source": p["vix_source"],
        "findings": p.get("findings", 0),
        "first_decision": meta["params"].get("first_decision", p["start"]),
        "init_cash": meta.get("init_cash", 1.0),
        "created": meta.get("created", ""),
        "benchmarks": meta.get("benchmarks", []),
        "universe": universe,
        "params": params,
        "bench_params": bench_params,
        "seeds": seeds,
        "versions": versions,
        "loader_meta": loader,
        "sign_conventions": SIGN_CONVENTIONS,
    }


def _defaults(window: Any) -> dict[str, str]:
    horizon = (
        f"the estimation window ({window} periods, in years)"
        if window is not None
        else "the estimation window"
    )
    return {
        "estimator": "default: Ledoit-Wolf (correlation shrinkage) over the window",
        "risk_aversion": "default: lam0 (1 + eta VIX_t)",
        "schedules": "default: crypto and stablecoins daily, RWAs weekly",
        "bounds": "default: 0 <= weight <= 1 for every asset",
        "cost_horizon": f"default: {horizon}",
        "initial_weights": "default: start in cash",
        "stress_vix": "off (no stress override)",
        "signal_lag": "0 (decide on data through the trade date)",
    }


def param_value(key: str, value: Any, window: Any = None) -> str:
    """A parameter as the header shows it: the default in force instead of a bare None."""
    if value is None:
        return _defaults(window).get(key, "not set")
    return _param_text(value)


def _param_text(v: Any) -> str:
    if isinstance(v, dict) and isinstance(v.get("type"), str):  # a typed object (param_jsonable)
        args = ", ".join(f"{k}={_param_text(x)}" for k, x in v.items() if k != "type")
        return f"{v['type']}({args})"
    if isinstance(v, dict | list):
        return json.dumps(v, sort_keys=True)
    return "None" if v is None else str(v)
