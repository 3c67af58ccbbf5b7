"""What the CLI reads: the cleaning policy, severe-finding warnings, hostile folders, [costs]."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rwafolio.backtest import run
from rwafolio.cli import build_parser, main
from rwafolio.exceptions import ConfigError
from rwafolio.loaders import CLEAN_POLICIES, load_files
from rwafolio.strategies import DynamicLambdaStrategy, benchmark_suite
from rwafolio.universe import split_costs
from tests.loaders.test_hostile_files import Watchdog, write_prices

DATA_COMMANDS = {
    "data": [],
    "backtest": [],
    "var": [],
    "sensitivity": [],
    "frequency": [],
    "walkforward": ["--grid", "g.toml"],
}


@pytest.mark.parametrize("command", sorted(DATA_COMMANDS))
def test_every_data_command_takes_the_cleaning_flag(command: str) -> None:
    parser = build_parser()
    extra = DATA_COMMANDS[command]
    assert parser.parse_args([command, *extra]).clean == "report"
    for choice in CLEAN_POLICIES:
        assert parser.parse_args([command, *extra, "--clean", choice]).clean == choice
    with pytest.raises(SystemExit):
        parser.parse_args([command, *extra, "--clean", "fix"])


def _market(shared: Path, folder: Path, bad_print: bool) -> None:
    """BTC, ETH (24/7) and GLD (NYSE) from the real files; optionally one 1e6x BTC close."""
    folder.mkdir()
    crypto = shared / "Alexshch09__Stocks-prices"
    shutil.copy(crypto / "ETH-USD.csv", folder)
    shutil.copy(shared / "JoonmoAhn__quant_trading" / "GLD.csv", folder)
    btc = pd.read_csv(crypto / "BTC-USD.csv")
    if bad_print:
        row = btc.index[btc["Date"].str.startswith("2021-06-15")][0]
        btc.loc[row, "Close"] *= 1e6
    btc.to_csv(folder / "BTC-USD.csv", index=False)


@pytest.mark.slow
def test_a_million_fold_print_is_warned_and_repair_restores_the_result(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _market(shared_data, tmp_path / "clean", bad_print=False)
    _market(shared_data, tmp_path / "bad", bad_print=True)
    vix = shared_data / "datasets__finance-vix" / "vix-daily.csv"
    common = ["--source", "files", "--symbols", "BTC-USD", "ETH-USD", "GLD"]
    common += ["--start", "2021-01-01", "--end", "2021-12-31", "--vix", str(vix)]

    assert main(["data", "--data-dir", str(tmp_path / "bad"), *common]) == 0
    out = capsys.readouterr()
    warned = [ln for ln in out.err.splitlines() if "warning: BTC-USD spike 2021-06-15" in ln]
    assert len(warned) == 1 and "severe" in warned[0]
    assert "cleaning: report; " in out.out
    assert main(["data", "--data-dir", str(tmp_path / "bad"), *common, "--clean", "repair"]) == 0
    out = capsys.readouterr()
    assert "[repaired]" in out.err and "cleaning: repair; " in out.out

    def total_returns(folder: str, clean: str) -> np.ndarray:
        """Total return of the strategy and of its equal-weight benchmark, as the CLI runs them."""
        panel = load_files(
            ["BTC-USD", "ETH-USD", "GLD"], [tmp_path / folder], start="2021-01-01",
            end="2021-12-31", vix=str(vix), repair=CLEAN_POLICIES[clean],
        )  # fmt: skip
        dynamic = DynamicLambdaStrategy()
        pair = (dynamic, benchmark_suite(dynamic)["equal_weight"])
        return np.array([run(s, panel, first_decision=30).stats()["total_return"] for s in pair])

    reference = total_returns("clean", "report")
    moved = np.abs(total_returns("bad", "report") - reference)
    assert moved[0] > 0.02 and moved[1] > 100  # the print moves both results
    np.testing.assert_allclose(total_returns("bad", "repair"), reference, atol=2e-3)


def test_a_fifo_in_the_data_dir_neither_hangs_nor_hides(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_prices(tmp_path / "AAA-USD.csv", n=80)
    os.mkfifo(tmp_path / "BBB-USD.csv")
    dog = Watchdog(tmp_path / "BBB-USD.csv")
    try:
        args = ["data", "--source", "files", "--data-dir", str(tmp_path), "--vix", "none"]
        code = main([*args, "--symbols", "AAA-USD"])
        missing = main([*args, "--symbols", "BBB-USD"])
    finally:
        dog.stop()
    assert not dog.fired and code == 0 and missing == 2
    err = capsys.readouterr().err.splitlines()
    assert any("skipped_file" in ln and "BBB-USD.csv" in ln and "FIFO" in ln for ln in err)
    assert any(
        ln.startswith("rwafolio data: error: no file for symbol(s) ['BBB-USD']") for ln in err
    )


@pytest.mark.parametrize("symbols", [[], ["--symbols", "BTC-USD", "ETH-USD"]])
def test_a_costs_typo_is_an_error_with_or_without_symbols(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], symbols: list[str]
) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[costs]\n"BTC-UDS" = 0.002\n')
    assert main(["backtest", "--config", str(config), "--no-risk", *symbols]) == 2
    assert "did you mean 'BTC-USD'" in capsys.readouterr().err


def test_costs_for_symbols_not_loaded_are_reported_not_used() -> None:
    used, unused = split_costs({"VNQ": 0.01, "BTC-USD": 0.002}, ["BTC-USD", "ETH-USD"])
    assert used == {"BTC-USD": 0.002} and unused == ["VNQ"]
    with pytest.raises(ConfigError, match="did you mean 'ETH-USD'"):
        split_costs({"eth-usd": 0.002}, ["BTC-USD", "ETH-USD"])


@pytest.mark.parametrize(
    "argv, words",
    [
        # a symbol given twice used to keep the last value silently
        (["var", "--weights", "BTC-USD=0.5,BTC-USD=0.2"], ["--weights", "BTC-USD", "twice"]),
        (["var", "--crowding", "--daily-volume", "GLD=1e6 GLD=2e6"], ["--daily-volume", "twice"]),
        (["data", "--symbols", "BTC-USD,ETH-USD", "BTC-USD"], ["--symbols", "BTC-USD", "twice"]),
        # one file, loaded as two perfectly collinear assets
        (["data", "--symbols", "btc-usd", "BTC-USD"], ["--symbols", "btc-usd", "twice"]),
        # non-finite weights leaked a numpy RuntimeWarning and said "got sum nan"
        (["var", "--weights", "BTC-USD=nan"], ["--weights", "finite"]),
        (["var", "--weights", "BTC-USD=inf,ETH-USD=-inf"], ["--weights", "finite"]),
        # an empty path was taken as "not given": the default report, no config, no index
        (["backtest", "--out", ""], ["--out", "empty"]),
        (["backtest", "--json", ""], ["--json", "empty"]),
        (["backtest", "--config", " "], ["--config", "empty"]),
        (["data", "--vix", ""], ["--vix", "empty"]),
        (["data", "--data-dir", ""], ["--data-dir", "empty"]),
        (["live", "--state", "", "--orders", "o.jsonl"], ["--state", "empty"]),
        (["report", ""], ["run", "empty"]),
        # an output naming a folder: --out new/ wrote a file "new", --save . was a ValueError
        (["backtest", "--out", "new/"], ["--out", "folder"]),
        (["backtest", "--json", "new/"], ["--json", "folder"]),
        (["backtest", "--save", "runs/"], ["--save", "folder"]),
        (["backtest", "--save", "."], ["--save", "folder"]),
        (["report", "r.zip", "--out", ".."], ["--out", "folder"]),
        (["var", "--crowding", "--json", "x/"], ["--json", "folder"]),
        (["live", "--state", "s", "--orders", "o/"], ["--orders", "folder"]),
        # inf seconds never polled again; an inf book wrote every order size as null
        (["live", "--state", "s", "--orders", "o.jsonl", "--poll", "inf"], ["--poll", "finite"]),
        (["live", "--state", "s", "--orders", "o", "--portfolio-value", "inf"], ["--portfolio"]),
        (["live", "--state", "s", "--orders", "o.jsonl", "--poll", "0"], ["--poll", "> 0"]),
    ],
)
def test_ambiguous_arguments_are_refused_naming_the_flag(
    argv: list[str],
    words: list[str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)  # nothing may be written, not even a default report
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "Warning" not in err, err
    last = err.strip().splitlines()[-1]
    for word in words:
        assert word in last, err
    assert list(tmp_path.iterdir()) == []


def test_a_negative_weight_is_named_as_such(capsys: pytest.CaptureFixture[str]) -> None:
    """It used to say 'must be >= 0 and sum to at most 1 ..., got sum 1.0000'."""
    assert main(["var", "--weights", "BTC-USD=-0.5,ETH-USD=1.5", "--scenarios", "100"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "`--weights` BTC-USD is -0.5" in err, err


@pytest.mark.parametrize(
    "dates, words",
    [
        # said "`start`..`end` must span at least 60 days, got 0"
        (["--start", "2020-01-01", "--end", "2019-01-01"], ["`--end` 2019-01-01 is before"]),
        # named no flag: "dates 1699-12-18..2024-12-31 leave the NYSE calendar span ..."
        (["--start", "1700-01-01"], ["`--start`", "1980"]),
        (["--end", "2100-01-01"], ["`--end`", "2035"]),
    ],
)
def test_synthetic_date_ranges_name_the_flag(
    dates: list[str], words: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["data", *dates]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    for word in words:
        assert word in err, err


def test_eta_zero_runs_without_an_index_as_the_error_advises(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without an index the error says 'use a constant lam (eta = 0)'; with eta = 0 the same
    error came back from the model-preset benchmark (eta 0.05). It is now left out, and said."""
    out = tmp_path / "r.html"
    args = ["backtest", "--vix", "none", "--no-risk", "--start", "2024-06-01", "--out", str(out)]
    assert main(args) == 2
    assert "eta = 0" in capsys.readouterr().err
    assert main([*args, "--eta", "0"]) == 0
    text = capsys.readouterr().out
    assert "model_preset not run" in text and "constant_lambda" in text and out.is_file()


@pytest.mark.parametrize("until", ["", "nat", "NaT"])
def test_live_until_that_is_no_time_is_refused(
    until: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``pd.Timestamp('')`` is NaT, which read as "no --until": every bar was processed."""
    paths = ["--state", str(tmp_path / "st"), "--orders", str(tmp_path / "o.jsonl")]
    assert main(["live", "--source", "synthetic", *paths, "--until", until]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "`--until`" in err, err
    assert not (tmp_path / "o.jsonl").exists()


def test_live_until_with_an_offset_is_that_instant_in_utc(tmp_path: Path) -> None:
    """The bars' clock is naive UTC; an aware --until was an unexpected TypeError."""
    paths = ["--state", str(tmp_path / "st"), "--orders", str(tmp_path / "o.jsonl")]
    base = ["live", "--source", "synthetic", "--start", "2021-01-01", "--end", "2021-03-31"]
    assert main([*base, *paths, "--quiet", "--until", "2021-02-10T03:00:00+05:00"]) == 0
    last = (tmp_path / "o.jsonl").read_text().splitlines()[-1]
    assert '"time":"2021-02-09T00:00:00"' in last  # 03:00 at +05:00 is 22:00 UTC on 02-09


def test_assets_tables_are_not_silently_ignored_on_the_synthetic_market(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``[assets.BTC-USD] cost = 0.05`` on the synthetic source was dropped: the results were
    those of the default cost (``[costs]`` applies). Now it is an error saying where it works."""
    config = tmp_path / "c.toml"
    config.write_text("[assets.BTC-USD]\ncost = 0.05\n")
    out = tmp_path / "r.html"
    assert main(["backtest", "--config", str(config), "--no-risk", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "[assets]" in err and "[costs]" in err, err
    assert not out.exists()


def test_walkforward_out_and_task_cache_on_one_path_are_refused_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The cache made a folder of the --out path and the report then failed, after the whole
    walk-forward ran ("`path` ... is a directory")."""
    same = str(tmp_path / "wf.html")
    args = ["walkforward", "--no-var", "--executor", "serial", "--out", same, "--task-cache"]
    for cache in (same, str(tmp_path / "wf.html" / "cache")):
        assert main([*args, cache]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "`--out`" in err and "`--task-cache`" in err, err
    assert list(tmp_path.iterdir()) == []


def test_a_flag_the_grid_varies_is_refused_not_ignored(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``walkforward --lam0 3`` ran the grid's own lam0 values (the default grid's 1, 2, 4, or a
    --grid file's): the flag was silently ignored."""
    grid = tmp_path / "g.toml"
    grid.write_text('[strategy]\nname = "dynamic"\n[grid]\nlam0 = [1.0, 4.0]\n')
    out = str(tmp_path / "wf.html")
    base = ["walkforward", "--no-var", "--executor", "serial", "--out", out]
    for extra in (["--lam0", "3"], ["--eta", "0"], ["--grid", str(grid), "--lam0", "3"]):
        assert main([*base, *extra]) == 2
        err = capsys.readouterr().err
        flag = extra[-2]
        assert err.count("\n") == 1 and f"`{flag}`" in err and "varies" in err, err
    assert not Path(out).exists()
    assert (
        main([*base, "--grid", str(grid), "--eta", "0", "--end", "2021-06-30"]) == 0
    )  # not varied


def test_a_grid_files_costs_and_data_tables_are_used(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``walkforward --grid`` read [strategy], [grid] and [walkforward] of the file and silently
    left out its [costs] and [data]: a 5% cost and exchange days changed nothing."""
    grid = '[strategy]\nname = "dynamic"\n[grid]\nlam0 = [1.0, 4.0]\n'
    grid += '[walkforward]\ntrain = "365D"\ntest = "180D"\n'
    files = {name: tmp_path / f"{name}.toml" for name in ("plain", "costs", "days")}
    files["plain"].write_text(grid)
    files["costs"].write_text(grid + "[costs]\nBTC-USD = 0.05\nETH-USD = 0.05\n")
    files["days"].write_text(grid + '[data]\npolicy = "exchange_days"\n')
    base = ["walkforward", "--no-var", "--executor", "serial", "--end", "2021-06-30"]
    seen = {}
    for name, g in files.items():
        assert main([*base, "--grid", str(g), "--out", str(tmp_path / f"{name}.html")]) == 0
        lines = capsys.readouterr().out.splitlines()
        seen[name] = [ln for ln in lines if "plan:" in ln or ln.startswith("costs_paid")]
    assert seen["plain"][0].startswith("walk-forward plan: rolling")
    assert seen["costs"][0] == seen["plain"][0] and seen["costs"][1] != seen["plain"][1]
    assert "data 2019-01-02 .." in seen["days"][0]  # the first session, not 2019-01-01


def test_a_grid_pipe_is_read_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``walkforward --grid <(...)``: the file is read once for its [costs]/[data] and its grid
    (a second read of a pipe is empty and said "has no [grid] table")."""
    import os

    r, w = os.pipe()
    text = '[strategy]\nname = "dynamic"\n[grid]\nlam0 = [1.0, 4.0]\n'
    text += '[walkforward]\ntrain = "365D"\ntest = "180D"\n[costs]\nBTC-USD = 0.05\n'
    os.write(w, text.encode())
    os.close(w)
    args = ["walkforward", "--no-var", "--executor", "serial", "--end", "2021-06-30"]
    try:
        code = main([*args, "--grid", f"/dev/fd/{r}", "--out", str(tmp_path / "wf.html")])
    finally:
        os.close(r)
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "walk-forward plan: rolling, train 365D" in out and (tmp_path / "wf.html").exists()
