"""Lay out the report: the sections and their blocks (figure, table, text) and notes.

:func:`build_context` turns a :class:`~rwafolio.reports.record.RunRecord` into the plain
dictionaries the template iterates over: the key-metrics cards first, then the tearsheet
(:mod:`rwafolio.reports.tearsheet`), allocation, the risk sections
(:mod:`rwafolio.reports.layout_risk`) and any extra sections. A section whose input the run
does not have is left out, never shown as a placeholder.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

import rwafolio.reports.figures as F
import rwafolio.reports.layout_risk as LR
import rwafolio.reports.tearsheet as TS
from rwafolio.reports.blocks import (
    STAT_LABELS,
    cell,
    figure_block,
    frame_table,
    table,
    table_block,
    text_block,
)
from rwafolio.reports.header import header
from rwafolio.reports.record import RunRecord

# ---------------------------------------------------------------- sections


def performance(record: RunRecord) -> list[dict[str, Any]]:
    st = record.tables["stats"]
    names = [str(c) for c in st.columns]
    rows = []
    for stat in st.index:
        label, kind = STAT_LABELS.get(str(stat), (str(stat), "num"))
        rows.append(
            [cell(label, cls=f"stat-{stat}")]
            + [cell(float(st.loc[stat, c]), kind) for c in st.columns]
        )
    tab = table(["Statistic", *names], rows, "stats-table")
    live = record.meta["params"].get("first_decision")
    values = record.tables["values"]
    return [
        table_block(
            "stats",
            tab,
            (
                "Each column is one run over the same live period, from the first decision date "
                f"({live}) to the end; returns are simple, annualized with the calendar policy's "
                "factor; Sharpe and Sortino use a zero rate, the 'over cash' rows the T-bill proxy's "
                "return (or a given rate). Costs paid compound the fees of every trade."
            ),
            "Statistics, side by side",
        ),
        figure_block(
            "fig-equity",
            F.equity_figure(values, live),
            (
                "Growth of 1 unit invested at the first decision date. On a log scale equal "
                "vertical distances are equal percentage moves, so slopes compare growth rates "
                "across the whole period. Click a legend entry to hide a run."
            ),
        ),
        figure_block(
            "fig-underwater",
            F.underwater_figure(values, live),
            (
                "How far each run is below its own previous peak (0 = at a new high). Depth is the "
                "loss a holder who bought at the peak would sit on; width is how long recovery "
                "took. The deepest point is the max drawdown in the table above."
            ),
        ),
        *TS.drawdown_blocks(record),
    ]


def allocation(record: RunRecord) -> list[dict[str, Any]]:
    t = record.tables
    live = record.meta["params"].get("first_decision")
    summary = F.allocation_summary(t["weights"], live)
    rows = [
        [cell(str(s), cls="sym"), cell(float(r["average"]), "pct1"), cell(float(r["held"]), "pct1"),
         cell(float(r["min"]), "pct1"), cell(float(r["max"]), "pct1"), cell(float(r["last"]), "pct1")]
        for s, r in summary.iterrows()
    ]  # fmt: skip
    blocks = [
        table_block("allocation-summary", table(
            ["Asset", "Average weight", "Share of time held", "Lowest", "Highest", "Latest"],
            rows, "allocation-table"), (
            "Weights are shares of portfolio value after each date's trades over the live period; "
            "cash is what is not invested. 'Held' means a weight above 0.1%."
        ), "Average weights and time held"),
        figure_block("fig-weights", F.weights_figure(t["weights"], live), (
            "One row per asset, one column per date: the darker the cell, the larger the "
            "asset's share of value. Between trades weights drift with prices; long stretches "
            "of one shade mean the strategy held back (schedules, closed markets, threshold)."
        ), "Weights over time"),
    ]  # fmt: skip
    stress = record.meta["params"].get("stress_vix")
    vix = None if "panel_vix" not in t else t["panel_vix"]["vix"]
    fig = F.lam_vix_figure(t["decisions"], vix, None if stress is None else float(stress))
    if fig is not None:
        blocks.append(figure_block("fig-lam-vix", fig, (
            "The volatility index the optimizer saw at each decision (left axis) and the risk "
            "aversion it set, lam_t = lam0 (1 + eta VIX_t) (right axis): the rule is a straight "
            "line, so one curve reads on both axes. Above the dashed stress level every open "
            "asset may trade every day. Higher lam_t pushes the optimizer toward lower-variance "
            "assets. Long runs show each week's highest value."
        ), "Volatility index and risk aversion"))  # fmt: skip
    blocks.append(figure_block("fig-turnover", F.turnover_costs_figure(t["flows"], live), (
        "Top: traded weight (sum over assets of |change|) per period, or per week on long runs; "
        "100% means the whole book changed hands once. Bottom: fees paid so far, as a share of "
        "value."
    ), "Turnover and costs"))  # fmt: skip
    blocks.extend(_threshold_blocks(record))
    return blocks


def _threshold_blocks(record: RunRecord) -> list[dict[str, Any]]:
    skipped = record.tables["skipped"]
    dec = record.tables["decisions"]
    n_dec = len(dec)
    n_traded = int(dec["traded"].astype(bool).sum()) if "traded" in dec else 0
    p = record.meta["params"]
    tau = p.get("threshold")
    summary = table(
        ["What", "Count"],
        [
            [cell("decision dates"), cell(n_dec, "int")],
            [cell("decision dates with a trade"), cell(n_traded, "int")],
            [cell("trades held back by the threshold"), cell(len(skipped), "int")],
        ],
        "threshold-summary",
    )
    note = (
        f"With threshold tau = {tau}, a proposed change |w*_i - w_prev_i| <= tau is not traded "
        f"(mode: {p.get('threshold_mode', 'n/a')}). "
        if tau is not None
        else "This strategy has no threshold rule, so nothing is held back by one. "
    ) + "Held-back trades save their fees; the portfolio then drifts until a larger move."
    blocks = [table_block("threshold", summary, note, "Trades held back by the threshold")]
    if len(skipped):
        by = (
            skipped.assign(size=skipped["proposed"].abs())
            .groupby("symbol", sort=False)
            .agg(
                count=("size", "size"),
                mean_abs_change=("size", "mean"),
                max_abs_change=("size", "max"),
            )
        )
        rows = [
            [cell(s, cls="sym"), cell(int(r["count"]), "int"), cell(float(r["mean_abs_change"]), "pct"),
             cell(float(r["max_abs_change"]), "pct")]
            for s, r in by.iterrows()
        ]  # fmt: skip
        blocks.append(table_block("threshold-by-symbol", table(
            ["Symbol", "Held back", "Mean |proposed change|", "Largest"], rows, "threshold-table"),
            "Per asset: how often a proposed change was too small to trade, and how big those "
            "changes were (weight, fraction of value)."))  # fmt: skip
    ss = record.meta.get("solver_stats", {})
    if ss.get("decisions"):
        rows = [[cell("decisions"), cell(ss.get("decisions"), "int")]]
        rows += [
            [cell(f"answered by {k}"), cell(v, "int")] for k, v in ss.get("by_solver", {}).items()
        ]
        rows += [[cell("worst KKT residual"), cell(ss.get("worst_kkt"), "num")],
                 [cell("failures"), cell(ss.get("failures", 0), "int")],
                 [cell("fallbacks"), cell(ss.get("fallbacks", 0), "int")]]  # fmt: skip
        blocks.append(table_block("solver", table(["Solver", "Value"], rows, "solver-table"),
                                  "Which solver answered how often and how exact it was (KKT "
                                  "residual 0 = exact optimum).", "Solver diagnostics"))  # fmt: skip
    return blocks


def extra(record: RunRecord) -> list[dict[str, Any]]:
    blocks = []
    for i, s in enumerate(record.extra_sections):
        if s.kind == "figure":
            assert isinstance(s.content, str)
            blocks.append(figure_block(f"fig-extra-{i}", s.content, s.note, s.title))
        elif s.kind == "table":
            assert isinstance(s.content, pd.DataFrame)
            blocks.append(
                table_block(
                    f"extra-{i}", frame_table(s.content, f"extra-table-{i}"), s.note, s.title
                )
            )
        else:
            b = text_block(str(s.content), s.title, html=s.kind == "html")
            b["note"] = s.note
            blocks.append(b)
    return blocks


SECTIONS: tuple[tuple[str, str, str, Callable[[RunRecord], list[dict[str, Any]]]], ...] = (
    ("performance", "Performance", "Performance", performance),
    ("returns", "Returns", "Returns", TS.returns_blocks),
    ("rolling", "Rolling risk", "Rolling", TS.rolling_blocks),
    ("relative", "Against the benchmark", "Benchmark", TS.relative_blocks),
    ("allocation", "Allocation", "Allocation", allocation),
    ("risk", "Risk forecasts against reality", "Risk vs reality", LR.risk),
    ("scenario", "Risk at the latest date", "Latest risk", LR.scenario),
    ("walkforward", "Walk-forward", "Walk-forward", LR.walkforward),
)


def build_context(record: RunRecord, *, title: str | None = None) -> dict[str, Any]:
    """Everything the template needs: key metrics, header facts and the non-empty sections."""
    sections = []
    for sid, stitle, short, fn in SECTIONS:
        blocks = fn(record)
        if blocks:
            sections.append({"id": sid, "title": stitle, "short": short, "blocks": blocks})
    if record.extra_sections:
        sections.append(
            {"id": "extra", "title": "Further analyses", "short": "More", "blocks": extra(record)}
        )
    head = header(record)
    return {
        "title": title or f"rwafolio report: {head['name']}",
        "head": head,
        "kpis": TS.key_metrics(record),
        "sections": sections,
        "downsample_years": F.DOWNSAMPLE_YEARS,
    }
