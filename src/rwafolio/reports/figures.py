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

from rwafolio.reports.theme import PALETTE, colour, styled

__all__ = ["PALETTE", "colour"]

#: Series spanning more than this many years are plotted weekly.
DOWNSAMPLE_YEARS = 3.0

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
    return styled(fig, title, height=height, ytitle=ytitle or None)


def log_ticks(lo: float, hi: float) -> list[float]:
    """Readable tick values for a log axis spanning [lo, hi] (growth of 1: 0.5, 0.8, 1, 2, ...).

    Steps of 1-2-5 per decade on wide ranges, finer (1, 1.2, 1.5, 2, 3, 4, 5, 6, 8) on narrow
    ones, so values below 1 get labels such as 0.8 rather than plotly's bare minor digits.
    """
    lo, hi = max(lo, 1e-6), max(hi, lo * 1.0001)
    decades = np.log10(hi / lo)
    mantissas: tuple[float, ...] = (1, 2, 5) if decades > 1.5 else (1, 1.5, 2, 3, 5, 7)
    if decades < 0.6:
        mantissas = (1, 1.2, 1.4, 1.6, 1.8, 2, 2.5, 3, 4, 5, 6, 7, 8, 9)
    if decades < 0.25:
        mantissas = tuple(np.round(np.arange(1.0, 10.0, 0.1), 1))
    out = []
    for e in range(int(np.floor(np.log10(lo))) - 1, int(np.ceil(np.log10(hi))) + 1):
        for m in mantissas:
            v = round(float(m) * 10.0**e, 10)
            if lo * 0.98 <= v <= hi * 1.02:
                out.append(v)
    return out


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
    ticks = log_ticks(float(np.nanmin(shown.to_numpy())), float(np.nanmax(shown.to_numpy())))
    fig.update_yaxes(type="log", tickvals=ticks, ticktext=[f"{t:g}" for t in ticks])
    return styled(fig, "Equity: growth of 1 invested at the first decision (log scale)",
                  ytitle="value (multiple of the start, log scale)", xtitle="date")  # fmt: skip


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
    return styled(fig, "Underwater: drawdown from the running peak",
                  ytitle="drawdown from peak (%)", xtitle="date")  # fmt: skip


def weights_figure(weights: pd.DataFrame, live_from: str | None = None) -> go.Figure:
    """Weights held after trading as a heatmap: one row per asset (cash last), colour = weight.

    Long runs show each week's mean weight.
    """
    w = weights.loc[live_from:] if live_from else weights  # type: ignore[misc]
    w = w.copy()
    w["cash"] = (1.0 - w.sum(axis=1)).clip(lower=0.0)
    shown = downsample(w, "mean")
    names = [esc(c) for c in shown.columns]
    fig = go.Figure(
        go.Heatmap(
            x=shown.index, y=names, z=shown.to_numpy().T, zmin=0.0, zmax=1.0,
            colorscale=[[0.0, "#ffffff"], [0.15, "#d6e2f3"], [1.0, "#1f4e9c"]],
            colorbar={"title": {"text": "weight"}, "tickformat": ".0%", "len": 0.9},
            hovertemplate="%{y}<br>%{x|%Y-%m-%d}<br>weight %{z:.1%}<extra></extra>",
            xgap=0, ygap=2,
        )
    )  # fmt: skip
    fig.update_yaxes(autorange="reversed", showgrid=False, ticks="")
    fig.update_xaxes(showgrid=False)
    per = "weekly mean" if needs_downsampling(w.index) else "daily"
    return styled(fig, f"Weights held after trading, one row per asset ({per}; darker = more)",
                  height=max(260, 46 * len(names) + 110), xtitle="date", ytitle="asset",
                  hover="closest")  # fmt: skip


def allocation_summary(weights: pd.DataFrame, live_from: str | None = None) -> pd.DataFrame:
    """Per asset (and cash): average weight, share of dates held (weight > 0.1%), min, max."""
    w = weights.loc[live_from:] if live_from else weights  # type: ignore[misc]
    w = w.astype(float).copy()
    w["cash"] = (1.0 - w.sum(axis=1)).clip(lower=0.0)
    return pd.DataFrame(
        {
            "average": w.mean(),
            "held": (w > 1e-3).mean(),
            "min": w.min(),
            "max": w.max(),
            "last": w.iloc[-1],
        }
    )


def _affine_fit(x: np.ndarray, y: np.ndarray) -> tuple[float, float] | None:
    """(a, b) with y = a + b x to 1e-6 relative, or None when y is not affine in x."""
    if len(x) < 2 or np.ptp(x) == 0:
        return None
    b, a = np.polyfit(x, y, 1)
    if np.max(np.abs(a + b * x - y)) > 1e-6 * max(1.0, float(np.max(np.abs(y)))):
        return None
    return float(a), float(b)


def lam_vix_figure(
    decisions: pd.DataFrame, vix: pd.Series | None, stress: float | None = None
) -> go.Figure | None:
    """VIX_t and lam_t in one chart: the index on the left axis, lam_t on the right.

    When lam_t is affine in VIX_t (the default rule), the right axis is the left one mapped
    through that rule, so one line is read on either axis. The stress level (every open asset
    may trade) is a dashed horizontal line. None when the run has no lam path.
    """
    lam = decisions["lam"].astype(float) if "lam" in decisions else pd.Series(dtype=float)
    lam = lam[np.isfinite(lam.to_numpy())]
    if lam.empty:
        return None
    seen = decisions["vix"].astype(float) if "vix" in decisions else pd.Series(dtype=float)
    seen = seen.reindex(lam.index)
    ok = np.isfinite(seen.to_numpy())
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    lam_s = downsample(lam, "max")
    if not ok.any():
        fig.add_trace(go.Scatter(x=lam_s.index, y=lam_s.to_numpy(), name="lam_t", mode="lines",
                                 line={"color": colour(0), "width": 1.8}))  # fmt: skip
        return styled(fig, "Risk aversion lam_t", xtitle="date", ytitle="lam_t (unit-free)")
    vix_s = downsample(seen[ok], "max")
    fit = _affine_fit(seen[ok].to_numpy(), lam[ok].to_numpy())
    fig.add_trace(
        go.Scatter(x=vix_s.index, y=vix_s.to_numpy(), mode="lines", line={"color": colour(0), "width": 1.6},
                   name="VIX_t (left axis)" + (" = lam_t (right axis)" if fit else ""),
                   customdata=lam_s.reindex(vix_s.index).to_numpy(),
                   hovertemplate="VIX %{y:.1f}<br>lam %{customdata:.3f}<extra></extra>"),
        secondary_y=False,
    )  # fmt: skip
    lo = float(min(np.min(vix_s.to_numpy()), stress if stress is not None else np.inf)) * 0.95
    hi = float(max(np.max(vix_s.to_numpy()), stress if stress is not None else -np.inf)) * 1.05
    fig.update_yaxes(range=[lo, hi], title_text="volatility index VIX_t (annualized %)",
                     secondary_y=False)  # fmt: skip
    if fit is not None:
        a, b = fit
        fig.add_trace(go.Scatter(x=[vix_s.index[0]], y=[a + b * lo], mode="markers",
                                 marker={"opacity": 0}, showlegend=False, hoverinfo="skip"),
                      secondary_y=True)  # fmt: skip
        fig.update_yaxes(range=[a + b * lo, a + b * hi], showgrid=False, secondary_y=True,
                         title_text="risk aversion lam_t = lam0 (1 + eta VIX_t)")  # fmt: skip
    else:
        fig.add_trace(go.Scatter(x=lam_s.index, y=lam_s.to_numpy(), name="lam_t (right axis)",
                                 mode="lines", line={"color": colour(1), "width": 1.3}),
                      secondary_y=True)  # fmt: skip
        fig.update_yaxes(showgrid=False, secondary_y=True, title_text="risk aversion lam_t")
    if stress is not None and np.isfinite(stress):
        fig.add_hline(y=stress, line={"color": "#b03a2e", "dash": "dash", "width": 1.2},
                      annotation_text=f"stress level {stress:g}: every open asset may trade",
                      annotation_position="top left", annotation_font_color="#b03a2e")  # fmt: skip
    return styled(fig, "Volatility index VIX_t and the risk aversion lam_t it sets",
                  xtitle="date", height=440)  # fmt: skip


def turnover_costs_figure(flows: pd.DataFrame, live_from: str | None = None) -> go.Figure:
    """Turnover per period (bars, weekly totals when down-sampled, top) and cumulative costs
    paid (bottom), each on its own axis."""
    f = flows.loc[live_from:] if live_from else flows  # type: ignore[misc]
    fees = f["fees"] if "fees" in f else f["costs"]  # runs saved before the rename say "costs"
    cum = 1.0 - np.cumprod(1.0 - fees.to_numpy(dtype=float))
    cum_s = downsample(pd.Series(cum, index=f.index), "last")
    turn = downsample(f["turnover"].astype(float), "sum")
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.1,
                        row_heights=[0.6, 0.4])  # fmt: skip
    step = (
        np.median(np.diff(turn.index.to_numpy()).astype("timedelta64[ms]").astype(float))
        if len(turn) > 1
        else 8.64e7
    )
    fig.add_trace(
        go.Bar(x=turn.index, y=turn.to_numpy(), name="turnover", marker_color=colour(0),
               width=0.9 * float(step),
               marker_line_width=0, hovertemplate="%{x|%Y-%m-%d}: %{y:.1%}<extra></extra>"),
        row=1, col=1,
    )  # fmt: skip
    fig.add_trace(
        go.Scatter(x=cum_s.index, y=cum_s.to_numpy(), name="costs paid so far", mode="lines",
                   line={"color": colour(5), "width": 2}, fill="tozeroy",
                   fillcolor="rgba(192, 57, 43, 0.10)",
                   hovertemplate="%{x|%Y-%m-%d}: %{y:.2%}<extra></extra>"),
        row=2, col=1,
    )  # fmt: skip
    per = "week" if needs_downsampling(f.index) else "period"
    fig.update_layout(bargap=0.05)
    fig.update_yaxes(rangemode="tozero", tickformat=".0%", nticks=6)
    fig.update_yaxes(title_text=f"traded per {per} (% of value)", row=1, col=1)
    fig.update_yaxes(title_text="costs paid (% of value)", tickformat=".1%", row=2, col=1)
    fig.update_xaxes(title_text="date", row=2, col=1)
    return styled(fig, "Turnover and cumulative trading costs", height=500, hover="closest")
