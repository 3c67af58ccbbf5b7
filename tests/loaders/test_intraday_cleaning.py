"""Hourly panels pass the cleaning detector (report only) and refuse repair policies."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rwafolio.cli import main
from rwafolio.loaders.intraday import load_intraday
from rwafolio.universe import Universe, make_asset


def _klines(path, closes: np.ndarray, start: str = "2024-01-01") -> None:  # type: ignore[no-untyped-def]
    t = pd.date_range(start, periods=len(closes), freq="1h")
    pd.DataFrame(
        {
            "timestamp": t.strftime("%Y-%m-%d %H:%M:%S"),
            "open": closes,
            "high": closes * 1.001,
            "low": closes * 0.999,
            "close": closes,
            "volume": 1.0,
        }
    ).to_csv(path, index=False)


def _closes(n: int = 400, spike_at: int = 250) -> np.ndarray:
    rng = np.random.default_rng(3)
    closes = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.002, n)))
    closes[spike_at] *= 1.5  # one bad print, undone by the next bar
    return closes


def test_an_hourly_spike_is_reported_at_its_bar_and_nothing_changes(tmp_path) -> None:  # type: ignore[no-untyped-def]
    closes = _closes()
    path = tmp_path / "X_1h.csv"
    _klines(path, closes)
    uni = Universe((make_asset("X", asset_class="crypto", calendar="24/7"),))
    panel = load_intraday({"X": path}, uni)
    spikes = [f for f in panel.findings if f.kind == "spike"]
    # The spiked row's bar opened 250 hours after the first; the finding is dated by its open.
    assert [f.date for f in spikes] == [pd.Timestamp("2024-01-01") + pd.Timedelta(hours=250)]
    # Report only: the panel still carries the bad print (at the grid time its bar ended).
    end = pd.Timestamp("2024-01-01") + pd.Timedelta(hours=251)
    assert panel.prices.at[end, "X"] == closes[250]


def test_hourly_run_refuses_a_repair_policy(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "X_1h.csv"
    _klines(path, _closes())
    out = tmp_path / "r.html"
    code = main(
        ["backtest", "--source", "files", "--data-dir", str(tmp_path), "--symbols", "X_1h",
         "--bar", "1h", "--clean", "repair", "--no-risk", "--no-crowding", "--out", str(out)]
    )  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and "--clean repair" in err and "--bar 1h" in err
    assert "Traceback" not in err and not out.exists()


@pytest.mark.realdata
def test_real_hourly_files_get_findings_not_errors(shared_data) -> None:  # type: ignore[no-untyped-def]
    hop = shared_data / "hopeffy__economics-project-algorithmic-trading-algorithms"
    uni = Universe((make_asset("BTC", asset_class="crypto", calendar="24/7"),))
    panel = load_intraday(
        {"BTC": hop / "BTCUSDT_1h.csv"}, uni, start="2023-03-01", end="2023-03-10"
    )
    kinds = {f.kind for f in panel.findings}
    assert "partial_last_bar" in kinds
    assert all(f.symbol == "BTC" for f in panel.findings)


@pytest.mark.realdata
def test_a_missing_session_closing_bar_is_a_gap_not_a_stale_price(shared_data) -> None:  # type: ignore[no-untyped-def]
    """GLD has no 15:30-16:00 ET bar on 2023-08-29 (the data README lists it): at the 16:00 ET
    grid time (20:00 UTC) the latest close is the 14:30-15:30 bar's, 30 minutes old."""
    from rwafolio.exceptions import DataError

    gold = shared_data / "waikit1986__gold-price-live"
    uni = Universe((make_asset("GLD", asset_class="rwa", calendar="XNYS", proxies="gold"),))
    window = {"start": "2023-08-28", "end": "2023-08-31"}
    with pytest.raises(DataError, match=r"GLD.*2023-08-29 20:00"):
        load_intraday({"GLD": gold / "gld_hourly.csv"}, uni, **window)
    panel = load_intraday({"GLD": gold / "gld_hourly.csv"}, uni, missing="ffill", **window)
    at = pd.Timestamp("2023-08-29 20:00")
    assert not panel.tradable.at[at, "GLD"]  # carried, frozen
    # IAU has that bar: the same grid time is fresh and tradable there.
    iau = Universe((make_asset("IAU", asset_class="rwa", calendar="XNYS", proxies="gold"),))
    p2 = load_intraday({"IAU": gold / "iau_hourly.csv"}, iau, **window)
    assert p2.tradable.at[at, "IAU"]
    # The rest of that session trades as before (a :30 bar ends before each hour from 15:00).
    assert panel.tradable.loc["2023-08-29 15:00":"2023-08-29 19:00", "GLD"].all()
