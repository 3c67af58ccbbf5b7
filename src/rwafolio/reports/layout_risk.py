"""Lay out the risk sections: rolling forecasts against reality (one chart per horizon), the
VaR backtests, the scenario view with crowding, and the walk-forward.

A section whose input the run does not have is left out (an empty block list), never shown as
a placeholder.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

import rwafolio.reports.figures_risk as R
from rwafolio.reports.blocks import (
    STAT_LABELS,
    cell,
    figure_block,
    fmt,
    frame_table,
    table,
    table_block,
    text_block,
)
from rwafolio.reports.record import RunRecord


def _fc_meta_text(fm: Mapping[str, Any]) -> str:
    """What the rolling forecasts forecast, and how (records made before the ``target`` was
    kept get the words every target shares)."""
    dist = fm["distribution"] + (
        f" (nu = {fm['nu']:g})" if fm["distribution"] == "student_t" else ""
    )
    when = (
        "every decision date with estimates"
        if fm["every"] == 1
        else f"every {fm['every']}th decision date with estimates"
    )
    mean = {"zero": "zero mean", "estimate": "the strategy's own mean estimate at that date"}
    mean_words = mean.get(str(fm.get("mean")), "")
    head = f"Forecasts at {when}: {fm['n_scenarios']:,} Monte Carlo paths"
    target = fm.get("target")
    if target == "pnl":
        what = (
            f"{head} of the strategy's net value over H = {fm['horizon']} periods, top-down: "
            f"a variance filter on the strategy's own net returns (fees and re-trading included; "
            f"the held weights' pseudo-history where the live history is short), {dist} shocks "
            f"with the variance updated along each path, {mean_words}"
        )
    elif target == "strategy":
        what = (
            f"{head} of the strategy's net value over H = {fm['horizon']} periods, the strategy "
            f"re-deciding on every simulated date (its window, lam rule, schedules, threshold and "
            f"fees), asset returns by filtered historical simulation ({dist}) with each asset's "
            f"volatility carried forward along the path, {mean_words}"
        )
    elif target == "book":
        what = (
            f"{head} of the held portfolio over H = {fm['horizon']} periods (not the strategy: "
            f"no re-trading, no fees), {dist} shocks with the strategy's own estimates at that "
            f"date ({mean_words or 'their mean'}), rebalancing {fm['rebalance']}, aggregation "
            f"{fm['aggregation']}"
        )
    else:
        what = f"{head} over H = {fm['horizon']} periods, {dist} shocks"
    return (
        f"{what}, base seed {fm['seed']}. Backtests use {fm['sampling']}; significance "
        f"{fm['alpha']:.0%}."
    )


def _level(lv: float) -> str:
    return f"{lv:.1%}".replace(".0%", "%")


def horizons(record: RunRecord) -> list[tuple[int, pd.DataFrame, list[float]]]:
    """The rolling forecasts of a run, one entry per horizon: (H, forecast table, levels)."""
    fm = record.meta.get("forecasts")
    if fm is None or "forecasts" not in record.tables:
        return []
    return [(int(fm["horizon"]), record.tables["forecasts"], [float(x) for x in fm["levels"]])]


def _horizon_blocks(
    record: RunRecord, h: int, fc: pd.DataFrame, levels: list[float]
) -> list[dict[str, Any]]:
    """One horizon: realized returns against the VaR band, drawdowns against the DaR, and the
    (collapsed) breach table."""
    main = levels[0]
    return [
        figure_block(f"fig-var-h{h}", R.var_figure(fc, levels, h), (
            f"At each forecast date t the line is what really happened over the next {h} periods "
            f"(V_(t+{h}) / V_t - 1). The shaded band runs from the {_level(main)} VaR (should be "
            f"beaten {_level(main)} of the time) down to the {_level(levels[-1])} VaR. Red crosses "
            "are breaches counted by the tests (non-overlapping windows); small open circles are "
            "breaches in overlapping windows, shown but not counted."
        ), f"{h}-period returns against the forecast VaR"),
        figure_block(f"fig-dar-h{h}", R.dar_figure(fc, levels, h), (
            f"The line is the deepest fall inside the next {h} periods, measured from the value at "
            f"t; the forecast drawdown-at-risk is the level that fall should stay above "
            f"{_level(main)} of the time. Crosses are breaches."
        ), f"{h}-period drawdowns against the drawdown-at-risk"),
        _breach_table(record, fc, levels, h),
    ]  # fmt: skip


def risk(record: RunRecord) -> list[dict[str, Any]]:
    """Forecasts against reality, one chart per horizon, then the VaR backtests."""
    t = record.tables
    fm = record.meta.get("forecasts")
    per_horizon = horizons(record)
    if fm is None or not per_horizon:
        return []
    blocks: list[dict[str, Any]] = [text_block(_fc_meta_text(fm))]
    for h, fc, levels in per_horizon:
        blocks.extend(_horizon_blocks(record, h, fc, levels))
    bt = t.get("backtests")
    if bt is None or bt.empty:
        problems = "; ".join(fm.get("problems", []))
        blocks.append(text_block(
            "No VaR backtest: too few complete, non-overlapping forecast windows to test."
            + (f" ({problems})" if problems else ""), "VaR backtests"))  # fmt: skip
        return blocks
    rows = []
    for r in bt.to_dict("records"):
        zone = str(r.get("zone") or "")
        what = ("VaR " if r["kind"] == "var" else "DaR ") + _level(float(r["level"]))
        verdict_cls = f"zone-{zone}" if zone else ("reject" if r["reject"] else "ok")
        rows.append([
            cell(what), cell(r["test"]), cell(r["n_obs"], "int"), cell(r["n_failures"], "int"),
            cell(float(r["statistic"]), "num"), cell(float(r["p_value"]), "p"),
            cell(zone or ("reject" if r["reject"] else "do not reject"), cls=verdict_cls),
            cell(r["plain"], cls="plain"),
        ])  # fmt: skip
    blocks.append(table_block("tests", table(
        ["Measure", "Test", "Windows", "Breaches", "Statistic", "p-value / P(X<=x)", "Result",
         "In plain words"], rows, "tests-table"), (
        "Kupiec: is the breach rate the promised one? Christoffersen: are breaches independent, "
        "or do they cluster? Conditional coverage: both at once. Traffic light (Basel): how "
        "surprising the breach count is under the promised rate; green is fine, yellow a "
        "warning, red says the model is wrong. For the traffic light the column holds "
        "P(X <= breaches), not a p-value."
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
                name = ("VaR " if kind == "var" else "DaR ") + _level(lv)
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
    cols = ["Forecast date", "Window end", "Measure", "Forecast", "Realized", "Shortfall"]
    if not rows:
        rows = [[cell("no breach")] + [cell("") for _ in cols[1:]]]
    return table_block("breaches", table(cols, rows, "breach-table"), note,
                       f"Breach table, {h}-period windows", collapsed=True)  # fmt: skip


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
        ), "Monte Carlo outcomes at the latest date"))  # fmt: skip
        blocks.append(table_block("scenario-stats", frame_table(
            t["scenario_stats"].set_index("label"), "scenario-table"), "; ".join(
            f"{k}: seed {v.get('seed')}, {v.get('n_scenarios'):,} paths, horizon {v.get('horizon')} periods"
            for k, v in sm.items()) + ". All figures are returns over the horizon (negative = loss).",
            "Risk of today's portfolio"))  # fmt: skip
    if "crowding" in t:
        blocks.extend(_crowding_blocks(record))
    return blocks


def _crowding_blocks(record: RunRecord) -> list[dict[str, Any]]:
    from rwafolio.risk.crowding import impact_share

    t = record.tables
    cm = record.meta.get("crowding", {})
    blocks: list[dict[str, Any]] = []
    if "crowding_paths" in t:
        blocks.append(figure_block("fig-crowding", R.crowding_figure(t["crowding_paths"], t["crowding"]), (
            "The same portfolio's outcomes when it trades alone and when other agents trade the "
            "same assets at the same time. Crowded selling pushes prices down as they sell, so "
            "the left tail grows: compare the VaR/CVaR verticals."
        ), "Crowding: with and without the other agents"))  # fmt: skip
    c = t["crowding"]
    alone = c[c["case"] == "without agents"].set_index("level")
    crowded = c[c["case"] == "with agents"].set_index("level")
    rows = []
    for lv in alone.index:
        v0, v1 = float(alone.loc[lv, "var"]), float(crowded.loc[lv, "var"])
        share = impact_share(v1, v0)
        rows.append([
            cell(_level(float(lv))), cell(v0, "pct"), cell(v1, "pct"), cell(v1 - v0, "pct"),
            cell(share, "pct1"), cell(float(alone.loc[lv, "cvar"]), "pct"),
            cell(float(crowded.loc[lv, "cvar"]), "pct"),
        ])  # fmt: skip
    tab = table(["Level", "VaR, book alone", "VaR, with agents", "Added by the agents",
                 "Share of the crowded VaR loss", "CVaR, book alone", "CVaR, with agents"],
                rows, "crowding-table")  # fmt: skip
    labels = {
        "alignment": ("trade alignment (mean cosine)", "{:.2f}"),
        "turnover": ("turnover per agent per period", "{:.2%}"),
        "impact_cost": ("impact paid per agent per period", "{:.3%}"),
        "fire_share": ("agent-days in forced selling", "{:.1%}"),
    }
    facts = ", ".join(
        [f"{name} {form.format(cm[k])}" for k, (name, form) in labels.items()
         if isinstance(cm.get(k), int | float)]
        + ([f"seed {fmt(cm['seed'])}"] if "seed" in cm else [])
    )  # fmt: skip
    note = (
        "The book is the strategy's holdings at the latest decision date, with that date's "
        "estimates, over the same horizon as above. 'Added by the agents' is VaR with agents "
        "minus VaR alone, in return points. 'Share of the crowded VaR loss' is that difference "
        "as a share of the VaR with agents, (VaR_with - VaR_alone) / VaR_with: the part of the "
        "crowded loss the agents' price impact explains. When the book alone barely loses at "
        "that level, a few points of impact are most of the loss, so read the share with the "
        "points beside it. `rwafolio var --crowding` computes the same figures for the book "
        "given by --weights (equal weight by default) with a Ledoit-Wolf estimate over the "
        "last --window periods, so its numbers differ whenever the book or the estimates do."
        + (f" Agents: {facts}." if facts else "")
        + _liquidity_note(cm.get("liquidity"))
    )
    blocks.append(table_block("crowding-impact", tab, note, "What crowding adds to the risk"))
    return blocks


def _liquidity_note(liq: Any) -> str:
    """' Impact liquidity: SYM $X a day (source); ...' from the record's meta (or '')."""
    if not isinstance(liq, Mapping) or not liq:
        return ""
    parts = [
        f"{sym} {float(v.get('daily_volume') or 0):,.0f} a day ({v.get('source', '?')})"
        for sym, v in liq.items()
        if isinstance(v, Mapping)
    ]
    return " Impact liquidity (daily volume, quote currency): " + "; ".join(parts) + "."


def walkforward(record: RunRecord) -> list[dict[str, Any]]:
    t = record.tables
    if not any(k in t for k in ("wf_folds", "wf_params", "wf_oos")):
        return []
    blocks: list[dict[str, Any]] = []
    wm = record.meta.get("walkforward", {})
    facts = [
        f"{k.replace('_', ' ')}: {wm[k]}" for k in ("n_folds", "metric", "seed", "executor")
        if wm.get(k) is not None
    ]  # fmt: skip
    if wm.get("var_note"):
        facts.append(str(wm["var_note"]))
    if facts:
        blocks.append(text_block("; ".join(facts) + "."))
    if "wf_oos" in t:
        bench = _wf_benchmark(record)
        blocks.append(figure_block("fig-walkforward", R.walkforward_figure(t["wf_oos"], t.get("wf_folds"), bench), (
            "Each fold chooses its parameters on past data only and is then run on the next "
            "stretch; the curve stitches those out-of-sample stretches together, so it is the "
            "honest estimate of live performance. Dotted lines mark fold starts."
            + (f" The thinner line is {bench.name} over the same dates." if bench is not None else "")
        ), "Out-of-sample equity"))  # fmt: skip
    if "wf_comparison" in t:
        blocks.append(_wf_comparison(t["wf_comparison"], wm))
    if "wf_folds" in t:
        folds = t["wf_folds"].drop(columns=[c for c in ("params", "point") if c in t["wf_folds"]])
        blocks.append(table_block("wf-folds", frame_table(folds, "wf-folds-table", index=False, columns=_WF_COLUMNS),
                                  "One row per fold: training and test dates, in- and out-of-sample "
                                  "results.", "Folds"))  # fmt: skip
    if "wf_params" in t:
        blocks.append(table_block("wf-params", frame_table(t["wf_params"], "wf-params-table", index=False, columns=_WF_COLUMNS),
                                  "The parameters each fold chose on its training data, by the first "
                                  "date of its test window.", "Chosen parameters"))  # fmt: skip
    return blocks


_WF_COLUMNS: dict[str, tuple[str, str]] = {
    "fold": ("Fold", "int"), "train_start": ("Train from", "text"), "train_end": ("Train to", "text"),
    "test_start": ("Test from", "text"), "test_end": ("Test to", "text"), "status": ("Status", "text"),
    "n_tied": ("Tied points", "int"), "n_failed": ("Failed points", "int"),
    "is_score": ("In-sample score", "num"), "oos_score": ("Out-of-sample score", "num"),
    "is_sharpe": ("In-sample Sharpe", "ratio"), "oos_sharpe": ("Out-of-sample Sharpe", "ratio"),
    "oos_return": ("Out-of-sample return", "pct"), "boundary_cost": ("Cost at fold start", "pct"),
    "reason": ("Note", "text"),
}  # fmt: skip


def _wf_benchmark(record: RunRecord) -> pd.Series | None:
    values = record.tables["values"]
    if values.shape[1] < 2:
        return None
    from rwafolio.reports.tearsheet import reference_name

    ref = reference_name(record)
    return None if ref is None else values[ref].astype(float).rename(ref)


def _wf_comparison(comp: pd.DataFrame, wm: Mapping[str, Any]) -> dict[str, Any]:
    c = comp.set_index("statistic") if "statistic" in comp else comp
    cols = [x for x in ("walk_forward", "hindsight_best", "gap") if x in c.columns]
    heads = {"walk_forward": "Walk-forward (out of sample)",
             "hindsight_best": "Best fixed choice in hindsight", "gap": "Difference"}  # fmt: skip
    rows = []
    for stat in c.index:
        labels = {
            **STAT_LABELS,
            "score": (f"Selection score ({wm.get('metric', 'metric')})", "num"),
        }
        label, kind = labels.get(str(stat), (str(stat).replace("_", " "), "num"))
        rows.append([cell(label)] + [cell(_num(c.loc[stat, x]), kind) for x in cols])
    hp = wm.get("hindsight_point")
    note = (
        "Walk-forward is what choosing parameters on past data only achieved; the best fixed "
        "choice is the single grid point with the best result over the whole period, picked "
        "with hindsight"
        + (f" (grid point {hp})" if hp is not None else "")
        + "; the difference is the price of not knowing the future."
    )
    tab = table(["Statistic", *[heads[x] for x in cols]], rows, "wf-comparison-table")
    return table_block("wf-comparison", tab, note, "Walk-forward against the best fixed choice")


def _num(v: Any) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return float("nan")
