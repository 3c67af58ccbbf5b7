"""Every file of ../shared/data through the files loader, its README's quirks, and alignment.

Expected numbers come from the data folder's README and from independent counts (raw line
counts, ``pd.date_range``, rows of the ETF files), never from our own loader's output.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rwafolio.loaders import load_files, read_file
from rwafolio.loaders.cleaning import detect
from rwafolio.loaders.files import compare_sources

pytestmark = pytest.mark.realdata

ALEX, JOON, TAA, VIXD = (
    "Alexshch09__Stocks-prices",
    "JoonmoAhn__quant_trading",
    "jmlestevez-source__taa-dashboard",
    "datasets__finance-vix",
)
# README table: first dates per file, last date per folder.
FIRST = {
    "BTC-USD": "2014-09-17",
    "ETH-USD": "2017-11-09",
    "BNB-USD": "2017-11-09",
    "USDT-USD": "2017-11-09",
    "USDC-USD": "2018-10-08",
    "SOL-USD": "2020-04-10",
    "vix-daily": "1990-01-02",
}
LAST = {ALEX: "2024-12-07", JOON: "2024-03-22", TAA: "2025-09-26", VIXD: "2026-07-23"}
LAYOUT = {ALEX: "yfinance_history", JOON: "yahoo_classic", TAA: "yfinance_download", VIXD: "cboe"}
HEADER_LINES = {ALEX: 1, JOON: 1, TAA: 4, VIXD: 1}


def raw_rows(path: Path, skip: int) -> list[list[str]]:
    with open(path, newline="") as fh:
        rows = [r for r in csv.reader(fh) if r]
    return rows[skip:]


def all_files(root: Path) -> list[Path]:
    """The daily files of the README's first table (the hourly folders are tested elsewhere)."""
    return sorted(p for p in root.rglob("*.csv") if p.parent.name in LAYOUT)


def test_every_file_loads_with_readme_layout_rows_and_range(shared_data: Path) -> None:
    files = all_files(shared_data)
    assert len(files) == 21
    for path in files:
        folder = path.parent.name
        (data,) = read_file(path).values()
        rows = raw_rows(path, HEADER_LINES[folder])
        assert data.layout == LAYOUT[folder], path
        assert len(data.frame) == len(rows), path
        assert f"{data.frame.index[-1]:%Y-%m-%d}" == LAST[folder], path
        first_raw = rows[0][0][:10]
        if "/" in first_raw:
            first_raw = pd.Timestamp(first_raw).strftime("%Y-%m-%d")
        assert f"{data.frame.index[0]:%Y-%m-%d}" == first_raw, path
        if path.stem in FIRST:
            assert first_raw == FIRST[path.stem]
        expected_field = "Close" if folder in (ALEX, VIXD) else "Adj Close"
        assert data.price_field == expected_field, path
        assert np.isfinite(data.price.to_numpy()).all() and (data.price > 0).all()


def test_taa_header_quirk_adj_close_matches_joonmoahn(shared_data: Path) -> None:
    for sym in ("VNQ", "BIL", "GLD", "TLT", "IEF", "SPY"):
        taa = read_file(shared_data / TAA / f"{sym}.csv")[sym]
        joon = read_file(shared_data / JOON / f"{sym}.csv")[sym]
        # Independent: the 2nd column of the raw taa file is the adjusted close.
        rows = raw_rows(shared_data / TAA / f"{sym}.csv", 4)
        np.testing.assert_allclose(taa.price.to_numpy()[:5], [float(r[1]) for r in rows[:5]])
        common = taa.price.index.intersection(joon.price.index)[:-1]  # last JoonmoAhn day: quirk
        ra = taa.price.loc[common].pct_change().iloc[1:]
        rb = joon.price.loc[common].pct_change().iloc[1:]
        assert float((ra - rb).abs().max()) < 1e-5, sym  # README: "about 1e-6"


def test_joonmoahn_vnq_last_day_is_the_only_mismatch(shared_data: Path) -> None:
    taa = read_file(shared_data / TAA / "VNQ.csv")["VNQ"].price
    joon = read_file(shared_data / JOON / "VNQ.csv")["VNQ"].price
    bad = compare_sources(taa, joon)
    assert list(bad.index) == [pd.Timestamp("2024-03-22")]
    np.testing.assert_allclose(bad["ret_b"].iloc[0], -0.021, atol=5e-4)
    np.testing.assert_allclose(bad["ret_a"].iloc[0], -0.0126, atol=5e-4)
    panel = load_files(
        ["VNQ"], [shared_data / TAA, shared_data / JOON], start="2024-01-02", end="2024-03-28"
    )
    mism = [f for f in panel.findings if f.kind == "source_mismatch"]
    assert [f.date for f in mism] == [pd.Timestamp("2024-03-22")]


def test_alexshch09_last_row_is_suspect(shared_data: Path) -> None:
    flagged = set()
    for sym in ("BTC-USD", "ETH-USD", "SOL-USD", "USDC-USD", "USDT-USD", "BNB-USD"):
        data = read_file(shared_data / ALEX / f"{sym}.csv")[sym]
        last = [f for f in detect(data) if f.kind == "suspect_last_row"]
        if last:
            assert last[0].date == pd.Timestamp("2024-12-07")
            flagged.add(sym)
    # A heuristic (volume and range both low); it catches the majors, not every file.
    assert {"BTC-USD", "ETH-USD"} <= flagged


def test_bil_flat_bars_iyr_zero_volume(shared_data: Path) -> None:
    for folder in (JOON, TAA):
        bil = read_file(shared_data / folder / "BIL.csv")["BIL"]
        flats = [f.date for f in detect(bil, asset_class="rwa") if f.kind == "flat_bar"]
        assert len(flats) == 6 and {d.year for d in flats} == {2007, 2017}
    iyr = read_file(shared_data / TAA / "IYR.csv")["IYR"]
    zero = [f.date for f in detect(iyr, asset_class="rwa") if f.kind == "zero_volume"]
    raw = raw_rows(shared_data / TAA / "IYR.csv", 4)
    assert len(zero) == 5 == sum(float(r[6]) == 0 for r in raw)
    assert {d.year for d in zero} == {2000}


def test_stablecoin_peg_breaks(shared_data: Path) -> None:
    for sym in ("USDT-USD", "USDC-USD"):
        data = read_file(shared_data / ALEX / f"{sym}.csv")[sym]
        pegs = [f for f in detect(data, asset_class="stable") if f.kind == "peg_break"]
        raw = raw_rows(shared_data / ALEX / f"{sym}.csv", 1)
        assert len(pegs) == sum(abs(float(r[4]) - 1) > 0.02 for r in raw)
        assert 20 <= len(pegs) <= 40  # "about 30 days each"
        early = sum(f.date.year <= 2020 for f in pegs)
        assert early >= 0.7 * len(pegs)  # mostly 2017-2020
    usdc = read_file(shared_data / ALEX / "USDC-USD.csv")["USDC-USD"]
    svb = [f for f in detect(usdc, asset_class="stable") if f.date == pd.Timestamp("2023-03-11")]
    assert [f.kind for f in svb] == ["peg_break"] and "0.9715" in svb[0].detail


def test_vix_early_flat_bars_and_real_moves(shared_data: Path) -> None:
    vix = read_file(shared_data / VIXD / "vix-daily.csv")["vix-daily"]
    found = detect(vix, asset_class="index")
    flat_early = [f for f in found if f.kind == "flat_bar" and f.date.year <= 1991]
    raw = raw_rows(shared_data / VIXD / "vix-daily.csv", 1)
    assert len(flat_early) == sum(r[0].startswith(("1990", "1991")) for r in raw)
    jump_2018 = [f for f in found if f.date == pd.Timestamp("2018-02-05")]
    assert [f.kind for f in jump_2018] == ["jump"] and "+115.6%" in jump_2018[0].detail
    eth = read_file(shared_data / ALEX / "ETH-USD.csv")["ETH-USD"]
    e = [f for f in detect(eth) if f.date == pd.Timestamp("2020-03-12")]
    assert [f.kind for f in e] == ["jump"]  # a real move: a jump, not a one-day spike


CORE = ["BTC-USD", "ETH-USD", "USDT-USD", "VNQ", "BIL", "GLD"]


@pytest.mark.parametrize("policy", ["all_days", "exchange_days"])
def test_align_core_universe_counts(shared_data: Path, policy: str) -> None:
    start, end = "2018-01-01", "2024-11-30"
    vix_path = shared_data / VIXD / "vix-daily.csv"
    panel = load_files(
        CORE,
        [shared_data / TAA, shared_data / ALEX],
        start=start,
        end=end,
        policy=policy,
        vix=str(vix_path),
    )  # type: ignore[arg-type]
    calendar_days = len(pd.date_range(start, end, freq="D"))
    # Independent session count: the dates of the taa VNQ file inside the window.
    etf_rows = {
        sym: sum(start <= r[0][:10] <= end for r in raw_rows(shared_data / TAA / f"{sym}.csv", 4))
        for sym in ("VNQ", "BIL", "GLD")
    }
    assert len(set(etf_rows.values())) == 1
    sessions = etf_rows["VNQ"]
    assert calendar_days == 2526 and sessions == 1740
    expected_rows = calendar_days if policy == "all_days" else sessions
    assert len(panel.prices) == expected_rows
    for sym in CORE:
        exp = sessions if sym in etf_rows else expected_rows
        assert int(panel.tradable[sym].sum()) == exp, sym
    assert panel.periods_per_year == (365 if policy == "all_days" else 252)
    assert panel.vix is not None and panel.vix.notna().all()
    assert panel.vix_source == f"file:{vix_path}"
    # VIX on 2018-02-05 closed at 37.32 (CBOE); on the following Saturday the Friday level holds.
    np.testing.assert_allclose(panel.vix.loc["2018-02-05"], 37.32, atol=0.01)
    if policy == "all_days":
        assert panel.vix.loc["2018-02-10"] == panel.vix.loc["2018-02-09"]
        vnq = panel.prices["VNQ"]
        closed = ~panel.tradable["VNQ"]
        assert (vnq.diff()[closed.to_numpy()].iloc[1:] == 0).all()  # carried: zero return
    assert panel.price_fields["VNQ"] == "Adj Close" and panel.price_fields["BTC-USD"] == "Close"
    assert not [f for f in panel.findings if f.kind == "gap"]


def test_files_loader_is_fast(shared_data: Path) -> None:
    import time

    dirs = [shared_data / TAA, shared_data / ALEX]
    vix = str(shared_data / VIXD / "vix-daily.csv")
    load_files(CORE, dirs, vix=vix)
    t = time.perf_counter()
    load_files(CORE, dirs, vix=vix)
    assert time.perf_counter() - t < 0.5
