"""The built-in strategy as the compiled decision reads it: one statement, shared by every loop.

:func:`decision_params` turns a prepared :class:`~rwafolio.strategies.DynamicLambdaStrategy`
into the plain arrays and scalars of :func:`rwafolio.strategies._decide_kernels.choose_full_nb`
(a :class:`DecisionParams`), or says why it cannot: the compiled decision supports the default
estimator (Ledoit-Wolf, correlation target), the window mean or a ``BlackLitterman`` mean, a
``VixLinear`` rule without clip or smoothing, or a ``Constant`` one, the three threshold modes,
no utility threshold and no per-class indexes. The strategy-aware Monte Carlo and the live
rebalancer read the strategy through this one function.

Units: ``opt_costs`` are the optimizer's amortized costs against annualized R and Sigma; ``ppy``
the annualization factor; ``tau`` a weight.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from rwafolio.exceptions import ConfigError

__all__ = ["THRESHOLD_CODES", "DecisionParams", "decision_params", "unsupported"]

#: ``mode`` of the compiled threshold rule.
THRESHOLD_CODES = {"none": 0, "per_asset": 1, "portfolio": 2}


class DecisionParams(NamedTuple):
    """A prepared strategy's decision parameters (see the module docs).

    Attributes
    ----------
    lam0, eta : float
        ``lam = max(lam0 (1 + eta VIX), 0)`` (a constant rule: ``eta = 0``).
    stress_vix : float
        Index level above which every open asset may trade (``inf``: no override).
    opt_costs, box_lo, box_hi : ndarray of shape (n_assets,)
    ppy : float
    tau : float
    mode : int
        :data:`THRESHOLD_CODES`.
    prior_obs : float
        Black-Litterman prior weight in observations (0: the window mean).
    w_ref : ndarray of shape (n_assets,)
        Reference portfolio of the equilibrium prior.
    ref_lam : float
        lam of the prior (NaN: the date's lam).
    window : int
        Returns in the estimation window.
    """

    lam0: float
    eta: float
    stress_vix: float
    opt_costs: np.ndarray
    box_lo: np.ndarray
    box_hi: np.ndarray
    ppy: float
    tau: float
    mode: int
    prior_obs: float
    w_ref: np.ndarray
    ref_lam: float
    window: int


def unsupported(strategy: Any) -> str | None:
    """Why ``strategy`` (prepared or not) has no compiled decision, or None when it has one."""
    from rwafolio.optimize.estimators import LedoitWolfEstimator
    from rwafolio.optimize.returns import BlackLitterman
    from rwafolio.optimize.risk_aversion import Constant, VixLinear
    from rwafolio.strategies.dynamic import DynamicLambdaStrategy

    if type(strategy) is not DynamicLambdaStrategy:
        return f"{type(strategy).__name__} is not DynamicLambdaStrategy"
    est = strategy.estimator
    if est is not None and not (
        type(est) is LedoitWolfEstimator and est.target == "correlation"
    ):
        return f"estimator {est!r} is not the default Ledoit-Wolf (correlation target)"
    me = strategy.mean_estimator
    if me is not None and type(me) is not BlackLitterman:
        return f"mean_estimator {me!r} is not the window mean or BlackLitterman"
    for name in ("utility_threshold", "class_indexes"):
        if getattr(strategy, name) is not None:
            return f"`{name}` is set"
    rule = strategy.risk_aversion
    if rule is not None and not (
        (type(rule) is VixLinear and rule.clip is None and rule.smoothing is None)
        or type(rule) is Constant
    ):
        return f"risk_aversion {rule!r} is not an unclipped, unsmoothed VixLinear or Constant"
    return None


def decision_params(strategy: Any, symbols: list[str]) -> DecisionParams:
    """The compiled decision's parameters of a prepared ``strategy`` on the universe ``symbols``.

    Raises
    ------
    ConfigError
        If the strategy is not prepared or has no compiled decision (the message says why).
    """
    from rwafolio.optimize.returns import reference_weights
    from rwafolio.optimize.risk_aversion import Constant

    why = unsupported(strategy)
    if why is not None:
        raise ConfigError(f"no compiled decision for this strategy: {why}")
    if not hasattr(strategy, "rule_"):
        raise ConfigError("`strategy` must be prepared (strategy.prepare(setup)) first")
    rule = strategy.rule_
    lam0, eta = (float(rule.lam), 0.0) if isinstance(rule, Constant) else (rule.lam0, rule.eta)
    n = strategy.lo_.shape[0]
    me = strategy.mean_estimator
    if me is None:
        prior_obs, w_ref, ref_lam = 0.0, np.full(n, 1.0 / n), float("nan")
    else:
        w_ref = reference_weights(me.reference, n, symbols)
        prior_obs, ref_lam = float(me.prior_obs), float("nan") if me.lam is None else float(me.lam)
    stress = strategy.stress_vix
    return DecisionParams(
        lam0=float(lam0),
        eta=float(eta),
        stress_vix=np.inf if stress is None else float(stress),
        opt_costs=np.ascontiguousarray(strategy.opt_costs_, dtype=float),
        box_lo=np.ascontiguousarray(strategy.lo_, dtype=float),
        box_hi=np.ascontiguousarray(strategy.hi_, dtype=float),
        ppy=float(strategy.ppy_),
        tau=float(strategy.threshold),
        mode=THRESHOLD_CODES[strategy.threshold_mode],
        prior_obs=prior_obs,
        w_ref=np.ascontiguousarray(w_ref, dtype=float),
        ref_lam=ref_lam,
        window=int(strategy.window),
    )
