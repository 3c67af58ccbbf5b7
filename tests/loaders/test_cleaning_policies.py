"""Severe findings and the repair policies behind the CLI's ``--clean report|repair|drop``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rwafolio.exceptions import DataError
from rwafolio.loaders import CLEAN_POLICIES, load_files, read_file, severe_lines
from rwafolio.loaders.cleaning import SEVERE_Z, detect, robust_jump_scores
from rwafolio.loaders.frames import PriceData


def walk(n: int = 120, seed: int = 1) -> pd.Series:
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2024-01-01", periods=n, freq="D")
    return pd.Series(100 * np.exp(np.cumsum(rng.normal(0, 0.02, n))), index=dates)


def as_data(price: pd.Series, symbol: str = "AAA-USD") -> PriceData:
    return PriceData(symbol, price.to_frame("close").rename_axis("date"), "date_close")


def test_a_million_fold_print_is_a_severe_spike_and_a_real_crash_is_not() -> None:
    price = walk()
    bad = price.copy()
    bad.iloc[70] *= 1e6
    z = robust_jump_scores(bad.to_numpy())
    assert z[70] > SEVERE_Z  # hand check of the premise: far beyond 50x the robust scale
    found = detect(as_data(bad))
    spikes = [f for f in found if f.kind == "spike"]
    assert len(spikes) == 1 and spikes[0].date == bad.index[70] and spikes[0].severe
    crash = price.copy()
    crash.iloc[70:] *= 0.6  # -40% in a day: a large, real-looking move
    moves = [f for f in detect(as_data(crash)) if f.kind == "jump"]
    assert len(moves) == 1 and not moves[0].severe


def test_a_bad_print_in_the_first_rows_is_caught_too() -> None:
    price = walk()
    bad = price.copy()
    bad.iloc[3] *= 1e6  # before the rolling window has 10 past returns
    assert np.isnan(robust_jump_scores(bad.to_numpy())[3])  # the rolling score alone is blind
    spikes = [f for f in detect(as_data(bad)) if f.kind == "spike"]
    assert [f.date for f in spikes] == [bad.index[3]] and spikes[0].severe
    assert not [f for f in detect(as_data(price)) if f.severe]


def write(folder: Path, symbol: str, price: pd.Series) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    frame = pd.DataFrame({"date": price.index.strftime("%Y-%m-%d"), "close": price.to_numpy()})
    frame.to_csv(folder / f"{symbol}.csv", index=False)


def test_repair_carries_the_previous_price_and_freezes_that_day(tmp_path: Path) -> None:
    price = walk()
    bad = price.copy()
    bad.iloc[70] *= 1e6
    write(tmp_path, "AAA-USD", bad)
    reported = load_files(["AAA-USD"], [tmp_path], repair=CLEAN_POLICIES["report"])
    assert reported.prices["AAA-USD"].iloc[70] == pytest.approx(price.iloc[70] * 1e6)
    assert severe_lines(reported) and "spike" in severe_lines(reported)[0]
    repaired = load_files(["AAA-USD"], [tmp_path], repair=CLEAN_POLICIES["repair"])
    expected = price.copy()
    expected.iloc[70] = price.iloc[69]  # carried, computed by hand
    np.testing.assert_allclose(repaired.prices["AAA-USD"].to_numpy(), expected.to_numpy())
    assert not repaired.tradable["AAA-USD"].iloc[70]
    assert repaired.tradable["AAA-USD"].drop(price.index[70]).all()
    fixed = [f for f in repaired.findings if f.kind == "spike"]
    assert fixed[0].repaired and "[repaired]" in severe_lines(repaired)[0]
    assert repaired.meta["repair"] == "repair_spikes"
    assert not [f for f in repaired.findings if f.kind == "gap"]  # a repair, not a gap


def test_drop_leaves_the_date_to_the_missing_policy(tmp_path: Path) -> None:
    bad = walk()
    bad.iloc[70] *= 1e6
    write(tmp_path, "AAA-USD", bad)
    with pytest.raises(DataError, match="missing data day"):
        load_files(["AAA-USD"], [tmp_path], repair=CLEAN_POLICIES["drop"])
    dropped = load_files(["AAA-USD"], [tmp_path], repair="drop_flagged", missing="drop")
    assert bad.index[70] not in dropped.dates and len(dropped.dates) == len(bad) - 1


def test_no_real_move_in_the_reference_data_is_severe(shared_data: Path) -> None:
    """The 50x threshold sits far above every real daily move in the daily reference files
    (ETH -42% on 2020-03-12, BNB +70% on 2021-02-19, VIX +116% on 2018-02-05 among them)."""
    folders = ["Alexshch09__Stocks-prices", "JoonmoAhn__quant_trading", "datasets__finance-vix"]
    files = [f for d in folders for f in sorted((shared_data / d).glob("*.csv"))]
    assert len(files) >= 13
    worst = 0.0
    for path in files:
        for data in read_file(path).values():
            assert not [f for f in detect(data) if f.severe], path
            price = data.price.dropna().to_numpy(dtype=float)
            z = robust_jump_scores(price)
            big = np.concatenate(([False], np.abs(np.diff(np.log(price))) > 0.05))  # jump_min
            worst = max(worst, float(np.nanmax(np.where(big, z, 0.0))))
    assert 15 < worst < SEVERE_Z / 1.5  # real extremes score well below the threshold
