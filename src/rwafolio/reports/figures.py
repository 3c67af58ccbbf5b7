"""Plotly figures of the performance and allocation sections, drawn from plain tables.

Every function takes the tables of a :class:`~rwafolio.reports.record.RunRecord` (never a live
result), so a fresh run and a re-rendered saved run draw the same charts. User text (symbols,
run names) is HTML-escaped before plotly sees it: plotly interprets a few tags in text.

Long daily series are down-sampled for display only (:func:`downsample`): beyond
``DOWNSAMPLE_YEARS`` years, one point per week, keeping what the eye needs (the last level of
each week; the deepest drawdown of each week; the highest volatility index of each week; the
week's total turnover). Statistics are always computed on the full daily data.
"""

from __future__ import annotations

import html
from typing import Literal

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

#: Series spanning more than this many years are plotted weekly.
DOWNSAMPLE_YEARS = 3.0

#: Colours by position: strategy first, then benchmarks.
PALETTE = (
    "#1f4e9c", "#d9822b", "#2a9d8f", "#8e44ad", "#7f8c8d", "#c0392b", "#16a085", "#b7950b",
)  # fmt: skip

Agg = Literal["last", "min", "max", "sum", "mean"]


def esc(text: object) -> str:
    """Text as plotly should show it literally (its labels accept a subset of HTML)."""
    return html.escape(str(text), quote=False)


def needs_downsampling(index: pd.Index) -> bool:
    """True for a DatetimeIndex spanning more than :data:`DOWNSAMPLE_YEARS` years."""
    if not isinstance(index, pd.DatetimeIndex) or len(index) < 2:
        return False
    span = (index[-1] - index[0]).days / 365.25
    return span > DOWNSAMPLE_YEARS and len(index) / max(span * 52.0, 1.0) > 1.5


def downsample(frame: pd.DataFrame | pd.Series, how: Agg = "last") -> pd.DataFrame | pd.Series:
    """One point per week (labelled by the week's last date present) when the series is long.

    Parameters
    ----------
    frame : DataFrame or Series indexed by date
    how : {"last", "min", "max", "sum", "mean"}
        Aggregate of each week. The final date is always kept.
    """
    if not needs_downsampling(frame.index):
        return frame
    idx = pd.DatetimeIndex(frame.index)
    week = idx.to_period("W-SUN")
    grouped = frame.groupby(week)
    out = getattr(grouped, how)()
    last_dates = pd.Series(idx, index=idx).groupby(week).max()
    out.index = pd.DatetimeIndex(last_dates.reindex(out.index).to_numpy())
    out.index.name = frame.index.name
    return out


def _layout(fig: go.Figure, title: str, *, height: int = 420, ytitle: str = "") -> go.Figure:
    fig.update_layout(
        title={"text": title, "x": 0.01, "xanchor": "left"},
        height=height,
        margin={"l": 60, "r": 30, "t": 60, "b": 40},
        template="plotly_white",
        hovermode="x unified",
        legend={"orientation": "h", "y": -0.15},
        font={"family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", "size": 12},
    )
    if ytitle:
        fig.update_yaxes(title_text=ytitle)
    return fig


def colour(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def drawdowns(values: pd.DataFrame) -> pd.DataFrame:
    """Running drawdown ``V_t / max_{s<=t} V_s - 1`` of each column (<= 0), on the full data."""
    v = values.to_numpy(dtype=float)
    peak = np.fmax.accumulate(v, axis=0)
    return pd.DataFrame(v / peak - 1.0, index=values.index, columns=values.columns)


def equity_figure(values: pd.DataFrame, live_from: str | None = None) -> go.Figure:
    """Equity curves of the strategy and its benchmarks on a log scale (value / initial)."""
    v = values.loc[live_from:] if live_from else values  # type: ignore[misc]
    v = v / v.iloc[0]
    shown = downsample(v, "last")
    fig = go.Figure()
    for i, name in enumerate(shown.columns):
        fig.add_trace(
            go.Scatter(
                x=shown.index, y=shown[name].to_numpy(), name=esc(name), mode="lines",
                line={"color": colour(i), "width": 2.4 if i == 0 else 1.4},
            )
        )  # fmt: skip
    fig.update_yaxes(type="log")
    return _layout(fig, "Equity (growth of 1, log scale)", ytitle="value")


def underwater_figure(values: pd.DataFrame, live_from: str | None = None) -> go.Figure:
    """Running drawdown of each run (the deepest point of each week when down-sampled)."""
    v = values.loc[live_from:] if live_from else values  # type: ignore[misc]
    dd = downsample(drawdowns(v), "min")
    fig = go.Figure()
    for i, name in enumerate(dd.columns):
        fig.add_trace(
            go.Scatter(
                x=dd.index, y=dd[name].to_numpy(), name=esc(name), mode="lines",
                fill="tozeroy" if i == 0 else None, fillcolor="rgba(31, 78, 156, 0.15)",
                line={"color": colour(i), "width": 1.8 if i == 0 else 1.1},
            )
        )  # fmt: skip
    fig.update_yaxes(tickformat=".0%")
    return _layout(fig, "Underwater: drawdown from the running peak", ytitle="drawdown")


def weights_figure(weights: pd.DataFrame, live_from: str | None = None) -> go.Figure:
    """Weights held after trading, stacked, with cash as the remainder (sums to 1)."""
    w = weights.loc[live_from:] if live_from else weights  # type: ignore[misc]
    w = w.copy()
    w["cash"] = (1.0 - w.sum(axis=1)).clip(lower=0.0)
    shown = downsample(w, "last")
    fig = go.Figure()
    for i, name in enumerate(shown.columns):
        fig.add_trace(
            go.Scatter(
                x=shown.index, y=shown[name].to_numpy(), name=esc(name), mode="lines",
                stackgroup="w", line={"width": 0.5, "color": "#cccccc" if name == "cash" else colour(i)},
            )
        )  # fmt: skip
    fig.update_yaxes(tickformat=".0%", range=[0, 1])
    return _layout(fig, "Weights held after trading (stacked; cash on top)", ytitle="weight")


def lam_vix_figure(decisions: pd.DataFrame, vix: pd.Series | None) -> go.Figure | None:
    """lam_t (left axis) next to VIX_t (right axis). None when the run has no lam path."""
    lam = decisions["lam"].astype(float) if "lam" in decisions else pd.Series(dtype=float)
    lam = lam[np.isfinite(lam.to_numpy())]
    if lam.empty:
        return None
    seen = decisions["vix"].astype(float) if "vix" in decisions else pd.Series(dtype=float)
    seen = seen[np.isfinite(seen.to_numpy())]
    index_series = seen if not seen.empty else vix
    has_index = index_series is not None and not index_series.empty
    fig = make_subplots(
        rows=2 if has_index else 1, cols=1, shared_xaxes=True, vertical_spacing=0.08
    )
    lam_s = downsample(lam, "max")
    fig.add_trace(
        go.Scatter(x=lam_s.index, y=lam_s.to_numpy(), name="lam_t", mode="lines",
                   line={"color": colour(0), "width": 1.8}),
        row=1, col=1,
    )  # fmt: skip
    fig.update_yaxes(title_text="lam_t", row=1, col=1)
    if has_index:
        assert index_series is not None
        vix_s = downsample(index_series.astype(float), "max")
        fig.add_trace(
            go.Scatter(x=vix_s.index, y=vix_s.to_numpy(), name="VIX_t", mode="lines",
                       line={"color": colour(5), "width": 1.3}),
            row=2, col=1,
        )  # fmt: skip
        fig.update_yaxes(title_text="VIX_t", row=2, col=1)
    return _layout(
        fig, "Risk aversion lam_t (top) next to the volatility index VIX_t (bottom)", height=480
    )


def turnover_costs_figure(flows: pd.DataFrame, live_from: str | None = None) -> go.Figure:
    """Turnover per period (bars, weekly totals when down-sampled) and cumulative costs."""
    f = flows.loc[live_from:] if live_from else flows  # type: ignore[misc]
    fees = f["fees"] if "fees" in f else f["costs"]  # runs saved before the rename say "costs"
    cum = 1.0 - np.cumprod(1.0 - fees.to_numpy(dtype=float))
    cum_s = downsample(pd.Series(cum, index=f.index), "last")
    turn = downsample(f["turnover"].astype(float), "sum")
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(
        go.Bar(
            x=turn.index, y=turn.to_numpy(), name="turnover", marker_color=colour(0),
            marker_line_width=0, opacity=0.85,
        ),
        secondary_y=False,
    )  # fmt: skip
    fig.add_trace(
        go.Scatter(x=cum_s.index, y=cum_s.to_numpy(), name="cumulative costs", mode="lines",
                   line={"color": colour(5), "width": 2}),
        secondary_y=True,
    )  # fmt: skip
    per = "week" if needs_downsampling(f.index) else "period"
    fig.update_layout(bargap=0)
    fig.update_yaxes(rangemode="tozero")
    fig.update_yaxes(title_text=f"turnover per {per}", tickformat=".0%", secondary_y=False)
    fig.update_yaxes(title_text="costs paid (cumulative)", tickformat=".2%", secondary_y=True,
                     showgrid=False)  # fmt: skip
    return _layout(fig, "Turnover and cumulative trading costs")
