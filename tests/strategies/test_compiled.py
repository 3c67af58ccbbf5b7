"""The compiled statement of the built-in strategy and its recording decision kernel.

``decide_record_nb`` (the historical loop's decision) and ``choose_nb`` (the Monte Carlo's and
the crowding agents') are two kernels on purpose (module docstring of
``_decide_record_kernels``): these tests pin them together, and pin the record kernel's
objective to the optimizer's numpy definition.
"""

from __future__ import annotations

import numpy as np
import pytest

from rwafolio.exceptions import ConfigError
from rwafolio.optimize import objective
from rwafolio.strategies import DynamicLambdaStrategy
from rwafolio.strategies._decide_kernels import choose_nb, lw_correlation_nb
from rwafolio.strategies._decide_record_kernels import decide_record_nb, objective_nb
from rwafolio.strategies.compiled import MODES, decision_arrays
from tests.backtest.conftest import make_panel


def _inputs(gen: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    window = gen.normal(0.001, 0.03, (30, n))
    held = gen.dirichlet(np.ones(n)) * gen.uniform(0.9, 1.0)
    may = gen.random(n) < 0.8
    may[0] = True
    return {"window": window, "held": held, "may": may}


@pytest.mark.parametrize("mode", sorted(MODES))
@pytest.mark.parametrize("prior_obs", [0.0, 365.0])
def test_record_kernel_decides_as_choose_nb(mode: str, prior_obs: float) -> None:
    gen = np.random.default_rng(11)
    n, m = 5, MODES[mode]
    costs = np.full(n, 0.002)
    lo, hi = np.zeros(n), np.ones(n)
    w_ref = np.full(n, 1.0 / n)
    traded = 0
    for _ in range(60):
        x = _inputs(gen, n)
        vix = float(gen.uniform(10, 40))
        warm = x["held"].copy()
        tau = float(gen.choice([0.0, 0.01, 0.05]))
        mu, cov = lw_correlation_nb(x["window"])
        t_ref, _w = choose_nb(
            mu, cov, 30.0, vix, x["held"], x["may"], 2.0, 0.05, costs, lo, hi, 365.0, tau, m,
            warm, prior_obs, w_ref, np.nan,
        )  # fmt: skip
        target, last, mu_used, cov_used, lam, code, _it, res, obj, skipped = decide_record_nb(
            x["window"], vix, x["held"], x["may"], warm, 2.0, 0.05, costs, lo, hi, 365.0, tau, m,
            prior_obs, w_ref, np.nan,
        )  # fmt: skip
        assert code == 0 and res <= 1e-9
        assert np.array_equal(target, t_ref, equal_nan=True)
        assert np.array_equal(cov_used, cov) and lam == 2.0 * (1 + 0.05 * vix)
        R, S = mu_used * 365.0, cov_used * 365.0
        np.testing.assert_allclose(obj, objective(last, R, S, costs, x["held"], lam), rtol=1e-12)
        # every held-back change is inside the band, and none of them trades
        held_back = ~np.isnan(skipped)
        assert np.all(np.abs(skipped[held_back]) <= tau + 1e-15)
        assert not np.any(held_back & ~np.isnan(target))
        traded += int(np.any(~np.isnan(target)))
    assert traded > 5


def test_objective_kernel_matches_the_model() -> None:
    gen = np.random.default_rng(2)
    for _ in range(20):
        n = int(gen.integers(2, 9))
        A = gen.normal(size=(n, n))
        S = A @ A.T
        w, wp, R, C = gen.random(n), gen.random(n), gen.normal(size=n), gen.random(n) / 100
        np.testing.assert_allclose(objective_nb(w, R, S, C, wp, 3.0),
                                   objective(w, R, S, C, wp, 3.0), rtol=1e-12)  # fmt: skip


def test_decision_arrays_read_the_prepared_strategy() -> None:
    from rwafolio.backtest.engine import market_of, setup_of

    market = market_of(make_panel(n_days=60))
    strat = DynamicLambdaStrategy(threshold_mode="portfolio", stress_vix=30.0, eta=0.1)
    strat.prepare(setup_of(market))
    a = decision_arrays(strat, market.symbols, True)
    assert (a.lam0, a.eta, a.uses_index, a.mode, a.stress_vix) == (2.0, 0.1, True, 2, 30.0)
    assert np.array_equal(a.opt_costs, strat.opt_costs_) and a.prior_obs == 365.0
    assert decision_arrays(strat, market.symbols, False).stress_vix == np.inf
    const = DynamicLambdaStrategy(eta=0.0)
    const.prepare(setup_of(market))
    assert (decision_arrays(const, market.symbols, True).uses_index, const.rule_.lam) == (
        False,
        2.0,
    )
    odd = DynamicLambdaStrategy(utility_threshold=0.1)
    odd.prepare(setup_of(market))
    with pytest.raises(ConfigError, match="utility_threshold"):
        decision_arrays(odd, market.symbols, True)
