"""How often to update: the update-frequency study.

**Update-frequency study** (:func:`frequency_study`): the same
:class:`~rwafolio.strategies.DynamicLambdaStrategy` under several update schedules on one panel
(crypto daily / every2 / weekly x RWAs daily / weekly / monthly x stress override at VIX 25 or
none; stablecoins follow the crypto schedule). Each schedule is one independent task run through
:func:`rwafolio.tasks.run_tasks` (local processes, Dask, or ``"serial"``). Per schedule:
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
from typing import Any

import numpy as np
import pandas as pd

from rwafolio.exceptions import ConfigError, OptimizationError
from rwafolio.loaders.panel import Panel
from rwafolio.studies.sensitivity_path import STRESS_VIX

__all__ = [
    "FrequencyStudy",
    "frequency_study",
    "schedule_grid",
    "utility_loss",
]


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
    from rwafolio.backtest.replay import problems
    from rwafolio.optimize import solve_arrays
    from rwafolio.strategies.dynamic import DynamicLambdaStrategy

    daily = {k: "daily" for k in ("crypto", "rwa", "stable", "cash")}
    params = {
        **strategy_params,
        "schedules": daily,
        "stress_vix": None,
        "cost_mode": "blind",
        "threshold_mode": "none",
    }
    base = run(DynamicLambdaStrategy(**params), panel, execute=False)
    # The baseline strategy's own statement of each date's problem (estimates, lam, bounds).
    probs = [p for _, p in problems(base)]
    n = len(panel.symbols)
    R = np.array([p.R for p in probs]).reshape(len(probs), n)
    S = np.array([p.Sigma for p in probs]).reshape(len(probs), n, n)
    lam = np.array([p.lam for p in probs], dtype=float)
    lo, hi = (probs[0].box_lo, probs[0].box_hi) if probs else (np.zeros(n), np.ones(n))
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
            target="book",  # each variant's held book on the baseline's estimates: comparable
            mean="estimate",
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
        As in :func:`rwafolio.tasks.run_tasks` (None: local processes; ``"serial"``: a
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
    from rwafolio.tasks import Task, run_tasks

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
    from rwafolio.risk.montecarlo import check_setting

    var_horizon = check_setting(var_horizon, "var_horizon", field="horizon")
    n_scenarios = check_setting(n_scenarios, "n_scenarios", field="n_scenarios")
    empty = isinstance(var_levels, Sequence) and len(var_levels) == 0
    var_levels = () if empty else check_setting(var_levels, "var_levels", field="levels")
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
