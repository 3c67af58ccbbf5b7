"""Scenario-path kernels: plain-array functions, numba-jitted, each with a pure-numpy twin.

One pass over a block of scenarios turns per-period asset returns into, for each scenario, the
portfolio's horizon outcome, its maximum drawdown and the trading cost it paid. The jitted
kernel fuses the factor transform (standard normals -> correlated asset returns) with the path
accounting, so the correlated returns are never stored.

Conventions shared by every kernel here
---------------------------------------
* Rows are scenario-major: row ``m * horizon + t`` is period ``t`` of scenario ``m``.
* Returns are simple per-period returns. Cash (``1 - sum(w)``) earns zero.
* ``every``: 0 means the holdings drift (buy and hold); ``k >= 1`` means that after every k-th
  period (but not after the last one) the holdings are traded back to ``w``, paying
  ``sum_i C_i |w_i - w_drifted_i|`` as a fraction of the value at that moment.
* ``additive`` False: the outcome is ``V_H - 1`` with ``V`` compounding (the real value path).
  ``additive`` True: the outcome is the SUM of the per-period portfolio returns minus the cost
  fractions (the model's ``R_p - C_p`` with non-compounded aggregation: its closed form is exact
  for normal returns with ``every=1``). Drawdowns are taken on ``V`` or on ``1 + cumulative sum``.
* Outcomes and drawdowns are returns: negative = loss. A maximum drawdown is ``min_t
  (level_t / max_{s<=t} level_s - 1) <= 0`` with the starting level 1 included in the peak.
* ``cost`` is the total cost paid over the horizon in units of the starting value.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True, fastmath=True)
def simulate_paths_nb(
    z: np.ndarray,
    factor: np.ndarray,
    mu: np.ndarray,
    scale: np.ndarray,
    hist: np.ndarray,
    idx: np.ndarray,
    w: np.ndarray,
    costs: np.ndarray,
    horizon: int,
    every: int,
    additive: bool,
    out: np.ndarray,
    mdd: np.ndarray,
    cost: np.ndarray,
) -> None:
    """Fused scenario kernel: draws -> asset returns -> path accounting, written in place.

    Parameters
    ----------
    z : ndarray of shape (n_rows, k)
        Standard normals (ignored when ``idx`` is non-empty).
    factor : ndarray of shape (n, k)
        Factor with ``factor @ factor.T = Sigma`` (per period); asset returns of a row are
        ``mu + scale[row] * factor @ z[row]``.
    mu : ndarray of shape (n,)
        Mean return per period.
    scale : ndarray of shape (n_rows,) or (0,)
        Per-row multiplier of the shock (Student-t mixing); empty means 1.
    hist : ndarray of shape (T, n)
        Historical per-period returns for the bootstrap (ignored when ``idx`` is empty).
    idx : ndarray of int64, shape (n_rows,) or (0,)
        Row of ``hist`` used for each simulated row; empty selects the parametric mode.
    w : ndarray of shape (n,)
        Starting (and rebalancing target) weights; cash is ``1 - sum(w)``.
    costs : ndarray of shape (n,)
        One-off cost per unit of traded weight.
    horizon, every : int
        Periods per scenario; rebalancing interval (0 = drift).
    additive : bool
        Sum per-period returns instead of compounding.
    out, mdd, cost : ndarray of shape (n_rows // horizon,)
        Written: outcome, maximum drawdown, cost paid.
    """
    n = w.shape[0]
    k = factor.shape[1]
    n_scen = out.shape[0]
    boot = idx.shape[0] > 0
    scaled = scale.shape[0] > 0
    w_cash = 1.0 - np.sum(w)
    h = np.empty(n)
    r = np.empty(n)
    for m in range(n_scen):
        for i in range(n):
            h[i] = w[i]
        cash = w_cash
        value = 1.0
        acc = 0.0
        peak = 1.0
        worst = 0.0
        paid = 0.0
        level = 1.0
        for t in range(horizon):
            row = m * horizon + t
            if boot:
                src = idx[row]
                for i in range(n):
                    r[i] = hist[src, i]
            else:
                s = scale[row] if scaled else 1.0
                for i in range(n):
                    acc_i = 0.0
                    for j in range(k):
                        acc_i += factor[i, j] * z[row, j]
                    r[i] = mu[i] + s * acc_i
            new_value = cash
            gain = 0.0
            for i in range(n):
                g = h[i] * r[i]
                gain += g
                h[i] += g
                new_value += h[i]
            if additive:
                acc += gain / value
                level = 1.0 + acc
            else:
                level = new_value
            value = new_value
            if every > 0 and (t + 1) % every == 0 and t + 1 < horizon:
                c = 0.0
                for i in range(n):
                    c += costs[i] * abs(w[i] * value - h[i])
                c /= value
                if additive:
                    paid += c
                    acc -= c
                    level = 1.0 + acc
                else:
                    paid += c * value
                    level = value * (1.0 - c)
                value *= 1.0 - c
                for i in range(n):
                    h[i] = w[i] * value
                cash = w_cash * value
            if level > peak:
                peak = level
            dd = level / peak - 1.0
            if dd < worst:
                worst = dd
        out[m] = level - 1.0
        mdd[m] = worst
        cost[m] = paid


def simulate_paths_np(
    x: np.ndarray,
    w: np.ndarray,
    costs: np.ndarray,
    horizon: int,
    every: int,
    additive: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pure-numpy twin of :func:`simulate_paths_nb` (vectorized over scenarios).

    Parameters
    ----------
    x : ndarray of shape (n_scenarios * horizon, n)
        Per-period simple asset returns, scenario-major rows.
    w, costs, horizon, every, additive
        As in :func:`simulate_paths_nb`.

    Returns
    -------
    out, mdd, cost : ndarray of shape (n_scenarios,)
    """
    n = w.shape[0]
    x3 = x.reshape(-1, horizon, n)
    n_scen = x3.shape[0]
    w_cash = 1.0 - w.sum()
    h = np.tile(w, (n_scen, 1))
    cash = np.full(n_scen, w_cash)
    value = np.ones(n_scen)
    acc = np.zeros(n_scen)
    peak = np.ones(n_scen)
    worst = np.zeros(n_scen)
    paid = np.zeros(n_scen)
    level = np.ones(n_scen)
    for t in range(horizon):
        g = h * x3[:, t, :]
        h = h + g
        new_value = cash + h.sum(axis=1)
        if additive:
            acc = acc + g.sum(axis=1) / value
            level = 1.0 + acc
        else:
            level = new_value
        value = new_value
        if every > 0 and (t + 1) % every == 0 and t + 1 < horizon:
            c = (costs * np.abs(w * value[:, None] - h)).sum(axis=1) / value
            if additive:
                paid = paid + c
                acc = acc - c
                level = 1.0 + acc
            else:
                paid = paid + c * value
                level = value * (1.0 - c)
            value = value * (1.0 - c)
            h = w * value[:, None]
            cash = w_cash * value
        peak = np.maximum(peak, level)
        worst = np.minimum(worst, level / peak - 1.0)
    return level - 1.0, worst, paid


def max_drawdown_np(levels: np.ndarray) -> np.ndarray:
    """Maximum drawdown (<= 0) of each row of ``levels`` (shape (m, T)), start level 1 included."""
    lv = np.concatenate([np.ones((levels.shape[0], 1)), levels], axis=1)
    peak = np.maximum.accumulate(lv, axis=1)
    return (lv / peak - 1.0).min(axis=1)
