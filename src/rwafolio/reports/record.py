"""The plain-table record a report is drawn from.

A :class:`RunRecord` holds everything the HTML report shows as plain pandas tables plus one
JSON-able metadata mapping. It is built either from live objects (:func:`collect`: a
:class:`~rwafolio.backtest.result.BacktestResult`, rolling forecasts, scenario forecasts, a
crowding comparison, a walk-forward result) or read back from a saved run
(:func:`rwafolio.reports.runfile.load_run`); the renderer only ever sees a ``RunRecord``, so a
fresh run and a re-rendered one share every line of drawing code.

Inputs the record does not know yet (no forecasts, no walk-forward) are simply absent tables;
the report leaves their sections out.

Tables (all indexed as stated; absent when the input was not given):

==================  ========================================================================
``values``          date x run name: portfolio value (first column is the strategy)
``stats``           statistic x run name: the ``stats()`` table, side by side
``weights``         date x symbol: weights held after trading (strategy)
``flows``           date: ``turnover``, ``fees`` (fraction of value, per date; ``costs`` in
                    runs saved before the rename)
``decisions``       decision date: ``lam``, ``vix``, ``traded``, ``n_skipped``, solver columns
``skipped``         one row per trade the threshold held back: date, symbol, proposed, reason
``panel_prices``    date x symbol prices of the panel (for reproduction)
``panel_tradable``  date x symbol bool mask
``panel_vix``       date: ``vix`` (when the panel has an index)
``forecasts``       forecast date: the rolling-forecast table plus ``sampled`` (used by tests)
``backtests``       one row per (kind, level, test): statistic, p_value, reject, zone, verdicts
``scenario``        long table: ``label``, ``outcome``, ``max_drawdown`` per Monte Carlo path
``scenario_stats``  one row per (label, level): var, cvar, dar, mean, std
``crowding``        one row per (case, level): var, cvar, dar, mean (with / without agents)
``crowding_paths``  long table: ``case``, ``outcome`` per path
``wf_folds``        one row per walk-forward fold
``wf_oos``          date: ``value`` of the stitched out-of-sample curve
==================  ========================================================================
"""

from __future__ import annotations

import datetime as _dt
import importlib.metadata
import platform
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from rwafolio.exceptions import ConfigError
from rwafolio.reports.sections import ExtraSection, normalize_sections
from rwafolio.utils.jsonable import jsonable

#: Packages whose versions the header lists.
VERSIONED_PACKAGES: tuple[str, ...] = (
    "rwafolio",
    "numpy",
    "pandas",
    "scipy",
    "numba",
    "vectorbt",
    "cvxpy",
    "plotly",
    "jinja2",
    "pyarrow",
)


@dataclass(frozen=True)
class RunRecord:
    """Plain tables and JSON-able metadata of one run, ready to render or save.

    Attributes
    ----------
    meta : mapping
        JSON-able: ``name``, ``params`` (every strategy parameter), ``panel`` (source, policy,
        periods per year, dates, VIX source, synthetic flag, loader metadata), ``universe``
        (list of asset dicts), ``versions``, ``seeds``, ``created``, ``solver_stats`` and one
        entry per optional input (``forecasts``, ``scenario``, ``crowding``, ``walkforward``)
        describing its parameters.
    tables : mapping name -> DataFrame
        See the module docstring.
    extra_sections : tuple of ExtraSection
    """

    meta: Mapping[str, Any]
    tables: Mapping[str, pd.DataFrame]
    extra_sections: tuple[ExtraSection, ...] = field(default_factory=tuple)

    def table(self, name: str) -> pd.DataFrame | None:
        """The named table, or None when this run has none."""
        return self.tables.get(name)

    def rebuild_panel(self) -> Any:
        """The :class:`~rwafolio.loaders.panel.Panel` the run used, from the saved tables."""
        from rwafolio.loaders.panel import Panel
        from rwafolio.universe import Asset, Universe

        p = self.meta["panel"]
        name = p.get("index_name")
        prices = self.tables["panel_prices"].rename_axis(name)
        tradable = self.tables["panel_tradable"].rename_axis(name).astype(bool)
        assets = []
        for a in self.meta["universe"]:
            assets.append(
                Asset(
                    a["symbol"], a["asset_class"], float(a["cost"]), a["calendar"],
                    a.get("schedule_given", a.get("schedule")), a.get("proxies"), a.get("name", ""),
                )
            )  # fmt: skip
        vix = self.tables.get("panel_vix")
        return Panel(
            prices=prices,
            tradable=tradable,
            universe=Universe(tuple(assets)),
            policy=p["policy"],
            vix=None if vix is None else vix["vix"].rename_axis(name),
            vix_source=p["vix_source"],
            source=p["source"],
            price_fields=dict(p.get("price_fields", {})),
            meta=dict(p.get("meta", {})),
            bar=str(p.get("bar", "1d")),  # runs saved before intraday bars are daily
        )


def package_versions() -> dict[str, str]:
    """Installed versions of :data:`VERSIONED_PACKAGES` and of Python."""
    out = {"python": platform.python_version()}
    for name in VERSIONED_PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def _panel_meta(panel: Any) -> dict[str, Any]:
    dates = panel.dates
    return {
        "source": str(panel.source),
        "synthetic": bool(panel.synthetic),
        "policy": str(panel.policy),
        "bar": str(getattr(panel, "bar", "1d")),
        "periods_per_year": int(panel.periods_per_year),
        "start": dates[0].strftime("%Y-%m-%d"),
        "end": dates[-1].strftime("%Y-%m-%d"),
        "n_dates": len(dates),
        "index_name": None if panel.prices.index.name is None else str(panel.prices.index.name),
        "vix_source": str(panel.vix_source),
        "price_fields": {str(k): str(v) for k, v in panel.price_fields.items()},
        "findings": len(panel.findings),
        "meta": jsonable(dict(panel.meta)),
    }


def _check_result(result: Any, what: str) -> None:
    for attr in ("value", "returns", "weights", "decisions", "panel", "params"):
        if not hasattr(result, attr):
            raise ConfigError(f"`{what}` must be a BacktestResult, got {type(result).__name__}")


def _run_tables(result: Any, benchmarks: Mapping[str, Any]) -> dict[str, pd.DataFrame]:
    from rwafolio.backtest.stats import stats

    runs = {str(result.name): result, **{str(k): v for k, v in benchmarks.items()}}
    values = pd.concat({k: r.value.astype(float) for k, r in runs.items()}, axis=1, sort=True)
    values.index.name = "date"
    table = pd.concat({k: stats(r) for k, r in runs.items()}, axis=1)
    table.index.name = "statistic"
    dec = result.decisions.copy()
    keep = [
        c
        for c in ("lam", "vix", "traded", "n_skipped", "solver", "status", "kkt_residual",
                  "iterations", "fallback_reason")
        if c in dec.columns
    ]  # fmt: skip
    dec = dec[keep]
    for c in ("lam", "vix", "kkt_residual"):
        if c in dec:
            dec[c] = dec[c].astype(float)
    for c in ("solver", "status", "fallback_reason"):
        if c in dec:
            dec[c] = dec[c].astype(str)
    dec.index.name = "date"
    skipped = result.skipped.copy()
    if len(skipped):
        skipped["proposed"] = skipped["proposed"].astype(float)
        skipped["symbol"] = skipped["symbol"].astype(str)
        skipped["reason"] = skipped["reason"].astype(str)
    flows = pd.DataFrame(
        {"turnover": result.turnover.astype(float), "fees": result.fees.astype(float)}
    )
    flows.index.name = "date"
    panel = result.panel
    out = {
        "values": values,
        "stats": table,
        "weights": result.weights.astype(float).rename_axis("date"),
        "flows": flows,
        "decisions": dec,
        "skipped": skipped.reset_index(drop=True),
        "panel_prices": panel.prices.rename_axis("date"),
        "panel_tradable": panel.tradable.rename_axis("date"),
    }
    if panel.vix is not None:
        out["panel_vix"] = panel.vix.to_frame("vix").rename_axis("date")
    return out


def _forecast_tables(
    forecasts: Any, alpha: float
) -> tuple[dict[str, pd.DataFrame], dict[str, Any]]:
    from rwafolio.reports.verdicts import plain_verdict

    table = forecasts.table.copy()
    table["sampled"] = forecasts.sample_mask("non_overlapping").to_numpy()
    rows: list[dict[str, Any]] = []
    problems: list[str] = []
    for level in forecasts.levels:
        for kind in ("var", "dar"):
            try:
                suite = forecasts.backtest(level, kind=kind, alpha=alpha)
            except ValueError as err:  # too few usable windows: DataError
                problems.append(f"{kind} {level:.1%}: {err}")
                continue
            for test in (suite.kupiec, suite.independence, suite.conditional):
                rows.append(
                    {
                        "kind": kind, "level": float(level), "test": test.name,
                        "statistic": float(test.statistic), "df": int(test.df),
                        "p_value": float(test.p_value), "n_obs": int(test.n_obs),
                        "n_failures": int(test.n_failures), "reject": bool(test.reject),
                        "alpha": float(test.alpha), "zone": "", "verdict": test.verdict,
                    }
                )  # fmt: skip
            tl = suite.traffic
            rows.append(
                {
                    "kind": kind, "level": float(level), "test": "Basel traffic light",
                    "statistic": float(tl.n_failures), "df": 0,
                    "p_value": float(tl.cumulative_probability), "n_obs": int(tl.n_obs),
                    "n_failures": int(tl.n_failures), "reject": tl.zone == "red",
                    "alpha": float(alpha), "zone": str(tl.zone), "verdict": tl.verdict,
                }
            )  # fmt: skip
    tests = pd.DataFrame(rows)
    if len(tests):
        tests["plain"] = [
            plain_verdict({str(k): v for k, v in r.items()}, forecasts.horizon)
            for r in tests.to_dict("records")
        ]
    meta = {
        "horizon": int(forecasts.horizon),
        "every": int(forecasts.every),
        "n_scenarios": int(forecasts.n_scenarios),
        "levels": [float(x) for x in forecasts.levels],
        "distribution": str(forecasts.distribution),
        "target": str(forecasts.target),
        "mean": str(forecasts.mean),
        "nu": float(forecasts.nu),
        "rebalance": jsonable(forecasts.rebalance),
        "aggregation": str(forecasts.aggregation),
        "seed": int(forecasts.seed),
        "sampling": forecasts.sampling_description("non_overlapping"),
        "alpha": float(alpha),
        "problems": problems,
    }
    out = {"forecasts": table}
    if len(tests):
        out["backtests"] = tests
    return out, meta


def _scenario_tables(scenario: Mapping[str, Any]) -> tuple[dict[str, pd.DataFrame], dict[str, Any]]:
    paths, rows, meta = [], [], {}
    for label, f in scenario.items():
        label = str(label)
        paths.append(
            pd.DataFrame(
                {
                    "label": label,
                    "outcome": np.asarray(f.outcomes, dtype=float),
                    "max_drawdown": np.asarray(f.max_drawdowns, dtype=float),
                }
            )
        )
        for k, level in enumerate(f.levels):
            rows.append(
                {
                    "label": label, "level": float(level), "var": float(f.var[k]),
                    "cvar": float(f.cvar[k]), "dar": float(f.dar[k]), "mean": float(f.mean),
                    "std": float(f.std),
                }
            )  # fmt: skip
        meta[label] = jsonable(f.params())
    return {
        "scenario": pd.concat(paths, ignore_index=True),
        "scenario_stats": pd.DataFrame(rows),
    }, meta


def _crowding_tables(crowding: Any) -> tuple[dict[str, pd.DataFrame], dict[str, Any]]:
    from rwafolio.reports.adapters import crowding_tables

    return crowding_tables(crowding)


def _walkforward_tables(walkforward: Any) -> tuple[dict[str, pd.DataFrame], dict[str, Any]]:
    from rwafolio.reports.adapters import walkforward_tables

    return walkforward_tables(walkforward)


def collect(
    result: Any,
    forecasts: Any = None,
    walkforward: Any = None,
    *,
    benchmarks: Mapping[str, Any] | None = None,
    crowding: Any = None,
    scenario: Mapping[str, Any] | None = None,
    extra_sections: Sequence[Any] | None = None,
    alpha: float = 0.05,
) -> RunRecord:
    """Gather the plain tables and metadata of a run (see :func:`rwafolio.reports.render_html`).

    Parameters
    ----------
    result : BacktestResult
    forecasts : RollingForecasts or None
    walkforward : walk-forward result or None
    benchmarks : mapping name -> BacktestResult or None
    crowding : CrowdingResult or None
    scenario : mapping label -> RiskForecast or None
        Monte Carlo forecasts at the latest date, e.g. ``{"normal": ..., "student_t": ...}``.
    extra_sections : sequence or None
        See :func:`rwafolio.reports.sections.normalize_sections`.
    alpha : float
        Significance of the VaR backtests' verdicts.

    Returns
    -------
    RunRecord
    """
    _check_result(result, "result")
    benchmarks = dict(benchmarks or {})
    for k, b in benchmarks.items():
        _check_result(b, f"benchmarks[{k!r}]")
        if str(k) == str(result.name):
            raise ConfigError(f"`benchmarks` name {k!r} clashes with the strategy's name")
    if scenario is not None and not isinstance(scenario, Mapping):
        raise ConfigError(
            "`scenario` must be a mapping label -> RiskForecast "
            f"(e.g. {{'normal': f1, 'student_t': f2}}), got {type(scenario).__name__}"
        )
    if not (0.0 < alpha < 1.0):
        raise ConfigError(f"`alpha` must be in (0, 1), got {alpha!r}")
    tables = _run_tables(result, benchmarks)
    panel = result.panel
    meta: dict[str, Any] = {
        "format": "rwafolio-run",
        "name": str(result.name),
        "benchmarks": [str(k) for k in benchmarks],
        "params": jsonable(dict(result.params)),
        "benchmark_params": {str(k): jsonable(dict(b.params)) for k, b in benchmarks.items()},
        "init_cash": float(result.init_cash),
        "panel": _panel_meta(panel),
        "universe": [
            {**jsonable(d), "schedule_given": a.schedule}
            for d, a in zip(panel.universe.to_dict(), panel.universe)
        ],
        "versions": package_versions(),
        "created": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "solver_stats": jsonable(result.solver_stats()),
    }
    seeds: dict[str, Any] = {}
    if "seed" in panel.meta:
        seeds["data"] = jsonable(panel.meta["seed"])
    if forecasts is not None:
        ft, fm = _forecast_tables(forecasts, alpha)
        tables.update(ft)
        meta["forecasts"] = fm
        seeds["forecasts"] = fm["seed"]
    if scenario:
        st, sm = _scenario_tables(scenario)
        tables.update(st)
        meta["scenario"] = sm
        seeds["scenario"] = {k: v.get("seed") for k, v in sm.items()}
    if crowding is not None:
        ct, cm = _crowding_tables(crowding)
        tables.update(ct)
        meta["crowding"] = cm
        if "seed" in cm:
            seeds["crowding"] = cm["seed"]
    if walkforward is not None:
        wt, wm = _walkforward_tables(walkforward)
        tables.update(wt)
        meta["walkforward"] = wm
    meta["seeds"] = seeds
    return RunRecord(meta=meta, tables=tables, extra_sections=normalize_sections(extra_sections))
