"""Multi-agent crowding: other allocators' trades, through calibrated impact, deepen our tail.

The model (documented defaults in :class:`CrowdingConfig`; none is fitted to any target)
---------------------------------------------------------------------------------------
* **Agents are allocators.** K agents (default 10) each run the project's strategy step on the
  simulated days, as the strategy-aware Monte Carlo does: Ledoit-Wolf estimates on a rolling
  window of the realized returns with the strategy's Black-Litterman mean (an equal-weight
  equilibrium prior worth 365 observations; ``prior_obs=0``: the model's window mean),
  annualized, ``lam0 (1 + eta VIX)``, the optimizer's costs amortized over the window, the
  threshold rule (0.01 per asset), and self-financing trades that pay the one-off cost plus half
  the spread (:mod:`rwafolio.risk._crowding_kernels`).
* **Heterogeneity** ("similar goals but different lam values or data estimates", the model's
  source text): agent k's lam0 is lognormal around the strategy's 2.0 (``lam_sigma = 0.5``), its
  window log-uniform between half and twice the strategy's 30 periods, and it reads returns with
  a fixed view bias ``view_noise * sigma_annual * N(0, 1)`` per asset (annualized; 0.25). Agent k
  is drawn from ``SeedSequence([seed, 1, k])``, so the first k agents are the same whatever K.
* **Capital.** Each agent manages ``aum`` (quote currency, default 5,000,000: the issue's "$5m
  sale"), so a traded weight is a dollar flow against the asset's daily volume.
* **Impact** (:mod:`rwafolio.risk.impact`): the day's net flow moves asset i by the square-root
  law ``Y sigma_daily sqrt(|Q| / ADV)``; the agents pay it (temporary impact) and a permanent
  share ``phi`` stays in the price, decaying with a half-life; the next day's returns carry it.
  ADV, sigma and spread per asset come from :func:`rwafolio.risk.impact.calibrate` (the panel's
  volume where the asset is what trades, a token profile for RWA proxies) or from
  :func:`given_liquidity`.
* **Fire sales** (``fire_sale="on"``, off by default): an agent more than ``fire_drawdown``
  below its peak sells ``fire_fraction`` of every holding that day instead of deciding.

Our book is a price-taker holding ``weights`` (drifting or rebalanced like
:func:`~rwafolio.risk.forecast`). The agent-free run uses the same random draws (common random
numbers) and is identical to ``forecast(..., rng=seed)`` with the same settings; with zero AUM
the run with agents is identical to it too.

The share of the loss due to impact has ONE definition, :func:`impact_share`, used by this
result, ``rwafolio var --crowding`` and the report.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from rwafolio.exceptions import ConfigError, DataError, describe
from rwafolio.optimize.costs import amortization_years
from rwafolio.optimize.risk_aversion import DEFAULT_ETA, DEFAULT_LAM0
from rwafolio.risk._crowding_kernels import (
    Agents,
    Book,
    Draws,
    Market,
    Outcomes,
    crowding_paths_nb,
)
from rwafolio.risk.forecast import RiskForecast, _vector, summarize
from rwafolio.risk.impact import Calibration, ImpactModel
from rwafolio.risk.montecarlo import MonteCarlo, resolve_settings
from rwafolio.risk.scenarios import (
    DISTRIBUTIONS,
    Aggregation,
    Distribution,
    Mixing,
    covariance_factor,
    run_chunks,
)
from rwafolio.strategies._decide_kernels import decide_nb
from rwafolio.utils.progress import Progress

_MODES = {"none": 0, "per_asset": 1, "portfolio": 2}


def impact_share(var_with: float, var_alone: float) -> float:
    """The share of the crowded VaR loss due to the agents' impact: the one definition.

    ``(VaR_with - VaR_alone) / VaR_with``, VaR as a horizon return (negative = loss). The
    denominator is the VaR *with* agents (the crowded loss being explained); NaN when it is not
    a loss (``VaR_with >= 0``). Near zero it is unstable: print it with the points beside it.
    """
    return (var_with - var_alone) / var_with + 0.0 if var_with < 0 else float("nan")  # no -0.0


@dataclass(frozen=True)
class CrowdingConfig:
    """Agents, capital, impact and fire sales of the crowding run (module docstring).

    Parameters
    ----------
    n_agents : int, default 10
        Number of agents (0: the agent-free run twice).
    aum : float, default 5e6
        Capital of each agent, quote currency.
    lam_median, lam_sigma : float
        Median and log-spread of the agents' lam0 (default: the strategy's 2.0; 0.5).
    eta : float
        Index sensitivity of every agent's lam rule (the strategy's 0.05).
    window : int, default 30
        The strategy's estimation window (periods); agents draw theirs log-uniformly within
        ``window_range`` times it.
    window_range : (float, float), default (0.5, 2.0)
    view_noise : float, default 0.25
        Annualized view bias per asset, in units of the asset's annual volatility.
    prior_obs : float, default 365.0
        The strategy's mean estimator: ``BlackLitterman(prior_obs=365)`` (its default: an
        equal-weight equilibrium prior worth 365 observations at the date's lam); 0 is the
        model's window mean (``DynamicLambdaStrategy.model_preset()``).
    threshold : float, default 0.01
    threshold_mode : {"per_asset", "portfolio", "none"}
    cost_horizon : float or None
        Years over which the agents amortize a one-off cost (None: their window, as the strategy).
    impact : ImpactModel
        Y, permanent share, half-life (defaults and sources in :mod:`rwafolio.risk.impact`).
    fire_sale : {"off", "on"}
    fire_drawdown, fire_fraction : float
        Drawdown from the agent's peak that triggers forced selling (0.10); share sold per day
        (0.5).
    vix : float or None
        Index level the agents' lam rule reads (held over the horizon); None: the realized-vol
        proxy ``100 sqrt(periods_per_year v' Sigma v)`` of our book's weights ``v``.
    periods_per_year : int, default 252
    """

    n_agents: int = 10
    aum: float = 5e6
    lam_median: float = DEFAULT_LAM0
    lam_sigma: float = 0.5
    eta: float = DEFAULT_ETA
    window: int = 30
    window_range: tuple[float, float] = (0.5, 2.0)
    view_noise: float = 0.25
    prior_obs: float = 365.0
    threshold: float = 0.01
    threshold_mode: Literal["per_asset", "portfolio", "none"] = "per_asset"
    cost_horizon: float | None = None
    impact: ImpactModel = field(default_factory=ImpactModel)
    fire_sale: Literal["off", "on"] = "off"
    fire_drawdown: float = 0.10
    fire_fraction: float = 0.5
    vix: float | None = None
    periods_per_year: int = 252

    def __post_init__(self) -> None:
        if not isinstance(self.n_agents, int) or self.n_agents < 0:
            raise ConfigError(f"`n_agents` must be an int >= 0, got {self.n_agents!r}")
        if not isinstance(self.window, int) or self.window < 5:
            raise ConfigError(f"`window` must be an int >= 5, got {self.window!r}")
        for name in ("lam_median", "periods_per_year"):
            if not getattr(self, name) > 0:
                raise ConfigError(f"`{name}` must be positive, got {getattr(self, name)!r}")
        for name in ("aum", "lam_sigma", "eta", "view_noise", "prior_obs", "threshold"):
            v = getattr(self, name)
            if not (np.isfinite(v) and v >= 0):
                raise ConfigError(f"`{name}` must be a finite number >= 0, got {v!r}")
        lo, hi = self.window_range
        if not 0 < lo <= hi:
            raise ConfigError(f"`window_range` must be (lo, hi) with 0 < lo <= hi, got {lo, hi}")
        if self.threshold_mode not in _MODES:
            raise ConfigError(f"`threshold_mode` must be one of {tuple(_MODES)}, got "
                              f"{self.threshold_mode!r}")  # fmt: skip
        if self.fire_sale not in ("off", "on"):
            raise ConfigError(f"`fire_sale` must be 'off' or 'on', got {self.fire_sale!r}")
        if not 0 < self.fire_drawdown < 1 or not 0 < self.fire_fraction <= 1:
            raise ConfigError("`fire_drawdown` must be in (0, 1) and `fire_fraction` in (0, 1], "
                              f"got {self.fire_drawdown!r}, {self.fire_fraction!r}")  # fmt: skip
        if self.vix is not None and not (np.isfinite(self.vix) and self.vix >= 0):
            raise ConfigError(f"`vix` must be a finite number >= 0 or None, got {self.vix!r}")

    def windows(self) -> tuple[int, int]:
        """The smallest and largest window an agent can draw (periods)."""
        lo, hi = self.window_range
        return max(5, round(self.window * lo)), max(5, round(self.window * hi))


def strategy_as_agent(config: CrowdingConfig) -> CrowdingConfig:
    """The strategy itself as the one agent of a run: its lam0, window and estimator, no view
    bias, no capital (so it moves nothing) and no fire sales. Its ``turnover`` on the same draws
    is the yardstick for the agents' turnover."""
    return dataclasses.replace(
        config, n_agents=1, lam_sigma=0.0, view_noise=0.0, window_range=(1.0, 1.0), aum=0.0,
        fire_sale="off",
    )  # fmt: skip


@dataclass(frozen=True)
class CrowdingResult:
    """Risk of our book with and without the agents (same random draws).

    Attributes
    ----------
    without_agents, with_agents : RiskForecast
        VaR/CVaR/drawdown-at-risk (returns, negative = loss) of the two runs.
    impact_share : tuple of float
        Per level, :func:`impact_share` of the two VaRs.
    impact_share_tail : tuple of float
        Per level, over the worst ``1 - level`` scenarios of the crowded run:
        ``mean(out_with - out_without) / mean(out_with)`` (scenario by scenario).
    alignment : float
        Mean cosine similarity of the agents' daily trade vectors (pairs that both traded), over
        all days and scenarios: 1 = everyone trades the same way. NaN with fewer than 2 agents.
    turnover : float
        The agents' mean ``sum |dw|`` per agent per period (the strategy's turnover unit).
    impact_cost : float
        The agents' mean impact cost per agent per period (fraction of their value).
    fire_share : float
        Share of agent-days spent in forced selling.
    calibration : Calibration
        Daily volume, volatility and spread per asset used for impact.
    lams, windows : ndarray (K,)
        Agents' lam0 and estimation windows.
    agent_weights : ndarray (K, n)
        Agents' starting weights.
    config : CrowdingConfig
    seed : int
    """

    without_agents: RiskForecast
    with_agents: RiskForecast
    impact_share: tuple[float, ...]
    impact_share_tail: tuple[float, ...]
    alignment: float
    turnover: float
    impact_cost: float
    fire_share: float
    calibration: Calibration
    lams: np.ndarray
    windows: np.ndarray
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


def given_liquidity(
    symbols: Sequence[str],
    daily_volume: Sequence[float],
    sigma_daily: Sequence[float],
    spread: Sequence[float] | None = None,
) -> Calibration:
    """A :class:`~rwafolio.risk.impact.Calibration` from numbers the user gives (no panel).

    ``daily_volume`` in quote currency (> 0), ``sigma_daily`` per day, ``spread`` a fraction of
    price (default 0), one per symbol.
    """
    idx = pd.Index(list(symbols))
    n = len(idx)
    spr = np.zeros(n) if spread is None else np.asarray(spread, dtype=float)
    return Calibration(
        daily_volume=pd.Series(
            np.asarray(daily_volume, dtype=float), index=idx, name="daily_volume"
        ),
        sigma_daily=pd.Series(np.asarray(sigma_daily, dtype=float), index=idx, name="sigma_daily"),
        spread=pd.Series(spr, index=idx, name="spread"),
        source=pd.Series(["given"] * n, index=idx, name="source"),
    )


def _market(liquidity: Calibration, n: int, impact: ImpactModel) -> tuple[Market, np.ndarray]:
    """The kernel's liquidity bundle and the half-spreads (n,), validated."""
    if not isinstance(liquidity, Calibration):
        raise ConfigError(f"`liquidity` must be a Calibration (see calibrate), got "
                          f"{type(liquidity).__name__}")  # fmt: skip
    vol = liquidity.daily_volume.to_numpy(dtype=float)
    sig = liquidity.sigma_daily.to_numpy(dtype=float)
    spr = liquidity.spread.to_numpy(dtype=float)
    for name, a, ok in (("daily_volume", vol, vol > 0), ("sigma_daily", sig, sig >= 0),
                        ("spread", spr, spr >= 0)):  # fmt: skip
        if a.shape != (n,) or not np.all(np.isfinite(a) & ok):
            raise DataError(f"`liquidity.{name}` must hold {n} finite values "
                            f"({'> 0' if name == 'daily_volume' else '>= 0'}), got {describe(a)}")  # fmt: skip
    return Market(np.ascontiguousarray(vol), np.ascontiguousarray(sig), float(impact.y),
                  float(impact.permanent_share), impact.retention), spr / 2.0  # fmt: skip


def _agents(
    cfg: CrowdingConfig,
    hist0: np.ndarray,
    sig_a: np.ndarray,
    rates: np.ndarray,
    vix: float,
    seed: int,
) -> Agents:
    """Draw the agents (agent k from ``SeedSequence([seed, 1, k])``) and their starting books.

    ``hist0`` (W, n) per-period returns before the horizon, ``sig_a`` the annualized covariance
    (scales the view bias), ``rates`` the agents' fee rates (one-off cost + half spread).
    """
    n, k = hist0.shape[1], cfg.n_agents
    ppy = float(cfg.periods_per_year)
    vols = np.sqrt(np.clip(np.diag(sig_a), 0.0, None))
    w_lo, w_hi = cfg.windows()
    lam, win, bias = np.empty(k), np.empty(k, np.int64), np.empty((k, n))
    for a in range(k):
        gen = np.random.default_rng(np.random.SeedSequence([seed, 1, a]))
        lam[a] = cfg.lam_median * np.exp(cfg.lam_sigma * gen.standard_normal())
        win[a] = int(np.rint(np.exp(gen.uniform(np.log(w_lo), np.log(w_hi)))))
        bias[a] = cfg.view_noise * vols * gen.standard_normal(n) / ppy
    opt = np.stack([rates / amortization_years(cfg.cost_horizon, int(wa), int(ppy)) for wa in win]) \
        if k else np.zeros((0, n))  # fmt: skip
    lo, hi, start = np.zeros(n), np.ones(n), np.full(n, 1.0 / n)
    w0 = np.empty((k, n))
    for a in range(k):
        window = np.ascontiguousarray(hist0[-win[a] :] + bias[a])
        _t, w0[a] = decide_nb(window, vix, start, np.ones(n, np.bool_), lam[a], cfg.eta,
                              np.zeros(n), lo, hi, ppy, 0.0, 0, start, float(cfg.prior_obs),
                              start, np.nan)  # fmt: skip
    fire = cfg.fire_drawdown if cfg.fire_sale == "on" else np.inf
    return Agents(
        lam, float(cfg.eta), float(vix), win, bias, np.ascontiguousarray(opt), rates,
        np.full(k, float(cfg.aum)), w0, hist0, lo, hi, ppy, float(cfg.threshold),
        _MODES[cfg.threshold_mode], float(fire), float(cfg.fire_fraction), float(cfg.prior_obs),
        start, np.nan,
    )  # fmt: skip


def _history0(
    agent_history: np.ndarray | None, rows: int, n: int, mu: np.ndarray, factor: np.ndarray,
    seed: int,
) -> np.ndarray:  # fmt: skip
    """The agents' starting windows: the last ``rows`` of ``agent_history``, or, without it, a
    draw of the forecast's own normal model from ``SeedSequence([seed, 2])``."""
    if agent_history is None:
        gen = np.random.default_rng(np.random.SeedSequence([seed, 2]))
        return np.ascontiguousarray(mu + gen.standard_normal((rows, factor.shape[1])) @ factor.T)
    h = np.asarray(agent_history, dtype=float)
    if h.ndim != 2 or h.shape[1] != n or h.shape[0] < rows or not np.all(np.isfinite(h[-rows:])):
        raise DataError(f"`agent_history` must be finite returns of shape (>= {rows}, {n}), got "
                        f"{describe(h)}")  # fmt: skip
    return np.ascontiguousarray(h[-rows:])


def simulate_crowding(
    weights: np.ndarray | pd.Series | Sequence[float],
    mu: np.ndarray | pd.Series | Sequence[float],
    Sigma: np.ndarray | pd.DataFrame,
    *,
    liquidity: Calibration,
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
    agent_history: np.ndarray | None = None,
    config: CrowdingConfig | None = None,
    rng: np.random.Generator | int | None = None,
    workers: int | None = None,
    progress: bool | None = None,
    mixing: Mixing = "period",
    settings: MonteCarlo | None = None,
) -> CrowdingResult:
    """Simulate our book's horizon risk with K allocating agents moving prices.

    Parameters
    ----------
    weights : array-like (n,)
        Our book (fractions of value; cash = 1 - sum).
    mu : array-like (n,)
        Expected return PER PERIOD.
    Sigma : ndarray (n, n)
        Covariance PER PERIOD.
    liquidity : Calibration
        Daily volume (quote currency), daily volatility and spread per asset, in the order of
        ``weights``: :func:`rwafolio.risk.impact.calibrate` or :func:`given_liquidity`.
    costs : array-like (n,) or None
        One-off cost per unit of traded weight, for our book and the agents (None: 0).
    horizon, n_scenarios, distribution, nu, levels, rebalance, aggregation, history, block, mixing
        As in :func:`rwafolio.risk.forecast` (``distribution`` not ``"fhs"``, ``nu`` a number).
    agent_history : ndarray (T, n) or None
        Per-period returns before the horizon the agents estimate from (T >= their longest
        window); None draws them from the normal model with ``mu`` and ``Sigma``.
    config : CrowdingConfig or None
        Agents, capital, impact, fire sales (defaults in the module docstring).
    rng : Generator, int or None
        Root seed (recorded). Scenario draws are those of ``forecast(..., rng=seed)``.
    workers : int or None
        Threads; results do not depend on it.
    progress : bool or None
        Progress on stderr (a bar on a terminal, one-line updates otherwise); False silences it.
    settings : MonteCarlo or None
        The Monte Carlo settings (and seed) as one checked object, instead of the keywords
        (which must then keep their defaults); recorded in both runs' ``settings``.
    """
    mc = resolve_settings(
        settings, rng, horizon=horizon, n_scenarios=n_scenarios, levels=levels,
        distribution=distribution, nu=nu, mixing=mixing, rebalance=rebalance,
        aggregation=aggregation, block=block,
    )  # fmt: skip
    mc.require("simulate_crowding", distributions=DISTRIBUTIONS)
    horizon, n_scenarios, lv, every = mc.horizon, mc.n_scenarios, mc.levels, mc.every
    rebalance, block = mc.rebalance, mc.block
    distribution, nu, aggregation = mc.distribution, mc.nu, mc.aggregation  # type: ignore[assignment]
    cfg = config if config is not None else CrowdingConfig()
    w = _vector("weights", weights, None)
    n = w.shape[0]
    c = np.zeros(n) if costs is None else _vector("costs", costs, n)
    if np.any(c < 0):
        raise ConfigError("`costs` must be non-negative")
    mu_v = _vector("mu", mu, n)
    sig = np.array(Sigma.to_numpy() if isinstance(Sigma, pd.DataFrame) else Sigma, dtype=float)
    if sig.shape != (n, n) or not np.all(np.isfinite(sig)) or not np.allclose(sig, sig.T):
        raise DataError(
            f"`Sigma` must be a finite symmetric ({n}, {n}) matrix, got {describe(sig)}"
        )
    market, half_spread = _market(liquidity, n, cfg.impact)
    boot = distribution == "bootstrap"
    sig_factor = covariance_factor(sig)
    if boot:
        if history is None:
            raise ConfigError("`history` is required when distribution='bootstrap'")
        hist = np.ascontiguousarray(history, dtype=float)
        if hist.ndim != 2 or hist.shape[1] != n:
            raise DataError(f"`history` must have shape (T, {n}), got {describe(hist)}")
        factor = np.zeros((n, 0))
    else:
        hist, factor = np.zeros((1, n)), sig_factor
    seed = mc.seed
    assert seed is not None  # resolved
    ppy = float(cfg.periods_per_year)
    v = w / w.sum() if w.sum() > 0 else np.full(n, 1.0 / n)
    vix = cfg.vix if cfg.vix is not None else 100.0 * float(np.sqrt(max(ppy * v @ sig @ v, 0.0)))
    hist0 = _history0(agent_history, cfg.windows()[1], n, mu_v, sig_factor, seed)
    agents = _agents(cfg, hist0, sig * ppy, np.ascontiguousarray(c + half_spread), vix, seed)
    res = Outcomes.empty(n_scenarios)
    book = Book(w, c, horizon, every, aggregation == "sum")
    mu_k = mu_v if not boot else np.zeros(n)

    def body(lo: int, hi: int, z: np.ndarray, scale: np.ndarray, idx: np.ndarray) -> None:
        crowding_paths_nb(Draws(z, factor, mu_k, scale, hist, idx), book, agents, market,
                          res.rows(lo, hi))  # fmt: skip
        bar.update(hi - lo)

    with Progress(n_scenarios, "crowding simulation", "scenario", enabled=progress) as bar:
        run_chunks(
            body, n_scenarios=n_scenarios, seed=seed, horizon=horizon, k=factor.shape[1],
            distribution=distribution, nu=float(nu), n_hist=hist.shape[0], block=block,
            workers=workers, mixing=mc.mixing,
        )  # fmt: skip
    common: dict[str, Any] = {
        "levels": lv, "seed": seed, "horizon": horizon, "distribution": distribution,
        "nu": float(nu) if distribution == "student_t" else None, "rebalance": rebalance,
        "aggregation": aggregation, "block": block if boot else None,
        "mixing": mc.mixing if distribution == "student_t" else None, "settings": mc,
    }  # fmt: skip
    return _result(res, cfg, agents, liquidity, seed, common)


def _result(
    res: Outcomes, cfg: CrowdingConfig, agents: Agents, liquidity: Calibration, seed: int,
    common: dict[str, Any],
) -> CrowdingResult:  # fmt: skip
    """Summarize the kernel's outcomes (read-only) into the result."""
    for a in res:
        a.flags.writeable = False
    base = summarize(res.base_outcome, res.base_drawdown, res.base_cost, **common)
    crowd = summarize(res.crowd_outcome, res.crowd_drawdown, res.crowd_cost, **common)
    n_scen = res.base_outcome.shape[0]
    order = np.argsort(res.crowd_outcome, kind="stable")
    tail_share = []
    for level in common["levels"]:
        sel = order[: max(int(np.ceil(n_scen * (1.0 - level) - 1e-9)), 1)]
        denom = float(res.crowd_outcome[sel].mean())
        diff = float((res.crowd_outcome[sel] - res.base_outcome[sel]).mean())
        tail_share.append(diff / denom if denom < 0 else float("nan"))
    pairs = float(res.pairs.sum())
    agent_days = float(n_scen * common["horizon"] * cfg.n_agents)
    per = (lambda x: float(x.sum()) / agent_days) if agent_days else (lambda x: float("nan"))
    return CrowdingResult(
        without_agents=base,
        with_agents=crowd,
        impact_share=tuple(impact_share(a, b) for a, b in zip(crowd.var, base.var)),
        impact_share_tail=tuple(tail_share),
        alignment=float(res.cos_sum.sum() / pairs) if pairs > 0 else float("nan"),
        turnover=per(res.turnover),
        impact_cost=per(res.impact_paid),
        fire_share=per(res.fire_days),
        calibration=liquidity,
        lams=agents.lam,
        windows=agents.window,
        agent_weights=agents.w0,
        config=cfg,
        seed=seed,
    )
