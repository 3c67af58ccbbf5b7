"""VaR backtests against published and hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import chi2

from rwafolio.exceptions import ConfigError, DataError
from rwafolio.risk import (
    christoffersen_independence,
    conditional_coverage,
    kupiec_pof,
    traffic_light,
)


def test_kupiec_reference_values() -> None:
    r = kupiec_pof(1043, 57, 0.95)
    assert r.statistic == pytest.approx(0.46147, abs=5e-6)
    assert r.p_value == pytest.approx(0.49694, abs=5e-6)
    assert not r.reject and "do not reject" in r.verdict


def test_traffic_light_reference_values() -> None:
    assert traffic_light(1043, 57, 0.95).cumulative_probability == pytest.approx(0.77913, abs=5e-6)
    zones = [traffic_light(250, k, 0.99).zone for k in range(13)]
    assert zones == ["green"] * 5 + ["yellow"] * 5 + ["red"] * 3
    tl = traffic_light(250, 0, 0.99)
    assert (tl.yellow_from, tl.red_from) == (5, 10)


def test_kupiec_edge_cases() -> None:
    r0 = kupiec_pof(100, 0, 0.95)  # LR = -2 N log(1 - p)
    assert r0.statistic == pytest.approx(-2 * 100 * np.log(0.95), rel=1e-12)
    r1 = kupiec_pof(100, 100, 0.95)  # LR = -2 N log(p)
    assert r1.statistic == pytest.approx(-2 * 100 * np.log(0.05), rel=1e-12)
    assert r1.reject
    assert kupiec_pof(100, 5, 0.95).statistic == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(DataError, match="n_failures"):
        kupiec_pof(10, 11, 0.95)
    with pytest.raises(ConfigError, match="level"):
        kupiec_pof(10, 1, 5.0)


def test_christoffersen_hand_example() -> None:
    b = np.array([0, 0, 1, 1, 0, 0, 0, 1, 0, 0], dtype=bool)
    # transitions: 00: (0,1),(4,5),(5,6),(8,9) = 4; 01: (1,2),(6,7) = 2; 10: (3,4),(7,8) = 2; 11: (2,3) = 1
    n00, n01, n10, n11 = 4, 2, 2, 1
    pi = 3 / 9
    pi01, pi11 = 2 / 6, 1 / 3
    ll0 = (n00 + n10) * np.log(1 - pi) + (n01 + n11) * np.log(pi)
    ll1 = n00 * np.log(1 - pi01) + n01 * np.log(pi01) + n10 * np.log(1 - pi11) + n11 * np.log(pi11)
    r = christoffersen_independence(b)
    assert r.statistic == pytest.approx(-2 * (ll0 - ll1), abs=1e-12)
    assert r.statistic == pytest.approx(0.0, abs=1e-12)  # pi01 == pi11 == pi here
    # clustered breaches: strongly dependent
    c = np.array([0] * 20 + [1] * 5 + [0] * 20, dtype=bool)
    n00, n01, n10, n11 = 38, 1, 1, 4
    pi, pi01, pi11 = 5 / 44, 1 / 39, 4 / 5
    ll0 = 39 * np.log(1 - pi) + 5 * np.log(pi)
    ll1 = 38 * np.log(1 - pi01) + np.log(pi01) + np.log(1 - pi11) + 4 * np.log(pi11)
    rc = christoffersen_independence(c)
    assert rc.statistic == pytest.approx(-2 * (ll0 - ll1), rel=1e-12)
    assert rc.reject


def test_independence_edge_cases() -> None:
    assert christoffersen_independence(np.zeros(50, bool)).statistic == 0.0
    assert christoffersen_independence(np.ones(50, bool)).statistic == 0.0
    alt = np.tile([True, False], 25)  # pi11 = 0: 0 log 0 handled
    r = christoffersen_independence(alt)
    assert np.isfinite(r.statistic) and r.reject
    with pytest.raises(DataError, match="breaches"):
        christoffersen_independence([True])


def test_conditional_coverage_is_sum() -> None:
    rng = np.random.default_rng(0)
    b = rng.random(500) < 0.07
    cc = conditional_coverage(b, 0.95)
    expect = (
        kupiec_pof(500, int(b.sum()), 0.95).statistic + christoffersen_independence(b).statistic
    )
    assert cc.statistic == pytest.approx(expect, rel=1e-12)
    assert cc.p_value == pytest.approx(chi2.sf(expect, 2), rel=1e-12) and cc.df == 2
