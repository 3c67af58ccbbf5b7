"""The crowding surface: VaR over the number of agents and the thinnest asset's liquidity.

Every point is :func:`rwafolio.risk.crowding.simulate_crowding` on the same seed (common random
numbers: the same scenario draws, and agent k is the same agent at every point), with the
thinnest asset's daily volume set to the level and the other assets' volumes unchanged. Its
machine-readable form (:meth:`CrowdingSurface.to_dict`) is what ``rwafolio var --crowding --json``
writes; the schema is in the README.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from rwafolio.exceptions import ConfigError
from rwafolio.risk.crowding import CrowdingConfig, CrowdingResult, impact_share, simulate_crowding
from rwafolio.risk.forecast import RiskForecast
from rwafolio.risk.impact import Calibration
from rwafolio.risk.montecarlo import KEYWORDS, check_level, resolve_settings

#: Default agent counts of the surface.
AGENT_COUNTS = (0, 1, 5, 10, 20)
#: Default liquidity levels, as multiples of the thinnest asset's calibrated daily volume.
VOLUME_MULTIPLES = (1.0 / 3.0, 1.0, 10.0 / 3.0)


@dataclass(frozen=True)
class CrowdingSurface:
    """VaR, CVaR, DaR at ``level`` of our book over agent counts and liquidity levels.

    Attributes
    ----------
    without : RiskForecast
        The book alone (the agent-free run on the same draws).
    points : DataFrame
        One row per (agents, daily_volume): ``agents``, ``daily_volume`` (of the thinnest asset,
        quote currency), ``var``, ``cvar``, ``dar`` (horizon returns, negative = loss),
        ``impact_share`` (:func:`~rwafolio.risk.crowding.impact_share`), ``turnover`` (agents'
        mean sum |dw| per agent per period), ``alignment`` (mean pairwise cosine of their trades).
    thinnest : str
        The symbol whose volume varies.
    level : float
    config : CrowdingConfig
        The agents' configuration (``n_agents`` varies along the surface).
    seed : int
    forecasts : tuple of RiskForecast
        The run with agents at each point, in the order of ``points`` (its per-scenario
        ``outcomes`` pair scenario by scenario with every other point's: the same draws).
    """

    without: RiskForecast
    points: pd.DataFrame
    thinnest: str
    level: float
    config: CrowdingConfig
    seed: int
    forecasts: tuple[RiskForecast, ...] = ()

    def step_se(self, i: int, j: int, n_boot: int = 1000, rng: int = 0) -> float:
        """Paired Monte Carlo standard error of ``var[j] - var[i]`` (rows of ``points``), by
        :func:`paired_var_se` on the two points' outcomes (the same scenarios)."""
        a, b = self.forecasts[i].outcomes, self.forecasts[j].outcomes
        return paired_var_se(a, b, self.level, n_boot=n_boot, rng=rng)

    def steps(self, n_boot: int = 1000, rng: int = 0) -> pd.DataFrame:
        """Every step between neighbouring points: one more agent count at a volume, or the next
        thinner volume at an agent count. Columns ``agents``, ``daily_volume`` (where the step
        starts), ``to_agents``, ``to_volume``, ``change`` (VaR there minus VaR here; negative:
        deeper) and ``se`` (:meth:`step_se`)."""
        pts = self.points
        row = {(int(k), float(v)): i for i, (k, v) in enumerate(zip(pts["agents"],
                                                                  pts["daily_volume"]))}  # fmt: skip
        counts = sorted({k for k, _ in row})
        volumes = sorted({v for _, v in row}, reverse=True)
        pairs = [((k, v), (k2, v)) for v in volumes for k, k2 in itertools.pairwise(counts)]
        pairs += [((k, v), (k, v2)) for k in counts for v, v2 in itertools.pairwise(volumes)]
        out = []
        for (k, v), (k2, v2) in pairs:
            i, j = row[(k, v)], row[(k2, v2)]
            out.append({"agents": k, "daily_volume": v, "to_agents": k2, "to_volume": v2,
                        "change": float(pts["var"][j] - pts["var"][i]),
                        "se": self.step_se(i, j, n_boot=n_boot, rng=rng)})  # fmt: skip
        return pd.DataFrame(out)

    def to_dict(self) -> dict[str, Any]:
        """``{"without": {var95, cvar95, dar95}, "surface": [...], ...}``, JSON-ready (NaN -> None)."""
        tag = f"{self.level * 100:g}"

        def num(x: Any) -> float | None:
            return float(x) if np.isfinite(x) else None

        f = self.without
        rows = [
            {"agents": int(r["agents"]), "daily_volume": float(r["daily_volume"]),
             f"var{tag}": num(r["var"]), f"cvar{tag}": num(r["cvar"]), f"dar{tag}": num(r["dar"]),
             "impact_share": num(r["impact_share"]), "turnover": num(r["turnover"]),
             "alignment": num(r["alignment"])}
            for r in self.points.to_dict(orient="records")
        ]  # fmt: skip
        return {
            "without": {
                f"var{tag}": num(f.var_at(self.level)),
                f"cvar{tag}": num(f.cvar_at(self.level)),
                f"dar{tag}": num(f.dar_at(self.level)),
            },
            "surface": rows,
            "thinnest_asset": self.thinnest,
            "level": self.level,
            "impact_share_definition": "(var_with - var_without) / var_with; null when var_with >= 0",
            "horizon": int(f.horizon),
            "n_scenarios": int(f.n_scenarios),
            "seed": self.seed,
            "aum_per_agent": float(self.config.aum),
        }


def paired_var_se(
    a: np.ndarray, b: np.ndarray, level: float, *, n_boot: int = 1000, rng: int = 0
) -> float:
    """Bootstrap standard error of ``VaR(b) - VaR(a)`` when ``a`` and ``b`` (n_scenarios,) are
    outcomes of the same scenarios (common random numbers).

    VaR is the lower order statistic ``x_(ceil(M (1 - level)))`` (:mod:`rwafolio.risk.forecast`).
    Each of ``n_boot`` resamples draws ONE set of scenario indices for both runs, so the shared
    part of the two outcomes cancels and only the noise of the difference remains (much smaller
    than either VaR's own standard error when the runs differ little).
    """
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if x.shape != y.shape or x.ndim != 1 or x.shape[0] < 2:
        raise ConfigError(f"`a` and `b` must be paired outcomes of one shape, got {x.shape}, "
                          f"{y.shape}")  # fmt: skip
    m = x.shape[0]
    k = max(int(np.ceil(m * (1.0 - level) - 1e-9)), 1) - 1
    idx = np.random.default_rng(rng).integers(0, m, size=(n_boot, m))
    diff = np.partition(y[idx], k, axis=1)[:, k] - np.partition(x[idx], k, axis=1)[:, k]
    return float(diff.std(ddof=1))


def crowding_surface(
    weights: Any,
    mu: Any,
    Sigma: Any,
    *,
    liquidity: Calibration,
    agents: Sequence[int] = AGENT_COUNTS,
    volumes: Sequence[float] | None = None,
    level: float = 0.95,
    config: CrowdingConfig | None = None,
    progress: Callable[[str], None] | None = None,
    **kwargs: Any,
) -> CrowdingSurface:
    """Run the crowding model over ``agents`` x ``volumes`` (module docstring).

    Parameters
    ----------
    weights, mu, Sigma, liquidity
        As in :func:`~rwafolio.risk.crowding.simulate_crowding` (per-period mu and Sigma).
    agents : sequence of int
        Agent counts (default 0, 1, 5, 10, 20).
    volumes : sequence of float or None
        Daily volumes (quote currency) of the thinnest asset; None: its calibrated volume times
        1/3, 1 and 10/3.
    level : float
        The VaR level of the surface (also passed to the runs).
    config : CrowdingConfig or None
        The agents (``n_agents`` is replaced per point).
    progress : callable or None
        Called with a line per point (the surface takes seconds to minutes).
    **kwargs
        Passed to :func:`simulate_crowding` (horizon, n_scenarios, costs, rng, settings, ...);
        the Monte Carlo settings are checked once, before the first point, and every point
        runs on the same seed.
    """
    if "levels" in kwargs:
        raise ConfigError("`levels` is not a crowding_surface argument; give its one `level`")
    given = {k: kwargs.pop(k) for k in KEYWORDS if k in kwargs}
    mc = resolve_settings(kwargs.pop("settings", None), kwargs.pop("rng", None), **given)
    kwargs["settings"] = dataclasses.replace(mc, levels=(check_level(level, "level"),))
    cfg = config if config is not None else CrowdingConfig()
    counts = [int(k) for k in agents]
    if not counts or min(counts) < 0:
        raise ConfigError(f"`agents` must be counts >= 0, got {list(agents)!r}")
    vol = liquidity.daily_volume
    thin = str(vol.idxmin())
    levels_v = [float(vol[thin]) * m for m in VOLUME_MULTIPLES] if volumes is None else \
        [float(v) for v in volumes]  # fmt: skip
    if not levels_v or not all(np.isfinite(v) and v > 0 for v in levels_v):
        raise ConfigError(f"`volumes` must be positive daily volumes, got {volumes!r}")
    rows, without, seed, runs = [], None, None, []
    for v in levels_v:
        liq = dataclasses.replace(liquidity, daily_volume=vol.where(vol.index != thin, v))
        for k in counts:
            if progress is not None:
                progress(f"crowding surface: {k} agents, {thin} daily volume {v:,.0f}")
            r: CrowdingResult = simulate_crowding(
                weights, mu, Sigma, liquidity=liq,
                config=dataclasses.replace(cfg, n_agents=k), **kwargs,
            )  # fmt: skip
            without, seed = r.without_agents, r.seed
            f = r.with_agents
            runs.append(f)
            rows.append({
                "agents": k, "daily_volume": v, "var": f.var[0], "cvar": f.cvar[0],
                "dar": f.dar[0], "impact_share": impact_share(f.var[0], r.without_agents.var[0]),
                "turnover": r.turnover, "alignment": r.alignment,
            })  # fmt: skip
    assert without is not None and seed is not None
    return CrowdingSurface(
        without, pd.DataFrame(rows), thin, float(level), cfg, int(seed), tuple(runs)
    )
