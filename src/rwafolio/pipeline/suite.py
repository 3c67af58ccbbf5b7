"""The backtest pipeline behind ``rwafolio demo`` and ``rwafolio backtest``, as functions.

:func:`run_suite` loads the data, backtests the strategy and its benchmarks on the same dates,
forecasts risk along the strategy's path and at its latest date, and returns a :class:`SuiteRun`;
:func:`write_outputs` renders the HTML report and optionally saves the run. Nothing here prints:
the notes a user should see (defaults applied, config entries not used) are returned in
``SuiteRun.notes`` for the caller to show.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

from rwafolio.backtest import BacktestResult, run, stats_table
from rwafolio.config import RunConfig
from rwafolio.loaders.panel import Panel
from rwafolio.outputs import ensure_parent, write_atomic
from rwafolio.pipeline.data import DataOptions, load_panel
from rwafolio.pipeline.walkforward import demo_walkforward
from rwafolio.risk import (
    CrowdingResult,
    RollingForecasts,
    latest_scenarios,
    rolling_forecasts,
    simulate_crowding,
)
from rwafolio.risk.montecarlo import check_setting
from rwafolio.strategies import benchmark_suite
from rwafolio.utils.progress import step
from rwafolio.utils.validation import check_choice, check_int
from rwafolio.walkforward import WalkForwardResult

__all__ = [
    "RiskOptions",
    "SuiteRun",
    "add_risk",
    "add_walkforward",
    "run_suite",
    "save_path",
    "write_outputs",
    "write_summary",
]


@dataclass(frozen=True)
class RiskOptions:
    """The risk forecasts a suite runs (the CLI's risk flags).

    Parameters
    ----------
    horizon : int
        VaR horizon, in periods.
    every : int
        Forecast at every k-th decision date.
    mean : {"estimate", "zero"}
        Drift of the rolling forecasts (see :func:`rwafolio.risk.rolling_forecasts`); default
        zero, the usual risk-desk choice.
    rolling : bool
        Run the rolling forecasts and the latest scenario view.
    crowding : bool
        Run the crowding simulation at the latest date.
    target : {"auto", "pnl", "strategy", "book"}
        What the risk forecasts simulate (see :func:`rwafolio.risk.evaluation.evaluate_risk`):
        auto = 1-day top-down on the strategy's net P&L, 10- and 30-day by the strategy
        re-deciding on every path.
    """

    horizon: int = 30
    every: int = 5
    mean: Literal["estimate", "zero"] = "zero"
    rolling: bool = True
    crowding: bool = True
    target: Literal["auto", "pnl", "strategy", "book"] = "auto"

    def __post_init__(self) -> None:
        """Checked when made (``horizon`` by the Monte Carlo settings' own check)."""
        object.__setattr__(self, "horizon", check_setting(self.horizon, "horizon", field="horizon"))
        object.__setattr__(self, "every", check_int(self.every, "every", minimum=1))
        check_choice(self.mean, "mean", ("estimate", "zero"))
        check_choice(self.target, "target", ("auto", "pnl", "strategy", "book"))

    @classmethod
    def from_config(cls, risk: Mapping[str, Any], **flags: Any) -> RiskOptions:
        """Options from a config's ``[risk]`` table; ``flags`` that are not None win."""
        given = dict(risk)
        given.update({k: v for k, v in flags.items() if v is not None})
        return cls(**given)


@dataclass(frozen=True)
class SuiteRun:
    """What :func:`run_suite` produced.

    Attributes
    ----------
    panel : Panel
    results : mapping name -> BacktestResult
        ``"dynamic"`` (the configured strategy) first, then its benchmarks.
    stats : DataFrame
        :func:`rwafolio.backtest.stats_table` of ``results``.
    forecasts : RollingForecasts or None
    scenario : dict or None
        :func:`rwafolio.risk.latest_scenarios` at the last estimate date.
    crowding : CrowdingResult or None
    notes : tuple of str
        Defaults applied and inputs not used, one line each.
    walkforward : WalkForwardResult or None
        The demo's small walk-forward (:func:`add_walkforward`).
    strategy : Strategy or None
        The configured strategy (``results["dynamic"]`` ran it).
    evaluation : RiskEvaluation or None
        The risk forecasts set against what followed (:func:`add_risk`).
    """

    panel: Panel
    results: Mapping[str, BacktestResult]
    stats: Any
    forecasts: RollingForecasts | None
    scenario: dict[str, Any] | None
    crowding: CrowdingResult | None
    notes: tuple[str, ...] = ()
    walkforward: WalkForwardResult | None = None
    strategy: Any = None
    evaluation: Any = None

    @property
    def main(self) -> BacktestResult:
        """The configured strategy's result."""
        return self.results["dynamic"]

    @property
    def benchmarks(self) -> dict[str, BacktestResult]:
        return {k: v for k, v in self.results.items() if k != "dynamic"}


def _costs_for(config: RunConfig, data: DataOptions) -> tuple[dict[str, float], list[str]]:
    """The config's costs of the loaded symbols, and a warning naming those not loaded (a name
    close to a loaded symbol is a typo: :func:`~rwafolio.universe.split_costs` raises)."""
    from rwafolio.loaders.synthetic import SYMBOLS as SYNTHETIC_SYMBOLS
    from rwafolio.universe import split_costs

    symbols = data.resolved_symbols() or tuple(SYNTHETIC_SYMBOLS)
    costs, unused = split_costs(config.costs, symbols)
    if not unused:
        return costs, []
    return costs, [f"config [costs] for symbols not loaded, not used: {unused}"]


def run_suite(
    data: DataOptions,
    config: RunConfig | None = None,
    risk: RiskOptions | None = None,
    *,
    signal_lag: int = 0,
    seed: int = 7,
    progress: bool | None = None,
    warn: Callable[[str], None] | None = None,
) -> SuiteRun:
    """Load, backtest the configured strategy and its benchmarks, forecast risk.

    Parameters
    ----------
    data : DataOptions
        Where the prices come from; ``config.data`` fills ``policy``/``missing`` it leaves at
        their defaults.
    config : RunConfig or None
        The run configuration (strategy, costs, data); None: every default.
    risk : RiskOptions or None
        The risk forecasts to run (:func:`add_risk`); None: none (add them later).
    signal_lag : int
        Decide on data through K periods before the trade date.
    seed : int
        Seed of every Monte Carlo draw (recorded in the results).
    progress : bool or None
        Progress of the slow steps on stderr (False: silent).
    warn : callable or None
        Receives each warning line (config costs of symbols not loaded, severe data findings,
        warnings while loading); None: they are kept among the notes, prefixed ``"warning: "``.

    Returns
    -------
    SuiteRun
    """
    config = config if config is not None else RunConfig()
    data = data.with_config(config.data)
    costs, unused = _costs_for(config, data)
    notes = [f"warning: {line}" for line in unused] if warn is None else []
    if warn is not None:
        for line in unused:
            warn(line)
    panel, load_notes = load_panel(data, costs=costs, config=config, warn=warn)
    strategy = config.build_strategy()
    suite = {"dynamic": strategy, **benchmark_suite(strategy)}
    if panel.vix is None and "model_preset" in suite:  # its lam follows the index (eta 0.05)
        del suite["model_preset"]
        notes.append("model_preset not run: its lam follows a volatility index; the panel has none")
    first = max(s.warmup for s in suite.values()) + signal_lag
    results = {
        name: run(strat, panel, name=name, first_decision=first, signal_lag=signal_lag,
                  progress=progress)
        for name, strat in suite.items()
    }  # fmt: skip
    done = SuiteRun(
        panel, results, stats_table(results), None, None, None, (*load_notes, *notes),
        strategy=strategy,
    )  # fmt: skip
    return done if risk is None else add_risk(done, risk, seed=seed, progress=progress)


def add_risk(
    run_: SuiteRun, risk: RiskOptions, *, seed: int = 7, progress: bool | None = None
) -> SuiteRun:
    """``run_`` with its risk forecasts: rolling VaR along the strategy's path, the scenario view
    and the crowding run at the latest estimate date (as ``risk`` asks)."""
    if not risk.rolling:
        return run_
    from rwafolio.risk.evaluation import evaluate_risk

    main = run_.main
    target = risk.target
    forecasts = rolling_forecasts(
        main, horizon=risk.horizon, every=risk.every, rng=seed, mean=risk.mean, progress=progress,
        target="pnl" if target == "auto" else target,  # type: ignore[arg-type]
    )  # fmt: skip
    evaluation = evaluate_risk(
        main, rng=seed, mean=risk.mean, target=None if target == "auto" else target
    )
    scenario = latest_scenarios(main, horizon=risk.horizon, rng=seed) if _estimates(main) else None
    crowding = _crowding(main, risk, seed, progress) if risk.crowding and _estimates(main) else None
    return replace(
        run_, forecasts=forecasts, scenario=scenario, crowding=crowding, evaluation=evaluation
    )


def _estimates(result: BacktestResult) -> bool:
    return len(result.estimate_dates) > 0


#: Scenarios of the report's crowding run (each path runs 10 allocating agents).
CROWDING_SCENARIOS = 2_000


def _crowding(
    result: BacktestResult, risk: RiskOptions, seed: int, progress: bool | None
) -> CrowdingResult:
    """The crowding run at the latest estimate date, from the weights held there, with the
    liquidity calibrated on the panel up to that date."""
    from rwafolio.risk.impact import calibrate

    date = result.estimate_dates[-1]
    w = result.weights.loc[date].to_numpy()
    panel = result.panel
    return simulate_crowding(
        w, result.mu[-1], result.cov[-1],
        liquidity=calibrate(panel.universe, panel.liquidity(end=date)),
        costs=panel.universe.costs, horizon=risk.horizon,
        agent_history=panel.returns().loc[:date].to_numpy(), n_scenarios=CROWDING_SCENARIOS,
        rng=seed, progress=progress,
    )  # fmt: skip


def add_walkforward(run_: SuiteRun, *, seed: int = 7, progress: bool | None = None) -> SuiteRun:
    """``run_`` with the demo's small walk-forward (:func:`~rwafolio.pipeline.walkforward.
    demo_walkforward`) on its panel; its one-line note is added to ``notes``."""
    result, note = demo_walkforward(run_.panel, seed=seed, progress=progress)
    return replace(run_, walkforward=result, notes=(*run_.notes, note))


def write_summary(run_: SuiteRun, path: str | Path) -> Path:
    """Write the run's ``--json`` summary (one object; schema in the README) atomically; its
    folder is created."""
    import json

    from rwafolio.backtest.summary import summary_json
    from rwafolio.risk.evaluation import risk_tests

    extra = {"risk_tests": risk_tests(run_.evaluation)} if run_.evaluation is not None else None
    doc = summary_json(run_.main, run_.strategy, run_.benchmarks, extra=extra)
    target = ensure_parent(path, "`--json`")
    return write_atomic(target, [json.dumps(doc, indent=2, allow_nan=False), "\n"])


def save_path(save: str | Path) -> Path:
    """The saved run's file name: ``.zip`` added when ``save`` has no suffix."""
    p = Path(save)
    return p if p.suffix else p.with_name(p.name + ".zip")


def write_outputs(
    run_: SuiteRun,
    out: str | Path,
    save: str | Path | None = None,
    *,
    progress: bool | None = None,
) -> tuple[Path, Path | None]:
    """Render ``run_``'s HTML report to ``out`` and, with ``save``, save the run (``.zip`` added
    when the name has no suffix). Folders are created; the caller checked the paths
    (:func:`rwafolio.outputs.check_outputs`). Returns ``(report, saved run or None)``."""
    from rwafolio.reports import render_html, save_run

    sections = None
    if run_.evaluation is not None:
        from rwafolio.reports.risk_evaluation import risk_sections

        sections = risk_sections(run_.evaluation)
    out = ensure_parent(out, "`--out`")
    with step(f"writing the report {out}", enabled=progress):
        path = render_html(
            run_.main, forecasts=run_.forecasts, walkforward=run_.walkforward, path=out,
            benchmarks=run_.benchmarks, scenario=run_.scenario, crowding=run_.crowding,
            extra_sections=sections,
        )  # fmt: skip
    saved = None
    if save is not None:
        target = ensure_parent(save_path(save), "`--save`")
        saved = save_run(
            target, run_.main, run_.forecasts, run_.walkforward, benchmarks=run_.benchmarks,
            crowding=run_.crowding, scenario=run_.scenario, extra_sections=sections,
        )  # fmt: skip
    return Path(path), (None if saved is None else Path(saved))
