"""The book's one step: drift with the period's returns, then a self-financing trade that pays its fee.

Plain-array kernels with no validation (the engine validates at its boundary), each written twice:
numba kernels written as loops (:func:`drift_nb`, :func:`trade_nb`), which compiled code (the
historical loop, a strategy run forward on simulated paths, the crowding agents) calls and which
the engine's Python path and the live rebalancer call through :func:`drift` and :func:`trade`, so
every path books the same bits; and their pure-numpy twins (:func:`drift_py`, :func:`trade_py`),
written with whole-array operations. ``tests/backtest/test_book.py`` holds them together.

Units: weights ``w`` and ``cash`` are fractions of the book's value (``cash = 1 - sum w`` up to
rounding); ``rates`` are the cost model's one-off rates (fraction of traded value).

**Self-financing trade.** vectorbt's ``targetpercent`` sizes every order of a bar against the
value before the bar and takes fees from cash. Targets that sum to 1 would leave cash short by the
fees and force a partial fill of the last buy. The traded assets' targets are therefore scaled by
the k in (0, 1] that solves  k * sum_S t_i + sum_S C_i |k t_i - w_i| = c + sum_S w_i  (cash after
trading is zero; S are the traded assets, c the cash before, less any cash the targets keep),
exactly, by :func:`self_financing_scale`, then shaved by ``CASH_GUARD`` so vectorbt never sees
cash short by a rounding error. The fee is the cost model's ``sum_S C_i |k t_i - w_i|``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from rwafolio.optimize.costs import trade_fee

__all__ = [
    "CASH_GUARD",
    "Trade",
    "drift",
    "drift_nb",
    "drift_py",
    "scale_py",
    "self_financing_scale",
    "trade",
    "trade_nb",
    "trade_py",
]

#: Shave on k so vectorbt never sees cash short by a rounding error (1e-12 of value).
CASH_GUARD = 1e-12


def scale_py(target: np.ndarray, held: np.ndarray, cash: float, costs: np.ndarray) -> float:
    """Pure-numpy twin of the scale kernel: Newton's method on the piecewise-linear f.

    From k = 1, each step lands on the root of the linear piece it stands on; f is convex
    (a sum of |.| plus a line), so the iterates approach the root monotonically from one side and
    stop on its piece after at most n + 1 steps.
    """
    budget = cash + held.sum()
    st = target.sum()
    if st <= 0.0:
        return 1.0
    k = 1.0
    for _ in range(target.shape[0] + 3):
        dev = k * target - held
        f = k * st + np.abs(dev) @ costs - budget
        slope = st + (np.sign(dev) * target) @ costs
        if slope <= 0.0:  # only with costs >= 1, rejected by Asset; stay safe
            break
        k_new = max(k - f / slope, 0.0)
        if k_new == k:
            break
        k = k_new
    return float(k)


_scale_nb = njit(cache=True)(scale_py)


def self_financing_scale(
    target: np.ndarray, held: np.ndarray, cash: float, costs: np.ndarray
) -> float:
    """The k that makes trading to ``k * target`` pay its own fees exactly.

    Parameters
    ----------
    target, held, costs : ndarray of shape (n_traded,)
        Targets and held weights of the traded assets, their one-off cost rates.
    cash : float
        Cash weight available to the trade (before trading, less the cash the strategy wants to
        keep).

    Returns
    -------
    float
        Root of the increasing, piecewise-linear f(k) = k sum(t) + sum C |k t - w| - (cash + sum w).
        k is slightly below 1 when the targets use all the available cash (the fees come out of
        them).
    """
    return float(
        _scale_nb(
            np.ascontiguousarray(target, dtype=np.float64),
            np.ascontiguousarray(held, dtype=np.float64),
            float(cash),
            np.ascontiguousarray(costs, dtype=np.float64),
        )
    )


class Trade(NamedTuple):
    """The book after one trade.

    Attributes
    ----------
    weights : ndarray of shape (n_assets,)
        Weights after trading, as fractions of the value after fees.
    cash : float
        Cash after trading, same units.
    growth : float
        Value after / value before the trade (``1 - fee``).
    fee : float
        Fee paid, as a fraction of the value before trading.
    turnover : float
        ``sum |traded weight|`` (fraction of the value before trading).
    sent : ndarray of shape (n_traded,)
        The traded assets' scaled targets (fractions of the value before trading): the orders.
    """

    weights: np.ndarray
    cash: float
    growth: float
    fee: float
    turnover: float
    sent: np.ndarray


def drift(w: np.ndarray, cash: float, r: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Let the book drift over one period (:func:`drift_nb`; arguments and returns of :func:`drift_py`)."""
    w_new, cash_new, growth = drift_nb(_f64(w), float(cash), _f64(r))
    return w_new, float(cash_new), float(growth)


def trade(
    w: np.ndarray, cash: float, target: np.ndarray, traded: np.ndarray, rates: np.ndarray
) -> Trade:
    """Trade the assets in ``traded`` to their ``target`` weights, self-financed (module docs).

    :func:`trade_nb` as a :class:`Trade`; arguments as in :func:`trade_py`.
    """
    w_new, cash_new, post, fee, turnover, sent = trade_nb(
        _f64(w),
        float(cash),
        _f64(target),
        np.ascontiguousarray(traded, dtype=np.bool_),
        _f64(rates),
    )
    return Trade(w_new, float(cash_new), float(post), float(fee), float(turnover), sent)


def _f64(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.float64)


def drift_py(w: np.ndarray, cash: float, r: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Let the book drift over one period (numpy twin of :func:`drift_nb`).

    Parameters
    ----------
    w : ndarray of shape (n_assets,)
        Weights at the last close.
    cash : float
    r : ndarray of shape (n_assets,)
        The period's simple returns (cash earns 0).

    Returns
    -------
    (weights, cash, growth)
        The drifted weights and cash (fractions of the new value) and new value / old value.
    """
    grown = w * (1.0 + r)
    total = grown.sum() + cash
    return grown / total, cash / total, float(total)


def trade_py(
    w: np.ndarray, cash: float, target: np.ndarray, traded: np.ndarray, rates: np.ndarray
) -> Trade:
    """Numpy twin of :func:`trade_nb`: trade ``traded`` to ``target``, self-financed.

    Parameters
    ----------
    w : ndarray of shape (n_assets,)
        Drifted weights before trading.
    cash : float
    target : ndarray of shape (n_assets,)
        Target weights (>= 0; read only where ``traded``).
    traded : ndarray of bool, shape (n_assets,)
        At least one True.
    rates : ndarray of shape (n_assets,)
        One-off cost rates.
    """
    tg = np.maximum(target[traded], 0.0)
    keep_cash = 1.0 - tg.sum() - w[~traded].sum()
    k = self_financing_scale(tg, w[traded], cash - max(keep_cash, 0.0), rates[traded])
    k *= 1.0 - CASH_GUARD
    new = k * tg
    change = new - w[traded]
    fee = trade_fee(change, rates[traded])
    w_new = w.copy()
    w_new[traded] = new
    cash = cash + float(-change.sum()) - fee
    post = 1.0 - fee
    return Trade(w_new / post, cash / post, post, fee, float(np.abs(change).sum()), new)


@njit(cache=True)
def drift_nb(w: np.ndarray, cash: float, r: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Drift kernel (loops); its numpy twin :func:`drift_py` agrees to rounding."""
    n = w.shape[0]
    grown = np.empty(n)
    total = cash
    for i in range(n):
        grown[i] = w[i] * (1.0 + r[i])
        total += grown[i]
    for i in range(n):
        grown[i] /= total
    return grown, cash / total, total


@njit(cache=True)
def trade_nb(
    w: np.ndarray, cash: float, target: np.ndarray, traded: np.ndarray, rates: np.ndarray
) -> tuple[np.ndarray, float, float, float, float, np.ndarray]:
    """Trade kernel (loops): the fields of :class:`Trade` as a tuple, in order; twin :func:`trade_py`."""
    n = w.shape[0]
    m = 0
    keep_cash = 1.0
    for i in range(n):
        if traded[i]:
            m += 1
            keep_cash -= max(target[i], 0.0)
        else:
            keep_cash -= w[i]
    tg = np.empty(m)
    held = np.empty(m)
    c = np.empty(m)
    j = 0
    for i in range(n):
        if traded[i]:
            tg[j], held[j], c[j] = max(target[i], 0.0), w[i], rates[i]
            j += 1
    k = _scale_nb(tg, held, cash - max(keep_cash, 0.0), c) * (1.0 - CASH_GUARD)
    w_new = w.copy()
    fee = 0.0
    turnover = 0.0
    flow = 0.0
    sent = k * tg
    j = 0
    for i in range(n):
        if traded[i]:
            change = sent[j] - w[i]
            fee += c[j] * abs(change)
            turnover += abs(change)
            flow += change
            w_new[i] = sent[j]
            j += 1
    cash = cash - flow - fee
    post = 1.0 - fee
    for i in range(n):
        w_new[i] /= post
    return w_new, cash / post, post, fee, turnover, sent
