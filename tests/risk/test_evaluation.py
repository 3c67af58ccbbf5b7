"""The default risk evaluation on a known market: every horizon's tests and the risk_tests list."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import chi2

from rwafolio.backtest.result import BacktestResult
from rwafolio.risk.backtests import kupiec_pof, kupiec_power
from rwafolio.risk.evaluation import (
    DEFAULT_EVALUATION,
    EvaluationSpec,
    evaluate_risk,
    risk_tests,
)
from tests.risk.test_rolling import _result

KEYS = {
    "horizon", "level", "windows", "overlapping", "breaches", "expected", "kupiec_p",
    "christoffersen_p", "zone", "power",
}  # fmt: skip


@pytest.mark.slow
def test_default_evaluation_is_calibrated_on_a_known_market() -> None:
    # Three independent markets pooled: per horizon, the pooled breach count passes Kupiec.
    pooled: dict[int, list[int]] = {}
    for seed in (0, 1, 2):
        ev = evaluate_risk(_result(n_days=2200, step=1, seed=seed), rng=seed, n_scenarios=2000)
        for h in ev.horizons:
            pooled.setdefault(h.horizon, [0, 0])
            pooled[h.horizon][0] += h.windows
            pooled[h.horizon][1] += h.breaches
            assert h.zone != "red" and (h.shortfall is None or not h.shortfall.reject)
    for spec in DEFAULT_EVALUATION:
        n, x = pooled[spec.horizon]
        assert not kupiec_pof(n, x, spec.level).reject, (spec, n, x)


def test_default_evaluation_structure() -> None:
    res = _result(n_days=2200, step=1, seed=1)
    ev = evaluate_risk(res, rng=0, n_scenarios=2000)
    assert [(h.horizon, h.level) for h in ev.horizons] == [
        (s.horizon, s.level) for s in DEFAULT_EVALUATION
    ]
    one, ten, thirty = ev.horizons
    # dense 1-period: every forecast date is a window; the Basel light runs on 250-windows
    assert one.windows == one.forecasts.table["complete"].sum()
    assert one.rolling is not None and one.rolling.window == 250
    assert ten.rolling is None and thirty.rolling is None
    pos = thirty.forecasts.table["position"].to_numpy()
    assert np.all(np.diff(pos) >= 30)
    for h in ev.horizons:
        assert h.expected == pytest.approx(h.windows * (1 - h.level))
        assert h.power_kupiec == pytest.approx(kupiec_power(h.windows, h.level))
        tab = h.forecasts.table
        used = tab[h.forecasts.sample_mask().to_numpy()]
        lab = f"{h.level * 100:g}"
        x = int((used["realized_return"] < used[f"var_{lab}"]).sum())
        n, p = len(used), 1 - h.level
        lr = -2 * (
            (n - x) * np.log(1 - p) + x * np.log(p)
            - (n - x) * np.log(1 - x / n) - (x * np.log(x / n) if x else 0.0)
        )  # fmt: skip
        assert (h.windows, h.breaches) == (n, x)
        assert h.kupiec.p_value == pytest.approx(chi2.sf(lr, 1), rel=1e-9)
    tests = risk_tests(ev)
    assert len(tests) == 3 and all(KEYS <= set(t) for t in tests)
    assert tests[0]["zone"] in ("green", "yellow") and tests[0]["overlapping"] is False
    assert risk_tests(None) == []


def test_book_target_with_wrong_covariance_fails() -> None:
    res = _result(n_days=1500, step=1, seed=2)
    res = BacktestResult(**{**res.__dict__, "cov": res.cov * 0.3})
    ev = evaluate_risk(
        res, (EvaluationSpec(1, 0.99),), rng=0, n_scenarios=2000, target="book", rebalance=1
    )
    h = ev.horizons[0]
    assert not h.passed and h.kupiec.reject and "FAIL" in h.verdict()
    assert ev.target == "book"


def test_short_run_skips_a_horizon_and_says_why() -> None:
    res = _result(n_days=90, step=1, seed=0)
    ev = evaluate_risk(res, rng=0, n_scenarios=500)
    assert [h.horizon for h in ev.horizons] == [1, 10]
    assert len(ev.skipped) == 1 and "30-period" in ev.skipped[0] and "window(s)" in ev.skipped[0]
    assert any(v.startswith("not tested: 30-period") for v in ev.verdicts())
    # a hand-built result carries no strategy: the strategy-aware horizons fall back, said so
    assert ev.target == "pnl" and len(ev.notes) == 2 and "top-down" in ev.notes[0]


def test_backtest_json_carries_risk_tests(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import json

    from rwafolio.cli import main

    path = tmp_path / "run.json"
    code = main(
        ["backtest", "--source", "synthetic", "--start", "2021-01-01", "--end", "2021-09-30",
         "--no-crowding", "--out", str(tmp_path / "bt.html"), "--json", str(path)]
    )  # fmt: skip
    assert code == 0
    tests = json.loads(path.read_text(encoding="utf-8"))["risk_tests"]
    assert [(t["horizon"], t["level"]) for t in tests] == [(1, 0.99), (10, 0.99), (30, 0.95)]
    for t in tests:
        assert KEYS <= set(t) and t["overlapping"] is False
        assert t["zone"] in ("green", "yellow", "red") and 0 <= t["power"] <= 1
        assert t["expected"] == pytest.approx(t["windows"] * (1 - t["level"]))
    assert [t["target"] for t in tests] == ["pnl", "strategy", "strategy"]


def test_verdict_says_when_breaches_cluster() -> None:
    """A horizon that passes coverage and the tail test but whose breaches cluster says so."""
    from dataclasses import replace

    ev = evaluate_risk(_result(n_days=700, step=1, seed=3), rng=1, n_scenarios=300)
    h = ev.horizons[1]  # 10 periods: the zone is the whole sample's traffic light
    ok = replace(
        h, kupiec=replace(h.kupiec, reject=False), traffic=replace(h.traffic, zone="green"),
        shortfall=None,
    )  # fmt: skip
    calm = replace(ok, independence=replace(h.independence, reject=False, p_value=0.4))
    clustered = replace(ok, independence=replace(h.independence, reject=True, p_value=0.012))
    assert calm.passed and clustered.passed  # the bar: coverage, zone, tail
    assert "breaches cluster (Christoffersen p = 0.012" in clustered.verdict()
    assert "cluster" not in calm.verdict() and "the forecasts hold" in calm.verdict()
