"""Lay out the report: the sections and their blocks (figure, table, placeholder) and notes.

:func:`build_context` turns a :class:`~rwafolio.reports.record.RunRecord` into the plain
dictionaries the template iterates over. Each section keeps its place when its input is missing:
it then holds a "not available in this run" placeholder that says what would fill it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd

from rwafolio.reports import figures as F
from rwafolio.reports import figures_risk as R
from rwafolio.reports.blocks import (
    cell,
    figure_block,
    fmt,
    frame_table,
    placeholder,
    table,
    table_block,
    text_block,
)
from rwafolio.reports.header import _param_text, header
from rwafolio.reports.record import RunRecord

STAT_LABELS: Mapping[str, tuple[str, str]] = {
    "total_return": ("Total return", "pct"),
    "cagr": ("CAGR", "pct"),
    "volatility": ("Volatility (annualized)", "pct"),
    "sharpe": ("Sharpe ratio", "num"),
    "sortino": ("Sortino ratio", "num"),
    "excess_sharpe": ("Sharpe ratio over cash", "num"),
    "excess_sortino": ("Sortino ratio over cash", "num"),
    "max_drawdown": ("Max drawdown", "pct"),
    "calmar": ("Calmar ratio", "num"),
    "turnover_per_year": ("Turnover per year (x value)", "num"),
    "costs_paid": ("Costs paid (fraction of value)", "pct"),
}


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
    ]


def allocation(record: RunRecord) -> list[dict[str, Any]]:
    t = record.tables
    live = record.meta["params"].get("first_decision")
    blocks = [
        figure_block(
            "fig-weights",
            F.weights_figure(t["weights"], live),
            (
                "Share of portfolio value in each asset after each date's trades; grey on top is "
                "cash. Between trades the bands drift with prices. Flat bands over a stretch mean "
                "the strategy held back (schedules, closed markets or the threshold)."
            ),
        )
    ]
    fig = F.lam_vix_figure(t["decisions"], None if "panel_vix" not in t else t["panel_vix"]["vix"])
    if fig is None:
        blocks.append(placeholder("lam-vix", "Risk aversion lam_t and VIX_t", (
            "Not available in this run: this strategy does not set a risk aversion lam_t "
            "(only the dynamic-lambda optimizer does)."
        )))  # fmt: skip
    else:
        blocks.append(figure_block("fig-lam-vix", fig, (
            "lam_t = lam0 (1 + eta VIX_t) is the risk aversion the optimizer used at each "
            "decision (top); VIX_t is the index level it saw (bottom), on the same dates. When "
            "the index jumps, lam_t jumps with it and the optimizer moves toward lower-variance "
            "assets. Long runs show each week's highest value."
        )))  # fmt: skip
    blocks.append(figure_block("fig-turnover", F.turnover_costs_figure(t["flows"], live), (
        "Bars: traded weight (sum over assets of |change|) per period, or per week on long "
        "runs; 100% means the whole book changed hands once. Line: fees paid so far, as a "
        "fraction of value (right axis)."
    )))  # fmt: skip
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
        rows = [[cell("decisions"), cell(ss.get("decisions"))]]
        rows += [[cell(f"answered by {k}"), cell(v)] for k, v in ss.get("by_solver", {}).items()]
        rows += [[cell("worst KKT residual"), cell(ss.get("worst_kkt"), "num")],
                 [cell("failures"), cell(ss.get("failures", 0))],
                 [cell("fallbacks"), cell(ss.get("fallbacks", 0))]]  # fmt: skip
        blocks.append(table_block("solver", table(["Solver", "Value"], rows, "solver-table"),
                                  "Which solver answered how often and how exact it was (KKT "
                                  "residual 0 = exact optimum).", "Solver diagnostics"))  # fmt: skip
    return blocks


def _fc_meta_text(fm: Mapping[str, Any]) -> str:
    dist = fm["distribution"] + (
        f" (nu = {fm['nu']:g})" if fm["distribution"] == "student_t" else ""
    )
    return (
        (
            "Forecasts at every decision date with estimates: "
            if fm["every"] == 1
            else f"Forecasts at every {fm['every']}th decision date with estimates: "
        )
        + f"{fm['n_scenarios']:,} Monte Carlo "
        f"paths of the held portfolio over H = {fm['horizon']} periods, {dist} shocks with the "
        f"strategy's own estimates at that date, rebalancing {fm['rebalance']}, aggregation "
        f"{fm['aggregation']}, base seed {fm['seed']}. Backtests use {fm['sampling']}; "
        f"significance {fm['alpha']:.0%}."
    )


def risk(record: RunRecord) -> list[dict[str, Any]]:
    t = record.tables
    fm = record.meta.get("forecasts")
    if fm is None or "forecasts" not in t:
        why = (
            "Not available in this run: no risk forecasts were computed. Pass "
            "forecasts=rwafolio.risk.rolling_forecasts(result) to render_html, or run the CLI "
            "with forecasts on."
        )
        return [
            placeholder("var", "Realized returns against VaR and CVaR", why),
            placeholder("dar", "Realized drawdowns against drawdown-at-risk", why),
            placeholder("breaches", "Breach table", why),
            placeholder("tests", "VaR backtests", why),
        ]
    fc = t["forecasts"]
    levels = [float(x) for x in fm["levels"]]
    h = int(fm["horizon"])
    main = levels[0]
    blocks: list[dict[str, Any]] = [text_block(_fc_meta_text(fm))]
    blocks.append(figure_block("fig-var", R.var_figure(fc, levels, h), (
        f"At each forecast date t: the line is what really happened over the next {h} periods "
        f"(V_(t+{h}) / V_t - 1); the VaR line is the forecast return that should be beaten "
        f"{main:.0%} of the time, the CVaR line the average of the worst {1 - main:.0%}. Red "
        "crosses are breaches counted by the tests (non-overlapping windows); open circles are "
        "breaches in overlapping windows, shown but not counted. About "
        f"{1 - main:.0%} of windows should breach."
    )))  # fmt: skip
    blocks.append(figure_block("fig-dar", R.dar_figure(fc, levels, h), (
        f"The line is the deepest fall inside the next {h} periods, measured from the value at "
        f"t; the forecast drawdown-at-risk is the level that fall should stay above "
        f"{main:.0%} of the time. Markers are breaches."
    )))  # fmt: skip
    blocks.append(_breach_table(record, fc, levels, h))
    bt = t.get("backtests")
    if bt is None or bt.empty:
        blocks.append(placeholder("tests", "VaR backtests", (
            "Not available in this run: too few complete, non-overlapping forecast windows to "
            "test. " + "; ".join(fm.get("problems", []))
        )))  # fmt: skip
    else:
        rows = []
        for r in bt.to_dict("records"):
            zone = str(r.get("zone") or "")
            what = ("VaR " if r["kind"] == "var" else "DaR ") + f"{float(r['level']):.1%}".replace(
                ".0%", "%"
            )
            verdict_cls = f"zone-{zone}" if zone else ("reject" if r["reject"] else "ok")
            rows.append([
                cell(what), cell(r["test"]), cell(r["n_obs"], "int"), cell(r["n_failures"], "int"),
                cell(float(r["statistic"]), "num"), cell(float(r["p_value"]), "p"),
                cell(zone or ("reject" if r["reject"] else "do not reject"), cls=verdict_cls),
                cell(r["plain"], cls="plain"),
            ])  # fmt: skip
        blocks.append(table_block("tests", table(
            ["Measure", "Test", "Windows", "Breaches", "Statistic", "p-value / P(X<=x)",
             "Result", "In plain words"], rows, "tests-table"), (
            "Kupiec: is the breach rate the promised one? Christoffersen: are breaches "
            "independent, or do they cluster? Conditional coverage: both at once. Traffic light "
            "(Basel): how surprising the breach count is under the promised rate; green is fine, "
            "yellow is a warning, red says the model is wrong. For the traffic light the column "
            "holds P(X <= breaches), not a p-value."
        ), "VaR backtests"))  # fmt: skip
    return blocks


def _breach_table(
    record: RunRecord, fc: pd.DataFrame, levels: list[float], h: int
) -> dict[str, Any]:
    dates = record.tables["values"].index
    rows, n_total = [], 0
    for kind in ("var", "dar"):
        for lv in levels:
            br = R.breach_frame(fc, lv, kind)
            n_total += len(br)
            for d, r in br[br["sampled"]].iterrows():
                d = pd.Timestamp(d)  # type: ignore[arg-type]
                pos = int(fc["position"].loc[d]) + h
                end = dates[pos].strftime("%Y-%m-%d") if pos < len(dates) else ""
                name = ("VaR " if kind == "var" else "DaR ") + f"{lv:.1%}".replace(".0%", "%")
                rows.append([
                    cell(d.strftime("%Y-%m-%d")), cell(end), cell(name),
                    cell(float(r["forecast"]), "pct"), cell(float(r["realized"]), "pct"),
                    cell(float(r["realized"] - r["forecast"]), "pct"),
                ])  # fmt: skip
    n_sampled = int(fc["sampled"].astype(bool).sum())
    note = (
        f"Breaches counted by the tests: {len(rows)} (in {n_sampled} non-overlapping windows, "
        f"all measures and levels); breaches in any window, overlapping included: {n_total}. "
        "Shortfall is realized minus forecast (how much worse than the forecast it was)."
    )
    if not rows:
        return table_block("breaches", table(["Forecast date"], [[cell("no breaches")]], "breach-table"),
                           note, "Breach table")  # fmt: skip
    return table_block("breaches", table(
        ["Forecast date", "Window end", "Measure", "Forecast", "Realized", "Shortfall"], rows,
        "breach-table"), note, "Breach table")  # fmt: skip


def scenario(record: RunRecord) -> list[dict[str, Any]]:
    t = record.tables
    blocks: list[dict[str, Any]] = []
    if "scenario" in t:
        sm = record.meta.get("scenario", {})
        first: dict[str, Any] = next(iter(sm.values()), {})
        blocks.append(figure_block("fig-scenario", R.scenario_figure(t["scenario"], t["scenario_stats"], first.get("horizon")), (
            "The spread of simulated outcomes of today's portfolio over the horizon. Student-t "
            "shocks have the same variance as the normal ones but fatter tails, so their VaR and "
            "especially CVaR lie further left. Solid verticals: VaR; dotted: CVaR."
        )))  # fmt: skip
        blocks.append(table_block("scenario-stats", frame_table(
            t["scenario_stats"].set_index("label"), "scenario-table"), "; ".join(
            f"{k}: seed {v.get('seed')}, {v.get('n_scenarios')} paths, horizon {v.get('horizon')}"
            for k, v in sm.items())))  # fmt: skip
    else:
        blocks.append(placeholder("scenario", "Monte Carlo distribution at the latest date", (
            "Not available in this run: no scenario forecasts were given (pass scenario="
            "rwafolio.reports.latest_scenarios(result))."
        )))  # fmt: skip
    if "crowding" in t:
        if "crowding_paths" in t:
            blocks.append(figure_block("fig-crowding", R.crowding_figure(t["crowding_paths"], t["crowding"]), (
                "The same portfolio's outcomes when it trades alone and when other agents trade "
                "the same assets at the same time. Crowded selling pushes prices down as they "
                "sell, so the left tail grows: compare the VaR/CVaR verticals."
            )))  # fmt: skip
        cm = record.meta.get("crowding", {})
        facts = ", ".join(
            f"{k.replace('_', ' ')} {fmt(cm[k])}"
            for k in ("crowding", "mean_agent_turnover", "solver_failures", "seed")
            if k in cm
        )
        blocks.append(table_block("crowding-stats", frame_table(t["crowding"], "crowding-table", index=False),
                                  "Risk with and without the other agents (returns, negative = loss). "
                                  f"Agents: {facts}." if facts else ""))  # fmt: skip
        if "crowding_impact" in t:
            blocks.append(table_block("crowding-impact", frame_table(t["crowding_impact"], "crowding-impact-table", index=False), (
                "impact_share: the part of the VaR loss due to the agents' price impact, "
                "(VaR_with - VaR_without) / VaR_with; impact_share_tail: the same over the worst "
                "scenarios of the crowded run."
            )))  # fmt: skip
    else:
        blocks.append(placeholder("crowding", "Crowding: with and without the other agents", (
            "Not available in this run: no crowding comparison was given (crowding=...)."
        )))  # fmt: skip
    return blocks


def walkforward(record: RunRecord) -> list[dict[str, Any]]:
    t = record.tables
    if not any(k in t for k in ("wf_folds", "wf_params", "wf_oos")):
        return [placeholder("walkforward", "Walk-forward", (
            "Not available in this run: it was a single backtest, not a walk-forward. A "
            "walk-forward run shows its folds, the parameters chosen in each and the stitched "
            "out-of-sample curve here."
        ))]  # fmt: skip
    blocks = []
    if "wf_oos" in t:
        blocks.append(figure_block("fig-walkforward", R.walkforward_figure(t["wf_oos"], t.get("wf_folds")), (
            "Each fold chooses its parameters on past data only and is then run on the next "
            "stretch; the curve stitches those out-of-sample stretches together, so it is the "
            "honest estimate of live performance. Dotted lines mark fold starts."
        )))  # fmt: skip
    if "wf_folds" in t:
        blocks.append(table_block("wf-folds", frame_table(t["wf_folds"], "wf-folds-table", index=False),
                                  "One row per fold: training and test dates and results.", "Folds"))  # fmt: skip
    wm = record.meta.get("walkforward", {})
    if wm:
        facts = "; ".join(f"{k.replace('_', ' ')}: {_param_text(wm[k])}" for k in
                          ("n_folds", "metric", "seed", "executor", "hindsight_point", "var_note") if k in wm)  # fmt: skip
        blocks.insert(0, text_block(facts))
    if "wf_comparison" in t:
        blocks.append(table_block("wf-comparison", frame_table(t["wf_comparison"], "wf-comparison-table", index=False), (
            "walk_forward is what choosing parameters on past data only achieved; hindsight_best "
            "is the single best fixed parameter set picked with knowledge of the whole period; "
            "the gap is the price of not knowing the future."
        ), "Walk-forward against the best fixed choice in hindsight"))  # fmt: skip
    if "wf_params" in t:
        blocks.append(table_block("wf-params", frame_table(t["wf_params"], "wf-params-table", index=False),
                                  "The parameters chosen in each fold.", "Chosen parameters"))  # fmt: skip
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


SECTIONS: tuple[tuple[str, str, Callable[[RunRecord], list[dict[str, Any]]]], ...] = (
    ("performance", "Performance", performance),
    ("allocation", "Allocation", allocation),
    ("risk", "Risk forecasts against reality", risk),
    ("scenario", "Scenario view", scenario),
    ("walkforward", "Walk-forward", walkforward),
)


def build_context(record: RunRecord, *, title: str | None = None) -> dict[str, Any]:
    """Everything the template needs: header facts and the list of sections with blocks."""
    sections = [{"id": sid, "title": stitle, "blocks": fn(record)} for sid, stitle, fn in SECTIONS]
    if record.extra_sections:
        sections.append({"id": "extra", "title": "More", "blocks": extra(record)})
    head = header(record)
    return {
        "title": title or f"rwafolio report: {head['name']}",
        "head": head,
        "sections": sections,
        "downsample_years": F.DOWNSAMPLE_YEARS,
    }
