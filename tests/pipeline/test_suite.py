"""The backtest pipeline: one path for the CLI and the API, returning results, never printing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rwafolio.backtest import run, stats_table
from rwafolio.config import parse_config
from rwafolio.exceptions import ConfigError
from rwafolio.pipeline import (
    DataOptions,
    RiskOptions,
    add_risk,
    book_risk,
    load_panel,
    run_suite,
    write_outputs,
)
from rwafolio.strategies import DynamicLambdaStrategy, benchmark_suite

DATA = DataOptions(source="synthetic", start="2023-01-01", end="2024-06-30", seed=3)


@pytest.fixture(scope="module")
def suite():  # type: ignore[no-untyped-def]
    cfg = parse_config({
        "strategy": {"lam0": 3.0, "window": 20}, "costs": {"VNQ": 0.005, "TLT": 0.01},
        "data": {"policy": "exchange_days"},
    })  # fmt: skip
    return run_suite(DATA, cfg, None, seed=5, progress=False)


def test_run_suite_equals_the_engine_run_by_hand(suite, capsys) -> None:  # type: ignore[no-untyped-def]
    assert capsys.readouterr().out == ""  # returns, never prints
    panel = suite.panel
    assert panel.policy == "exchange_days"  # [data] filled what the options left open
    assert panel.universe["VNQ"].cost == 0.005
    assert any("TLT" in n for n in suite.notes)  # a cost for a symbol not loaded is said
    strategy = DynamicLambdaStrategy(lam0=3.0, window=20)
    names = ["dynamic", *benchmark_suite(strategy)]
    assert list(suite.results) == names
    first = max(s.warmup for s in [strategy, *benchmark_suite(strategy).values()])
    by_hand = run(strategy, panel, name="dynamic", first_decision=first, progress=False)
    np.testing.assert_array_equal(suite.main.value.to_numpy(), by_hand.value.to_numpy())
    assert suite.stats.equals(stats_table(suite.results))
    assert suite.forecasts is None and suite.crowding is None


def test_add_risk_and_write_outputs(suite, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert add_risk(suite, RiskOptions(rolling=False)) is suite
    full = add_risk(suite, RiskOptions(horizon=5, every=40, crowding=False), seed=5, progress=False)
    assert full.forecasts is not None and full.forecasts.horizon == 5 and full.forecasts.seed == 5
    assert set(full.scenario) == {"normal", "student_t"} and full.crowding is None
    report, saved = write_outputs(full, tmp_path / "a" / "r.html", save=tmp_path / "b" / "run",
                                  progress=False)  # fmt: skip
    assert report.is_file() and saved == tmp_path / "b" / "run.zip" and saved.is_file()


def test_data_options_defaults_and_config() -> None:
    opts = DataOptions(source="files", data_dirs=("x",))
    assert opts.resolved_symbols() == ("BTC-USD", "ETH-USD", "USDT-USD", "VNQ", "BIL", "GLD")
    assert DataOptions().resolved_symbols() is None
    filled = opts.with_config({"policy": "exchange_days", "missing": "ffill"})
    assert (filled.policy, filled.missing) == ("exchange_days", "ffill")
    given = DataOptions(policy="all_days").with_config({"policy": "exchange_days"})
    assert given.policy == "all_days"  # a flag wins over the file
    panel, notes = load_panel(DataOptions(symbols=("BTC-USD", "VNQ"), end="2019-06-30"))
    assert panel.symbols == ["BTC-USD", "VNQ"] and notes == () and panel.vix_source == "synthetic"


def test_book_risk_checks_its_weights() -> None:
    panel, _ = load_panel(DataOptions(end="2019-12-31"))
    out = book_risk(panel, {"BTC-USD": 0.5}, window=30, horizon=5, n_scenarios=2000, seed=1)
    assert out.weights[panel.symbols.index("BTC-USD")] == 0.5 and out.weights.sum() == 0.5
    assert set(out.forecasts) == {"normal", "student_t"}
    with pytest.raises(ConfigError, match="--weights"):
        book_risk(panel, {"NOPE": 1.0})
    with pytest.raises(ConfigError, match="--window"):
        book_risk(panel, None, window=10_000)


def test_risk_options_flags_win_over_the_file() -> None:
    opts = RiskOptions.from_config({"horizon": 10, "mean": "zero"}, horizon=None, every=3)
    assert (opts.horizon, opts.every, opts.mean) == (10, 3, "zero")
    assert RiskOptions.from_config({"horizon": 10}, horizon=20).horizon == 20
    assert RiskOptions.from_config({}) == RiskOptions()
