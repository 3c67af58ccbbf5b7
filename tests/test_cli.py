"""The command line, end to end on the embedded default and on ../shared/data."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from rwafolio.cli import main
from rwafolio.config import parse_config
from rwafolio.exceptions import ConfigError

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_missing_config_file_is_a_clear_error(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    code = main(["backtest", "--config", str(tmp_path / "nope.toml"), "--no-risk"])
    assert code == 2
    assert "--config" in capsys.readouterr().err


@pytest.mark.slow
def test_demo_writes_a_report_and_saves_a_run(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "demo.html"
    runs = tmp_path / "runs"
    assert main(["demo", "--out", str(out), "--save", str(runs / "demo"), "--every", "20"]) == 0
    captured = capsys.readouterr()
    text = captured.out
    assert f"report: {out}" in text
    assert f"run saved: {runs / 'demo.zip'}" in text  # --save adds .zip
    assert "SYNTHETIC" in text and "equal_weight" in text and "cost_blind" in text
    # the slow steps after the stats say what they are doing (on stderr, off a terminal too)
    assert "writing the report" in captured.err
    html = out.read_text(encoding="utf-8")
    assert "<html" in html.lower() and "synthetic" in html.lower()
    assert main(["report", str(runs / "demo.zip")]) == 0  # written beside the run
    again = runs / "demo.html"
    assert f"report: {again}" in capsys.readouterr().out
    assert again.stat().st_size > 100_000
    # the name given to --save finds the run too
    assert main(["report", str(runs / "demo"), "--out", str(tmp_path / "third.html")]) == 0
    assert (tmp_path / "third.html").stat().st_size > 100_000


@pytest.mark.realdata
def test_data_command_on_shared_files(shared_data: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    code = main(
        [
            "data",
            "--source",
            "files",
            "--data-dir",
            str(shared_data / "Alexshch09__Stocks-prices"),
            "--data-dir",
            str(shared_data / "jmlestevez-source__taa-dashboard"),
            "--symbols",
            "BTC-USD",
            "VNQ",
            "--start",
            "2018-01-01",
            "--end",
            "2024-11-30",
            "--vix",
            str(shared_data / "datasets__finance-vix" / "vix-daily.csv"),
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert re.search(
        r"BTC-USD\s+crypto\s+2014-09-17\s+2024-12-07\s+2018-01-01\s+2024-11-30\s+2526", out
    )
    assert "Adj Close" in out and "file:" in out


@pytest.mark.realdata
@pytest.mark.slow
def test_backtest_command_with_config(shared_data: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "bt.html"
    code = main(
        [
            "backtest",
            "--source",
            "files",
            "--data-dir",
            str(shared_data / "Alexshch09__Stocks-prices"),
            "--data-dir",
            str(shared_data / "jmlestevez-source__taa-dashboard"),
            "--vix",
            str(shared_data / "datasets__finance-vix" / "vix-daily.csv"),
            "--start",
            "2022-01-01",
            "--end",
            "2023-12-31",
            "--config",
            str(EXAMPLES / "config.toml"),
            "--out",
            str(out),
            "--no-crowding",
            "--every",
            "10",
        ]
    )
    assert code == 0
    text = capsys.readouterr().out
    assert "dynamic" in text and "sharpe" in text and out.exists()


def test_unknown_symbol_weights_in_var_is_an_error(capsys) -> None:  # type: ignore[no-untyped-def]
    code = main(["var", "--weights", "NOPE=1.0", "--scenarios", "1000"])
    assert code == 2
    assert "--weights" in capsys.readouterr().err


@pytest.mark.slow
def test_walkforward_command_on_synthetic(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    grid = tmp_path / "grid.toml"
    grid.write_text(
        '[strategy]\nname = "dynamic"\n[grid]\nlam0 = [1.0, 4.0]\n'
        '[walkforward]\ntrain = "365D"\ntest = "365D"\nmode = "rolling"\nseed = 3\n',
        encoding="utf-8",
    )
    out = tmp_path / "wf.html"
    code = main(
        ["walkforward", "--grid", str(grid), "--executor", "serial", "--out", str(out), "--no-var"]
    )
    assert code == 0
    text = capsys.readouterr().out
    assert "fold" in text.lower()
    html = out.read_text(encoding="utf-8")
    assert "Walk-forward" in html and "hindsight" in html.lower()


@pytest.mark.parametrize(
    "argv, match",
    [
        (["var", "--seed", "-1"], "--seed"),
        (["var", "--window", "100000"], "--window"),
        (["var", "--weights", "BTC-USD=0.9,ETH-USD=0.9"], "--weights"),
        (["sensitivity", "--date", "garbage"], "--date"),
        (["sensitivity", "--date", "2030-01-01"], "--date"),
    ],
)
def test_bad_arguments_exit_2_naming_the_flag(argv: list[str], match: str, capsys) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SystemExit) as exc:
        code = main(argv)
        raise SystemExit(code)
    assert exc.value.code == 2
    assert match in capsys.readouterr().err


@pytest.mark.slow
def test_demo_creates_the_output_folder(tmp_path: Path) -> None:
    out = tmp_path / "new" / "folder" / "demo.html"
    assert main(["demo", "--out", str(out), "--no-risk"]) == 0
    assert out.is_file()


def test_var_crowding_defines_the_share_and_writes_its_json(capsys, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "crowding.json"
    argv = ["var", "--crowding", "--scenarios", "400", "--horizon", "5", "--fire-sale", "on",
            "--daily-volume", "VNQ=50000", "--surface-scenarios", "100", "--json", str(path)]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "(share = (VaR_with - VaR_alone) / VaR_with, for this --weights book;" in out
    assert "denominator VaR_with" in out
    assert re.search(r"VNQ\s+50,000 .* profile", out)  # the user's profile is used
    assert "fire sales on" in out
    assert "strategy's latest holdings" in out
    doc = json.loads(path.read_text())
    assert set(doc["without"]) == {"var95", "cvar95", "dar95"}
    assert doc["impact_share_definition"].startswith("(var_with - var_without) / var_with")
    keys = {"agents", "daily_volume", "var95", "cvar95", "dar95", "impact_share", "turnover",
            "alignment"}  # fmt: skip
    rows = doc["surface"]
    assert all(set(r) == keys for r in rows)
    assert sorted({r["agents"] for r in rows}) == [0, 1, 5, 10, 20]
    volumes = sorted({r["daily_volume"] for r in rows})
    assert len(volumes) == 3 and all(v > 0 for v in volumes)
    for r in rows:
        assert r["cvar95"] <= r["var95"] and r["dar95"] <= 0
        share = (r["var95"] - doc["without"]["var95"]) / r["var95"] if r["var95"] < 0 else None
        assert r["impact_share"] == pytest.approx(share)
        if r["agents"] == 0:  # no agents: the book alone, on the same draws
            assert r["var95"] == doc["without"]["var95"] and r["turnover"] is None
        else:
            assert r["turnover"] > 0
        if r["agents"] >= 2:
            assert -1 <= r["alignment"] <= 1
    assert doc["thinnest_asset"] == "VNQ"
    assert volumes == pytest.approx([50000 / 3, 50000, 50000 * 10 / 3])
    assert main(["var", "--crowding", "--json", str(tmp_path)]) != 0  # a folder: refused
    assert "--json" in capsys.readouterr().err
    argv = ["var", "--crowding", "--daily-volume", "NOPE=1", "--scenarios", "50"]
    assert main(argv) != 0  # a profile naming an unknown symbol: a one-line error
    assert "NOPE" in capsys.readouterr().err


def test_strategy_cost_mode_and_its_old_name() -> None:
    """``cost_mode`` is the strategy's optimizer mode; the old key ``costs`` still reads as it."""
    assert parse_config({"strategy": {"cost_mode": "blind"}}).strategy["cost_mode"] == "blind"
    assert parse_config({"strategy": {"costs": "blind"}}).strategy == {"cost_mode": "blind"}
    with pytest.raises(ConfigError, match="cost_mode"):
        parse_config({"strategy": {"costs": "blind", "cost_mode": "model"}})


def test_console_stats_read_in_percent_and_ratios() -> None:
    """The console's stats table: percent of wealth, ratios, turnover multiples, as the note
    printed under it says; the numbers are the fractions of ``stats()`` (the JSON keeps those)."""
    import numpy as np
    import pandas as pd

    from rwafolio.cli import STATS_NOTE, stats_text

    gen = np.random.default_rng(4)
    names = ["total_return", "cagr", "volatility", "sharpe", "excess_sharpe", "max_drawdown",
             "turnover_per_year", "costs_paid", "calmar"]  # fmt: skip
    df = pd.DataFrame(gen.normal(0, 2, (len(names), 3)), index=names, columns=["a", "b", "c"])
    df.loc["cagr", "b"] = np.nan
    out = stats_text(df)
    for name in names:
        for col in df.columns:
            x, s = df.loc[name, col], out.loc[name, col]
            if np.isnan(x):
                assert s == "n/a"
            elif name in ("total_return", "cagr", "volatility", "max_drawdown", "costs_paid"):
                assert s.endswith("%") and abs(float(s[:-1]) - 100 * x) <= 0.05 + 1e-9
                assert name in STATS_NOTE
            elif name == "turnover_per_year":
                assert s.endswith("x") and abs(float(s[:-1]) - x) <= 0.05 + 1e-9
            else:
                assert abs(float(s) - x) <= 0.005 + 1e-9


@pytest.mark.parametrize("policy", ["all_days", "exchange_days"])
def test_a_date_that_is_no_decision_date_says_the_runs_calendar(policy: str, capsys) -> None:  # type: ignore[no-untyped-def]
    """The message said "under exchange_days only sessions are" whatever the run's policy."""
    assert main(["sensitivity", "--policy", policy, "--date", "2030-01-01", "--top", "1"]) == 2
    err = capsys.readouterr().err
    assert f"under {policy} a decision date is" in err and err.count("\n") == 1
