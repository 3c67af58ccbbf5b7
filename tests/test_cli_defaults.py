"""The CLI works on its defaults: symbols with commas or spaces, a files backtest without --vix,
``data`` like the other commands, a default walk-forward grid, reports beside their runs, help
that shows every default, flags named in errors (issue: "a CLI that works on its defaults")."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pandas as pd
import pytest

from rwafolio.cli import build_parser, flag_names, main, report_path
from rwafolio.loaders import load_synthetic
from rwafolio.pipeline import DataOptions, default_vix, load_panel
from rwafolio.pipeline.suite import save_path


@pytest.fixture(scope="module")
def csv_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """BTC-USD, VNQ and BIL as plain Date,Close files; BTC starts later and VNQ ends earlier."""
    folder = tmp_path_factory.mktemp("prices")
    market = load_synthetic(seed=5)
    vnq_sessions = market.tradable["VNQ"]
    for sym in ("BTC-USD", "VNQ", "BIL"):
        s = market.prices[sym]
        if sym != "BTC-USD":
            s = s[vnq_sessions.to_numpy()]  # an exchange asset's file has sessions only
        if sym == "BTC-USD":
            s = s.loc["2019-03-01":]
        if sym == "VNQ":
            s = s.loc[:"2024-06-28"]
        frame = pd.DataFrame({"Date": s.index.strftime("%Y-%m-%d"), "Close": s.to_numpy()})
        frame.to_csv(folder / f"{sym}.csv", index=False)
    return folder


def test_symbols_take_commas_and_spaces() -> None:
    parser = build_parser()
    for argv in (["BTC-USD,VNQ", "GLD"], ["BTC-USD, VNQ,GLD"], ["BTC-USD", "VNQ", "GLD"]):
        args = parser.parse_args(["data", "--symbols", *argv])
        assert args.symbols == ["BTC-USD", "VNQ", "GLD"]
    assert parser.parse_args(["fetch", "--symbols", "A,B"]).symbols == ["A", "B"]
    with pytest.raises(SystemExit):
        parser.parse_args(["data", "--symbols", ","])


def test_data_defaults_to_synthetic_like_the_other_commands(capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["data", "--symbols", "BTC-USD,VNQ"]) == 0
    out = capsys.readouterr().out
    assert "source: synthetic" in out and "SYNTHETIC" in out
    assert re.search(r"^BTC-USD\s", out, re.M) and re.search(r"^VNQ\s", out, re.M)
    assert not re.search(r"^ETH-USD\s", out, re.M)
    for cmd in ("data", "backtest", "var", "sensitivity", "frequency", "walkforward"):
        assert build_parser().parse_args([cmd]).source == "synthetic"


def test_errors_name_flags_not_python_parameters(capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["data", "--source", "files"]) == 2
    err = capsys.readouterr().err
    assert "`--data-dir DIR`" in err and "data_dirs" not in err
    assert len(err.strip().splitlines()) == 1
    assert flag_names("`data_dirs` is empty; `n_scenarios` too; `rng` bad; `other`") == (
        "`--data-dir` is empty; `--scenarios` too; `--seed` bad; `other`"
    )


def test_data_shows_each_symbols_own_dates(csv_dir: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    argv = ["data", "--source", "files", "--data-dir", str(csv_dir), "--symbols", "BTC-USD,VNQ"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    # aligned to the dates both cover; each symbol's own first and last date beside it
    assert "aligned range: 2019-03-01..2024-06-28" in out
    assert re.search(r"BTC-USD\s+crypto\s+2019-03-01\s+2024-12-31\s+2019-03-01\s+2024-06-28", out)
    assert re.search(r"VNQ\s+rwa\s+2019-01-02\s+2024-06-28\s+2019-03-01\s+2024-06-28", out)


def test_files_without_vix_use_a_realized_volatility_proxy(csv_dir: Path) -> None:
    assert default_vix("files", ["BTC-USD", "BIL", "VNQ"])[0] == "realized:VNQ"  # not T-bills
    assert default_vix("files", ["BTC-USD", "BIL"])[0] == "realized:BIL"
    assert default_vix("files", ["BTC-USD", "ETH-USD"])[0] == "realized:BTC-USD"
    assert default_vix("files", None)[0] == "realized:VNQ"  # the default universe
    assert default_vix("synthetic", None) == ("synthetic", "")
    assert default_vix("yfinance", None) == ("^VIX", "")
    opts = DataOptions(source="files", data_dirs=(str(csv_dir),), symbols=("BTC-USD", "VNQ"))
    panel, notes = load_panel(opts)
    assert panel.vix is not None and panel.vix_source.startswith("realized:VNQ (default proxy")
    assert len(notes) == 1 and "realized-volatility proxy" in notes[0]
    given, no_notes = load_panel(DataOptions(**{**opts.__dict__, "vix": "none"}))
    assert given.vix is None and no_notes == ()


def test_files_backtest_without_vix_runs_and_says_so(csv_dir: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "bt.html"
    argv = ["backtest", "--source", "files", "--data-dir", str(csv_dir), "--symbols", "BTC-USD,VNQ",
            "--start", "2023-01-01", "--no-risk", "--out", str(out)]  # fmt: skip
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "using a realized-volatility proxy, realized:VNQ" in text
    assert "vix realized:VNQ (default proxy: no --vix given)" in text
    assert "realized:VNQ (default proxy: no --vix given)" in out.read_text(encoding="utf-8")


def test_report_path_and_save_suffix(tmp_path: Path) -> None:
    assert report_path(tmp_path / "runs" / "demo.zip", None) == tmp_path / "runs" / "demo.html"
    assert report_path("a.zip", "b/c.html") == Path("b/c.html")
    assert save_path("out/run") == Path("out/run.zip")
    assert save_path("out/run.zip") == Path("out/run.zip")
    assert save_path("out/run.v2") == Path("out/run.v2")


def _options(parser: argparse.ArgumentParser) -> list[tuple[str, argparse.ArgumentParser]]:
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return list(sub.choices.items())


def test_help_shows_every_default() -> None:
    missing = []
    for name, p in _options(build_parser()):
        text = p.format_help()
        for action in p._actions:
            if not action.option_strings or action.help == argparse.SUPPRESS:
                continue
            if isinstance(action, argparse._HelpAction | argparse._StoreTrueAction):
                continue
            if action.required:
                continue
            helptext = p._get_formatter()._get_help_string(action)
            if "default" not in helptext:
                missing.append(f"{name} {action.option_strings[0]}")
        assert "%(default)" not in text
    assert missing == []
    demo = build_parser()._subparsers._group_actions[0].choices["demo"].format_help()  # type: ignore[union-attr]
    assert "(default: out/demo.html)" in demo and "(default: 7)" in demo


def test_every_strategy_command_takes_config_and_strategy_flags() -> None:
    parser = build_parser()
    for cmd in ("demo", "backtest", "sensitivity", "frequency", "walkforward"):
        args = parser.parse_args([cmd, "--config", "c.toml", "--lam0", "3", "--eta", "0.1",
                                  "--window", "40", "--threshold", "0.02"])  # fmt: skip
        assert (args.config, args.lam0, args.eta, args.window, args.threshold) == (
            "c.toml", 3.0, 0.1, 40, 0.02,
        )  # fmt: skip


def test_flags_override_the_config_file(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    from rwafolio.cli import _config

    cfg_file = tmp_path / "c.toml"
    cfg_file.write_text("[strategy]\nlam0 = 5.0\nwindow = 20\n", encoding="utf-8")
    args = build_parser().parse_args(["backtest", "--config", str(cfg_file), "--window", "45"])
    strat = _config(args).build_strategy()
    assert strat.lam0 == 5.0 and strat.window == 45
    with pytest.raises(SystemExit) as exc:
        main(["backtest", "--lam0", "-1", "--no-risk"])
    assert exc.value.code == 2 and "--lam0" in capsys.readouterr().err
    bad = tmp_path / "bad.toml"
    bad.write_bytes(b"[strategy]\nlam0 = \xff\n")
    assert main(["sensitivity", "--config", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "not UTF-8" in err and len(err.strip().splitlines()) == 1


@pytest.mark.slow
def test_walkforward_runs_on_its_default_grid(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "wf.html"
    argv = ["walkforward", "--start", "2021-01-01", "--train", "365D", "--test", "365D",
            "--executor", "serial", "--no-var", "--out", str(out), "--window", "20"]  # fmt: skip
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "grid: 6 points of DynamicLambdaStrategy (default grid)" in text
    assert out.is_file()


def test_studies_refuse_a_config_they_cannot_run(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    cfg = tmp_path / "c.toml"
    cfg.write_text('[strategy]\nname = "equal_weight"\n', encoding="utf-8")
    assert main(["sensitivity", "--config", str(cfg)]) == 2
    assert "dynamic strategy" in capsys.readouterr().err
    cfg.write_text('[strategy.schedules]\ncrypto = "weekly"\n', encoding="utf-8")
    assert main(["frequency", "--config", str(cfg), "--executor", "serial"]) == 2
    err = capsys.readouterr().err
    assert "`--config [strategy]`" in err and "strategy_params" not in err
