"""Config keys of issue 12: preset, mean_estimator, trade_aversion, utility_threshold, indexes."""

from __future__ import annotations

import pytest

from rwafolio.config import build_strategy, parse_config
from rwafolio.exceptions import ConfigError
from rwafolio.optimize.returns import BayesStein, BlackLitterman
from rwafolio.strategies.dynamic import MODEL_PRESET, DynamicLambdaStrategy


def test_model_preset_is_the_source_text() -> None:
    p = DynamicLambdaStrategy.model_preset().get_params()
    assert (p["lam0"], p["eta"], p["window"], p["threshold"]) == (2.0, 0.05, 30, 0.01)
    assert p["mean_estimator"] is None and p["trade_aversion"] is None
    s = build_strategy(parse_config({"strategy": {"preset": "model"}}).strategy)
    assert {k: s.get_params()[k] for k in MODEL_PRESET} == MODEL_PRESET


def test_keys_build_objects() -> None:
    cfg = parse_config(
        {
            "strategy": {
                "preset": "model",
                "mean_estimator": "black_litterman",
                "prior_obs": 730,
                "trade_aversion": 0.5,
                "utility_threshold": 0.01,
                "class_indexes": {"crypto": "realized:BTC-USD", "rwa": ["vix", 30]},
            }
        }
    )
    s = build_strategy(cfg.strategy)
    assert s.mean_estimator == BlackLitterman(prior_obs=730.0)
    assert (s.trade_aversion, s.utility_threshold, s.window) == (0.5, 0.01, 30)
    assert s.class_indexes["rwa"] == ["vix", 30]
    s2 = build_strategy(parse_config({"strategy": {"mean_estimator": "bayes_stein"}}).strategy)
    assert s2.mean_estimator == BayesStein()


@pytest.mark.parametrize(
    ("strategy", "match"),
    [
        ({"mean_estimator": "oracle"}, "mean_estimator"),
        ({"prior_obs": 10}, "prior_obs"),
        ({"preset": "fast"}, "preset"),
        ({"trade_aversion": "high"}, "trade_aversion"),
        ({"class_indexes": "vix"}, "class_indexes"),
    ],
)
def test_bad_keys_are_named(strategy: dict, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        build_strategy(parse_config({"strategy": strategy}).strategy)


def test_suite_shows_the_model_preset_beside_a_non_preset_strategy() -> None:
    from rwafolio.strategies import benchmark_suite

    strat = DynamicLambdaStrategy(trade_aversion=1.0, schedules={"rwa": "daily"})
    suite = benchmark_suite(strat)
    p = suite["model_preset"].get_params()
    assert {k: p[k] for k in MODEL_PRESET} == MODEL_PRESET
    assert p["schedules"] == {"rwa": "daily"}  # the run's own schedules are kept
    assert "model_preset" not in benchmark_suite(DynamicLambdaStrategy.model_preset())
