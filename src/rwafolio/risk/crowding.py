"""Multi-agent crowding: how other optimizing agents' trades deepen our portfolio's tail.

The model (documented defaults in :class:`CrowdingConfig`; none is fitted to any target)
---------------------------------------------------------------------------------------
* K agents (default 10) manage the same universe with the project's optimizer
  (``max w'R - lam_t w'Sigma w - sum C|w - w_prev|``, annualized R and Sigma, one-off costs C),
  re-solved every day after the day's shock with ``rwafolio.optimize.solve_nb``.
* Agent k's base risk aversion is lognormal around 2.0: ``lam_k = lam_median *
  exp(lam_sigma * N(0, 1))`` (lam_sigma = 0.5: half the agents between 1.4 and 2.8); its risk
  aversion follows the model's rule ``lam_k,t = lam_k (1 + eta VIX_t)`` (eta = 0.05) with a
  realized-volatility VIX proxy ``100 sqrt(v' S_k,t v)`` of our portfolio's weights ``v``.
* Noisy estimates: agent k starts from ``R_k = R + mu_noise * sigma * N(0, 1)`` (per asset,
  annual; mu_noise = 0.25) and ``S_k = D_k Sigma D_k`` with vol multipliers
  ``D_k = diag(exp(vol_noise * N(0, 1)))`` (vol_noise = 0.10). Along a path it re-estimates like
  a 30-observation window does: EWMA with decay 0.94 (effective window (1 + d)/(1 - d) = 32
  periods) of the realized returns (annualized) and of their outer products. Its starting
  weights are its cost-free optimum (an established portfolio): no trade at t = 0.
* Liquidity: the agents together hold ``holding_share`` of each asset's outstanding value, and
  the asset trades ``turnover`` of its outstanding value a day. The agents' combined capital is
  therefore ``participation = holding_share / turnover`` days of volume, and by the rule of
  thumb that trading one day's volume moves the price by about one daily volatility
  (``impact_y = 1``; square-root-law studies find Y ~ 0.5-1 at that participation):
  ``alpha_i = impact_y * sigma_daily_i * participation_i``. Defaults by class:
  crypto 0.1% held / 3% a day (BTC: ~$30bn on a ~$1tn cap), tokenized RWA 1% held / 0.1% a day
  (thin secondary markets), stablecoin 0.1% held / 50% a day.
* Prices: ``dP_i / P_i = alpha_i * flow_i`` with ``flow_i = sum_k share_k V_k dw_k,i`` (weight
  traded, in units of the agents' combined starting capital; buying raises the price). The move
  lands in the next period's return, so it feeds the next day's returns and decisions.

Our portfolio is a price-taker holding ``weights`` (drifting or rebalanced like
:func:`~rwafolio.risk.forecast`). The agent-free run uses the same random draws (common random
numbers) and is identical to ``forecast(..., rng=seed)`` with the same settings.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from rwafolio.exceptions import ConfigError, DataError, OptimizationError, describe
from rwafolio.optimize import solve_nb
from rwafolio.optimize.risk_aversion import DEFAULT_ETA, DEFAULT_LAM0
from rwafolio.risk._crowding_kernels import Agents, Book, Draws, Outcomes, crowding_paths_nb
from rwafolio.risk.forecast import (
    RiskForecast,
    _vector,
    parse_rebalance,
    summarize,
    validate_levels,
)
from rwafolio.risk.scenarios import (
    AGGREGATIONS,
    DISTRIBUTIONS,
    Aggregation,
    Distribution,
    covariance_factor,
    resolve_seed,
    run_chunks,
)
from rwafolio.universe import Universe


def _ro(d: Mapping[str, float]) -> Mapping[str, float]:
    return MappingProxyType(dict(d))


@dataclass(frozen=True)
class CrowdingConfig:
    """Agents and liquidity of the crowding simulation (see the module docstring)."""

    n_agents: int = 10
    lam_median: float = DEFAULT_LAM0
    lam_sigma: float = 0.5
    eta: float = DEFAULT_ETA
    mu_noise: float = 0.25
    vol_noise: float = 0.10
    decay: float = 0.94
    holding_share: Mapping[str, float] = field(
        default_factory=lambda: _ro({"crypto": 0.001, "rwa": 0.01, "stable": 0.001, "cash": 0.0})
    )
    turnover: Mapping[str, float] = field(
        default_factory=lambda: _ro({"crypto": 0.03, "rwa": 0.001, "stable": 0.5, "cash": 1.0})
    )
    impact_y: float = 1.0
    alpha: tuple[float, ...] | None = None
    agent_shares: tuple[float, ...] | None = None
    periods_per_year: int = 252
    tol: float = 1e-9
    max_iter: int = 2000

    def __post_init__(self) -> None:
        if not isinstance(self.n_agents, int) or self.n_agents < 1:
            raise ConfigError(f"`n_agents` must be a positive int, got {self.n_agents!r}")
        for name in ("lam_median", "periods_per_year"):
            if not getattr(self, name) > 0:
                raise ConfigError(f"`{name}` must be positive, got {getattr(self, name)!r}")
        for name in ("lam_sigma", "eta", "mu_noise", "vol_noise", "impact_y"):
            if not getattr(self, name) >= 0:
                raise ConfigError(f"`{name}` must be non-negative, got {getattr(self, name)!r}")
        if not 0.0 <= self.decay < 1.0:
            raise ConfigError(f"`decay` must be in [0, 1), got {self.decay!r}")
        if self.agent_shares is not None:
            s = np.asarray(self.agent_shares, dtype=float)
            if s.shape != (self.n_agents,) or np.any(s < 0) or not np.isclose(s.sum(), 1.0):
                raise ConfigError(
                    f"`agent_shares` must be {self.n_agents} non-negative shares summing to 1, "
                    f"got {self.agent_shares!r}"
                )

    def alphas(self, classes: Sequence[str], sigma_daily: np.ndarray) -> np.ndarray:
        """Impact coefficient per asset: ``impact_y * sigma_daily * holding_share / turnover``."""
        if self.alpha is not None:
            a = np.asarray(self.alpha, dtype=float)
            if a.shape != (len(classes),) or np.any(a < 0):
                raise ConfigError(
                    f"`alpha` must be {len(classes)} non-negative numbers, got {self.alpha!r}"
                )
            return a
        out = []
        for c in classes:
            if c not in self.holding_share or c not in self.turnover:
                raise ConfigError(f"no liquidity assumption for asset class {c!r}")
            tv = self.turnover[c]
            out.append(0.0 if tv <= 0 else self.impact_y * self.holding_share[c] / tv)
        return np.asarray(out) * sigma_daily


@dataclass(frozen=True)
class CrowdingResult:
    """Risk of our portfolio with and without the other agents (same random draws).

    Attributes
    ----------
    without_agents, with_agents : RiskForecast
        VaR/CVaR/drawdown-at-risk (returns, negative = loss) of the two runs.
    impact_share : tuple of float
        Per level, the share of the VaR loss due to the agents' impact:
        ``(VaR_with - VaR_without) / VaR_with`` (NaN when VaR_with >= 0).
    impact_share_tail : tuple of float
        Per level, over the worst ``1 - level`` scenarios of the crowded run:
        ``mean(out_with - out_without) / mean(out_with)`` (scenario by scenario).
    crowding : float
        Mean cosine similarity of the agents' daily trade vectors (pairs of agents that both
        traded), over all days and scenarios: 1 = everyone trades the same way.
    mean_agent_turnover : float
        Mean sum |dw| per agent per period.
    solver_failures : int
        Agent problems where ``solve_nb`` did not return status 0 (the agent then held).
    alpha : ndarray (n,)
        Impact coefficients used.
    lams : ndarray (K,)
        Agents' base risk aversions.
    agent_weights : ndarray (K, n)
        Agents' starting weights.
    config : CrowdingConfig
    seed : int
    """

    without_agents: RiskForecast
    with_agents: RiskForecast
    impact_share: tuple[float, ...]
    impact_share_tail: tuple[float, ...]
    crowding: float
    mean_agent_turnover: float
    solver_failures: int
    alpha: np.ndarray
    lams: np.ndarray
    agent_weights: np.ndarray
    config: CrowdingConfig
    seed: int

    def to_frame(self) -> pd.DataFrame:
        """Per level: VaR, CVaR, DaR with and without agents, and the impact shares."""
        a, b = self.without_agents, self.with_agents
        return pd.DataFrame(
            {"var_without": a.var, "var_with": b.var, "cvar_without": a.cvar,
             "cvar_with": b.cvar, "dar_without": a.dar, "dar_with": b.dar,
             "impact_share": self.impact_share, "impact_share_tail": self.impact_share_tail},
            index=pd.Index(a.levels, name="level"),
        )  # fmt: skip


def _agents(
    cfg: CrowdingConfig,
    mu_a: np.ndarray,
    sig_a: np.ndarray,
    costs: np.ndarray,
    vix_w: np.ndarray,
    seed: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Draw the agents: lam (K,), shares (K,), R0 (K, n), S0 (K, n, n), W0 (K, n)."""
    n, k = mu_a.shape[0], cfg.n_agents
    gen = np.random.default_rng(np.random.SeedSequence([seed, 1]))
    lam = cfg.lam_median * np.exp(cfg.lam_sigma * gen.standard_normal(k))
    vols = np.sqrt(np.clip(np.diag(sig_a), 0.0, None))
    r0 = mu_a + cfg.mu_noise * vols * gen.standard_normal((k, n))
    d = np.exp(cfg.vol_noise * gen.standard_normal((k, n)))
    s0 = np.ascontiguousarray(sig_a[None, :, :] * d[:, :, None] * d[:, None, :])
    shares = (
        np.full(k, 1.0 / k) if cfg.agent_shares is None else np.asarray(cfg.agent_shares, float)
    )
    w0 = np.empty((k, n))
    lo, hi, start = np.zeros(n), np.ones(n), np.full(n, 1.0 / n)
    for a in range(k):
        vix = 100.0 * np.sqrt(max(float(vix_w @ s0[a] @ vix_w), 0.0))
        wa, _it, status = solve_nb(
            np.ascontiguousarray(r0[a]), np.ascontiguousarray(s0[a]), np.zeros(n), start,
            float(lam[a] * (1.0 + cfg.eta * vix)), lo, hi, start, cfg.tol, cfg.max_iter,
        )  # fmt: skip
        if status != 0:
            raise OptimizationError(
                f"agent {a}'s starting problem was not solved (status {status})"
            )
        w0[a] = wa
    return lam, shares, np.ascontiguousarray(r0), s0, w0


def simulate_crowding(
    weights: np.ndarray | pd.Series | Sequence[float],
    mu: np.ndarray | pd.Series | Sequence[float],
    Sigma: np.ndarray | pd.DataFrame,
    *,
    asset_classes: Sequence[str] | Universe,
    costs: np.ndarray | Sequence[float] | None = None,
    horizon: int = 30,
    n_scenarios: int = 10_000,
    distribution: Distribution = "normal",
    nu: float = 5.0,
    levels: Sequence[float] = (0.95, 0.99),
    rebalance: str | int = "drift",
    aggregation: Aggregation = "compound",
    history: np.ndarray | None = None,
    block: int = 5,
    config: CrowdingConfig | None = None,
    rng: np.random.Generator | int | None = None,
    workers: int | None = None,
) -> CrowdingResult:
    """Simulate our portfolio's horizon risk with K re-optimizing agents moving prices.

    Parameters
    ----------
    weights : array-like (n,)
        Our portfolio (fractions of value; cash = 1 - sum).
    mu : array-like (n,)
        Expected return PER PERIOD (the agents see it annualized with
        ``config.periods_per_year``).
    Sigma : ndarray (n, n)
        Covariance PER PERIOD.
    asset_classes : sequence of str or Universe
        Class of each asset ("crypto", "rwa", "stable", "cash"): picks the liquidity defaults.
        A Universe also supplies ``costs`` when they are not given.
    costs : array-like (n,) or None
        One-off cost per unit of traded weight, for us and for the agents.
    horizon, n_scenarios, distribution, nu, levels, rebalance, aggregation, history, block
        As in :func:`rwafolio.risk.forecast`.
    config : CrowdingConfig or None
        Agents and liquidity (defaults documented in the module docstring).
    rng : Generator, int or None
        Root seed (recorded). Scenario draws are those of ``forecast(..., rng=seed)``; the
        agents are drawn from ``SeedSequence([seed, 1])``.
    workers : int or None
        Threads; results do not depend on it.
    """
    cfg = config if config is not None else CrowdingConfig()
    w = _vector("weights", weights, None)
    n = w.shape[0]
    classes = (
        list(asset_classes.classes) if isinstance(asset_classes, Universe) else list(asset_classes)
    )
    if len(classes) != n:
        raise ConfigError(f"`asset_classes` must name {n} classes, got {len(classes)}")
    if costs is None:
        c = asset_classes.costs if isinstance(asset_classes, Universe) else np.zeros(n)
    else:
        c = _vector("costs", costs, n)
    if np.any(c < 0):
        raise ConfigError("`costs` must be non-negative")
    mu_v = _vector("mu", mu, n)
    sig = np.array(Sigma.to_numpy() if isinstance(Sigma, pd.DataFrame) else Sigma, dtype=float)
    if sig.shape != (n, n) or not np.all(np.isfinite(sig)) or not np.allclose(sig, sig.T):
        raise DataError(
            f"`Sigma` must be a finite symmetric ({n}, {n}) matrix, got {describe(sig)}"
        )
    if distribution not in DISTRIBUTIONS:
        raise ConfigError(f"`distribution` must be one of {DISTRIBUTIONS}, got {distribution!r}")
    if aggregation not in AGGREGATIONS:
        raise ConfigError(f"`aggregation` must be one of {AGGREGATIONS}, got {aggregation!r}")
    if distribution == "student_t" and not nu > 2:
        raise ConfigError(f"`nu` must be > 2, got {nu!r}")
    for name, val in (("horizon", horizon), ("n_scenarios", n_scenarios)):
        if not isinstance(val, int) or val < 1:
            raise ConfigError(f"`{name}` must be a positive int, got {val!r}")
    lv = validate_levels(levels)
    every = parse_rebalance(rebalance)
    boot = distribution == "bootstrap"
    if boot:
        if history is None:
            raise ConfigError("`history` is required when distribution='bootstrap'")
        hist = np.ascontiguousarray(history, dtype=float)
        if hist.ndim != 2 or hist.shape[1] != n:
            raise DataError(f"`history` must have shape (T, {n}), got {describe(hist)}")
        factor = np.zeros((n, 0))
    else:
        hist = np.zeros((1, n))
        factor = covariance_factor(sig)
    seed = resolve_seed(rng)
    ppy = float(cfg.periods_per_year)
    vix_w = w / w.sum() if w.sum() > 0 else np.full(n, 1.0 / n)
    lam, shares, r0, s0, w0 = _agents(cfg, mu_v * ppy, sig * ppy, c, vix_w, seed)
    alpha = cfg.alphas(classes, np.sqrt(np.clip(np.diag(sig), 0.0, None)))
    res = Outcomes.empty(n_scenarios)
    mu_k = mu_v if not boot else np.zeros(n)
    book = Book(w, c, horizon, every, aggregation == "sum")
    agents = Agents(
        lam, shares, r0, s0, w0, alpha, ppy, float(cfg.decay), float(cfg.eta), vix_w,
        float(cfg.tol), int(cfg.max_iter),
    )  # fmt: skip

    def body(lo: int, hi: int, z: np.ndarray, scale: np.ndarray, idx: np.ndarray) -> None:
        draws = Draws(z, factor, mu_k, scale, hist, idx)
        crowding_paths_nb(draws, book, agents, res.rows(lo, hi))

    run_chunks(
        body, n_scenarios=n_scenarios, seed=seed, horizon=horizon, k=factor.shape[1],
        distribution=distribution, nu=float(nu), n_hist=hist.shape[0], block=block,
        workers=workers,
    )  # fmt: skip
    common: dict[str, Any] = {
        "levels": lv, "seed": seed, "horizon": horizon, "distribution": distribution,
        "nu": float(nu) if distribution == "student_t" else None, "rebalance": rebalance,
        "aggregation": aggregation, "block": block if boot else None,
    }  # fmt: skip
    for a in res:
        a.flags.writeable = False
    base = summarize(res.base_outcome, res.base_drawdown, res.base_cost, **common)
    crowd = summarize(res.crowd_outcome, res.crowd_drawdown, res.crowd_cost, **common)
    share = tuple((vw - vb) / vw if vw < 0 else float("nan") for vw, vb in zip(crowd.var, base.var))
    order = np.argsort(res.crowd_outcome, kind="stable")
    tail_share = []
    for level in lv:
        j = max(int(np.ceil(n_scenarios * (1.0 - level) - 1e-9)), 1)
        sel = order[:j]
        denom = float(res.crowd_outcome[sel].mean())
        tail_share.append(
            float((res.crowd_outcome[sel] - res.base_outcome[sel]).mean()) / denom
            if denom < 0
            else float("nan")
        )
    pairs = float(res.pairs.sum())
    return CrowdingResult(
        without_agents=base,
        with_agents=crowd,
        impact_share=share,
        impact_share_tail=tuple(tail_share),
        crowding=float(res.cos_sum.sum() / pairs) if pairs > 0 else float("nan"),
        mean_agent_turnover=float(res.turnover.sum() / (n_scenarios * horizon * cfg.n_agents)),
        solver_failures=int(res.fails.sum()),
        alpha=alpha,
        lams=lam,
        agent_weights=w0,
        config=cfg,
        seed=seed,
    )
