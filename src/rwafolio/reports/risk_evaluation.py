"""The risk section's data and figure: each horizon's forecasts against what followed.

Data (:func:`evaluation_tables`), plain tables a saved run can carry:

* ``risk_horizons``: one row per horizon and level: windows, breaches, expected, the tests'
  p-values with Kupiec's power against twice the breach rate, the traffic-light zone, the
  Acerbi-Szekely Z2 of the CVaR, the drawdown-at-risk test, and a plain verdict;
* ``risk_windows``: one row per tested (non-overlapping) window: horizon, date, VaR, CVaR,
  drawdown-at-risk, realized return and maximum drawdown, and whether each was breached.

Figure (:func:`evaluation_figure`): one horizon's realized returns against its VaR and CVaR,
breaches marked. Sign convention: returns, negative = loss.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from rwafolio.reports.figures import _layout, downsample, esc

if TYPE_CHECKING:
    from rwafolio.risk.evaluation import RiskEvaluation


def evaluation_tables(evaluation: RiskEvaluation) -> dict[str, pd.DataFrame]:
    """``{"risk_horizons": ..., "risk_windows": ...}`` (see the module docstring)."""
    rows = []
    windows = []
    for h in evaluation.horizons:
        rec = h.to_dict()
        rec["verdict"] = h.verdict()
        rows.append(rec)
        fc = h.forecasts
        lab = f"{h.level * 100:.10g}"
        t = fc.table.loc[fc.sample_mask("non_overlapping").to_numpy()]
        windows.append(
            pd.DataFrame(
                {
                    "horizon": h.horizon,
                    "level": h.level,
                    "var": t[f"var_{lab}"],
                    "cvar": t[f"cvar_{lab}"],
                    "dar": t[f"dar_{lab}"],
                    "realized_return": t["realized_return"],
                    "realized_mdd": t["realized_mdd"],
                    "breach": t["realized_return"] < t[f"var_{lab}"],
                    "dar_breach": t["realized_mdd"] < t[f"dar_{lab}"],
                },
                index=t.index,
            )
        )
    horizons = pd.DataFrame(rows)
    win = (
        pd.concat(windows).rename_axis("date").reset_index()
        if windows
        else pd.DataFrame(columns=["date", "horizon", "level", "var", "cvar", "dar"])
    )
    return {"risk_horizons": horizons, "risk_windows": win}


def evaluation_figure(windows: pd.DataFrame, horizon: int, level: float) -> go.Figure:
    """Realized ``horizon``-period returns against the forecast VaR and CVaR; breaches marked.

    Parameters
    ----------
    windows : DataFrame
        The ``risk_windows`` table of :func:`evaluation_tables`.
    horizon : int
    level : float
    """
    part = windows[(windows["horizon"] == horizon) & np.isclose(windows["level"], level)]
    part = part.set_index(pd.DatetimeIndex(part["date"]))
    what = f"{horizon}-period VaR{level * 100:g}"
    fig = go.Figure()
    lines = downsample(part[["realized_return", "var", "cvar"]], "min")
    for col, name, style in (
        ("realized_return", "realized return", {"color": "#7f8c8d", "width": 1}),
        ("var", f"VaR {level:.0%}", {"color": "#c0392b", "width": 1.5}),
        ("cvar", f"CVaR {level:.0%}", {"color": "#8e44ad", "width": 1, "dash": "dot"}),
    ):
        fig.add_trace(
            go.Scatter(
                x=lines.index, y=lines[col].to_numpy(), name=esc(name), mode="lines", line=style
            )
        )
    br = part[part["breach"].astype(bool)]
    fig.add_trace(
        go.Scatter(
            x=br.index, y=br["realized_return"].to_numpy(), name="breach", mode="markers",
            marker={"symbol": "x", "size": 9, "color": "#c0392b"},
        )
    )  # fmt: skip
    n, x = len(part), len(br)
    title = f"{what}: {x} breaches in {n} non-overlapping windows ({n * (1 - level):.1f} expected)"
    fig = _layout(fig, esc(title), height=360, ytitle="return over the horizon (%)")
    fig.update_yaxes(tickformat=".0%")
    return fig


_SUMMARY_COLUMNS = [
    "horizon", "level", "target", "windows", "breaches", "expected", "kupiec_p", "power",
    "christoffersen_p", "christoffersen_power", "conditional_coverage_p",
    "conditional_coverage_power", "zone", "traffic_light_power", "cvar_p", "dar_breaches",
    "dar_kupiec_p",
]  # fmt: skip


def risk_sections(evaluation: RiskEvaluation) -> list[tuple[str, object, str]]:
    """Report sections of an evaluation: the verdict table, one figure per horizon, and the
    breaches (only the breached windows, so the table stays short).

    Returns ``(title, content, note)`` tuples for ``render_html(..., extra_sections=...)``.
    """
    tabs = evaluation_tables(evaluation)
    hz, win = tabs["risk_horizons"], tabs["risk_windows"]
    out: list[tuple[str, object, str]] = []
    if hz.empty:
        return out
    summary = hz[[c for c in _SUMMARY_COLUMNS if c in hz]].round(3)  # verdicts: under each figure
    note = (
        "Each horizon's forecasts against what followed, on non-overlapping windows (1-period "
        "windows never overlap). Kupiec tests the breach rate; its power is the chance of "
        "detecting twice the expected rate with this many windows. The zone is the Basel "
        "traffic light (worst rolling 250-window for the 1-period series). cvar_p is the "
        "Acerbi-Szekely Z2 test of the CVaR; dar_* tests drawdown-at-risk against the realized "
        "maximum drawdown. Returns, negative = loss."
    )
    extra = [f"not tested: {s}" for s in evaluation.skipped]
    extra += [f"note: {s}" for s in evaluation.notes]
    out.append(("Risk forecasts by horizon", summary, note + (" " + " ".join(extra))))
    for h in evaluation.horizons:
        out.append(
            (
                f"{h.horizon}-period VaR{h.level * 100:g} against the realized return",
                evaluation_figure(win, h.horizon, h.level),
                h.verdict(),
            )
        )
    breaches = win[win["breach"].astype(bool) | win["dar_breach"].astype(bool)]
    cols = ["date", "horizon", "level", "var", "realized_return", "dar", "realized_mdd"]
    out.append(
        (
            "Breached windows",
            breaches[cols].reset_index(drop=True),
            "Only the windows whose return fell below the VaR or whose drawdown fell below the "
            "drawdown-at-risk.",
        )
    )
    return out
