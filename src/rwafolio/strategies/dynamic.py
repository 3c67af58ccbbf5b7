"""DynamicLambdaStrategy: the model's strategy, re-solved at every decision date.

At decision date t it

1. estimates R and Sigma from the last ``window`` per-period returns (the estimator is a
   parameter) and annualizes them with the panel's calendar factor (365 or 252);
2. sets lam_t = risk_aversion(VIX_t); the default rule is lam0 * (1 + eta * VIX_t);
3. freezes every asset that may not trade today (market closed, or its update schedule says not
   today unless VIX_t > ``stress_vix``): lo_i = hi_i = w_i, so the optimum is exact under the
   freeze;
4. solves  max w'R - lam_t w'Sigma w - sum_i C^opt_i |w_i - w_i^held|  on the box and budget,
   warm-started from the previous solution;
5. applies the threshold rule (see :mod:`rwafolio.strategies.threshold`), then, when
   ``utility_threshold`` is set, the utility rule.

Options of issue 12: ``mean_estimator`` replaces the window mean (Black-Litterman, Bayes-Stein,
... see :mod:`rwafolio.optimize.returns`); ``trade_aversion`` sets the cost the optimizer charges;
``class_indexes`` gives each asset class its own normalized volatility index, lam and stress
level. :meth:`DynamicLambdaStrategy.model_preset` is the model exactly as its source text writes it.

Steps 1-3 are :meth:`DynamicLambdaStrategy.problem`, which states the date's problem as plain
arrays (a :class:`~rwafolio.optimize.problem.Problem`); ``decide`` solves that statement, and the
sensitivity path and the update-frequency study read the same statement, never a rebuilt copy.

Units: R and Sigma are annualized; C_i is a one-off fraction of traded value. With trade
aversion gamma (cvxportfolio's convention: gamma * C_i against per-period utility) the optimizer
charges C^opt_i = gamma * periods_per_year * C_i against annualized utility: exactly the old
amortization over ``cost_horizon = 1 / (gamma * periods_per_year)`` years (deprecated). Larger
gamma, fewer trades; gamma = 1 charges a trade's whole cost against one period's return. Without
either, costs are amortized over the estimation window (gamma = 1 / window: the default and
the model preset). Our lam multiplies w'Sigma w directly, with no 1/2 (PyPortfolioOpt uses 1/2).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any, Literal

import numpy as np

from rwafolio.exceptions import ConfigError, OptimizationError
from rwafolio.optimize.costs import CostMode, CostModel
from rwafolio.optimize.problem import Problem
from rwafolio.optimize.returns import BlackLitterman
from rwafolio.optimize.risk_aversion import DEFAULT_ETA, DEFAULT_LAM0
from rwafolio.optimize.solution import Solution
from rwafolio.strategies.base import Decision, MarketView, Setup, Strategy
from rwafolio.strategies.indexes import normalize_past, realized_path, resolve_indexes
from rwafolio.strategies.schedules import resolve_schedules, schedule_matrix
from rwafolio.strategies.threshold import (
    apply_threshold,
    apply_utility_threshold,
    check_threshold,
)

__all__ = [
    "DEFAULT_STRESS_VIX",
    "MODEL_PRESET",
    "CostMode",
    "DynamicLambdaStrategy",
    "optimizer_costs",
]

#: Defaults chosen out of sample by ``examples/defaults_study.py`` (walk-forward on the real
#: 2018-2024 data, in-sample Sharpe under a 12x/yr turnover mandate): a Black-Litterman mean
#: (equal-weight equilibrium prior worth 365 observations, the 30-period window mean as the view)
#: with the window's amortization (trade aversion 1 / window) and the 0.01 weight band alone.
DEFAULT_MEAN = BlackLitterman(prior_obs=365.0)
DEFAULT_TRADE_AVERSION: float | None = None
DEFAULT_UTILITY_THRESHOLD: float | None = None

#: The model's own parameters (:meth:`DynamicLambdaStrategy.model_preset`).
MODEL_PRESET: dict[str, Any] = {
    "lam0": 2.0,
    "eta": 0.05,
    "window": 30,
    "threshold": 0.01,
    "threshold_mode": "per_asset",
    "mean_estimator": None,
    "trade_aversion": None,
    "utility_threshold": None,
    "class_indexes": None,
}

#: Returns in a realized-volatility class index (``class_indexes = {"crypto": "realized:BTC-USD"}``).
REALIZED_WINDOW = 30

#: Index level above which every open asset may trade every day (the strategy's default).
DEFAULT_STRESS_VIX = 25.0


def optimizer_costs(
    costs: np.ndarray,
    mode: str,
    cost_horizon: float | None,
    window: int,
    periods_per_year: int,
) -> np.ndarray:
    """The C the optimizer charges against annualized R and Sigma, shape (n_assets,).

    Kept for callers of earlier versions: the rule is
    :meth:`rwafolio.optimize.costs.CostModel.optimizer_costs` (one-off rates ``costs`` amortized
    over ``cost_horizon`` years, or over the estimation window when it is None; zero when
    ``mode`` is ``"blind"``).
    """
    model = CostModel(np.asarray(costs, dtype=float))
    return model.optimizer_costs(mode, cost_horizon, window, periods_per_year)  # type: ignore[arg-type]


class DynamicLambdaStrategy(Strategy):
    """Cost-aware mean-variance with a risk aversion that moves with the volatility index.

    Parameters
    ----------
    lam0 : float, default 2.0
        Baseline risk aversion (multiplies w'Sigma w with annualized Sigma; no 1/2).
    eta : float, default 0.05
        Sensitivity of lam to the index: lam = lam0 * (1 + eta * VIX). ``eta=0`` is constant lam.
    window : int, default 30
        Number of past per-period returns in the estimation window.
    estimator : estimator object or None
        Has ``estimate(window_returns, periods_per_year=None) -> (mu, Sigma)``. None: Ledoit-Wolf
        shrinkage of the covariance with the sample mean.
    risk_aversion : callable or None
        ``risk_aversion(vix) -> lam``. None: ``VixLinear(lam0, eta)``. When given, lam0 and eta
        are ignored.
    threshold : float, default 0.01
        tau of the threshold rule, in weight.
    threshold_mode : {"per_asset", "portfolio", "none"}, default "per_asset"
    schedules : mapping or None
        Update schedule by symbol or asset class (``{"rwa": "weekly", "BTC-USD": "daily"}``);
        unnamed assets take their class default (crypto daily, RWA weekly, stablecoin daily).
    stress_vix : float or None, default 25.0
        Above this index level every open asset may trade every day. None disables it.
    cost_mode : {"model", "blind"}, default "model"
        ``"blind"`` sets C = 0 inside the optimizer only (execution still pays fees): the
        cost-blind benchmark.
    bounds : mapping symbol -> (lo, hi) or None
        Per-asset weight bounds (default 0 and 1).
    cost_horizon : float or None, default None
        Deprecated: use ``trade_aversion = 1 / (cost_horizon * periods_per_year)``. Years over
        which a one-off cost is amortized against annualized R and Sigma (with
        ``trade_aversion`` it is an error).
    mean_estimator : return estimator or None, default ``BlackLitterman(prior_obs=365)``
        Replaces the covariance estimator's mean (see :mod:`rwafolio.optimize.returns`:
        ``BlackLitterman``, ``Equilibrium``, ``BayesStein``, ``JamesStein``, ``EWMAMean``,
        ``ZeroMean``, ``SampleMean``); it sees the window, the covariance and the date's lam.
        None keeps the estimator's own (sample) mean.
    trade_aversion : float or None, default None
        gamma, the multiplier on the one-off cost against **per-period** utility
        (cvxportfolio's convention): the optimizer maximizes
        ``w'mu - lam w'cov w - gamma sum C_i |dw_i|`` per period, i.e. charges
        ``gamma * periods_per_year * C_i`` against annualized R and Sigma. Exactly the same
        problem as amortizing over ``cost_horizon = 1 / (gamma * periods_per_year)`` years;
        gamma = 1 charges the whole cost against one period's return. Larger means fewer
        trades. None (with ``cost_horizon`` None) amortizes over the window:
        ``gamma = 1 / window``.
    utility_threshold : float or None, default None
        kappa: trade only when the trade raises the model's utility (costs included) by more
        than kappa, in annualized return units (see :mod:`rwafolio.strategies.threshold`).
    class_indexes : mapping asset class -> source or [source, stress], or None
        One volatility index per asset class (``"vix"`` or ``"realized:SYMBOL"``), each
        normalized against its own past (:mod:`rwafolio.strategies.indexes`); each class gets
        its own lam and stress level. The risk term becomes ``w' L^1/2 Sigma L^1/2 w`` with
        ``L = diag(lam of each asset's class)``: each asset's variance is weighted by its
        class's lam, a covariance by the geometric mean of the two lams; still a convex QP, and
        the plain ``lam w'Sigma w`` when the lams are equal. None: one index (the panel's) for
        every asset, the model's form.
    """

    def __init__(
        self,
        lam0: float = DEFAULT_LAM0,
        eta: float = DEFAULT_ETA,
        window: int = 30,
        estimator: Any = None,
        risk_aversion: Any = None,
        threshold: float = 0.01,
        threshold_mode: Literal["per_asset", "portfolio", "none"] = "per_asset",
        schedules: Mapping[str, str] | None = None,
        stress_vix: float | None = DEFAULT_STRESS_VIX,
        cost_mode: CostMode = "model",
        bounds: Mapping[str, tuple[float, float]] | None = None,
        cost_horizon: float | None = None,
        mean_estimator: Any = DEFAULT_MEAN,
        trade_aversion: float | None = DEFAULT_TRADE_AVERSION,
        utility_threshold: float | None = DEFAULT_UTILITY_THRESHOLD,
        class_indexes: Mapping[str, Any] | None = None,
    ) -> None:
        self.lam0 = lam0
        self.eta = eta
        self.window = window
        self.estimator = estimator
        self.risk_aversion = risk_aversion
        self.threshold = threshold
        self.threshold_mode = threshold_mode
        self.schedules = schedules
        self.stress_vix = stress_vix
        self.cost_mode = cost_mode
        self.bounds = bounds
        self.cost_horizon = cost_horizon
        self.mean_estimator = mean_estimator
        self.trade_aversion = trade_aversion
        self.utility_threshold = utility_threshold
        self.class_indexes = class_indexes

    @classmethod
    def model_preset(cls) -> DynamicLambdaStrategy:
        """The model exactly as its source text writes it: the 30-period sample mean, lam0 = 2,
        eta = 0.05 (one VIX for every asset), the 0.01 per-asset threshold, one-off costs
        amortized over the window, no utility rule. Config: ``preset = "model"``."""
        return cls(**MODEL_PRESET)

    @property
    def warmup(self) -> int:  # type: ignore[override]
        realized = any(
            str(v if isinstance(v, str) else v[0]).startswith("realized:")
            for v in (self.class_indexes or {}).values()
        )
        return max(int(self.window), REALIZED_WINDOW + 1 if realized else 0)

    # ------------------------------------------------------------------ setup
    def _check_params(self) -> None:
        if not isinstance(self.window, int | np.integer) or self.window < 2:
            raise ConfigError(f"`window` must be an integer >= 2, got {self.window!r}")
        for name in ("lam0", "eta"):
            v = getattr(self, name)
            if not np.isfinite(v) or v < 0:
                raise ConfigError(f"`{name}` must be a finite number >= 0, got {v!r}")
        if self.cost_horizon is not None and (
            not np.isfinite(self.cost_horizon) or self.cost_horizon <= 0
        ):
            raise ConfigError(
                f"`cost_horizon` must be > 0 years or None, got {self.cost_horizon!r}"
            )
        if self.cost_mode not in ("model", "blind"):
            raise ConfigError(f"`cost_mode` must be 'model' or 'blind', got {self.cost_mode!r}")
        if self.stress_vix is not None and not np.isfinite(self.stress_vix):
            raise ConfigError(
                f"`stress_vix` must be a finite level or None, got {self.stress_vix!r}"
            )
        check_threshold(self.threshold, self.threshold_mode)
        g = self.trade_aversion
        if g is not None:
            if self.cost_horizon is not None:
                raise ConfigError("give `trade_aversion` or `cost_horizon`, not both")
            if isinstance(g, bool) or not (np.isfinite(g) and g > 0):
                raise ConfigError(f"`trade_aversion` must be a finite number > 0, got {g!r}")
        k = self.utility_threshold
        if k is not None and (isinstance(k, bool) or not (np.isfinite(k) and k >= 0)):
            raise ConfigError(
                f"`utility_threshold` must be a finite number >= 0 or None, got {k!r}"
            )

    def _make_rule(self, has_vix: bool) -> Any:
        from rwafolio.optimize.risk_aversion import Callable as RuleCallable
        from rwafolio.optimize.risk_aversion import Constant, RiskAversionRule, VixLinear

        if isinstance(self.risk_aversion, RiskAversionRule):
            rule: RiskAversionRule = self.risk_aversion
        elif self.risk_aversion is not None:
            if not callable(self.risk_aversion):
                raise ConfigError(
                    "`risk_aversion` must be a rule (VixLinear, Constant, ...) or a callable "
                    f"vix -> lam, got {type(self.risk_aversion).__name__}"
                )
            rule = RuleCallable(self.risk_aversion)  # checks every lam it returns
        elif self.eta == 0:
            rule = Constant(float(self.lam0))
        else:
            rule = VixLinear(lam0=float(self.lam0), eta=float(self.eta))
        if not isinstance(rule, Constant) and not has_vix:
            raise ConfigError(
                "the risk-aversion rule needs a volatility index but the panel has none: load one "
                "(CLI `--vix ^VIX|FILE|realized:SYMBOL`, Python `vix=...`) or use a constant "
                "lam (`eta = 0` in the config's [strategy] table, `eta=0` in Python)"
            )
        return rule

    def _box(self, symbols: list[str]) -> tuple[np.ndarray, np.ndarray]:
        n = len(symbols)
        lo, hi = np.zeros(n), np.ones(n)
        for sym, (a, b) in (self.bounds or {}).items():
            if sym not in symbols:
                raise ConfigError(f"`bounds` names {sym!r}, which is not in the universe")
            if not (0 <= a <= b <= 1):
                raise ConfigError(
                    f"`bounds[{sym!r}]` must satisfy 0 <= lo <= hi <= 1, got {(a, b)}"
                )
            j = symbols.index(sym)
            lo[j], hi[j] = a, b
        if lo.sum() > 1 + 1e-12 or hi.sum() < 1 - 1e-12:
            raise ConfigError(
                f"`bounds` admit no fully invested portfolio: sum lo {lo.sum()}, sum hi {hi.sum()}"
            )
        return lo, hi

    def prepare(self, setup: Setup) -> None:
        from rwafolio.optimize.estimators import LedoitWolfEstimator

        self._check_params()
        self.estimator_ = self.estimator if self.estimator is not None else LedoitWolfEstimator()
        self.rule_ = self._make_rule(setup.has_vix)
        # A rule smoothed along the index's path is evaluated on the past path at each date.
        self.smoothed_ = getattr(self.rule_, "smoothing", None) is not None
        self.lo_, self.hi_ = self._box(setup.symbols)
        per_asset = resolve_schedules(self.schedules, setup.symbols, setup.asset_classes)
        self.schedule_names_ = per_asset
        # Calendar-only part of the schedule (stress override is applied per date from the view).
        self.scheduled_ = schedule_matrix(setup.dates, setup.tradable, per_asset)
        cost_model = setup.cost_model or CostModel(setup.costs, tuple(setup.symbols))
        if self.cost_horizon is not None:
            warnings.warn(
                "`cost_horizon` is deprecated: use `trade_aversion = 1 / (cost_horizon * "
                f"periods_per_year)` (here {1.0 / (self.cost_horizon * setup.periods_per_year):.6g});"
                " a larger trade aversion means fewer trades",
                DeprecationWarning,
                stacklevel=2,
            )
        self.opt_costs_ = cost_model.optimizer_costs(
            self.cost_mode,
            self.cost_horizon,
            self.window,
            setup.periods_per_year,
            trade_aversion=self.trade_aversion,
        )
        self.indexes_ = (
            None
            if self.class_indexes is None
            else resolve_indexes(
                self.class_indexes, setup.symbols, setup.asset_classes, self.stress_vix
            )
        )
        if self.indexes_ is not None and not setup.has_vix:
            need = sorted(c for c, ci in self.indexes_.items() if ci.source == "vix")
            if need:
                raise ConfigError(f"`class_indexes` uses the panel's index for {need}; it has none")
        self.class_of_ = np.array(setup.asset_classes)
        self.levels_: tuple[int, dict[str, float]] = (-1, {})
        self.ppy_ = setup.periods_per_year
        self.last_w_: np.ndarray | None = None

    def may_trade(self, view: MarketView) -> np.ndarray:
        may = self.scheduled_[view.t].copy()
        if self.indexes_ is not None:
            levels = self.class_levels(view)
            for cls, ci in self.indexes_.items():
                if ci.stress is not None and levels[cls] > ci.stress:
                    may |= view.tradable & (self.class_of_ == cls)
        elif (
            self.stress_vix is not None and view.vix is not None and view.vix[-1] > self.stress_vix
        ):
            may |= view.tradable
        return may & view.tradable

    def class_levels(self, view: MarketView) -> dict[str, float]:
        """Each class's index at ``view.date`` in normalized points (past-only; cached per date)."""
        if self.levels_[0] == view.t:
            return self.levels_[1]
        levels: dict[str, float] = {}
        for cls, ci in (self.indexes_ or {}).items():
            if ci.source == "vix":
                path = np.asarray(view.vix, dtype=float)
            else:
                path = realized_path(view.returns[:, ci.column], REALIZED_WINDOW, self.ppy_)
            levels[cls] = normalize_past(path)
        self.levels_ = (view.t, levels)
        return levels

    def _risk_aversion(self, view: MarketView) -> tuple[float, np.ndarray | None, float]:
        """(lam recorded, per-asset lam or None, index level recorded) at ``view.date``."""
        vix = float(view.vix[-1]) if view.vix is not None else float("nan")
        if self.indexes_ is not None:
            levels = self.class_levels(view)
            lam_c = {
                c: float(self.rule_(v)) if np.isfinite(v) else np.nan for c, v in levels.items()
            }
            lam_vec = np.array([lam_c[c] for c in self.class_of_])
            if not np.all(np.isfinite(lam_vec)):
                raise OptimizationError(f"no index level for some class today: {levels}")
            return float(lam_vec.mean()), lam_vec, vix
        if self.smoothed_ and view.vix is not None:
            return float(self.rule_.path(view.vix)[-1]), None, vix
        return float(self.rule_(vix)), None, vix

    # ------------------------------------------------------------------ the date's problem
    def problem(self, view: MarketView, may_trade: np.ndarray | None = None) -> Problem:
        """The problem this strategy solves at ``view.date``, as plain arrays.

        R and Sigma are the estimator's per-period estimates over the last ``window`` returns,
        annualized with the calendar factor; lam and d lam / d VIX come from the risk-aversion
        rule at the view's index level (or along its past path when the rule smooths); costs are
        the cost model's amortized rates; the assets that may not trade today (``may_trade``,
        default :meth:`may_trade`) are frozen at their drifted weight.
        """
        may = self.may_trade(view) if may_trade is None else np.asarray(may_trade, dtype=bool)
        held = np.asarray(view.weights, dtype=float)
        window = view.returns[-self.window :]
        mu, cov = self.estimator_.estimate(window)
        lam, lam_vec, vix = self._risk_aversion(view)
        if lam_vec is not None:
            dlam = 0.0  # per-class indexes: no single index to differentiate against
        elif self.smoothed_ and view.vix is not None:
            dlam = float(self.rule_.dlam_dvix(view.vix))
        else:
            dlam = float(self.rule_.dlam_dvix(vix)) if np.isfinite(vix) else 0.0
        if self.mean_estimator is not None:
            aversion = lam if lam_vec is None else lam_vec
            mu = np.asarray(
                self.mean_estimator.estimate_mean(window, cov, aversion, view.symbols), dtype=float
            )
        if lam_vec is None:
            Sigma = np.ascontiguousarray(cov * self.ppy_)
        else:  # w' L^1/2 Sigma L^1/2 w solved with lam = 1 (see `class_indexes`)
            d = np.sqrt(lam_vec)
            Sigma = np.ascontiguousarray(d[:, None] * cov * d[None, :] * self.ppy_)
            lam = 1.0
        lo, hi = self.lo_.copy(), self.hi_.copy()
        lo[~may] = held[~may]
        hi[~may] = held[~may]
        return Problem(
            R=np.ascontiguousarray(mu * self.ppy_),
            Sigma=Sigma,
            costs=self.opt_costs_,
            lam=lam,
            lo=lo,
            hi=hi,
            held=held,
            may_trade=may,
            box_lo=self.lo_,
            box_hi=self.hi_,
            vix=vix,
            dlam_dvix=dlam,
            mu=mu,
            cov=cov,
            n_obs=int(window.shape[0]),
            periods_per_year=int(self.ppy_),
        )

    def warm_start_from(self, weights: np.ndarray | None) -> None:
        """Continue after decisions made elsewhere (the compiled loop): ``weights`` of shape
        (n_assets,) are the last solution, the solver's next warm start (None: the held book)."""
        self.last_w_ = None if weights is None else np.array(weights, dtype=float)

    # ------------------------------------------------------------------ decide
    def decide(self, view: MarketView) -> Decision | None:
        may = self.may_trade(view)
        if not may.any():
            return None
        prob = self.problem(view, may)
        warm = self.last_w_ if self.last_w_ is not None else prob.held
        try:
            sol = prob.solve(warm)
        except (ConfigError, OptimizationError) as exc:
            # E.g. user bounds that no portfolio meets under today's freeze: hold, and say why.
            return Decision(
                target=np.full(prob.n_assets, np.nan),
                lam=prob.lam,
                vix=prob.vix,
                solver="hold",
                status="failed",
                fallback_reason=f"hold: {exc}",
                mu=prob.mu,
                cov=prob.cov,
            )
        solutions = [sol]

        def resolve(frozen: np.ndarray) -> np.ndarray:
            s = prob.solve(warm, frozen=frozen)
            solutions.append(s)
            return np.asarray(s.weights, dtype=float)

        proposed = np.asarray(sol.weights, dtype=float)
        fallback = ""
        try:
            target, skipped, _ = apply_threshold(
                proposed, prob.held, may, self.threshold, self.threshold_mode, view.symbols, resolve
            )
        except OptimizationError as exc:
            # Holding the in-band assets left no feasible portfolio under the bounds (e.g. a
            # capped asset drifted above its cap): use the whole-portfolio rule today.
            del solutions[1:]
            target, skipped, _ = apply_threshold(
                proposed, prob.held, may, self.threshold, "portfolio", view.symbols, resolve
            )
            fallback = f"per_asset hold infeasible ({exc}); portfolio rule used"
        extra: dict[str, Any] = {}
        if self.utility_threshold is not None:
            target, held_back, gain = apply_utility_threshold(
                target, prob.held, prob.R, prob.Sigma, prob.costs, prob.lam,
                self.utility_threshold, view.symbols,
            )  # fmt: skip
            skipped = [*skipped, *held_back]
            extra["utility_gain"] = gain
        if self.indexes_ is not None:
            levels = self.class_levels(view)
            extra["class_levels"] = dict(levels)
            extra["class_lam"] = {c: float(self.rule_(v)) for c, v in levels.items()}
            # The decision records the mean of the per-asset lams (the problem carries lam = 1).
            extra["lam"] = float(np.mean([extra["class_lam"][c] for c in self.class_of_]))
        return self._decision(prob, target, skipped, solutions, fallback, extra)

    def _decision(
        self,
        prob: Problem,
        target: np.ndarray,
        skipped: list[tuple[str, float, str]],
        solutions: list[Solution],
        fallback: str,
        extra: Mapping[str, Any] | None = None,
    ) -> Decision:
        final = solutions[-1]
        if final.solver == "hold":
            # Every solver failed: the "hold" answer is a projection, not an optimum. No trade.
            target = np.full(prob.n_assets, np.nan)
        self.last_w_ = np.asarray(final.weights, dtype=float)
        worst = max(solutions, key=lambda s: s.kkt_residual)
        fallback = "; ".join(
            [s.fallback_reason for s in solutions if s.fallback_reason]
            + ([fallback] if fallback else [])
        )
        solver = final.solver if all(s.solver == final.solver for s in solutions) else "mixed"
        return Decision(
            target=target,
            lam=float((extra or {}).get("lam", prob.lam)),
            vix=prob.vix,
            solver=solver,
            status=worst.status,
            kkt_residual=float(worst.kkt_residual),
            objective=float(final.objective),
            iterations=int(sum(s.iterations for s in solutions)),
            fallback_reason=fallback,
            skipped=tuple(skipped),
            mu=prob.mu,
            cov=prob.cov,
            extra=dict(extra or {}),
        )
