"""Numpy twin of the crowding kernel (:func:`rwafolio.risk._crowding_kernels.crowding_paths_nb`).

Written differently on purpose: the agents use the book's numpy step
(:func:`~rwafolio.backtest.book.drift_py`, :func:`~rwafolio.backtest.book.trade_py`), the displacement
is an explicit sum over past impacts, the alignment a Gram matrix, and our two books run through
:func:`rwafolio.risk._kernels.simulate_paths_np` once the realized returns are known. Slow: tests.
"""

from __future__ import annotations

import numpy as np

from rwafolio.backtest.book import drift_py as drift
from rwafolio.backtest.book import trade_py as trade
from rwafolio.risk._crowding_kernels import Agents, Book, Market, Outcomes
from rwafolio.risk._kernels import simulate_paths_np
from rwafolio.strategies._decide_kernels import decide_nb

__all__ = ["crowding_paths_np"]


def _cosines_np(trades: np.ndarray) -> tuple[float, float]:
    """Twin of :func:`_cosines_nb` through the Gram matrix of the normalized trades."""
    norms = np.linalg.norm(trades, axis=1)
    live = norms > 1e-12
    u = trades[live] / norms[live, None]
    gram = u @ u.T
    k = u.shape[0]
    return float(gram[np.triu_indices(k, 1)].sum()), float(k * (k - 1) // 2)


def _agents_path_np(
    x: np.ndarray, agents: Agents, market: Market
) -> tuple[np.ndarray, float, float, float, float, float]:
    """One scenario's realized returns (horizon, n) and the agents' totals, with the numpy book
    step (:func:`~rwafolio.backtest.book.drift_py`, :func:`~rwafolio.backtest.book.trade_py`) and
    the displacement as an explicit sum over past impacts (the propagator ``phi keep**lag``)."""
    horizon, n = x.shape
    k_agents = agents.lam.shape[0]
    seen = [row for row in agents.hist0]
    w = [agents.w0[a].copy() for a in range(k_agents)]
    cash = [1.0 - agents.w0[a].sum() for a in range(k_agents)]
    val, peak, warm = np.ones(k_agents), np.ones(k_agents), agents.w0.copy()
    impacts: list[np.ndarray] = []
    d_prev = d_prev2 = np.zeros(n)
    rc = np.empty_like(x)
    cos = pairs = turnover = paid = fire = 0.0
    for t in range(horizon):
        rc[t] = x[t] + (1.0 + x[t]) * ((d_prev - d_prev2) / (1.0 + d_prev2))
        seen.append(rc[t])
        trades = np.zeros((k_agents, n))
        vpre = np.empty(k_agents)
        for a in range(k_agents):
            w[a], cash[a], growth = drift(w[a], cash[a], rc[t])
            val[a] *= growth
            peak[a] = max(peak[a], val[a])
            vpre[a] = val[a]
            if val[a] / peak[a] - 1.0 < -agents.fire_dd:
                fire += 1
                target = np.where(w[a] > 0.0, w[a] * (1.0 - agents.fire_frac), np.nan)
            else:
                win = np.array(seen[-int(agents.window[a]) :]) + agents.bias[a]
                target, warm[a] = decide_nb(
                    win, agents.vix, w[a], np.ones(n, np.bool_), agents.lam[a], agents.eta,
                    agents.opt_costs[a], agents.box_lo, agents.box_hi, agents.ppy, agents.tau,
                    agents.mode, warm[a], agents.prior_obs, agents.w_ref, agents.ref_lam,
                )  # fmt: skip
            traded = ~np.isnan(target)
            if traded.any():
                tr = trade(w[a], cash[a], np.where(traded, target, 0.0), traded, agents.rates)
                trades[a, traded] = tr.sent - w[a][traded]
                w[a], cash[a] = tr.weights, tr.cash
                val[a] *= tr.growth
        q = (agents.aum * vpre) @ trades
        imp = np.sign(q) * market.y * market.sigma * np.sqrt(np.abs(q) / market.volume)
        cost = trades @ imp * vpre / val
        for a in range(k_agents):
            if cost[a] != 0.0:
                w[a], cash[a] = w[a] / (1.0 - cost[a]), (cash[a] - cost[a]) / (1.0 - cost[a])
        val *= 1.0 - cost
        impacts.append(imp)
        lags = np.arange(len(impacts))[::-1].astype(float)
        d_prev2, d_prev = d_prev, market.phi * (market.keep**lags) @ np.array(impacts)
        turnover += float(np.abs(trades).sum())
        paid += float(cost.sum())
        if k_agents > 1:
            c, p = _cosines_np(trades)
            cos, pairs = cos + c, pairs + p
    return rc, cos, pairs, turnover, paid, fire


def crowding_paths_np(x: np.ndarray, book: Book, agents: Agents, market: Market) -> Outcomes:
    """Numpy twin of :func:`crowding_paths_nb` (slow: small tests).

    ``x`` (n_scen * horizon, n) are the exogenous per-period returns. Our book is a price-taker,
    so the realized returns of a scenario are found first (the agents, scenario by scenario)
    and both books then run through :func:`rwafolio.risk._kernels.simulate_paths_np`. The
    displacement is never clamped here (tests keep it above -0.99).
    """
    w, costs, horizon, every, additive = book
    n = w.shape[0]
    x3 = x.reshape(-1, horizon, n)
    rows = [_agents_path_np(x3[m], agents, market) for m in range(x3.shape[0])]
    rc = np.concatenate([r[0] for r in rows])
    base = simulate_paths_np(x, w, costs, horizon, every, additive)
    crowd = simulate_paths_np(rc, w, costs, horizon, every, additive)
    extra = [np.array([r[j] for r in rows], dtype=float) for j in range(1, 6)]
    return Outcomes(*base, *crowd, *extra)
