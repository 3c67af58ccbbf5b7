"""Figures and display tables of the studies: the update-frequency study's costs against risk
and schedule table, the sensitivity tornado and tables, in the report's template
(:mod:`rwafolio.reports.theme`) with human column names. They draw, never compute."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from rwafolio.reports.figures import esc
from rwafolio.reports.theme import colour, styled

_RWA_ORDER = ("daily", "every2", "weekly", "monthly", "never")


def costs_risk_figure(table: pd.DataFrame) -> go.Figure:
    """Costs paid against realized volatility, one small multiple per stress setting.

    Parameters
    ----------
    table : DataFrame
        One row per schedule with ``crypto``, ``rwa``, ``stress_vix`` (NaN = no override),
        ``volatility``, ``costs_paid`` (fractions), ``sharpe`` and ``utility_lost``.

    Each marker is one schedule: colour = the crypto schedule, symbol = the RWA schedule, the
    label says both. Markers have one size; the utility lost is in the hover text and the table.
    """
    stressed = table[table["stress_vix"].notna()]
    level = ", ".join(f"{v:g}" for v in sorted(set(stressed["stress_vix"])))
    groups = [
        (name, t)
        for name, t in ((f"stress override (VIX > {level})", stressed),
                        ("no stress override", table[table["stress_vix"].isna()]))
        if len(t)
    ]  # fmt: skip
    fig = make_subplots(rows=1, cols=len(groups), shared_yaxes=True, horizontal_spacing=0.06,
                        subplot_titles=[g for g, _ in groups])  # fmt: skip
    cryptos = list(dict.fromkeys(table["crypto"].astype(str)))
    symbols = ("circle", "square", "diamond", "triangle-up", "x")
    rwas = sorted(
        set(table["rwa"].astype(str)), key=lambda s: _RWA_ORDER.index(s) if s in _RWA_ORDER else 99
    )
    for col, (_, t) in enumerate(groups, start=1):
        sides = _label_sides(t["volatility"], t["costs_paid"])
        for i, c in enumerate(cryptos):
            sub = t[t["crypto"].astype(str) == c]
            if sub.empty:
                continue
            fig.add_trace(
                go.Scatter(
                    x=sub["volatility"], y=sub["costs_paid"], mode="markers+text",
                    name=esc(f"crypto {c}"), legendgroup=c, showlegend=col == 1,
                    text=[esc(f"rwa {r}") for r in sub["rwa"]],
                    textposition=[sides[k] for k in sub.index],
                    textfont={"size": 11, "color": colour(i)},
                    marker={"size": 11, "color": colour(i),
                            "symbol": [symbols[rwas.index(str(r)) % len(symbols)] for r in sub["rwa"]],
                            "line": {"width": 1, "color": "#ffffff"}},
                    customdata=np.c_[sub["sharpe"], sub["utility_lost"]],
                    hovertemplate=f"crypto {esc(c)} / " + "%{text}<br>volatility %{x:.1%}<br>"
                    "costs paid %{y:.1%}<br>Sharpe %{customdata[0]:.2f}<br>utility lost "
                    "%{customdata[1]:.4f} per year<extra></extra>",
                ),
                row=1, col=col,
            )  # fmt: skip
        fig.update_xaxes(title_text="realized volatility (annualized %)", tickformat=".0%",
                         row=1, col=col)  # fmt: skip
    lo_x, hi_x = float(table["volatility"].min()), float(table["volatility"].max())
    pad = 0.08 * max(hi_x - lo_x, 0.01)
    fig.update_xaxes(range=[lo_x - pad, hi_x + 3 * pad])
    hi_y = float(table["costs_paid"].max())
    fig.update_yaxes(range=[0.0, hi_y * 1.1 + 1e-4], tickformat=".0%")
    fig.update_yaxes(title_text="costs paid (% of value, whole period)", row=1, col=1)
    styled(fig, "Costs paid against realized risk, one marker per update schedule", height=520,
           hover="closest")  # fmt: skip
    fig.update_layout(margin={"t": 96})
    fig.update_annotations(yshift=6, font={"size": 13})
    return fig


def _label_sides(x: pd.Series, y: pd.Series) -> dict[Any, str]:
    """Each marker's label goes right of it; when another marker sits close to that side, the
    label moves below it (the neighbour is higher) or above it (the neighbour is lower)."""
    span_x = max(float(x.max() - x.min()), 1e-12)
    span_y = max(float(y.max() - y.min()), 1e-12)
    sides = {}
    for k in x.index:
        dx, dy = (x - x[k]) / span_x, (y - y[k]) / span_y
        near = (dx.between(0.0, 0.2, inclusive="right") & (dy.abs() < 0.06)).drop(k)
        if not near.any():
            sides[k] = "middle right"
        else:
            sides[k] = "bottom right" if float(dy[near[near].index].mean()) >= 0 else "top right"
    return sides


def tornado_figure(ranking: pd.DataFrame, top: int = 12, title: str = "") -> go.Figure:
    """Tornado chart: the change in portfolio volatility for a -1 and +1 typical move of each
    input, for the ``top`` inputs by the turnover the move causes (inputs whose move changes
    nothing are left out). The turnover is part of each row's label."""
    r = ranking[(ranking["drisk_up"].abs() > 1e-12) | (ranking["drisk_down"].abs() > 1e-12)
                | (ranking["turnover"] > 1e-9)]  # fmt: skip
    r = r.dropna(subset=["drisk_up", "drisk_down"]).head(top).iloc[::-1]
    labels = [esc(f"{i}  (turnover {t:.0%})") for i, t in zip(r["input"], r["turnover"])]
    fig = go.Figure()
    fig.add_bar(y=labels, x=r["drisk_down"], orientation="h", name="-1 typical move",
                marker_color=colour(0), hovertemplate="%{y}: %{x:+.2%}<extra>-1 move</extra>")  # fmt: skip
    fig.add_bar(y=labels, x=r["drisk_up"], orientation="h", name="+1 typical move",
                marker_color=colour(1), hovertemplate="%{y}: %{x:+.2%}<extra>+1 move</extra>")  # fmt: skip
    fig.add_vline(x=0.0, line={"color": "#8a96a3", "width": 1})
    fig.update_layout(barmode="overlay", bargap=0.25)
    fig.update_xaxes(tickformat="+.1%", title_text="change in the portfolio's volatility "
                     "(annualized, percentage points)")  # fmt: skip
    fig.update_yaxes(type="category", title_text="input (turnover the move causes)", showgrid=False)
    return styled(fig, title or "What moves the allocation (top inputs by turnover)",
                  height=max(320, 30 * len(r) + 150), hover="closest")  # fmt: skip


#: Human names of the frequency table's columns, in display order (column -> label, scale).
_SCHEDULE_COLUMNS: dict[str, tuple[str, float]] = {
    "turnover_per_year": ("Turnover per year (x value)", 1.0),
    "costs_paid": ("Costs paid (%)", 100.0),
    "volatility": ("Volatility (%, annualized)", 100.0),
    "sharpe": ("Sharpe ratio", 1.0),
    "max_drawdown": ("Max drawdown (%)", 100.0),
    "total_return": ("Total return (%)", 100.0),
    "n_trades": ("Trades", 1.0),
    "utility_lost": ("Utility lost (% per year)", 100.0),
    "off_optimum_share": ("Dates off the optimum (%)", 100.0),
    "breaches_95": ("VaR 95% breaches", 1.0),
    "breaches_99": ("VaR 99% breaches", 1.0),
}


def schedule_table(table: pd.DataFrame) -> pd.DataFrame:
    """The study's table for display: one row per schedule, human column names, percent in %."""
    out = pd.DataFrame(index=pd.Index(
        [f"crypto {c} / RWA {r}" for c, r in zip(table["crypto"], table["rwa"])], name="Schedule"))  # fmt: skip
    out["Stress override"] = ["none" if pd.isna(v) else f"VIX > {v:g}" for v in table["stress_vix"]]
    for col, (label, scale) in _SCHEDULE_COLUMNS.items():
        if col in table:
            out[label] = (table[col].to_numpy(dtype=float) * scale).round(2)
    return out


#: Display names of the sensitivity tables' columns (column -> label, scale to apply).
_SHOWN: dict[str, tuple[str, float]] = {
    "kind": ("Kind", 0.0), "move": ("Typical move", 1.0),
    "turnover": ("Turnover (%)", 100.0), "turnover_up": ("Turnover, +1 move (%)", 100.0),
    "turnover_down": ("Turnover, -1 move (%)", 100.0),
    "drisk_up": ("Volatility change, +1 move (pp)", 100.0),
    "drisk_down": ("Volatility change, -1 move (pp)", 100.0),
    "drisk_weights_up": ("Of which from the weights (pp)", 100.0),
    "differentiable": ("Differentiable", 0.0), "rank": ("Rank", 1.0),
    "turnover_calm": ("Turnover, calm (%)", 100.0), "turnover_stress": ("Turnover, stress (%)", 100.0),
    "rank_calm": ("Mean rank, calm", 1.0), "rank_stress": ("Mean rank, stress", 1.0),
    "top5_share_calm": ("In the top five, calm (% of dates)", 100.0),
    "top5_share_stress": ("In the top five, stress (% of dates)", 100.0),
    "mean": ("Expected returns (%)", 100.0), "vol": ("Volatilities (%)", 100.0),
    "corr": ("Correlations (%)", 100.0), "vix": ("VIX (%)", 100.0), "n_dates": ("Dates", 1.0),
}  # fmt: skip


def sensitivity_table(table: pd.DataFrame) -> pd.DataFrame:
    """A sensitivity table for the report: human column names, shares in percent, 2 decimals."""
    out = pd.DataFrame(index=table.index.rename(str(table.index.name or "").capitalize() or None))
    for col in table.columns:
        label, scale = _SHOWN.get(str(col), (str(col), 1.0))
        v = table[col]
        out[label] = (
            v if scale == 0.0 or not pd.api.types.is_numeric_dtype(v) else (v * scale).round(2)
        )
    return out
