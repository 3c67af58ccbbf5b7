"""The tearsheet part of the report: the key-metrics block, worst drawdowns, calendar returns,
the return distribution, extremes, rolling risk and the figures against a benchmark.

Everything is computed from the record's ``values`` table (so a saved run re-renders the same
page) over the live period, by :mod:`rwafolio.backtest.tearsheet_stats`.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from rwafolio.backtest import tearsheet_stats as ts
from rwafolio.reports import figures_tearsheet as T
from rwafolio.reports.blocks import cell, figure_block, fmt, table, table_block
from rwafolio.reports.record import RunRecord

#: The benchmark the relative figures use when the run has it.
PREFERRED_BENCHMARK = "equal_weight"


def live_returns(record: RunRecord) -> pd.DataFrame:
    """Per-period simple returns of every run (date x run) over the live period.

    The first live row is the first decision's return (its fees: the book was cash before it).
    """
    values = record.tables["values"].astype(float)
    first = record.meta["params"].get("first_decision")
    i0 = int(values.index.searchsorted(pd.Timestamp(first))) if first else 0
    returns = values.pct_change()
    return returns.iloc[max(i0, 1) :]


def reference_name(record: RunRecord) -> str | None:
    """The benchmark the relative figures compare against (None without benchmarks)."""
    names = [str(c) for c in record.tables["values"].columns[1:]]
    chosen = record.meta.get("relative_to")
    if chosen in names:
        return str(chosen)
    if PREFERRED_BENCHMARK in names:
        return PREFERRED_BENCHMARK
    return names[0] if names else None


def key_metrics(record: RunRecord) -> list[dict[str, str]]:
    """The compact block at the top of the page: one card per headline figure of the strategy."""
    st = record.tables["stats"]
    name = str(st.columns[0])
    r = live_returns(record)[name]
    ex = ts.extremes(r)
    ref = reference_name(record)
    cards = [
        ("Total return", fmt(st.loc["total_return", name], "pct"), "live period"),
        ("CAGR", fmt(st.loc["cagr", name], "pct"), "per year, compounded"),
        ("Sharpe ratio", fmt(st.loc["sharpe", name], "ratio"), "annualized, rf = 0"),
        ("Volatility", fmt(st.loc["volatility", name], "pct"), "annualized"),
        ("Max drawdown", fmt(st.loc["max_drawdown", name], "pct"), "peak to trough"),
        ("Hit rate", fmt(ex["hit_rate"], "pct1"), "periods with a gain"),
        ("Costs paid", fmt(st.loc["costs_paid", name], "pct"), "share of value, in fees"),
    ]
    if ref is not None:
        rel = ts.relative_to(r, live_returns(record)[ref], record.meta["panel"]["periods_per_year"])
        cards.append(
            ("Alpha", fmt(rel["alpha"], "pct"), f"per year vs {ref}, beta {rel['beta']:.2f}")
        )
    return [{"label": a, "value": b, "sub": c} for a, b, c in cards]


def _drawdown_table(values: pd.Series, tid: str) -> dict[str, Any]:
    ep = ts.drawdown_episodes(values.astype(float), top=5)
    rows = [
        [
            cell(i + 1, "int"), cell(f"{e.peak:%Y-%m-%d}", cls="date"),
            cell(f"{e.trough:%Y-%m-%d}", cls="date"),
            cell(f"{e.recovery:%Y-%m-%d}" if e.recovered else "not yet", cls="date"),
            cell(e.depth, "pct"), cell(e.days_to_trough, "days"), cell(e.days, "days"),
        ]
        for i, e in enumerate(ep.itertuples())
    ]  # fmt: skip
    return table(["#", "Peak", "Trough", "Recovered on", "Depth", "Peak to trough (days)", "Length (days)"],
                 rows, tid)  # fmt: skip


def drawdown_blocks(record: RunRecord) -> list[dict[str, Any]]:
    """The five deepest drawdown episodes of the strategy, and (collapsed) of each benchmark."""
    values = record.tables["values"]
    first = record.meta["params"].get("first_decision")
    live = values.loc[first:] if first else values  # type: ignore[misc]
    name = str(values.columns[0])
    note = (
        "The deepest falls of the strategy from a running peak: the peak is the last date at the "
        "high, the trough the lowest value before the old high was regained, recovery the first "
        "date back at the peak. Length counts calendar days from peak to recovery (to the last "
        "date when it has not recovered)."
    )
    blocks = [table_block("drawdowns", _drawdown_table(live[name], "drawdowns-table"), note,
                          "Worst drawdowns")]  # fmt: skip
    for i, bench in enumerate(values.columns[1:]):
        blocks.append(table_block(
            f"drawdowns-{i}", _drawdown_table(live[bench], f"drawdowns-table-{i}"), "",
            f"Worst drawdowns of {bench}", collapsed=True))  # fmt: skip
    return blocks


def returns_blocks(record: RunRecord) -> list[dict[str, Any]]:
    """Monthly heatmap, yearly bars, distribution and the best/worst table."""
    rets = live_returns(record)
    name = str(rets.columns[0])
    blocks = [
        figure_block("fig-monthly", T.monthly_heatmap_figure(rets[name], name), (
            "Each cell is the strategy's compounded return in that calendar month; green gains, "
            "red losses, stronger colour = larger move. Empty cells are outside the live period."
        ), "Monthly returns"),
        figure_block("fig-yearly", T.yearly_figure(rets), (
            "Compounded return in each calendar year for the strategy and every benchmark; the "
            "first and last years are partial when the run starts or ends mid-year."
        ), "Yearly returns"),
        figure_block("fig-distribution", T.distribution_figure(rets[name], name), (
            "How often each size of one-period return occurred. The dotted curve is a normal "
            "distribution with the same mean and standard deviation: skew < 0 means a longer "
            "left (loss) tail, excess kurtosis > 0 fatter tails than the normal on both sides."
        ), "Return distribution"),
    ]  # fmt: skip
    rows = []
    labels = (
        ("best_day", "Best period", "pct"), ("worst_day", "Worst period", "pct"),
        ("best_month", "Best month", "pct"), ("worst_month", "Worst month", "pct"),
        ("hit_rate", "Hit rate (periods with a gain)", "pct1"),
        ("hit_rate_months", "Hit rate (months with a gain)", "pct1"),
        ("skew", "Skew", "ratio"), ("kurtosis", "Excess kurtosis", "ratio"),
    )  # fmt: skip
    per_run = {c: {**ts.extremes(rets[c]), **ts.return_distribution(rets[c])} for c in rets}
    for key, label, kind in labels:
        rows.append([cell(label)] + [cell(per_run[c][key], kind) for c in rets.columns])
    blocks.append(table_block("extremes", table(["Figure", *map(str, rets.columns)], rows,
                                                "extremes-table"), (
        "Periods are the panel's dates (days). The hit rate counts periods with a gain among "
        "those whose return was not exactly zero. Skew and excess kurtosis describe the shape "
        "of the daily returns (0 and 0 for a normal distribution)."
    ), "Best and worst"))  # fmt: skip
    return blocks


def rolling_blocks(record: RunRecord) -> list[dict[str, Any]]:
    """Rolling Sharpe ratio and rolling volatility of every run."""
    rets = live_returns(record)
    ppy = int(record.meta["panel"]["periods_per_year"])
    window = T.rolling_window(len(rets), ppy)
    if len(rets) < window + 2:
        return []
    return [
        figure_block("fig-rolling-sharpe", T.rolling_figure(rets, ppy, window, "sharpe"), (
            f"The Sharpe ratio of the last {window} periods at each date, annualized: how the "
            "risk-adjusted return changed through the run, rather than one number for all of it."
        ), "Rolling Sharpe ratio"),
        figure_block("fig-rolling-vol", T.rolling_figure(rets, ppy, window, "volatility"), (
            f"Annualized standard deviation of the last {window} periods' returns."
        ), "Rolling volatility"),
    ]  # fmt: skip


def relative_blocks(record: RunRecord) -> list[dict[str, Any]]:
    """Alpha, beta, correlation, tracking error and information ratio against the benchmark."""
    ref = reference_name(record)
    if ref is None:
        return []
    rets = live_returns(record)
    ppy = int(record.meta["panel"]["periods_per_year"])
    rows = []
    for c in rets.columns:
        if str(c) == ref:
            continue
        rel = ts.relative_to(rets[c], rets[ref], ppy)
        rows.append([
            cell(str(c)), cell(rel["alpha"], "pct"), cell(rel["beta"], "ratio"),
            cell(rel["correlation"], "ratio"), cell(rel["tracking_error"], "pct"),
            cell(rel["information_ratio"], "ratio"),
        ])  # fmt: skip
    tab = table(["Run", "Alpha (per year)", "Beta", "Correlation", "Tracking error (per year)",
                 "Information ratio"], rows, "relative-table")  # fmt: skip
    note = (
        f"Every run against {ref} over the same dates (per-period returns, rf = 0). Beta: how "
        "much the run moves per unit move of the benchmark; alpha: the mean return beyond beta "
        "times the benchmark's, times the periods per year; tracking error: the annualized "
        "volatility of the return difference; information ratio: the mean difference over its "
        "volatility, annualized."
    )
    return [table_block("relative", tab, note, f"Against the benchmark ({ref})")]
