"""The online rebalancer against the backtest engine, its state and its refusals (synthetic data)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rwafolio.backtest import run
from rwafolio.exceptions import ConfigError, DataError
from rwafolio.live import Bar, LiveRebalancer, LiveRun, StateError, panel_bars
from rwafolio.live.state import STATE_NAME
from rwafolio.optimize.costs import CostModel
from rwafolio.strategies import DynamicLambdaStrategy
from rwafolio.strategies.schedules import period_keys, schedule_mask


def _reb(panel, **params):  # type: ignore[no-untyped-def]
    return LiveRebalancer(
        DynamicLambdaStrategy(**params),
        panel.symbols,
        panel.universe.classes,
        CostModel.from_universe(panel.universe),
        panel.periods_per_year,
        panel.vix is not None,
    )


@pytest.mark.parametrize(
    "params",
    [{}, {"schedules": {"crypto": "every2", "rwa": "monthly"}, "stress_vix": 20.0}, {"eta": 0.0}],
)
def test_replay_equals_backtest(small_panel, params) -> None:  # type: ignore[no-untyped-def]
    res = run(DynamicLambdaStrategy(**params), small_panel, execute=False)
    reb = _reb(small_panel, **params)
    out = [reb.step(bar) for bar in panel_bars(small_panel)]
    after = np.array([d.weights_after for d in out])
    before = np.array([d.weights_before for d in out])
    np.testing.assert_allclose(after, res.weights.to_numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(before, res.weights_before.to_numpy(), rtol=0, atol=1e-12)
    fees = np.array([d.fees for d in out])
    np.testing.assert_allclose(fees, res.fees.to_numpy(), rtol=0, atol=1e-15)
    decided = res.decisions
    lam = pd.Series([d.lam for d in out], index=small_panel.dates).loc[decided.index]
    np.testing.assert_allclose(lam.to_numpy(), decided["lam"].to_numpy(), rtol=0, atol=0)
    assert (res.turnover > 0).sum() > 5  # the replay traded, so the comparison means something


def test_frozen_assets_say_why(small_panel) -> None:  # type: ignore[no-untyped-def]
    reb = _reb(small_panel, stress_vix=None)
    out = [reb.step(bar) for bar in panel_bars(small_panel)]
    tradable = small_panel.tradable.to_numpy()
    for d, row in zip(out, tradable):
        closed = {s for s, ok in zip(small_panel.symbols, row) if not ok}
        assert {s for s, why in d.frozen.items() if why == "closed"} == closed
        for j in np.flatnonzero(~row):
            assert d.trades[j] == 0.0
    reasons = {why for d in out for why in d.frozen.values()}
    assert "schedule" in reasons  # RWAs weekly by default


def test_period_keys_group_like_pandas() -> None:
    dates = pd.date_range("2019-12-20", "2021-01-15", freq="D")
    days = dates.to_numpy().astype("datetime64[ns]").astype(np.int64)
    iso = dates.isocalendar()
    want = iso["year"].to_numpy() * 100 + iso["week"].to_numpy()
    got = period_keys(days, "weekly")
    assert all((got[1:] == got[:-1]) == (want[1:] == want[:-1]))
    month = dates.year.to_numpy() * 100 + dates.month.to_numpy()
    got = period_keys(days, "monthly")
    assert all((got[1:] == got[:-1]) == (month[1:] == month[:-1]))
    mask = schedule_mask(dates, np.ones(len(dates), dtype=bool), "weekly")
    assert set(dates[mask][1:].day_of_week) == {0}  # Mondays (after the first date)
    # In a daily panel "bar" and "daily" are every open date.
    open_ = np.arange(len(dates)) % 3 != 0
    np.testing.assert_array_equal(schedule_mask(dates, open_, "bar"), open_)
    np.testing.assert_array_equal(schedule_mask(dates, open_, "daily"), open_)
    np.testing.assert_array_equal(schedule_mask(dates, open_, "every1bars"), open_)


def _live(tmp_path, panel, **kw):  # type: ignore[no-untyped-def]
    params = kw.pop("params", {})
    return LiveRun(
        lambda: _reb(panel, **params),
        tmp_path / "st",
        tmp_path / "orders.jsonl",
        pd.Timedelta(days=1),
        **kw,
    )


def test_restart_continues_where_it_stopped(small_panel, tmp_path) -> None:  # type: ignore[no-untyped-def]
    bars = list(panel_bars(small_panel))
    whole = tmp_path / "whole"
    _live(whole, small_panel).run_bars(bars)
    part = tmp_path / "part"
    for stop in (40, 41, 75, len(bars)):
        summary = _live(part, small_panel).run_bars(bars[:stop])
        assert summary.last_time == bars[stop - 1].time
    a = (whole / "orders.jsonl").read_text().splitlines()
    b = (part / "orders.jsonl").read_text().splitlines()
    assert a == b and len(a) == len(bars)


def test_killed_between_journal_and_state_redoes_the_bar_once(
    small_panel, tmp_path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    import rwafolio.live.runner as runner

    bars = list(panel_bars(small_panel))
    _live(tmp_path / "whole", small_panel).run_bars(bars)
    real, calls = runner.save_state, {"n": 0}

    def dies(folder, state):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 50:
            raise KeyboardInterrupt  # after the 50th bar's journal line, before its state
        return real(folder, state)

    monkeypatch.setattr(runner, "save_state", dies)
    with pytest.raises(KeyboardInterrupt):
        _live(tmp_path / "part", small_panel).run_bars(bars)
    monkeypatch.setattr(runner, "save_state", real)
    journal = tmp_path / "part" / "orders.jsonl"
    assert len(journal.read_text().splitlines()) == 50  # the line the state does not know
    again = _live(tmp_path / "part", small_panel)
    assert again.cut_line
    again.run_bars(bars)
    assert journal.read_text() == (tmp_path / "whole" / "orders.jsonl").read_text()


def test_refusals_leave_the_state_unchanged(small_panel, tmp_path) -> None:  # type: ignore[no-untyped-def]
    bars = list(panel_bars(small_panel))
    _live(tmp_path, small_panel).run_bars(bars[:60])
    state = tmp_path / "st" / STATE_NAME
    saved = state.read_bytes()
    with pytest.raises(StateError, match="other parameters"):
        _live(tmp_path, small_panel, params={"lam0": 3.0})
    with pytest.raises(StateError, match="differ"):  # contradicting data
        changed = [
            replace(b, prices={**b.prices, "BTC-USD": b.prices["BTC-USD"] * 1.01}) if i == 10 else b
            for i, b in enumerate(bars)
        ]
        _live(tmp_path, small_panel).run_bars(changed)
    with pytest.raises(DataError, match="gap"):
        _live(tmp_path, small_panel).run_bars(bars[:60] + bars[61:])
    with pytest.raises(StateError, match="end before"):
        _live(tmp_path, small_panel).run_bars(bars[:50])
    assert state.read_bytes() == saved
    state.write_text('{"version": 1, "row": 3')
    corrupt = state.read_bytes()
    with pytest.raises(StateError, match="not a readable state file"):
        _live(tmp_path, small_panel)
    assert state.read_bytes() == corrupt


def test_bad_bars_are_typed_errors(small_panel) -> None:  # type: ignore[no-untyped-def]
    bars = list(panel_bars(small_panel))
    reb = _reb(small_panel)
    for b in bars[:5]:
        reb.step(b)
    with pytest.raises(DataError, match="not newer"):
        reb.step(bars[3])
    nxt = bars[5]
    with pytest.raises(DataError, match="not in the state's universe"):
        reb.step(replace(nxt, prices={**nxt.prices, "SOL-USD": 20.0}))
    gone = {k: v for k, v in nxt.prices.items() if k != "BTC-USD"}
    with pytest.raises(DataError, match="never closes"):
        reb.step(replace(nxt, prices=gone))
    with pytest.raises(DataError, match="> 0"):
        reb.step(replace(nxt, prices={**nxt.prices, "BTC-USD": -1.0}))
    reb.step(nxt)  # the refusals changed nothing
    assert reb.row == 5


def test_orders_sizes_and_paper_book(small_panel, tmp_path) -> None:  # type: ignore[no-untyped-def]
    bars = list(panel_bars(small_panel))
    _live(tmp_path, small_panel, portfolio_value=1e6, paper=True).run_bars(bars)
    lines = [json.loads(x) for x in (tmp_path / "orders.jsonl").read_text().splitlines()]
    prices = small_panel.prices
    traded = [x for x in lines if x["trades"]]
    assert traded
    for x in traded:
        value_before = 1e6 * x["value"] / (1 - x["fees"])
        for s, o in x["orders"].items():
            assert o["notional"] == pytest.approx(x["trades"][s] * value_before, rel=1e-12)
            assert o["units"] * prices.loc[pd.Timestamp(x["time"]), s] == pytest.approx(
                o["notional"], rel=1e-12
            )
    # The paper book fills at the next bar: it tracks the model's book to within a few percent.
    paper = lines[-1]["paper"]["value"]
    assert paper == pytest.approx(1e6 * lines[-1]["value"], rel=0.05)
    assert lines[0]["status"] == "warmup" and lines[0]["lam"] is None


def test_smoothed_rule_refused(small_panel) -> None:  # type: ignore[no-untyped-def]
    from rwafolio.optimize.risk_aversion import VixLinear

    try:
        rule = VixLinear(lam0=2.0, eta=0.05, smoothing=5)  # type: ignore[call-arg]
    except TypeError:
        pytest.skip("no smoothed rule in this version")
    with pytest.raises(ConfigError, match="smoothed"):
        _reb(small_panel, risk_aversion=rule)


def test_bar_time_must_advance_even_with_no_state(small_panel) -> None:  # type: ignore[no-untyped-def]
    reb = _reb(small_panel)
    b = next(panel_bars(small_panel))
    reb.step(b)
    with pytest.raises(DataError, match="not newer"):
        reb.step(Bar(b.time, dict(b.prices), b.vix))


def test_sample_estimator_served_by_the_rolling_moments(small_panel, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from rwafolio.live.rolling import IncrementalSample
    from rwafolio.optimize import SampleEstimator

    params = {"estimator": SampleEstimator()}
    res = run(DynamicLambdaStrategy(**params), small_panel, execute=False)
    reb = _reb(small_panel, **params)
    assert isinstance(reb.strategy.estimator_, IncrementalSample)
    after = np.array([reb.step(b).weights_after for b in panel_bars(small_panel)])
    np.testing.assert_allclose(after, res.weights.to_numpy(), rtol=0, atol=1e-12)
    # A restart continues the same running sums: the journal equals an uninterrupted run's.
    bars = list(panel_bars(small_panel))

    def run_(d: Path) -> LiveRun:
        return LiveRun(
            lambda: _reb(small_panel, estimator=SampleEstimator()),
            d / "st",
            d / "o.jsonl",
            pd.Timedelta(days=1),
        )

    run_(tmp_path / "a").run_bars(bars)
    for stop in (45, 70, len(bars)):
        run_(tmp_path / "b").run_bars(bars[:stop])
    assert (tmp_path / "a" / "o.jsonl").read_bytes() == (tmp_path / "b" / "o.jsonl").read_bytes()


def test_stale_temporary_of_a_killed_writer_is_removed(small_panel, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import subprocess
    import sys

    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    ).stdout.strip()
    (tmp_path / "st").mkdir()
    stale = tmp_path / "st" / f".{STATE_NAME}.{gone}-abc.tmp"
    stale.write_text("half a state")
    mine = tmp_path / "st" / f".{STATE_NAME}.{__import__('os').getpid()}-abc.tmp"
    mine.write_text("a live writer's")
    _live(tmp_path, small_panel)
    assert not stale.exists() and mine.exists()


def test_class_indexes_refused(small_panel) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError, match="class_indexes"):
        _reb(small_panel, class_indexes={"crypto": "realized:BTC-USD"})


def test_benchmark_strategy_replays_too(small_panel) -> None:  # type: ignore[no-untyped-def]
    from rwafolio.strategies.benchmarks import EqualWeight

    res = run(EqualWeight(), small_panel, execute=False)
    reb = LiveRebalancer(
        EqualWeight(),
        small_panel.symbols,
        small_panel.universe.classes,
        CostModel.from_universe(small_panel.universe),
        small_panel.periods_per_year,
        True,
    )
    after = np.array([reb.step(b).weights_after for b in panel_bars(small_panel)])
    np.testing.assert_allclose(after, res.weights.to_numpy(), rtol=0, atol=1e-12)
    assert (res.turnover > 0).sum() > 5


def test_paper_book_fills_the_journals_orders_as_the_model_trades(small_panel) -> None:  # type: ignore[no-untyped-def]
    """Filled at the prices they were placed at, the paper book's orders leave it holding the
    model's book after its self-financing trade: the same weights, value and cash. (It sized
    orders to ``weights_after`` of the value before the fee, so every buy overdrew the cash by
    the fee.)"""
    from rwafolio.live.paper import PaperBook

    reb = _reb(small_panel)
    value = 1e6
    checked = 0
    for bar in panel_bars(small_panel):
        before_row = reb.row
        d = reb.step(bar)
        if before_row < 0 or not np.any(d.trades != 0.0):
            continue
        p = reb.prices
        book = PaperBook(reb.symbols, reb.cost_model.rates, 0.0)
        book.units = d.weights_before * value / p
        book.cash = (1.0 - d.weights_before.sum()) * value
        book.place(d.trades, p)
        fills = book.fill(p, np.ones(len(p), dtype=bool))
        post = value * (1.0 - d.fees)  # the model's value after its fee
        assert sum(f["fee"] for f in fills.values()) == pytest.approx(d.fees * value, rel=1e-9)
        np.testing.assert_allclose(book.units * p, d.weights_after * post, rtol=1e-9, atol=1e-6)
        assert book.value(p) == pytest.approx(post, rel=1e-12)
        assert book.cash == pytest.approx((1.0 - d.weights_after.sum()) * post, abs=1e-6)
        checked += 1
    assert checked >= 3
