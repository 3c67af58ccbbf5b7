"""Crowding: kernel vs numpy twin, common random numbers, sign and timing of the impact."""

from __future__ import annotations

import numpy as np
import pytest

from rwafolio.exceptions import ConfigError
from rwafolio.optimize._kernels import solve_nb
from rwafolio.risk import (
    CrowdingConfig,
    covariance_from_vols,
    forecast,
    per_period,
    simulate_crowding,
)
from rwafolio.risk._crowding_kernels import (
    Agents,
    Book,
    Draws,
    Outcomes,
    crowding_paths_nb,
    crowding_paths_np,
)
from rwafolio.risk.crowding import _agents
from rwafolio.risk.scenarios import covariance_factor

CLASSES = ["crypto", "rwa", "stable"]
COSTS = np.array([0.001, 0.01, 0.0005])


def _example() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    w = np.array([0.5, 0.3, 0.2])
    corr = np.eye(3)
    corr[0, 1] = corr[1, 0] = 0.3
    mu, sig = per_period([0.08, 0.05, 0.02], covariance_from_vols([0.4, 0.15, 0.02], corr))
    return w, mu, sig


@pytest.mark.parametrize(("every", "additive"), [(0, False), (1, True), (3, False)])
def test_kernel_matches_numpy_twin(every: int, additive: bool) -> None:
    w, mu, sig = _example()
    cfg = CrowdingConfig(n_agents=3)
    lam, shares, r0, s0, w0 = _agents(cfg, mu * 252, sig * 252, COSTS, w, 5)
    alpha = cfg.alphas(CLASSES, np.sqrt(np.diag(sig))) * 20  # strong impact to exercise feedback
    m, h = 40, 6
    z = np.random.default_rng(0).standard_normal((m * h, 3))
    factor = covariance_factor(sig)
    out = Outcomes.empty(m)
    book = Book(w, COSTS, h, every, additive)
    agents = Agents(lam, shares, r0, s0, w0, alpha, 252.0, 0.94, 0.05, w, 1e-10, 2000)
    draws = Draws(z, factor, mu, np.zeros(0), np.zeros((1, 3)), np.zeros(0, np.int64))
    crowding_paths_nb(draws, book, agents, out)
    x = mu + z @ factor.T
    ref = crowding_paths_np(x, book, agents)
    for name in Outcomes._fields:
        np.testing.assert_allclose(getattr(out, name), getattr(ref, name), rtol=1e-7, atol=1e-9)
    assert np.any(out.turnover > 0)  # agents traded


def test_no_impact_means_no_difference_and_baseline_is_forecast() -> None:
    w, mu, sig = _example()
    cfg = CrowdingConfig(alpha=(0.0, 0.0, 0.0), n_agents=4)
    r = simulate_crowding(
        w,
        mu,
        sig,
        asset_classes=CLASSES,
        costs=COSTS,
        rebalance=1,
        n_scenarios=1500,
        config=cfg,
        rng=3,
    )
    np.testing.assert_allclose(r.with_agents.outcomes, r.without_agents.outcomes, atol=1e-14)
    f = forecast(w, mu, sig, costs=COSTS, rebalance=1, n_scenarios=1500, rng=3)
    np.testing.assert_allclose(r.without_agents.outcomes, f.outcomes, atol=1e-14)
    assert r.without_agents.var == pytest.approx(f.var, abs=1e-14)


def test_impact_sign_and_timing_by_hand() -> None:
    # No shocks, one agent, two assets, starting away from its optimum: it trades on day 0
    # (estimates decayed by 0.9, same optimum); the next day asset 0 returns alpha_0 * flow_0,
    # positive when the agent bought (buying raises the price).
    n, h = 2, 2
    r0 = np.array([[0.10, 0.02]])
    s0 = np.array([[[0.04, 0.0], [0.0, 0.01]]])
    w0 = np.array([[0.6, 0.4]])
    costs = np.array([0.0, 0.0])
    alpha = np.array([0.05, 0.02])
    w = np.array([1.0, 0.0])  # we hold asset 0 only, buy and hold
    out = Outcomes.empty(1)
    lam = np.array([1.0])
    agents = Agents(lam, np.array([1.0]), r0, s0, w0, alpha, 252.0, 0.9, 0.0, w, 1e-12, 2000)
    zero_draws = Draws(
        np.zeros((h, n)), np.zeros((n, n)), np.zeros(n), np.zeros(0), np.zeros((1, n)),
        np.zeros(0, np.int64),
    )  # fmt: skip
    crowding_paths_nb(zero_draws, Book(w, costs, h, 0, False), agents, out)
    # day 0: zero returns; estimates decay by 0.9
    wn, _, st = solve_nb(
        0.9 * r0[0],
        0.9 * s0[0],
        costs,
        w0[0].copy(),
        1.0,
        np.zeros(n),
        np.ones(n),
        w0[0].copy(),
        1e-12,
        2000,
    )
    assert st == 0
    flow = wn - w0[0]
    assert flow[0] > 0.1 and flow[1] == pytest.approx(-flow[0])
    assert out.crowd_outcome[0] == pytest.approx(alpha[0] * flow[0], abs=1e-12)  # > 0
    assert out.base_outcome[0] == 0.0  # agent-free outcome
    assert out.crowd_drawdown[0] == 0.0  # price only went up: no drawdown
    # mirror: hold asset 1, which the agent sold: its price falls
    out2 = Outcomes.empty(1)
    crowding_paths_nb(zero_draws, Book(np.array([0.0, 1.0]), costs, h, 0, False), agents, out2)
    assert out2.crowd_outcome[0] == pytest.approx(alpha[1] * flow[1], abs=1e-12)
    assert out2.crowd_outcome[0] < 0
    assert out2.crowd_drawdown[0] == pytest.approx(out2.crowd_outcome[0], abs=1e-12)


def test_example_run_outputs_and_reproducibility() -> None:
    w, mu, sig = _example()
    a = simulate_crowding(w, mu, sig, asset_classes=CLASSES, costs=COSTS, n_scenarios=2000, rng=9)
    b = simulate_crowding(
        w, mu, sig, asset_classes=CLASSES, costs=COSTS, n_scenarios=2000, rng=9, workers=1
    )
    np.testing.assert_array_equal(a.with_agents.outcomes, b.with_agents.outcomes)
    assert a.solver_failures == 0
    assert -1.0 <= a.crowding <= 1.0
    assert a.lams.shape == (10,) and np.all(a.lams > 0)
    np.testing.assert_allclose(a.agent_weights.sum(axis=1), 1.0, atol=1e-9)
    assert a.alpha[1] > a.alpha[0] > a.alpha[2]  # illiquid RWA moves most
    frame = a.to_frame()
    assert list(frame.index) == [0.95, 0.99]
    assert all(c <= v for c, v in zip(a.with_agents.cvar, a.with_agents.var))


def test_config_validation() -> None:
    with pytest.raises(ConfigError, match="n_agents"):
        CrowdingConfig(n_agents=0)
    with pytest.raises(ConfigError, match="agent_shares"):
        CrowdingConfig(n_agents=2, agent_shares=(0.5, 0.6))
    w, mu, sig = _example()
    with pytest.raises(ConfigError, match="asset_classes"):
        simulate_crowding(w, mu, sig, asset_classes=["crypto"])
