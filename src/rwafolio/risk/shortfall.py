"""Backtest of expected-shortfall (CVaR) forecasts: Acerbi and Szekely's Z2 test.

Sign convention as in :mod:`rwafolio.risk.forecast`: realized outcomes ``X_t``, ``VaR_t`` and
``ES_t`` are returns, negative = loss, ``ES_t <= VaR_t``. With ``p = 1 - level`` and the breach
indicator ``I_t = 1{X_t < VaR_t}``, Acerbi and Szekely's (2014, "Backtesting expected shortfall",
Risk) second statistic, written in this convention, is

    Z2 = 1 - sum_t X_t I_t / (T p ES_t).

Under the null that every forecast distribution is right below its VaR, ``E[X_t I_t] = p ES_t``
and ``E[Z2] = 0``; forecasts that understate the tail make it negative. The critical value is
simulated under the null from each date's own forecast tail, as the authors recommend: the tail
``X_t | X_t < VaR_t`` is kept as ``k`` equal-probability bin means (:func:`tail_bins`), and each
simulated history draws a breach with probability ``p`` and its size uniformly from the bins. A
negative Z2 below the ``alpha`` quantile of the simulated statistics rejects.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rwafolio.exceptions import DataError, describe

#: Equal-probability bins that summarize a forecast's tail below its VaR.
TAIL_BINS = 20


def tail_bins(sorted_outcomes: np.ndarray, level: float, k: int = TAIL_BINS) -> np.ndarray:
    """The worst ``ceil(M (1 - level))`` outcomes of an ascending sample, as ``k`` bin means.

    Returns
    -------
    ndarray of shape (k,)
        Ascending. Their mean is the CVaR of the sample when ``k`` divides the tail count.
    """
    m = sorted_outcomes.shape[0]
    j = max(int(np.ceil(m * (1.0 - level) - 1e-9)), 1)
    parts = np.array_split(sorted_outcomes[:j], min(k, j))
    means = np.array([p.mean() for p in parts])
    return np.resize(means, k) if means.shape[0] < k else means


@dataclass(frozen=True)
class ShortfallTest:
    """Result of the Z2 test.

    Attributes
    ----------
    name : str
    statistic : float
        Z2 (0 under the null; negative when the tail is understated).
    critical_value : float
        The ``alpha`` quantile of Z2 simulated under the null.
    p_value : float
        Share of null simulations with ``Z2 <= statistic``.
    reject : bool
    alpha : float
    n_obs, n_failures : int
    n_sims, seed : int
    verdict : str
    """

    name: str
    statistic: float
    critical_value: float
    p_value: float
    reject: bool
    alpha: float
    n_obs: int
    n_failures: int
    n_sims: int
    seed: int
    verdict: str


def z2_statistic(realized: np.ndarray, var: np.ndarray, es: np.ndarray, level: float) -> float:
    """``Z2 = 1 - sum_t X_t 1{X_t < VaR_t} / (T (1 - level) ES_t)`` (returns, negative = loss)."""
    p = 1.0 - level
    hit = realized < var
    return float(1.0 - np.sum(np.where(hit, realized / es, 0.0)) / (realized.shape[0] * p))


def acerbi_szekely_z2(
    realized: np.ndarray,
    var: np.ndarray,
    es: np.ndarray,
    tails: np.ndarray,
    level: float,
    *,
    alpha: float = 0.05,
    n_sims: int = 10_000,
    seed: int = 0,
) -> ShortfallTest:
    """Acerbi-Szekely Z2 test of ES forecasts with a critical value simulated under the null.

    Parameters
    ----------
    realized, var, es : ndarray of shape (T,)
        Realized horizon returns and the forecast VaR and ES (CVaR) at ``level`` (negative =
        loss; ES <= VaR < 0 for a loss forecast).
    tails : ndarray of shape (T, k)
        Each forecast's tail below its VaR as equal-probability bin means (:func:`tail_bins`).
    level : float
        VaR/ES confidence, e.g. 0.975.
    alpha : float
        Significance.
    n_sims : int
        Null histories simulated.
    seed : int
        Seed of the simulation (recorded).
    """
    x, v, e = (np.asarray(a, dtype=float) for a in (realized, var, es))
    tb = np.asarray(tails, dtype=float)
    t_obs = x.shape[0]
    if (
        t_obs < 1
        or v.shape != x.shape
        or e.shape != x.shape
        or tb.ndim != 2
        or tb.shape[0] != t_obs
    ):
        raise DataError(
            f"`realized`, `var`, `es` must have one shape (T,) and `tails` (T, k); got "
            f"{describe(x)}, {describe(v)}, {describe(e)}, {describe(tb)}"
        )
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(e)) and np.all(e < 0)):
        raise DataError("`realized` must be finite and `es` finite and negative (a loss)")
    p = 1.0 - level
    stat = z2_statistic(x, v, e, level)
    gen = np.random.Generator(np.random.SFC64(seed))
    sims = np.empty(n_sims)
    chunk = max(1, 2_000_000 // max(t_obs, 1))
    for lo in range(0, n_sims, chunk):
        hi = min(lo + chunk, n_sims)
        hit = gen.random((hi - lo, t_obs)) < p
        pick = gen.integers(0, tb.shape[1], size=(hi - lo, t_obs))
        draws = np.take_along_axis(np.broadcast_to(tb, (hi - lo, *tb.shape)), pick[..., None], 2)
        sims[lo:hi] = 1.0 - np.sum(np.where(hit, draws[..., 0] / e, 0.0), axis=1) / (t_obs * p)
    crit = float(np.quantile(sims, alpha))
    pv = float(np.mean(sims <= stat))
    reject = pv < alpha
    n_fail = int(np.sum(x < v))
    what = "the forecast tail" + (" understates the losses" if reject else " is consistent")
    verdict = (
        f"Acerbi-Szekely Z2 = {stat:.3f} (critical {crit:.3f} at {alpha:.0%}, p = {pv:.3f}): "
        f"{'reject' if reject else 'do not reject'}; {what}"
    )
    return ShortfallTest(
        "Acerbi-Szekely Z2", stat, crit, pv, reject, alpha, t_obs, n_fail, n_sims, seed, verdict
    )
