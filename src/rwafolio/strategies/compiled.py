"""The built-in strategy as the compiled loops read it: one statement of "strategy -> arrays".

The historical loop (:mod:`rwafolio.backtest.compiled`), the strategy-aware Monte Carlo
(:mod:`rwafolio.risk.strategy_mc`) and the crowding agents run
:class:`~rwafolio.strategies.DynamicLambdaStrategy` in compiled code. They read the prepared
strategy through :func:`decision_arrays`, and :func:`unsupported` says, before anything runs,
why a strategy cannot run there (the engine then keeps the Python path).

Supported: a :class:`DynamicLambdaStrategy` whose decision methods are not overridden, with the
default covariance estimator (Ledoit-Wolf, correlation target; or an estimator that declares it
returns exactly another's numbers through ``same_numbers_as``, such as the walk-forward memo),
the window mean or a :class:`~rwafolio.optimize.returns.BlackLitterman` mean, a ``VixLinear``
rule without smoothing or clip, or a ``Constant`` lam (the ``lam0``/``eta`` defaults), no
utility threshold, no per-class indexes, and ``signal_lag = 0``.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from rwafolio.exceptions import ConfigError

__all__ = ["MODES", "DecisionArrays", "decision_arrays", "unsupported"]

#: Codes of the threshold rule in the kernels.
MODES = {"none": 0, "per_asset": 1, "portfolio": 2}

#: The methods that define the decision: a subclass that overrides one runs in Python.
_DECISION_METHODS = (
    "prepare", "may_trade", "problem", "decide", "_decision", "_risk_aversion", "class_levels",
)  # fmt: skip


class DecisionArrays(NamedTuple):
    """A prepared :class:`DynamicLambdaStrategy` as plain arrays.

    Attributes
    ----------
    scheduled : ndarray of bool, shape (n_dates, n_assets)
        The update schedule's trading days on the panel's calendar (before the stress override).
    window : int
        Returns in the estimation window.
    stress_vix : float
        Above this index level every open asset may trade (``inf``: never, also without an index).
    lam0, eta : float
        lam = lam0 (1 + eta VIX); ``eta = 0`` for a constant lam.
    uses_index : bool
        lam reads the index (a ``VixLinear`` rule): a date without a finite level, or with a
        negative lam, is left to the Python path (which raises, or floors lam at 0).
    opt_costs : ndarray of shape (n_assets,)
        The optimizer's amortized costs (annualized return units).
    box_lo, box_hi : ndarray of shape (n_assets,)
        Weight bounds before any freeze.
    ppy : float
        Periods per year (annualizes R and Sigma).
    tau : float
        The threshold (weight).
    mode : int
        Threshold rule (:data:`MODES`).
    prior_obs : float
        Weight of the Black-Litterman prior in observations (0: the window mean).
    w_ref : ndarray of shape (n_assets,)
        The prior's reference portfolio.
    ref_lam : float
        The prior's lam (NaN: the date's lam).
    """

    scheduled: np.ndarray
    window: int
    stress_vix: float
    lam0: float
    eta: float
    uses_index: bool
    opt_costs: np.ndarray
    box_lo: np.ndarray
    box_hi: np.ndarray
    ppy: float
    tau: float
    mode: int
    prior_obs: float
    w_ref: np.ndarray
    ref_lam: float


def _base_estimator(est: Any) -> Any:
    """``est`` with every ``same_numbers_as`` wrapper (e.g. a memo) taken off."""
    for _ in range(8):
        inner = getattr(est, "same_numbers_as", None)
        if inner is None:
            return est
        est = inner
    return est


def _rule_reason(rule: Any) -> str | None:
    from rwafolio.optimize.risk_aversion import Constant, VixLinear

    if rule is None or type(rule) is Constant:
        return None
    if type(rule) is VixLinear and rule.smoothing is None and rule.clip is None:
        return None
    return f"the risk-aversion rule {rule!r} (VixLinear without smoothing or clip, or Constant)"


def unsupported(strategy: Any, signal_lag: int = 0) -> str | None:
    """Why ``strategy`` cannot run in the compiled loops, or None when it can.

    Parameters
    ----------
    strategy : Strategy
        Prepared or not.
    signal_lag : int
        The run's signal lag.
    """
    from rwafolio.optimize.estimators import LedoitWolfEstimator
    from rwafolio.optimize.returns import BlackLitterman
    from rwafolio.strategies.dynamic import DynamicLambdaStrategy

    if not isinstance(strategy, DynamicLambdaStrategy):
        return f"{type(strategy).__name__} is not the built-in DynamicLambdaStrategy"
    for name in _DECISION_METHODS:
        if getattr(type(strategy), name) is not getattr(DynamicLambdaStrategy, name):
            return f"{type(strategy).__name__} overrides `{name}`"
    if int(signal_lag) != 0:
        return f"signal_lag = {signal_lag} (the compiled loop decides at lag 0)"
    est = _base_estimator(strategy.estimator)
    if est is not None and not (type(est) is LedoitWolfEstimator and est.target == "correlation"):
        return f"the estimator {strategy.estimator!r} (the default Ledoit-Wolf only)"
    me = strategy.mean_estimator
    if me is not None and type(me) is not BlackLitterman:
        return f"the mean estimator {me!r} (the window mean or BlackLitterman only)"
    for name in ("utility_threshold", "class_indexes"):
        if getattr(strategy, name) is not None:
            return f"`{name}`"
    return _rule_reason(strategy.risk_aversion)


def _mean_inputs(strategy: Any, symbols: list[str]) -> tuple[float, np.ndarray, float]:
    """``(prior_obs, w_ref, ref_lam)`` of the window mean (prior 0) or a Black-Litterman mean."""
    from rwafolio.optimize.returns import reference_weights

    me = strategy.mean_estimator
    n = len(symbols)
    if me is None:
        return 0.0, np.full(n, 1.0 / n), float("nan")
    if not (np.isfinite(me.prior_obs) and me.prior_obs >= 0):
        raise ConfigError(f"`prior_obs` must be a finite number >= 0, got {me.prior_obs!r}")
    w_ref = np.ascontiguousarray(reference_weights(me.reference, n, symbols), dtype=float)
    return float(me.prior_obs), w_ref, float("nan") if me.lam is None else float(me.lam)


def decision_arrays(strategy: Any, symbols: list[str], has_vix: bool) -> DecisionArrays:
    """The prepared ``strategy`` as :class:`DecisionArrays`.

    Parameters
    ----------
    strategy : DynamicLambdaStrategy
        Prepared (``strategy.prepare(setup)`` has run) on the panel the loop walks.
    symbols : list of str
        The universe, in the panel's order.
    has_vix : bool
        Whether the panel has a volatility index.

    Raises
    ------
    ConfigError
        The strategy is not supported (:func:`unsupported` names why).
    """
    from rwafolio.optimize.risk_aversion import Constant

    reason = unsupported(strategy)
    if reason is None:
        reason = _rule_reason(strategy.rule_)
    if reason is not None:
        raise ConfigError(f"the compiled loop does not support {reason}")
    rule = strategy.rule_
    if type(rule) is Constant:
        lam0, eta = float(rule.lam), 0.0
    else:
        lam0, eta = float(rule.lam0), float(rule.eta)
    stress = strategy.stress_vix
    prior_obs, w_ref, ref_lam = _mean_inputs(strategy, symbols)
    return DecisionArrays(
        scheduled=np.ascontiguousarray(strategy.scheduled_, dtype=np.bool_),
        window=int(strategy.window),
        stress_vix=np.inf if stress is None or not has_vix else float(stress),
        lam0=lam0,
        eta=eta,
        uses_index=type(rule) is not Constant,
        opt_costs=np.ascontiguousarray(strategy.opt_costs_, dtype=float),
        box_lo=np.ascontiguousarray(strategy.lo_, dtype=float),
        box_hi=np.ascontiguousarray(strategy.hi_, dtype=float),
        ppy=float(strategy.ppy_),
        tau=float(strategy.threshold),
        mode=MODES[strategy.threshold_mode],
        prior_obs=prior_obs,
        w_ref=w_ref,
        ref_lam=ref_lam,
    )
