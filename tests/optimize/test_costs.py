"""The cost model: rates, the optimizer's amortized costs, a trade's fee, vectorbt's fees, cvxpy."""

from __future__ import annotations

import numpy as np
import pytest

from rwafolio.exceptions import ConfigError
from rwafolio.optimize.costs import CostModel, amortization_years
from rwafolio.universe import Universe


def test_built_from_the_universe_and_frozen() -> None:
    uni = Universe.from_symbols(["BTC-USD", "VNQ"], costs={"VNQ": 0.008})
    model = CostModel.from_universe(uni)
    np.testing.assert_array_equal(model.rates, uni.costs)
    assert model.symbols == ("BTC-USD", "VNQ") and model.n_assets == 2
    with pytest.raises(ValueError):
        model.rates[0] = 1.0  # read-only


def test_optimizer_costs_amortize_over_the_horizon() -> None:
    model = CostModel(np.array([0.001, 0.01]))
    # Default horizon: the estimation window, 30 daily periods = 30/365 years.
    np.testing.assert_allclose(
        model.optimizer_costs("model", None, 30, 365), [0.001 * 365 / 30, 0.01 * 365 / 30]
    )
    np.testing.assert_allclose(model.optimizer_costs("model", 0.5, 30, 365), [0.002, 0.02])
    np.testing.assert_array_equal(model.optimizer_costs("blind", None, 30, 365), [0.0, 0.0])
    assert amortization_years(None, 21, 252) == 21 / 252
    with pytest.raises(ConfigError, match="cost_mode"):
        model.optimizer_costs("free", None, 30, 365)  # type: ignore[arg-type]


def test_fee_and_vectorbt_fees() -> None:
    model = CostModel(np.array([0.001, 0.01, 0.0005]))
    trades = np.array([0.2, -0.1, 0.0])
    assert model.fee(trades) == pytest.approx(0.001 * 0.2 + 0.01 * 0.1, rel=1e-15)
    assert model.fee(np.array([-0.1]), np.array([False, True, False])) == pytest.approx(0.001)
    fees = model.vbt_fees(4, fee_free_rows=(1,))
    assert fees.shape == (4, 3)
    np.testing.assert_array_equal(fees[0], model.rates)
    np.testing.assert_array_equal(fees[1], 0.0)


def test_cvxpy_form_prices_a_trade_like_fee() -> None:
    import cvxpy as cp

    model = CostModel(np.array([0.001, 0.01, 0.0005]))
    prev = np.array([0.5, 0.3, 0.2])
    target = np.array([0.2, 0.5, 0.3])
    w = cp.Variable(3)
    cost, cons = model.cvxpy(w, prev)
    prob = cp.Problem(cp.Minimize(cost), [w == target, *cons])
    prob.solve(solver="CLARABEL")
    assert prob.value == pytest.approx(model.fee(target - prev), rel=1e-5)  # interior point


@pytest.mark.parametrize("rates", [[-0.1, 0.0], [np.nan, 0.0], [1.0, 0.0]])
def test_bad_rates_are_refused(rates: list[float]) -> None:
    with pytest.raises(ConfigError, match="rates"):
        CostModel(np.array(rates))
