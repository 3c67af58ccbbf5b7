"""The risk evaluation the way banks test it: per horizon and level, forecasts against outcomes.

Default (:data:`DEFAULT_EVALUATION`): 1-period VaR99 on every forecast date (dense; 1-period
windows never overlap), 10-period VaR99 and 30-period VaR95 on non-overlapping windows. For each:

* breaches (realized H-period return below the VaR) and how many were expected;
* Kupiec's coverage test, Christoffersen's independence test and conditional coverage, each with
  its power against a stated alternative (Kupiec: exact binomial, at twice the breach rate;
  conditional coverage: seeded simulation at twice the rate; independence: seeded simulation of
  clustered breaches, see :func:`rwafolio.risk.backtests.simulated_power`);
* the Basel traffic light: on every rolling window of 250 forecasts for the dense 1-period series
  (zone = the worst window), on the whole sample otherwise;
* the Acerbi-Szekely Z2 test of the CVaR (expected shortfall) forecasts;
* drawdown-at-risk against the realized maximum drawdown inside each window (Kupiec on the
  drawdown breaches).

"Periods" are the panel's bars: calendar days under ``all_days``, sessions under
``exchange_days``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from rwafolio.exceptions import ConfigError, DataError
from rwafolio.risk.backtests import (
    RollingZones,
    TestResult,
    TrafficLight,
    alternative_rate,
    christoffersen_independence,
    conditional_coverage,
    kupiec_pof,
    kupiec_power,
    rolling_traffic_light,
    simulated_power,
    traffic_light,
    traffic_light_power,
)
from rwafolio.risk.montecarlo import check_level, check_setting
from rwafolio.risk.rolling import TARGETS, RollingForecasts, level_label, rolling_forecasts
from rwafolio.risk.scenarios import resolve_seed
from rwafolio.risk.shortfall import ShortfallTest, acerbi_szekely_z2
from rwafolio.utils.validation import check_choice

if TYPE_CHECKING:
    from rwafolio.backtest.result import BacktestResult

#: Rolling window of the Basel traffic light on the dense 1-period series.
BASEL_WINDOW = 250


@dataclass(frozen=True)
class EvaluationSpec:
    """One horizon to evaluate: ``horizon`` periods at VaR confidence ``level``, forecast by
    ``target`` (see :func:`rwafolio.risk.rolling_forecasts`) with ``n_scenarios`` paths."""

    horizon: int
    level: float
    target: str = "pnl"
    n_scenarios: int = 10_000

    def __post_init__(self) -> None:
        """Checked when made, so a bad spec fails before any forecast runs."""
        object.__setattr__(self, "horizon", check_setting(self.horizon, "horizon", field="horizon"))
        object.__setattr__(self, "level", check_level(self.level, "level"))
        n = check_setting(self.n_scenarios, "n_scenarios", field="n_scenarios")
        object.__setattr__(self, "n_scenarios", n)
        check_choice(self.target, "target", TARGETS)


#: The default: the dense 1-period series top-down (fast, one forecast per date), the 10- and
#: 30-period horizons by the strategy re-deciding on every path (1,000 paths, the price of
#: re-solving at every simulated date; filtered historical simulation with each asset's
#: volatility carried forward along the path, see :mod:`rwafolio.risk.strategy_mc`).
DEFAULT_EVALUATION: tuple[EvaluationSpec, ...] = (
    EvaluationSpec(1, 0.99, "pnl", 10_000),
    EvaluationSpec(10, 0.99, "strategy", 1_000),
    EvaluationSpec(30, 0.95, "strategy", 1_000),
)


@dataclass(frozen=True)
class HorizonEvaluation:
    """Every test of one horizon and level.

    Attributes
    ----------
    horizon : int
    level : float
    forecasts : RollingForecasts
        The forecasts (one every ``horizon`` estimate dates) and their outcomes.
    windows, breaches : int
        Non-overlapping windows tested and breaches among them.
    expected : float
        ``windows * (1 - level)``.
    kupiec, independence, conditional : TestResult
    power_kupiec, power_independence, power_conditional, power_traffic : float
        Power of each test against its stated alternative (module docstring).
    alt_rate : float
        The alternative breach rate of the power (twice ``1 - level``).
    traffic : TrafficLight
        Traffic light of the whole sample.
    rolling : RollingZones or None
        The 250-window traffic light (dense series with at least 250 forecasts).
    shortfall : ShortfallTest or None
        Z2 test of the CVaR forecasts (None without a breach-free ES, e.g. no loss forecast).
    drawdown : TestResult
        Kupiec on realized maximum drawdown below the drawdown-at-risk.
    drawdown_breaches : int
    """

    horizon: int
    level: float
    forecasts: RollingForecasts
    windows: int
    breaches: int
    expected: float
    kupiec: TestResult
    independence: TestResult
    conditional: TestResult
    power_kupiec: float
    power_independence: float
    power_conditional: float
    power_traffic: float
    alt_rate: float
    traffic: TrafficLight
    rolling: RollingZones | None
    shortfall: ShortfallTest | None
    drawdown: TestResult
    drawdown_breaches: int

    @property
    def zone(self) -> str:
        """The worst rolling 250-window zone, else the whole sample's."""
        return self.rolling.worst if self.rolling is not None else self.traffic.zone

    @property
    def passed(self) -> bool:
        """Coverage not rejected, no red zone, and the CVaR test not rejecting."""
        es_ok = self.shortfall is None or not self.shortfall.reject
        return not self.kupiec.reject and self.zone != "red" and es_ok

    def verdict(self) -> str:
        """One plain sentence on this horizon."""
        what = f"{self.horizon}-period VaR{self.level * 100:g}"
        head = (
            f"{what}: {self.breaches} breaches in {self.windows} windows "
            f"({self.expected:.1f} expected), Kupiec p = {self.kupiec.p_value:.3f} "
            f"(power {self.power_kupiec:.0%} against a {self.alt_rate:.1%} rate), zone {self.zone}"
        )
        if self.shortfall is not None:
            head += f", CVaR Z2 p = {self.shortfall.p_value:.3f}"
        if self.passed:
            tail = "the forecasts hold"
            if self.independence.reject:
                tail += (
                    f", but their breaches cluster (Christoffersen p = "
                    f"{self.independence.p_value:.3f}: a breach made the next one more likely)"
                )
            if self.power_kupiec < 0.5:
                tail += f"; these {self.windows} windows detect a doubled breach rate only "
                tail += f"{self.power_kupiec:.0%} of the time"
        else:
            tail = "the forecasts FAIL: " + ", ".join(
                s
                for s, bad in (
                    ("coverage rejected", self.kupiec.reject),
                    ("red zone", self.zone == "red"),
                    ("tail loss understated", self.shortfall is not None and self.shortfall.reject),
                )
                if bad
            )
        return f"{head}; {tail}."

    def to_dict(self) -> dict[str, Any]:
        """The ``risk_tests`` record of this horizon (JSON-ready)."""
        return {
            "horizon": int(self.horizon),
            "level": float(self.level),
            "windows": int(self.windows),
            "overlapping": False,
            "breaches": int(self.breaches),
            "expected": float(self.expected),
            "kupiec_p": float(self.kupiec.p_value),
            "christoffersen_p": float(self.independence.p_value),
            "conditional_coverage_p": float(self.conditional.p_value),
            "zone": str(self.zone),
            "zone_scope": "rolling 250" if self.rolling is not None else "whole sample",
            "power": float(self.power_kupiec),
            "power_alternative_rate": float(self.alt_rate),
            "christoffersen_power": float(self.power_independence),
            "conditional_coverage_power": float(self.power_conditional),
            "traffic_light_power": float(self.power_traffic),
            "cvar_z2": None if self.shortfall is None else float(self.shortfall.statistic),
            "cvar_p": None if self.shortfall is None else float(self.shortfall.p_value),
            "dar_breaches": int(self.drawdown_breaches),
            "dar_kupiec_p": float(self.drawdown.p_value),
            "target": str(self.forecasts.target),
            "passed": bool(self.passed),
        }


@dataclass(frozen=True)
class RiskEvaluation:
    """The default (or chosen) risk evaluation of one backtest.

    Attributes
    ----------
    horizons : tuple of HorizonEvaluation
    target : str
        What was forecast (``"pnl"``, ``"strategy"``, ``"book"``, or e.g. ``"pnl+strategy"``).
    seed : int
        Base seed of every forecast and simulated test.
    alpha : float
    skipped : tuple of str
        Horizons that could not be tested, with the reason (e.g. too few windows).
    notes : tuple of str
        Fallbacks taken (e.g. a strategy the compiled path does not support).
    """

    horizons: tuple[HorizonEvaluation, ...]
    target: str
    seed: int
    alpha: float
    skipped: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    def risk_tests(self) -> list[dict[str, Any]]:
        """One JSON-ready record per horizon (see :meth:`HorizonEvaluation.to_dict`)."""
        return [h.to_dict() for h in self.horizons]

    def verdicts(self) -> list[str]:
        """One plain sentence per horizon tested, then one per horizon skipped."""
        return (
            [h.verdict() for h in self.horizons]
            + [f"not tested: {s}" for s in self.skipped]
            + [f"note: {s}" for s in self.notes]
        )


def risk_tests(evaluation: RiskEvaluation | None) -> list[dict[str, Any]]:
    """``backtest --json``'s ``risk_tests``: one record per horizon; empty without evaluation.

    Keys: ``horizon`` (periods), ``level``, ``windows``, ``overlapping`` (False: non-overlapping
    windows), ``breaches``, ``expected``, ``kupiec_p``, ``christoffersen_p``, ``zone``
    (``green``/``yellow``/``red``: the worst rolling 250-window zone for the dense 1-period
    series, the whole sample's otherwise), ``power`` (Kupiec's, against twice the breach rate),
    and the extras ``conditional_coverage_p``, ``zone_scope``, ``power_alternative_rate``,
    ``christoffersen_power`` (against clustered breaches), ``conditional_coverage_power``,
    ``traffic_light_power`` (leaving green at twice the rate), ``cvar_z2``, ``cvar_p``,
    ``dar_breaches``, ``dar_kupiec_p``, ``target``, ``passed``.
    """
    return [] if evaluation is None else evaluation.risk_tests()


def evaluate_horizon(
    fc: RollingForecasts, level: float, *, alpha: float = 0.05, seed: int = 0
) -> HorizonEvaluation:
    """Run every test of one horizon on forecasts already made (non-overlapping windows)."""
    lab = level_label(fc._level(level))
    mask = fc.sample_mask("non_overlapping").to_numpy()
    t = fc.table.loc[mask]
    if len(t) < 2:
        raise DataError(
            f"{fc.horizon}-period VaR{lab}: only {len(t)} complete non-overlapping window(s); "
            "need at least 2"
        )
    b = (t["realized_return"] < t[f"var_{lab}"]).rename("breach")
    n, x = len(b), int(b.sum())
    rolling = None
    if fc.horizon == 1 and n >= BASEL_WINDOW:
        rolling = rolling_traffic_light(b, level, BASEL_WINDOW)
    shortfall = None
    es = t[f"cvar_{lab}"].to_numpy()
    loss = es < 0  # Z2 divides by the ES: windows forecasting no loss (a cash book) are left out
    if loss.sum() >= 2:
        shortfall = acerbi_szekely_z2(
            t["realized_return"].to_numpy()[loss], t[f"var_{lab}"].to_numpy()[loss], es[loss],
            fc.tails[lab][mask][loss], level, alpha=alpha, seed=seed,
        )  # fmt: skip
    d = t["realized_mdd"] < t[f"dar_{lab}"]
    return HorizonEvaluation(
        horizon=fc.horizon, level=level, forecasts=fc, windows=n, breaches=x,
        expected=n * (1.0 - level), kupiec=kupiec_pof(n, x, level, alpha=alpha),
        independence=christoffersen_independence(b, alpha=alpha),
        conditional=conditional_coverage(b, level, alpha=alpha),
        power_kupiec=kupiec_power(n, level, alpha=alpha),
        power_independence=simulated_power("independence", n, level, alpha=alpha, rng=seed),
        power_conditional=simulated_power("conditional", n, level, alpha=alpha, rng=seed),
        power_traffic=traffic_light_power(rolling.window if rolling else n, level),
        alt_rate=alternative_rate(level), traffic=traffic_light(n, x, level), rolling=rolling,
        shortfall=shortfall, drawdown=kupiec_pof(n, int(d.sum()), level, alpha=alpha),
        drawdown_breaches=int(d.sum()),
    )  # fmt: skip


def evaluate_risk(
    result: BacktestResult,
    specs: tuple[EvaluationSpec, ...] = DEFAULT_EVALUATION,
    *,
    rng: np.random.Generator | int | None = None,
    n_scenarios: int | None = None,
    alpha: float = 0.05,
    target: str | None = None,
    **forecast_kw: Any,
) -> RiskEvaluation:
    """Forecast each spec's horizon along ``result`` and run every test on it.

    A horizon-H spec forecasts at every H-th estimate date (the only ones its non-overlapping
    windows use), so the dense 1-period series costs one forecast per date.

    Parameters
    ----------
    result : BacktestResult
    specs : tuple of EvaluationSpec
        Horizons and levels (default :data:`DEFAULT_EVALUATION`).
    rng : Generator, int or None
        Base seed (recorded); every forecast and simulated test derives from it.
    n_scenarios : int or None
        Paths per forecast for every spec (None: each spec's own).
    alpha : float
        Significance of every test.
    target : {"pnl", "strategy", "book"} or None
        Forecast every spec this way (None: each spec's own). A spec asking for
        ``"strategy"`` on a strategy the compiled path does not support falls back to
        ``"pnl"`` and says so in ``notes``.
    **forecast_kw
        Passed to :func:`rwafolio.risk.rolling_forecasts` (``mean``, ``innovations``, ...).
    """
    if not specs:
        raise ConfigError("`specs` must name at least one horizon")
    seed = resolve_seed(rng)
    out, skipped, notes = [], [], []
    for spec in specs:
        tgt = spec.target if target is None else target
        if tgt == "strategy":
            tgt, why = _strategy_or_pnl(result)
            if why:
                notes.append(f"{spec.horizon}-period: {why}")
        fc = rolling_forecasts(
            result, horizon=spec.horizon, every=spec.horizon,
            n_scenarios=spec.n_scenarios if n_scenarios is None else n_scenarios,
            levels=(spec.level,), rng=seed, target=tgt, **forecast_kw,  # type: ignore[arg-type]
        )  # fmt: skip
        try:
            out.append(evaluate_horizon(fc, spec.level, alpha=alpha, seed=seed))
        except DataError as exc:  # too short a run for this horizon: say so, test the others
            skipped.append(str(exc))
    targets = sorted({h.forecasts.target for h in out})
    return RiskEvaluation(
        horizons=tuple(out), target="+".join(targets), seed=seed, alpha=alpha,
        skipped=tuple(skipped), notes=tuple(notes),
    )  # fmt: skip


def _strategy_or_pnl(result: BacktestResult) -> tuple[str, str]:
    """``("strategy", "")`` when the compiled path supports the run, else ``("pnl", why)``."""
    from rwafolio.risk.strategy_mc import strategy_arrays

    try:
        strategy_arrays(result)
    except ConfigError as exc:
        return "pnl", f"top-down P&L forecast used instead of the strategy-aware one ({exc})"
    return "strategy", ""
