"""Strategies: the contract a strategy implements, the model's strategy and benchmarks."""

from __future__ import annotations

from rwafolio.strategies.base import Decision, MarketView, Setup, Strategy
from rwafolio.strategies.benchmarks import BuyAndHold, EqualWeight, FixedMix, benchmark_suite
from rwafolio.strategies.dynamic import DynamicLambdaStrategy
from rwafolio.strategies.schedules import schedule_mask, schedule_matrix
from rwafolio.strategies.threshold import THRESHOLD_MODES, apply_threshold

__all__ = [
    "THRESHOLD_MODES",
    "BuyAndHold",
    "Decision",
    "DynamicLambdaStrategy",
    "EqualWeight",
    "FixedMix",
    "MarketView",
    "Setup",
    "Strategy",
    "apply_threshold",
    "benchmark_suite",
    "schedule_mask",
    "schedule_matrix",
]
