"""Power of the VaR backtests, the rolling Basel traffic light and the Z2 test of ES forecasts,
against hand-computed, enumerated, simulated and published values."""

from __future__ import annotations

from math import comb

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from rwafolio.exceptions import DataError
from rwafolio.risk import conditional_coverage, kupiec_pof
from rwafolio.risk.backtests import (
    kupiec_power,
    rolling_traffic_light,
    simulated_power,
    traffic_light_power,
)
from rwafolio.risk.shortfall import acerbi_szekely_z2, tail_bins, z2_statistic


def _binom_pmf(k: int, n: int, p: float) -> float:
    return comb(n, k) * p**k * (1 - p) ** (n - k)


@pytest.mark.parametrize(("n", "level"), [(83, 0.95), (250, 0.99), (40, 0.9)])
def test_kupiec_power_enumerated_by_hand(n: int, level: float) -> None:
    q = 2 * (1 - level)
    expected = sum(
        _binom_pmf(x, n, q) for x in range(n + 1) if kupiec_pof(n, x, level).p_value < 0.05
    )
    assert kupiec_power(n, level) == pytest.approx(expected, rel=1e-10)


def test_kupiec_power_matches_simulation_and_size() -> None:
    # 83 windows of 30-day VaR95: a true 10% rate is detected about 45% of the time.
    gen = np.random.default_rng(1)
    xs = gen.binomial(83, 0.10, size=20_000)
    sim = np.mean([kupiec_pof(83, int(x), 0.95).p_value < 0.05 for x in xs])
    exact = kupiec_power(83, 0.95)
    assert exact == pytest.approx(sim, abs=0.015)
    assert 0.40 < exact < 0.50
    size = kupiec_power(250, 0.99, alt_rate=0.01)
    assert 0.0 < size < 0.1  # discrete test: size near but not exactly 5%


def test_traffic_light_power_by_hand() -> None:
    expected = 1 - sum(_binom_pmf(k, 250, 0.02) for k in range(5))  # yellow from 5 at 250/99%
    assert traffic_light_power(250, 0.99) == pytest.approx(expected, rel=1e-10)


def test_simulated_power_against_public_tests() -> None:
    n, level = 120, 0.95
    gen = np.random.default_rng(7)
    b = gen.random((1500, n)) < 0.10
    ref = np.mean([conditional_coverage(row, level).p_value < 0.05 for row in b])
    got = simulated_power("conditional", n, level, n_sims=1500, rng=3)
    assert got == pytest.approx(ref, abs=0.05)
    assert simulated_power("independence", n, level, n_sims=300, rng=3) == simulated_power(
        "independence", n, level, n_sims=300, rng=3
    )


def test_rolling_traffic_light_counts_by_loop() -> None:
    gen = np.random.default_rng(0)
    b = pd.Series(gen.random(700) < 0.02, index=pd.date_range("2020-01-01", periods=700))
    b.iloc[300:310] = True  # a red cluster
    rz = rolling_traffic_light(b, 0.99)
    loop = [int(b.iloc[i - 250 : i].sum()) for i in range(250, 701)]
    assert rz.counts.tolist() == loop
    assert rz.counts.index[0] == b.index[249]
    assert rz.n_red == sum(c >= 10 for c in loop) and rz.worst == "red"
    assert rz.n_yellow == sum(5 <= c < 10 for c in loop)
    assert rz.n_green + rz.n_yellow + rz.n_red == 451
    with pytest.raises(DataError, match="window"):
        rolling_traffic_light(b.iloc[:100], 0.99)


def test_z2_statistic_by_hand() -> None:
    x = np.array([-0.05, 0.01, -0.02, 0.0])
    var = np.array([-0.03, -0.03, -0.03, -0.03])
    es = np.array([-0.04, -0.04, -0.04, -0.05])
    # one breach (-0.05 < -0.03): Z2 = 1 - (-0.05 / -0.04) / (4 * 0.025)
    assert z2_statistic(x, var, es, 0.975) == pytest.approx(1 - 1.25 / 0.1)


def test_tail_bins_mean_is_the_cvar() -> None:
    xs = np.sort(np.random.default_rng(0).standard_normal(10_000))
    bins = tail_bins(xs, 0.99)
    assert bins.shape == (20,) and np.all(np.diff(bins) >= 0)
    assert bins.mean() == pytest.approx(xs[:100].mean(), rel=1e-12)


def test_z2_critical_value_published_and_verdicts() -> None:
    # Acerbi & Szekely (2014), Table: the 5% critical value of Z2 at T = 250, VaR 97.5%, is
    # about -0.70 for normal and Student-t tails.
    level, t = 0.975, 250
    z = np.sort(np.random.default_rng(1).standard_normal(200_000))
    tails = np.tile(tail_bins(z, level), (t, 1))
    var = np.full(t, norm.ppf(0.025))
    es = np.full(t, -norm.pdf(norm.ppf(0.025)) / 0.025)
    gen = np.random.default_rng(2)
    x = gen.standard_normal(t)
    good = acerbi_szekely_z2(x, var, es, tails, level, seed=5)
    assert good.critical_value == pytest.approx(-0.70, abs=0.08)
    assert not good.reject
    bad = acerbi_szekely_z2(1.8 * x, var, es, tails, level, seed=5)  # tails 80% too thin
    assert bad.reject and bad.statistic < bad.critical_value
