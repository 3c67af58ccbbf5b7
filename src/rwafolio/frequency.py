"""Studies along a backtest: what moves the allocation, and how often to update it.

**Sensitivity along a backtest** (:func:`sensitivity_at`, :func:`sensitivity_path`,
:func:`regime_summary`): at each decision date of a
:class:`~rwafolio.backtest.result.BacktestResult` the strategy's own problem is rebuilt from the
result (its per-period ``mu``/``cov`` annualized with ``periods_per_year``, ``decisions["lam"]``
and ``["vix"]``, the drifted ``weights_before`` as w_prev, the universe's costs divided by the
strategy's ``cost_horizon`` in years (None: ``window / periods_per_year``), its bounds), solved exactly, differentiated with
:func:`rwafolio.optimize.sensitivity.sensitivities` and ranked with
:func:`~rwafolio.optimize.sensitivity.rank_inputs` over the strategy's estimation window. By
default every asset may trade (``freeze="none"``: what the model wants at that date); with
``freeze="schedule"`` the assets the schedule held back that day are frozen as in the backtest.
Stress dates are those with VIX above ``stress_vix`` (25).

**Update-frequency study** (:func:`frequency_study`): the same
:class:`~rwafolio.strategies.DynamicLambdaStrategy` under several update schedules on one panel
(crypto daily / every2 / weekly x RWAs daily / weekly / monthly x stress override at VIX 25 or
none; stablecoins follow the crypto schedule). Each schedule is one independent task run through
:func:`rwafolio.walkforward.run_tasks` (local processes, Dask, or ``"serial"``). Per schedule:
turnover and costs paid, realized volatility, Sharpe and max drawdown (``result.stats()``), VaR
breach counts and the utility lost, defined precisely as follows.

A *baseline* run of the same strategy updates every asset every day with the optimizer blind to
costs and no threshold, and records, at every date t of the live period, that date's annualized
estimates R_t, Sigma_t and lam_t. With ``U_t(w) = w'R_t - lam_t w'Sigma_t w`` (zero costs, cash
earning 0) and ``w*_t`` the maximizer of U_t over the budget and bounds (trading every day at zero
cost), the utility lost by a schedule is::

    utility_lost = mean over t of [ U_t(w*_t) - U_t(w_t) ]

where ``w_t`` is the schedule's portfolio held after trading at t (``result.weights``). It is in
annualized return units (certainty-equivalent return per year, at that date's risk aversion), is
>= 0 except when cash beats every fully invested portfolio, and ``off_optimum_share`` is the
fraction of dates where the daily loss exceeds ``loss_tol``. VaR breaches are counted with
:func:`rwafolio.risk.rolling_forecasts` at every baseline date (so counts are comparable across
schedules): the held portfolio is forecast one ``var_horizon`` ahead with the baseline's
estimates, and a breach is a realized return below the VaR.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from rwafolio.backtest.result import BacktestResult
from rwafolio.exceptions import ConfigError, DataError, OptimizationError
from rwafolio.loaders.panel import Panel
from rwafolio.optimize.sensitivity import Sensitivity, rank_inputs, sensitivities

__all__ = [
    "FrequencyStudy",
    "SensitivityPath",
    "costs_risk_figure",
    "frequency_report",
    "frequency_study",
    "regime_summary",
    "schedule_grid",
    "sensitivity_at",
    "sensitivity_path",
    "sensitivity_report",
    "tornado_figure",
    "utility_loss",
]

Freeze = Literal["none", "schedule"]
STRESS_VIX = 25.0


# --------------------------------------------------------------------------- sensitivity path
def _problem_at(result: BacktestResult, j: int, freeze: Freeze) -> dict[str, Any]:
    """The strategy's annualized problem at estimate number ``j`` of ``result``."""
    params = result.params
    ppy = result.periods_per_year
    date = result.estimate_dates[j]
    symbols = list(result.weights.columns)
    n = len(symbols)
    costs = np.asarray(result.panel.universe.costs, dtype=float)
    if params.get("costs", "model") == "blind":
        costs = np.zeros(n)
    else:
        horizon = params.get("cost_horizon")
        # The strategy's rule: None amortizes over the estimation window (window / ppy years).
        years = float(params.get("window", 30)) / ppy if horizon is None else float(horizon)
        costs = costs / years
    lo, hi = np.zeros(n), np.ones(n)
    for sym, (a, b) in (params.get("bounds") or {}).items():
        lo[symbols.index(sym)], hi[symbols.index(sym)] = a, b
    p = result.weights_before.loc[date].to_numpy(dtype=float)
    if freeze == "schedule":
        from rwafolio.strategies.schedules import resolve_schedules, schedule_matrix

        panel = result.panel
        per_asset = resolve_schedules(
            params.get("schedules"), symbols, list(panel.universe.classes)
        )
        t = int(panel.dates.searchsorted(date))
        vix = None if panel.vix is None else panel.vix.to_numpy(dtype=float)
        may = schedule_matrix(
            panel.dates,
            panel.tradable.to_numpy(dtype=bool),
            per_asset,
            vix,
            params.get("stress_vix"),
        )[t]
        lo = np.where(may, lo, p)
        hi = np.where(may, hi, p)
    elif freeze != "none":
        raise ConfigError(f"`freeze` must be 'none' or 'schedule', got {freeze!r}")
    k = int(pd.DatetimeIndex(result.decisions.index).get_indexer(pd.DatetimeIndex([date]))[0])
    lam_t = float(result.decisions["lam"].to_numpy(dtype=float)[k])
    vix_t = float(result.decisions["vix"].to_numpy(dtype=float)[k])
    if params.get("risk_aversion") not in (None, "None"):
        raise ConfigError(
            "sensitivities along a backtest need the linear VIX rule (dlam/dVIX = lam0 * eta); "
            "this run used a custom `risk_aversion`"
        )
    return {
        "R": result.mu[j] * ppy,
        "Sigma": result.cov[j] * ppy,
        "costs": costs,
        "w_prev": p,
        "lam": lam_t,
        "lo": lo,
        "hi": hi,
        "dlam_dvix": float(params.get("lam0", 2.0)) * float(params.get("eta", 0.05)),
        "vix": vix_t,
        "symbols": symbols,
    }


def sensitivity_at(
    result: BacktestResult,
    date: object,
    *,
    vix_move: float = 5.0,
    freeze: Freeze = "none",
) -> tuple[Sensitivity, pd.DataFrame]:
    """Sensitivities and the ranking at one decision date of a backtest.

    Parameters
    ----------
    result : BacktestResult
        A DynamicLambdaStrategy run (uses ``estimate_dates``, ``mu``, ``cov``, ``decisions``,
        ``weights_before`` and ``params``).
    date : date-like
        The decision date, or the last estimate date on or before it.
    vix_move : float, default 5.0
        Typical VIX move, in points.
    freeze : {"none", "schedule"}
        See the module docstring.

    Returns
    -------
    (Sensitivity, DataFrame)
        The derivatives and :func:`~rwafolio.optimize.sensitivity.rank_inputs`' table.
    """
    dates = pd.DatetimeIndex(result.estimate_dates)
    if len(dates) == 0:
        raise DataError("`result` has no estimate dates (did the strategy record mu/cov?)")
    ts = pd.Timestamp(date)  # type: ignore[arg-type]
    j = int(dates.searchsorted(ts, side="right")) - 1
    if j < 0:
        raise DataError(f"`date` {ts.date()} is before the first decision {dates[0].date()}")
    prob = _problem_at(result, j, freeze)
    sens = sensitivities(
        prob["R"],
        prob["Sigma"],
        prob["costs"],
        prob["w_prev"],
        prob["lam"],
        lo=prob["lo"],
        hi=prob["hi"],
        dlam_dvix=prob["dlam_dvix"],
        vix=prob["vix"],
        symbols=prob["symbols"],
    )
    window = int(result.params.get("window", 30))
    ranking = rank_inputs(sens, window, result.periods_per_year, vix_move)
    ranking.attrs["date"] = dates[j]
    return sens, ranking


@dataclass(frozen=True)
class SensitivityPath:
    """The input ranking at each decision date of a backtest.

    Attributes
    ----------
    table : DataFrame
        Long format, one row per (date, input): ``date``, ``input``, ``kind``, ``move``,
        ``turnover``, ``drisk_up``, ``drisk_down``, ``differentiable``, ``rank``, ``vix``,
        ``lam``, ``regime`` ("stress" when VIX > ``stress_vix``, else "calm").
    failed : DataFrame
        Dates whose problem could not be differentiated: ``date``, ``reason``.
    stress_vix : float
    vix_move : float
    freeze : str
    every : int
    """

    table: pd.DataFrame
    failed: pd.DataFrame
    stress_vix: float
    vix_move: float
    freeze: str
    every: int


def sensitivity_path(
    result: BacktestResult,
    *,
    every: int = 1,
    vix_move: float = 5.0,
    stress_vix: float = STRESS_VIX,
    freeze: Freeze = "none",
) -> SensitivityPath:
    """Rank the inputs at every ``every``-th decision date of ``result``.

    Parameters as in :func:`sensitivity_at`; ``stress_vix`` labels the regimes.
    """
    if not isinstance(every, int) or every < 1:
        raise ConfigError(f"`every` must be a positive int, got {every!r}")
    window = int(result.params.get("window", 30))
    frames, failed = [], []
    for j in range(0, len(result.estimate_dates), every):
        date = result.estimate_dates[j]
        try:
            prob = _problem_at(result, j, freeze)
            sens = sensitivities(
                prob["R"],
                prob["Sigma"],
                prob["costs"],
                prob["w_prev"],
                prob["lam"],
                lo=prob["lo"],
                hi=prob["hi"],
                dlam_dvix=prob["dlam_dvix"],
                vix=prob["vix"],
                symbols=prob["symbols"],
            )
        except (DataError, OptimizationError) as exc:
            failed.append({"date": date, "reason": str(exc)})
            continue
        tab = rank_inputs(sens, window, result.periods_per_year, vix_move)
        tab = tab[
            [
                "input",
                "kind",
                "move",
                "turnover",
                "drisk_up",
                "drisk_down",
                "differentiable",
                "rank",
            ]
        ]
        tab.insert(0, "date", date)
        tab["vix"], tab["lam"] = prob["vix"], prob["lam"]
        frames.append(tab)
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    if len(table):
        table["regime"] = np.where(table["vix"] > stress_vix, "stress", "calm")
    return SensitivityPath(
        table, pd.DataFrame(failed, columns=["date", "reason"]), stress_vix, vix_move, freeze, every
    )


def regime_summary(path: SensitivityPath, by: Literal["input", "kind"] = "input") -> pd.DataFrame:
    """How the ranking differs between calm and stress dates.

    Parameters
    ----------
    path : SensitivityPath
    by : {"input", "kind"}
        Per input, or per kind of input (mean, vol, corr, vix).

    Returns
    -------
    DataFrame
        ``by="input"``: per regime the mean turnover impact, mean rank and the share of dates in
        the top five (columns ``<stat>_<regime>``), sorted by the stress impact. ``by="kind"``:
        per regime the share of the total impact each kind carries (mean over dates of its summed
        turnover over the date's total) and ``n_dates``.
    """
    t = path.table
    if t.empty:
        raise DataError("`path` has no dates")
    if by == "input":
        g = t.assign(top5=t["rank"] <= 5).groupby(["input", "regime"])
        agg = g.agg(
            turnover=("turnover", "mean"), rank=("rank", "mean"), top5_share=("top5", "mean")
        )
        wide = pd.DataFrame(agg.unstack("regime"))
        wide.columns = pd.Index(["_".join(map(str, c)) for c in wide.columns.to_list()])
        key = "turnover_stress" if "turnover_stress" in wide.columns else str(wide.columns[0])
        return wide.sort_values(by=key, ascending=False)
    if by == "kind":
        per = t.groupby(["date", "regime", "kind"])["turnover"].sum().unstack("kind").fillna(0.0)
        share = per.div(per.sum(axis=1).replace(0.0, np.nan), axis=0)
        out = share.groupby(level="regime").mean()
        out["n_dates"] = per.groupby(level="regime").size()
        return out
    raise ConfigError(f"`by` must be 'input' or 'kind', got {by!r}")


def tornado_figure(ranking: pd.DataFrame, top: int = 12, title: str = "") -> Any:
    """Tornado chart of a ranking: the change in portfolio volatility for -1 and +1 typical move.

    Bars are ordered by the L1 turnover the move causes (printed beside each bar)."""
    import plotly.graph_objects as go

    r = ranking.head(top).iloc[::-1]
    text = [f"turnover {x:.1%}" for x in r["turnover"]]
    fig = go.Figure()
    fig.add_bar(y=r["input"], x=100 * r["drisk_down"], orientation="h", name="-1 typical move")
    fig.add_bar(
        y=r["input"],
        x=100 * r["drisk_up"],
        orientation="h",
        name="+1 typical move",
        text=text,
        textposition="outside",
    )
    fig.update_layout(
        barmode="overlay",
        title=title or "What moves the allocation (top inputs by turnover)",
        xaxis_title="change in portfolio volatility (pp, annualized)",
        height=max(320, 28 * len(r) + 120),
    )
    return fig


# --------------------------------------------------------------------------- frequency study
def schedule_grid(
    crypto: Sequence[str] = ("daily", "every2", "weekly"),
    rwa: Sequence[str] = ("daily", "weekly", "monthly"),
    stress: Sequence[float | None] = (STRESS_VIX, None),
) -> list[dict[str, Any]]:
    """The schedules to compare: one dict per combination, with ``name``, ``schedules`` (crypto,
    rwa, stable = the crypto schedule) and ``stress_vix``."""
    out = []
    for c, r, s in itertools.product(crypto, rwa, stress):
        name = f"crypto {c} / rwa {r} / " + (
            "stress>" + f"{s:g}" if s is not None else "no override"
        )
        out.append(
            {"name": name, "schedules": {"crypto": c, "rwa": r, "stable": c}, "stress_vix": s}
        )
    return out


def utility_loss(
    held: np.ndarray, best: np.ndarray, R: np.ndarray, Sigma: np.ndarray, lam: np.ndarray
) -> np.ndarray:
    """Per-date ``U_t(best_t) - U_t(held_t)`` with ``U_t(w) = w'R_t - lam_t w'Sigma_t w``.

    Parameters
    ----------
    held, best, R : ndarray of shape (n_dates, n_assets)
    Sigma : ndarray of shape (n_dates, n_assets, n_assets)
    lam : ndarray of shape (n_dates,)
        All annualized; returns an ndarray of shape (n_dates,).
    """

    def u(w: np.ndarray) -> np.ndarray:
        return np.einsum("ti,ti->t", w, R) - lam * np.einsum("ti,tij,tj->t", w, Sigma, w)

    return u(best) - u(held)


@dataclass(frozen=True)
class FrequencyStudy:
    """The schedule comparison.

    Attributes
    ----------
    table : DataFrame indexed by schedule name
        ``crypto``, ``rwa``, ``stress_vix``, ``turnover_per_year``, ``costs_paid``,
        ``volatility``, ``sharpe``, ``max_drawdown``, ``total_return``, ``n_trades`` (dates
        with a trade), ``var_forecasts``, ``breaches_<L>`` per VaR level, ``utility_lost``
        (annualized, see the module docstring), ``off_optimum_share``, ``seconds``.
    params : mapping
        Strategy parameters, VaR settings, ``loss_tol``, seed, the executor used.
    """

    table: pd.DataFrame
    params: Mapping[str, Any]


def _baseline(panel: Panel, strategy_params: Mapping[str, Any]) -> dict[str, Any]:
    """Estimates at every date (daily updates, cost-blind, no threshold) and the zero-cost optimum."""
    from rwafolio.backtest import run
    from rwafolio.optimize import solve_arrays
    from rwafolio.strategies.dynamic import DynamicLambdaStrategy

    daily = {k: "daily" for k in ("crypto", "rwa", "stable", "cash")}
    params = {
        **strategy_params,
        "schedules": daily,
        "stress_vix": None,
        "costs": "blind",
        "threshold_mode": "none",
    }
    base = run(DynamicLambdaStrategy(**params), panel, execute=False)
    ppy = panel.periods_per_year
    R, S = base.mu * ppy, base.cov * ppy
    lam = base.decisions.loc[base.estimate_dates, "lam"].to_numpy(dtype=float)
    symbols = panel.symbols
    n = len(symbols)
    lo, hi = np.zeros(n), np.ones(n)
    for sym, (a, b) in (strategy_params.get("bounds") or {}).items():
        lo[symbols.index(sym)], hi[symbols.index(sym)] = a, b
    best = np.empty_like(R)
    for t in range(R.shape[0]):
        best[t] = solve_arrays(
            np.ascontiguousarray(R[t]),
            np.ascontiguousarray(S[t]),
            np.zeros(n),
            best[t - 1] if t else lo,
            float(lam[t]),
            lo,
            hi,
        ).weights
    return {
        "dates": pd.DatetimeIndex(base.estimate_dates),
        "R": R,
        "Sigma": S,
        "lam": lam,
        "best": best,
        "mu": base.mu,
        "cov": base.cov,
    }


def _schedule_task(shared: dict[str, Any], payload: dict[str, Any], seed: int) -> dict[str, Any]:
    """One schedule: backtest, stats, VaR breaches, utility lost (a JSON-able row)."""
    import time

    from rwafolio.backtest import run
    from rwafolio.strategies.dynamic import DynamicLambdaStrategy

    t0 = time.perf_counter()
    panel: Panel = shared["panel"]
    base = shared["baseline"]
    params = {
        **shared["strategy_params"],
        "schedules": payload["schedules"],
        "stress_vix": payload["stress_vix"],
    }
    res = run(DynamicLambdaStrategy(**params), panel, execute=False, name=payload["name"])
    st = res.stats()
    dates = pd.DatetimeIndex(base["dates"])
    held = res.weights.loc[dates].to_numpy(dtype=float)
    loss = utility_loss(held, base["best"], base["R"], base["Sigma"], base["lam"])
    row: dict[str, Any] = {
        "crypto": payload["schedules"]["crypto"],
        "rwa": payload["schedules"]["rwa"],
        "stress_vix": payload["stress_vix"],
        **{
            k: float(st[k])
            for k in (
                "turnover_per_year",
                "costs_paid",
                "volatility",
                "sharpe",
                "max_drawdown",
                "total_return",
            )
        },
        "n_trades": int(res.decisions["traded"].sum()) if len(res.decisions) else 0,
        "utility_lost": float(np.mean(loss)),
        "off_optimum_share": float(np.mean(loss > shared["loss_tol"])),
    }
    levels = tuple(shared["var_levels"])
    if levels:
        from rwafolio.risk import rolling_forecasts

        common = dataclasses.replace(res, estimate_dates=dates, mu=base["mu"], cov=base["cov"])
        fc = rolling_forecasts(
            common,
            horizon=int(shared["var_horizon"]),
            n_scenarios=int(shared["n_scenarios"]),
            levels=levels,
            rng=seed,
        )
        for lv in levels:
            b = fc.breaches(lv)
            row["var_forecasts"] = len(b)
            row[f"breaches_{lv * 100:g}"] = int(b.sum())
    row["seconds"] = time.perf_counter() - t0
    return row


def frequency_study(
    panel: Panel,
    *,
    grid: Sequence[Mapping[str, Any]] | None = None,
    strategy_params: Mapping[str, Any] | None = None,
    executor: Any = None,
    var_horizon: int = 1,
    var_levels: Sequence[float] = (0.95, 0.99),
    n_scenarios: int = 2000,
    loss_tol: float = 1e-3,
    rng: np.random.Generator | int | None = None,
    progress: bool | None = None,
) -> FrequencyStudy:
    """Run DynamicLambdaStrategy under each schedule of ``grid`` on ``panel`` and compare.

    Parameters
    ----------
    panel : Panel
    grid : sequence of mappings or None
        Items with ``name``, ``schedules`` and ``stress_vix`` (default :func:`schedule_grid`:
        18 schedules).
    strategy_params : mapping or None
        Other DynamicLambdaStrategy parameters, the same for every schedule (not ``schedules``
        or ``stress_vix``).
    executor : str, Executor, distributed.Client or None
        As in :func:`rwafolio.walkforward.run_tasks` (None: local processes; ``"serial"``: a
        plain loop in this process).
    var_horizon : int, default 1
        Periods ahead of each VaR forecast.
    var_levels : sequence of float, default (0.95, 0.99)
        VaR levels; empty skips the VaR forecasts.
    n_scenarios : int, default 2000
        Monte Carlo scenarios per forecast.
    loss_tol : float, default 1e-3
        Daily utility loss (annualized) above which a date counts as off the optimum.
    rng : Generator, int or None
        Seed of the VaR Monte Carlo (recorded); every schedule uses the same one (common random
        numbers), so breach counts differ only through the portfolios.
    progress : bool or None

    Returns
    -------
    FrequencyStudy
    """
    from rwafolio.walkforward import Task, run_tasks

    if not isinstance(panel, Panel):
        raise ConfigError(f"`panel` must be a Panel, got {type(panel).__name__}")
    sp = dict(strategy_params or {})
    clash = {"schedules", "stress_vix"} & set(sp)
    if clash:
        raise ConfigError(f"`strategy_params` must not set {sorted(clash)}: the grid sets them")
    items = list(grid) if grid is not None else schedule_grid()
    if not items:
        raise ConfigError("`grid` must hold at least one schedule")
    names = [str(g["name"]) for g in items]
    if len(set(names)) != len(names):
        raise ConfigError("`grid` names must be unique")
    if not isinstance(var_horizon, int) or var_horizon < 1:
        raise ConfigError(f"`var_horizon` must be a positive int, got {var_horizon!r}")
    seed = int(np.random.default_rng(rng).integers(2**31 - 1))
    shared = {
        "panel": panel,
        "baseline": _baseline(panel, sp),
        "strategy_params": sp,
        "loss_tol": float(loss_tol),
        "var_horizon": var_horizon,
        "var_levels": [float(x) for x in var_levels],
        "n_scenarios": int(n_scenarios),
    }
    tasks = [
        Task(
            key=g["name"],
            payload={
                "name": g["name"],
                "schedules": dict(g["schedules"]),
                "stress_vix": g["stress_vix"],
            },
            seed=seed,
        )
        for g in items
    ]
    outcomes = run_tasks(
        _schedule_task,
        tasks,
        shared=shared,
        executor=executor,
        cache=None,
        progress=progress,
        desc="schedules",
    )
    bad = {k: o.error for k, o in outcomes.items() if not o.ok}
    if bad:
        first = next(iter(bad))
        raise OptimizationError(f"{len(bad)} schedule(s) failed; {first!r}: {bad[first]}")
    table = pd.DataFrame([outcomes[n].value for n in names], index=pd.Index(names, name="schedule"))
    return FrequencyStudy(
        table,
        {
            "strategy": {k: repr(v) for k, v in sp.items()},
            "var_horizon": var_horizon,
            "var_levels": [float(x) for x in var_levels],
            "n_scenarios": n_scenarios,
            "loss_tol": loss_tol,
            "seed": seed,
            "executor": repr(executor),
        },
    )


def costs_risk_figure(study: FrequencyStudy) -> Any:
    """Costs paid against realized volatility, one marker per schedule (size: utility lost)."""
    import plotly.graph_objects as go

    t = study.table
    fig = go.Figure()
    for override, sub in t.groupby(t["stress_vix"].isna()):
        fig.add_scatter(
            x=100 * sub["volatility"],
            y=100 * sub["costs_paid"],
            mode="markers+text",
            text=[f"{c}/{r}" for c, r in zip(sub["crypto"], sub["rwa"])],
            textposition="top center",
            name="no stress override" if override else "stress override (VIX>25)",
            marker={"size": 8 + 400 * np.sqrt(np.clip(sub["utility_lost"], 0, None))},
            customdata=np.c_[sub["sharpe"], sub["utility_lost"]],
            hovertemplate="%{text}<br>vol %{x:.1f}%<br>costs %{y:.2f}%<br>Sharpe %{customdata[0]:.2f}"
            "<br>utility lost %{customdata[1]:.4f}<extra></extra>",
        )
    fig.update_layout(
        title="Costs paid against realized risk, per update schedule (crypto/RWA)",
        xaxis_title="realized volatility (%, annualized)",
        yaxis_title="costs paid (% of value, whole period)",
        height=480,
    )
    return fig


# --------------------------------------------------------------------------- CLI-facing entry points
def _default_run(panel: Panel, strategy_params: Mapping[str, Any] | None) -> BacktestResult:
    from rwafolio.backtest import run
    from rwafolio.strategies.dynamic import DynamicLambdaStrategy

    return run(DynamicLambdaStrategy(**dict(strategy_params or {})), panel, execute=False)


def sensitivity_report(
    panel: Panel,
    *,
    date: object = None,
    result: BacktestResult | None = None,
    strategy_params: Mapping[str, Any] | None = None,
    every: int = 1,
    top: int = 12,
) -> tuple[pd.DataFrame, list[tuple[str, Any, str]]]:
    """The ranking at ``date`` (or across the backtest) and its report sections.

    Returns
    -------
    (DataFrame, list of (title, figure or DataFrame, note))
        With ``date``: the ranking table at that decision. Without: the regime summary by input.
        The sections go to ``rwafolio.reports.render_html(..., extra_sections=...)``.
    """
    res = result if result is not None else _default_run(panel, strategy_params)
    sections: list[tuple[str, Any, str]] = []
    note = (
        "Bars: change in the optimal portfolio's annualized volatility for a one-standard-error "
        "move of each estimate over the window (mean sigma*sqrt(ppy/T), vol sigma/sqrt(2T), "
        "correlation (1-rho^2)/sqrt(T)) and a 5-point VIX move; ordered by the L1 turnover "
        "that move would cause. Exact derivatives of the KKT system; one-sided where flagged."
    )
    if date is not None:
        _, ranking = sensitivity_at(res, date)
        d = str(pd.Timestamp(ranking.attrs["date"]).date())
        sections.append((f"Sensitivity ranking at {d}", tornado_figure(ranking, top), note))
        sections.append((f"Sensitivity table at {d}", ranking.head(top).round(5), note))
        return ranking, sections
    path = sensitivity_path(res, every=every)
    by_input = regime_summary(path, "input")
    by_kind = regime_summary(path, "kind")
    last = path.table["date"].max()
    _, ranking = sensitivity_at(res, last)
    sections.append(
        (
            f"Sensitivity ranking at the last decision ({pd.Timestamp(last).date()})",
            tornado_figure(ranking, top),
            note,
        )
    )
    sections.append(
        (
            "Sensitivities in calm and stress (VIX > 25)",
            by_input.head(top).round(5),
            "Mean turnover impact, mean rank and share of dates in the top five, per regime.",
        )
    )
    sections.append(
        (
            "Share of impact by kind of input",
            by_kind.round(4),
            "Mean over dates of each kind's share of the summed turnover impact.",
        )
    )
    return by_input, sections


def frequency_report(
    panel: Panel, **kwargs: Any
) -> tuple[FrequencyStudy, list[tuple[str, Any, str]]]:
    """Run :func:`frequency_study` (keyword arguments passed on) and build its report sections."""
    study = frequency_study(panel, **kwargs)
    note = (
        "One marker per schedule; marker size grows with the utility lost against trading every "
        "day at zero cost (module docstring of rwafolio.frequency)."
    )
    cols = [c for c in study.table.columns if c != "seconds"]
    return study, [
        ("Update frequency: costs against risk", costs_risk_figure(study), note),
        (
            "Update frequency: schedule table",
            study.table[cols].round(4),
            "utility_lost: mean over dates of U_t(w*) - U_t(w held), annualized, zero costs.",
        ),
    ]
