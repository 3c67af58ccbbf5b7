"""One validated Monte Carlo settings object (issue 11, item 6): every entry point refuses the
same bad value with the same typed error naming the parameter, and a result's recorded settings
reproduce it."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from rwafolio.cli import main
from rwafolio.config import parse_config
from rwafolio.exceptions import ConfigError
from rwafolio.pipeline import RiskOptions
from rwafolio.risk import (
    EvaluationSpec,
    MonteCarlo,
    crowding_surface,
    forecast,
    given_liquidity,
    latest_scenarios,
    rolling_forecasts,
    simulate_crowding,
    strategy_forecast,
)
from rwafolio.studies import frequency_study
from rwafolio.walkforward import VarSettings
from tests.risk.test_rolling import _result

W = np.array([0.5, 0.3, 0.2])
MU = np.array([0.0004, 0.0002, 0.0001])
SIG = np.diag([0.02, 0.01, 0.001]) ** 2
LIQ = given_liquidity(["A", "B", "C"], [1e8, 1e8, 1e8], [0.02, 0.01, 0.001])
RESULT = _result(n_days=300, step=20)

BAD: dict[str, list[Any]] = {
    "horizon": [0, -3, 2.5, True, "30", None],
    "n_scenarios": [0, 1.5, "many"],
    "levels": [(), (0.95, 1.0), (0.0,), "0.95", (True,), 1.5, (float("nan"),)],
    "distribution": ["cauchy", None],
    "nu": [2.0, 1, float("inf"), float("nan"), "x", None, True],
    "mixing": ["day", None],
    "rebalance": [0, "monthly", 1.5, True, None],
    "aggregation": ["mean"],
    "block": [0, 2.0],
    "seed": [-1, 1.5, "7"],
}
KEYWORDS = set(BAD) - {"seed"}  # the seed of a keyword entry point is its `rng`

STUDY = {"horizon": "var_horizon", "n_scenarios": "n_scenarios", "levels": "var_levels"}
# entry point -> (settings it takes, call with one setting, how it names the setting)
Entry = tuple[set[str], Callable[[str, Any], Any], Callable[[str], str]]
ENTRIES: dict[str, Entry] = {
    "MonteCarlo": (set(BAD), lambda k, v: MonteCarlo(**{k: v}), str),
    "forecast": (KEYWORDS, lambda k, v: forecast(W, MU, SIG, **{k: v}), str),
    "rolling_forecasts": (KEYWORDS, lambda k, v: rolling_forecasts(RESULT, **{k: v}), str),
    "simulate_crowding": (
        KEYWORDS,
        lambda k, v: simulate_crowding(W, MU, SIG, liquidity=LIQ, **{k: v}),
        str,
    ),
    "crowding_surface": (
        KEYWORDS - {"levels"},  # one `level`, checked like a level
        lambda k, v: crowding_surface(W, MU, SIG, liquidity=LIQ, agents=(0,), **{k: v}),
        str,
    ),
    "strategy_forecast": (
        {"horizon", "n_scenarios", "levels", "block", "seed"},
        lambda k, v: strategy_forecast(RESULT, 100, **{k: v}),
        str,
    ),
    "latest_scenarios": (
        {"horizon", "n_scenarios", "levels", "nu"},
        lambda k, v: latest_scenarios(RESULT, **{k: v}),
        str,
    ),
    "walk_forward VarSettings": (
        {"horizon", "n_scenarios", "levels", "distribution"},
        lambda k, v: VarSettings(**{k: v}),
        str,
    ),
    "config [walkforward].var": (
        {"horizon", "n_scenarios", "levels", "distribution"},
        lambda k, v: VarSettings.from_mapping({k: v}, "config [walkforward].var"),
        lambda k: f"config [walkforward].var.{k}",
    ),
    "evaluate_risk EvaluationSpec": (
        {"horizon", "n_scenarios", "levels"},
        lambda k, v: EvaluationSpec(
            **{"horizon": 1, "level": 0.99, ("level" if k == "levels" else k): v}
        ),
        lambda k: "level" if k == "levels" else k,
    ),
    "frequency_study": (
        {"horizon", "n_scenarios", "levels"},
        lambda k, v: frequency_study(RESULT.panel, executor="serial", **{STUDY[k]: v}),
        lambda k: STUDY[k],
    ),
    "config [risk]": (
        {"horizon"},
        lambda k, v: parse_config({"risk": {k: v}}),
        lambda k: f"config [risk].{k}",
    ),
    "RiskOptions": ({"horizon"}, lambda k, v: RiskOptions(**{k: v}), str),
}
CASES = [
    pytest.param(entry, key, value, id=f"{entry}-{key}={value!r}")
    for entry, (keys, _call, _name) in ENTRIES.items()
    for key in sorted(keys)
    for value in BAD[key]
    if not (entry.startswith("config [risk]") and value is None)  # TOML has no None
    and not (entry == "frequency_study" and value == ())  # no levels: no VaR forecasts
]


@pytest.mark.parametrize("entry, key, value", CASES)
def test_every_entry_point_refuses_a_bad_setting_naming_it(
    entry: str, key: str, value: Any
) -> None:
    _keys, call, name = ENTRIES[entry]
    with pytest.raises(ConfigError, match=re.escape(f"`{name(key)}` must be")):
        call(key, value)


@pytest.mark.parametrize(
    "argv, flag",
    [
        (["var", "--horizon", "0"], "--horizon"),
        (["var", "--scenarios", "0"], "--scenarios"),
        (["var", "--surface-scenarios", "-1"], "--surface-scenarios"),
        (["var", "--nu", "2"], "--nu"),
        (["backtest", "--horizon", "0"], "--horizon"),
        (["demo", "--horizon", "1.5"], "--horizon"),
    ],
)
def test_the_cli_flags_use_the_same_checks(
    argv: list[str], flag: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {flag}: expected" in err and "Traceback" not in err
    if flag == "--nu":
        assert "expected a finite number > 2 (so the covariance exists), got 2.0" in err


def test_the_settings_object_round_trips_into_the_forecast() -> None:
    mc = MonteCarlo(
        horizon=5, n_scenarios=700, levels=(0.9,), distribution="student_t", nu=4.0,
        mixing="path", rebalance=2, aggregation="sum", block=3, seed=11,
    )  # fmt: skip
    f = forecast(W, MU, SIG, settings=mc)
    assert f.settings == mc  # recorded as given (seed included)
    # the same settings as keywords give the same forecast and the same record
    g = forecast(
        W, MU, SIG, horizon=5, n_scenarios=700, levels=[0.9], distribution="student_t", nu=4,
        mixing="path", rebalance=np.int64(2), aggregation="sum", block=3, rng=11,
    )  # fmt: skip
    assert g.settings == mc
    np.testing.assert_array_equal(f.outcomes, g.outcomes)
    # an unseeded run records the seed it drew, and its record reproduces it
    h = forecast(W, MU, SIG, settings=replace(mc, seed=None))
    assert h.settings is not None and h.settings.seed == h.seed
    np.testing.assert_array_equal(forecast(W, MU, SIG, settings=h.settings).outcomes, h.outcomes)


def test_a_fitted_nu_is_recorded_in_place_of_fit() -> None:
    gen = np.random.default_rng(0)
    hist = gen.standard_t(4, size=(600, 3)) * 0.01
    f = forecast(
        W, MU, SIG, distribution="student_t", nu="fit", history=hist, n_scenarios=500, rng=3
    )
    assert f.settings is not None and f.settings.nu == f.nu != "fit"
    np.testing.assert_array_equal(forecast(W, MU, SIG, settings=f.settings).outcomes, f.outcomes)


def test_rolling_and_crowding_record_their_settings() -> None:
    mc = MonteCarlo(horizon=10, n_scenarios=300, levels=(0.95,), seed=5)
    fc = rolling_forecasts(RESULT, settings=mc, target="book")
    assert fc.settings == mc and fc.seed == 5
    again = rolling_forecasts(RESULT, horizon=10, n_scenarios=300, levels=(0.95,), rng=5,
                              target="book")  # fmt: skip
    assert again.table.equals(fc.table)
    t = MonteCarlo(horizon=8, n_scenarios=400, distribution="student_t", mixing="path", seed=2)
    c = simulate_crowding(W, MU, SIG, liquidity=LIQ, settings=t)
    assert c.with_agents.settings == c.without_agents.settings == t
    # the agent-free run is the plain forecast with the same settings (mixing included)
    # (the forecast kernel is compiled with fastmath: equal up to its reassociation)
    alone = forecast(W, MU, SIG, settings=t)
    np.testing.assert_allclose(c.without_agents.outcomes, alone.outcomes, rtol=0, atol=1e-14)
    assert np.ptp(alone.outcomes - forecast(W, MU, SIG, settings=replace(t, mixing="period"))
                  .outcomes) > 1e-3  # and the mixing unit does change the draws  # fmt: skip


def test_the_crowding_surface_checks_once_and_runs_every_point_on_one_seed() -> None:
    lines: list[str] = []
    with pytest.raises(ConfigError, match="`level` must be"):
        crowding_surface(W, MU, SIG, liquidity=LIQ, level=1.0, progress=lines.append)
    assert lines == []  # refused before the first point
    t = MonteCarlo(horizon=5, n_scenarios=200, seed=9)
    s = crowding_surface(W, MU, SIG, liquidity=LIQ, agents=(0, 1), settings=t, level=0.9)
    assert s.without.settings == replace(t, levels=(0.9,)) and s.seed == 9
    kw = {"horizon": 5, "n_scenarios": 200, "rng": 9, "level": 0.9, "agents": (0, 1)}
    assert s.points.equals(crowding_surface(W, MU, SIG, liquidity=LIQ, **kw).points)


def test_settings_and_keywords_are_not_mixed_silently() -> None:
    mc = MonteCarlo(horizon=10, seed=1)
    with pytest.raises(ConfigError, match="not both: got `settings` and `horizon`"):
        forecast(W, MU, SIG, settings=mc, horizon=20)
    with pytest.raises(ConfigError, match=r"`settings\.seed` or as `rng`"):
        forecast(W, MU, SIG, settings=mc, rng=3)
    with pytest.raises(ConfigError, match="`settings` must be a MonteCarlo"):
        forecast(W, MU, SIG, settings={"horizon": 10})  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="`nu='fit'` is not supported by simulate_crowding"):
        simulate_crowding(W, MU, SIG, liquidity=LIQ, nu="fit")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"must be one of .* for simulate_crowding"):
        simulate_crowding(W, MU, SIG, liquidity=LIQ, distribution="fhs")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="`nu='fit'` is not supported by rolling_forecasts"):
        rolling_forecasts(RESULT, nu="fit")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"unknown key\(s\) \['horizn'\]"):
        VarSettings.from_mapping({"horizn": 5}, "config [walkforward].var")


def test_a_scenario_count_beyond_the_memory_is_refused_before_any_draw(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """`var --scenarios 2000000000` used to run until the system killed it for memory: a count
    whose results cannot fit in half the memory is a typed error naming it, with the estimate."""
    from rwafolio.risk import montecarlo as mc

    monkeypatch.setattr(mc, "_memory_budget", lambda: 1e9)  # a 2 GB machine
    with pytest.raises(ConfigError, match=r"`n_scenarios` 25,000,001 would need about 1 GiB"):
        mc.MonteCarlo(n_scenarios=25_000_001)  # 40 bytes each: 1.0e9 bytes > the budget
    assert mc.MonteCarlo(n_scenarios=25_000_000).n_scenarios == 25_000_000  # exactly the budget


def test_a_forecast_reports_its_scenarios_when_asked(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """`var` with millions of scenarios ran for tens of seconds in silence: forecast(progress=None)
    counts every scenario into the progress reporter; the default (an inner step) stays off."""
    from rwafolio.risk import forecast, scenarios

    seen: list[tuple[int, bool, int]] = []

    class Recorder:
        def __init__(self, total: int, desc: str, unit: str, *, enabled: bool) -> None:
            self.total, self.enabled, self.done = total, enabled, 0

        def __enter__(self) -> Recorder:
            return self

        def __exit__(self, *exc: object) -> None:
            seen.append((self.total, self.enabled, self.done))

        def update(self, k: int) -> None:
            self.done += k

    monkeypatch.setattr(scenarios, "Progress", Recorder)
    w, mu, cov = np.array([0.5, 0.5]), np.zeros(2), np.eye(2) * 1e-4
    forecast(w, mu, cov, n_scenarios=5000, horizon=5, rng=1, progress=None)
    forecast(w, mu, cov, n_scenarios=3000, horizon=5, rng=1)
    assert seen == [(5000, True, 5000), (3000, False, 3000)]
