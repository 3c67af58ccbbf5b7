"""Benchmark strategies, run on the same engine and schedules as the dynamic strategy.

- :class:`FixedMix`: rebalance to fixed weights on the update schedules (assets that may not trade
  today are held, and the others share what is left in proportion to their mix);
- :class:`EqualWeight`: ``FixedMix`` with 1/n each;
- :class:`BuyAndHold`: buy a mix on the first decision date, then never trade;
- constant lam and cost-blind are :class:`~rwafolio.strategies.DynamicLambdaStrategy` with
  ``eta=0`` and ``cost_mode="blind"`` (see :func:`benchmark_suite`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from rwafolio.exceptions import ConfigError
from rwafolio.strategies.base import Decision, MarketView, Setup, Strategy
from rwafolio.strategies.schedules import resolve_schedules, schedule_matrix


class FixedMix(Strategy):
    """Rebalance to fixed weights whenever the schedules allow.

    Parameters
    ----------
    weights : mapping symbol -> weight or None
        Target mix; must be >= 0 and sum to 1. None means equal weight.
    schedules : mapping or None
        As in :class:`DynamicLambdaStrategy` (class defaults: crypto daily, RWA weekly).
    warmup_periods : int, default 0
        Return rows to wait before the first trade (to align with another strategy's window).
    """

    def __init__(
        self,
        weights: Mapping[str, float] | None = None,
        schedules: Mapping[str, str] | None = None,
        warmup_periods: int = 0,
    ) -> None:
        self.weights = weights
        self.schedules = schedules
        self.warmup_periods = warmup_periods

    @property
    def warmup(self) -> int:  # type: ignore[override]
        return int(self.warmup_periods)

    def prepare(self, setup: Setup) -> None:
        n = len(setup.symbols)
        if self.weights is None:
            mix = np.full(n, 1.0 / n)
        else:
            unknown = sorted(set(self.weights) - set(setup.symbols))
            if unknown:
                raise ConfigError(f"`weights` names symbols not in the universe: {unknown}")
            mix = np.array([float(self.weights.get(s, 0.0)) for s in setup.symbols])
            if np.any(~np.isfinite(mix)) or np.any(mix < 0) or abs(mix.sum() - 1) > 1e-9:
                raise ConfigError(f"`weights` must be >= 0 and sum to 1, got sum {mix.sum()!r}")
        self.mix_ = mix
        per_asset = resolve_schedules(self.schedules, setup.symbols, setup.asset_classes)
        self.scheduled_ = schedule_matrix(setup.dates, setup.tradable, per_asset)

    def may_trade(self, view: MarketView) -> np.ndarray:
        return self.scheduled_[view.t] & view.tradable

    def decide(self, view: MarketView) -> Decision | None:
        may = self.may_trade(view)
        if not may.any():
            return None
        held = np.asarray(view.weights, dtype=float)
        target = np.full(held.shape[0], np.nan)
        free = 1.0 - held[~may].sum()
        share = self.mix_[may]
        total = share.sum()
        if total <= 0:
            return None
        target[may] = free * share / total
        return Decision(target=target)


class EqualWeight(FixedMix):
    """1/n in each asset, rebalanced on the update schedules."""

    def __init__(self, schedules: Mapping[str, str] | None = None, warmup_periods: int = 0) -> None:
        self.schedules = schedules
        self.warmup_periods = warmup_periods
        self.weights = None


class BuyAndHold(Strategy):
    """Buy ``weights`` (default equal) at the first date every asset can trade; never trade again."""

    def __init__(self, weights: Mapping[str, float] | None = None, warmup_periods: int = 0) -> None:
        self.weights = weights
        self.warmup_periods = warmup_periods

    @property
    def warmup(self) -> int:  # type: ignore[override]
        return int(self.warmup_periods)

    def prepare(self, setup: Setup) -> None:
        helper = FixedMix(self.weights)
        helper.prepare(setup)
        self.mix_ = helper.mix_
        self.bought_ = False

    def decide(self, view: MarketView) -> Decision | None:
        if view.weights.sum() > 0:  # a book carried in (walk-forward) counts as bought
            self.bought_ = True
        if self.bought_ or not np.all(view.tradable[self.mix_ > 0]):
            return None
        self.bought_ = True
        target = np.where(self.mix_ > 0, self.mix_, np.nan)
        return Decision(target=target)


#: Long-run average of CBOE's VIX (1990-2024 mean of daily closes: about 19.5).
LONG_RUN_VIX = 20.0


def constant_lambda(strategy: Any) -> float:
    """The constant-lam benchmark's lam: the dynamic rule at the VIX's long-run average.

    lam0 * (1 + eta * 20) of ``strategy`` (a DynamicLambdaStrategy), so both strategies take the
    same risk on average and the comparison isolates the effect of moving lam with the index
    (lam0 alone would be a less risk-averse strategy, not a static version of the same one).
    """
    return float(strategy.lam0) * (1.0 + float(strategy.eta) * LONG_RUN_VIX)


def benchmark_suite(strategy: Any) -> dict[str, Strategy]:
    """The comparison set for a DynamicLambdaStrategy, sharing its schedules and warm-up.

    equal weight and buy and hold; constant lam (:func:`constant_lambda`); cost-blind (C = 0 in
    the optimizer, execution still pays the fees); and the model's own preset
    (:meth:`DynamicLambdaStrategy.model_preset`, with this strategy's schedules and bounds) when
    the strategy is not already that preset.
    """
    from rwafolio.optimize.risk_aversion import Constant
    from rwafolio.strategies.dynamic import MODEL_PRESET, DynamicLambdaStrategy

    params = strategy.get_params()
    warm = int(strategy.warmup)
    sched = strategy.schedules
    preset = {}
    if any(params.get(k) != v for k, v in MODEL_PRESET.items()):
        preset = {"model_preset": DynamicLambdaStrategy(**{**params, **MODEL_PRESET})}
    return {
        "equal_weight": EqualWeight(schedules=sched, warmup_periods=warm),
        "buy_and_hold": BuyAndHold(warmup_periods=warm),
        "constant_lambda": DynamicLambdaStrategy(
            **{**params, "risk_aversion": Constant(constant_lambda(strategy))}
        ),
        "cost_blind": DynamicLambdaStrategy(**{**params, "cost_mode": "blind"}),
        **preset,
    }
