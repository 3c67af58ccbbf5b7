"""The crowding kernel pinned bit for bit: splitting or refactoring it must change no number.

The digests below were computed on commit 23c786e (before ``crowding_paths_nb`` was split into
named helpers) with exactly the runs of :func:`kernel_digest` and :func:`simulate_digest`; the
same runs must give the same bytes. A digest is the first 16 hex digits of the SHA-256 of every
output as float64: all :class:`Outcomes` columns of the kernel, and of ``simulate_crowding`` both
runs' outcomes and drawdowns plus the agents' summaries. If a change is *meant* to move numbers,
recompute them and say why in the commit (they were recomputed once, when the agents' estimates
moved to rolling window sums and the solver's no-trade certificate: every number moved by at
most 3e-14, see ``risk/_agent_windows.py``; and when the agents' decision became the one
strategy step ``record_nb``, whose warm start after a hold-everything day is the last solution:
every number moved by at most 2.2e-14, 2.8e-15 relative; and when the Ledoit-Wolf kernel
became one pass of plain loops, with the Black-Litterman prior's ``implied_returns_nb`` (which
alone moved them by at most 3.6e-15): at most 1.6e-14, 1.4e-13 relative). Correctness itself is proved elsewhere (against the
numpy twin and the agent-free forecast in ``test_crowding.py``); this test only guards drift.
"""

from __future__ import annotations

import hashlib

import numpy as np

from rwafolio.risk import (
    CrowdingConfig,
    covariance_from_vols,
    given_liquidity,
    per_period,
    simulate_crowding,
)
from rwafolio.risk._crowding_kernels import Book, Draws, Market, Outcomes, crowding_paths_nb
from rwafolio.risk.crowding import _agents, _history0
from rwafolio.risk.scenarios import covariance_factor

PINNED = {
    "kernel": "122e6e55bffdd494",
    "simulate": "dbfe42a579dcd3c8",
}

COSTS = np.array([0.001, 0.01, 0.0005])


def _hash(parts: list[float | np.ndarray]) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(np.ascontiguousarray(np.asarray(part, dtype=float)).tobytes())
    return h.hexdigest()[:16]


def _example() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    w = np.array([0.5, 0.3, 0.2])
    corr = np.eye(3)
    corr[0, 1] = corr[1, 0] = 0.3
    mu, sig = per_period([0.08, 0.05, 0.02], covariance_from_vols([0.4, 0.15, 0.02], corr))
    return w, mu, sig


def kernel_digest() -> str:
    """Digest of ``crowding_paths_nb`` over agent counts, fire sales, rebalancing, aggregation,
    Student-t scales and bootstrap rows (big shocks so that fire sales happen)."""
    w, mu, sig = _example()
    factor = covariance_factor(sig)
    market = Market(np.array([3e10, 1e5, 1e9]), np.sqrt(np.diag(sig)), 1.0, 2 / 3, 0.87)
    m, h = 10, 8
    parts: list[float | np.ndarray] = []
    for case, (k, fire, every, additive) in enumerate(
        [(0, "off", 1, False), (1, "on", 0, False), (3, "off", 3, True), (3, "on", 1, False),
         (6, "on", 2, True)]
    ):  # fmt: skip
        cfg = CrowdingConfig(n_agents=k, fire_sale=fire, fire_drawdown=0.02, aum=2e7)
        hist0 = _history0(None, cfg.windows()[1], 3, mu, factor, case)
        agents = _agents(cfg, hist0, sig * 252, COSTS + np.array([0, 0.002, 0]), 20.0, case)
        rng = np.random.default_rng(100 + case)
        z = rng.standard_normal((m * h, 3)) * 2.0
        book = Book(w, COSTS, h, every, additive)
        scale = rng.uniform(0.5, 1.5, m * h) if case % 2 else np.zeros(0)
        for draws in (
            Draws(z, factor, mu, scale, np.zeros((1, 3)), np.zeros(0, np.int64)),
            Draws(z, np.zeros((3, 0)), np.zeros(3), np.zeros(0), z[:40] * 0.03,
                  rng.integers(0, 40, m * h)),
        ):  # fmt: skip
            out = Outcomes.empty(m)
            crowding_paths_nb(draws, book, agents, market, out)
            parts += list(out)
    return _hash(parts)


def simulate_digest() -> str:
    """Digest of ``simulate_crowding`` (several agent counts, with and without fire sales)."""
    w, mu, sig = _example()
    liq = given_liquidity(["BTC", "RE", "USDC"], [3e10, 1e4, 1e9], np.sqrt(np.diag(sig)),
                          [0, 0.004, 0])  # fmt: skip
    parts: list[float | np.ndarray] = []
    for seed, (k, fire, rebalance) in enumerate(
        [(0, "off", 1), (1, "off", "drift"), (4, "on", 1), (8, "on", 5), (8, "off", 2)]
    ):
        cfg = CrowdingConfig(n_agents=k, fire_sale=fire, fire_drawdown=0.03, aum=5e7)
        r = simulate_crowding(
            w, mu, sig * 4, liquidity=liq, costs=COSTS, horizon=12, n_scenarios=60,
            rebalance=rebalance, config=cfg, rng=seed, workers=1,
        )  # fmt: skip
        for f in (r.without_agents, r.with_agents):
            parts += [f.outcomes, f.max_drawdowns, f.mean_cost]
        parts += [r.alignment, r.turnover, r.impact_cost, r.fire_share]
    return _hash(parts)


def test_kernel_bit_identical() -> None:
    assert kernel_digest() == PINNED["kernel"]


def test_simulate_crowding_bit_identical() -> None:
    assert simulate_digest() == PINNED["simulate"]
