"""Top-down risk: simulate the strategy's own net P&L, not its assets.

What is realized after a decision date is the strategy's value path: it re-trades, pays fees and
holds what its schedules allow. Its own daily net returns already carry all of that, so a
volatility filter on them is a fast forecast of the strategy itself (the dense 1-day series).

Model (per period, simple returns, negative = loss). With ``x_s`` the net returns up to the
decision date and a variance filter ``s2_{s+1} = omega + a x_s^2 + b s2_s``:

* ``"ewma"`` (RiskMetrics): ``omega = 0, a = 1 - lam, b = lam`` (default ``lam = 0.94``), started
  at the mean square of the first ``min(30, T)`` returns;
* ``"garch"``: GARCH(1, 1) fitted by the ``arch`` package (zero mean, normal quasi-likelihood).

Innovations: ``"fhs"`` (filtered historical simulation) draws the standardized residuals
``e_s = x_s / sqrt(s2_s)`` in blocks (circular block bootstrap); ``"normal"`` draws N(0, 1). A
path starts from the filter's forecast ``s2_{T+1}`` and updates it with its own simulated returns,
``r_t = mean + sqrt(s2_t) e_t``, so volatility clusters inside the horizon. ``mean`` is 0 by
default, or the strategy's own per-period estimate ``w' mu``; never a raw window mean
extrapolated.

Where the live history is short, :func:`pnl_history` seeds it with the pseudo-history of the
weights held now (``w' r_s`` on past asset returns): past data only, no look-ahead.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numba import njit

from rwafolio.exceptions import ConfigError, DataError

Filter = Literal["ewma", "garch"]
Innovations = Literal["fhs", "normal"]

#: Smallest variance a residual is divided by; rows below it (a flat book) leave the pool.
_VAR_FLOOR = 1e-18


@njit(cache=True, nogil=True)
def filter_variance_nb(x: np.ndarray, omega: float, a: float, b: float, s0: float) -> np.ndarray:
    """Variance filter ``s2[0] = s0``, ``s2[t + 1] = omega + a x[t]^2 + b s2[t]``; shape (T + 1,)."""
    s2 = np.empty(x.shape[0] + 1)
    s2[0] = s0
    for t in range(x.shape[0]):
        s2[t + 1] = omega + a * x[t] * x[t] + b * s2[t]
    return s2


def filter_variance_np(x: np.ndarray, omega: float, a: float, b: float, s0: float) -> np.ndarray:
    """Numpy twin of :func:`filter_variance_nb` by the closed form
    ``s2[t] = b^t s0 + sum_{k<t} b^(t-1-k) (omega + a x[k]^2)``."""
    t = np.arange(x.shape[0] + 1)
    k = np.arange(x.shape[0])
    expo = t[:, None] - 1 - k[None, :]
    weights = np.where(expo >= 0, np.power(b, np.maximum(expo, 0)), 0.0)
    return b**t * s0 + weights @ (omega + a * x**2)


@njit(cache=True, nogil=True)
def pnl_paths_nb(
    e: np.ndarray,
    idx: np.ndarray,
    s2_now: float,
    omega: float,
    a: float,
    b: float,
    mean: float,
    horizon: int,
    out: np.ndarray,
    mdd: np.ndarray,
) -> None:
    """Simulate ``out.shape[0]`` value paths of the filtered P&L, in place.

    Parameters
    ----------
    e : ndarray of shape (n_pool,) or (n_rows,)
        Residual pool (FHS, with ``idx``) or the innovations themselves (``idx`` empty).
    idx : ndarray of int64, shape (n_rows,) or (0,)
        Row of ``e`` for each simulated period; rows are path-major (``m * horizon + t``).
    s2_now : float
        Variance of the first simulated period.
    omega, a, b : float
        Variance recursion along the path.
    mean : float
        Mean per-period return.
    out, mdd : ndarray of shape (n_paths,)
        Written: horizon return ``V_H - 1`` and maximum drawdown (<= 0, start included).
    """
    boot = idx.shape[0] > 0
    for m in range(out.shape[0]):
        var = s2_now
        level = 1.0
        peak = 1.0
        worst = 0.0
        for t in range(horizon):
            row = m * horizon + t
            z = e[idx[row]] if boot else e[row]
            shock = np.sqrt(var) * z
            level *= 1.0 + mean + shock
            var = omega + a * shock * shock + b * var
            if level > peak:
                peak = level
            dd = level / peak - 1.0
            if dd < worst:
                worst = dd
        out[m] = level - 1.0
        mdd[m] = worst


def pnl_paths_np(
    shocks: np.ndarray, s2_now: float, omega: float, a: float, b: float, mean: float
) -> tuple[np.ndarray, np.ndarray]:
    """Numpy twin of :func:`pnl_paths_nb`, vectorized over paths.

    ``shocks`` has shape (n_paths, horizon): the innovations already drawn.
    """
    var = np.full(shocks.shape[0], s2_now)
    level = np.ones(shocks.shape[0])
    peak = np.ones_like(level)
    worst = np.zeros_like(level)
    for t in range(shocks.shape[1]):
        shock = np.sqrt(var) * shocks[:, t]
        level = level * (1.0 + mean + shock)
        var = omega + a * shock**2 + b * var
        peak = np.maximum(peak, level)
        worst = np.minimum(worst, level / peak - 1.0)
    return level - 1.0, worst


def fit_filter(
    x: np.ndarray, kind: Filter = "ewma", lam: float = 0.94
) -> tuple[float, float, float, float]:
    """Parameters ``(omega, a, b, s0)`` of the variance filter for the returns ``x``.

    ``"garch"`` fits GARCH(1, 1) with the ``arch`` package on ``100 x`` (its preferred scale)
    and converts omega back to return units.
    """
    s0 = float(np.mean(x[: min(30, x.shape[0])] ** 2))
    if kind == "ewma":
        if not (0.0 < lam < 1.0):
            raise ConfigError(f"`lam` must be in (0, 1), got {lam!r}")
        return 0.0, 1.0 - lam, lam, s0
    if kind != "garch":
        raise ConfigError(f"`filter` must be 'ewma' or 'garch', got {kind!r}")
    from arch import arch_model

    res = arch_model(100.0 * x, mean="Zero", vol="GARCH", p=1, q=1, dist="normal").fit(
        disp="off", show_warning=False
    )
    p = res.params
    s0_g = float(res.conditional_volatility[0] ** 2) / 1e4
    return float(p["omega"]) / 1e4, float(p["alpha[1]"]), float(p["beta[1]"]), s0_g


def residuals(x: np.ndarray, s2: np.ndarray) -> np.ndarray:
    """Standardized residuals ``x_s / sqrt(s2_s)`` of the rows whose variance is above the floor."""
    keep = s2[:-1] > _VAR_FLOOR
    return np.ascontiguousarray(x[keep] / np.sqrt(s2[:-1][keep]))


def pnl_history(
    values: np.ndarray,
    weights: np.ndarray,
    asset_returns: np.ndarray,
    pos: int,
    first_live: int,
    length: int,
) -> np.ndarray:
    """The last ``length`` net returns up to row ``pos``, seeded with pseudo-history.

    Rows ``s`` in ``(first_live, pos]`` are the strategy's live net returns
    ``values[s] / values[s - 1] - 1``. Earlier rows (including the first trade's fee) are the
    pseudo-returns ``weights[pos] @ asset_returns[s]`` of the weights held after trading at
    ``pos``. Only rows ``<= pos`` are read.

    Returns
    -------
    ndarray of shape (min(length, pos),)
    """
    lo = max(1, pos - length + 1)
    rows = np.arange(lo, pos + 1)
    live = rows > first_live
    out = np.empty(rows.shape[0])
    out[live] = values[rows[live]] / values[rows[live] - 1] - 1.0
    out[~live] = asset_returns[rows[~live]] @ weights[pos]
    return out


def simulate_pnl(
    history: np.ndarray,
    *,
    horizon: int,
    n_scenarios: int,
    seed: int,
    innovations: Innovations = "fhs",
    filter: Filter = "ewma",
    lam: float = 0.94,
    mean: float = 0.0,
    block: int = 5,
) -> tuple[np.ndarray, np.ndarray]:
    """Horizon returns and maximum drawdowns of ``n_scenarios`` filtered P&L paths.

    Parameters
    ----------
    history : ndarray of shape (T,)
        Net per-period returns up to the decision date (see :func:`pnl_history`).
    horizon, n_scenarios : int
    seed : int
        Seed of ``Generator(SFC64(seed))``.
    innovations, filter, lam, mean, block
        See the module docstring.

    Returns
    -------
    outcomes, max_drawdowns : ndarray of shape (n_scenarios,)
    """
    x = np.ascontiguousarray(history, dtype=float)
    if x.ndim != 1 or x.shape[0] < 2 or not np.all(np.isfinite(x)):
        raise DataError(f"`history` must be a finite 1D array of >= 2 returns, got {x.shape}")
    omega, a, b, s0 = fit_filter(x, filter, lam)
    s2 = filter_variance_nb(x, omega, a, b, s0)
    gen = np.random.Generator(np.random.SFC64(seed))
    rows = n_scenarios * horizon
    if innovations == "fhs":
        pool = residuals(x, s2)
        if pool.shape[0] < 1:
            raise DataError("`history` has no period with a positive filtered variance")
        n_blocks = -(-horizon // block)
        starts = gen.integers(0, pool.shape[0], size=(n_scenarios, n_blocks))
        t = np.arange(horizon)
        idx = ((starts[:, t // block] + (t % block)) % pool.shape[0]).reshape(-1)
        e, idx = pool, np.ascontiguousarray(idx, dtype=np.int64)
    elif innovations == "normal":
        e, idx = gen.standard_normal(rows), np.zeros(0, dtype=np.int64)
    else:
        raise ConfigError(f"`innovations` must be 'fhs' or 'normal', got {innovations!r}")
    out = np.empty(n_scenarios)
    mdd = np.empty(n_scenarios)
    pnl_paths_nb(e, idx, float(s2[-1]), omega, a, b, float(mean), horizon, out, mdd)
    return out, mdd
