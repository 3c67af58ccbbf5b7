"""Plotly figures of the tearsheet: monthly-returns heatmap, yearly returns, rolling Sharpe and
volatility, and the return distribution. The numbers come from
:mod:`rwafolio.backtest.tearsheet_stats`; these functions only draw them."""

from __future__ import annotations

import calendar

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from rwafolio.backtest import tearsheet_stats as ts
from rwafolio.reports.figures import downsample, esc
from rwafolio.reports.theme import DIVERGING, colour, styled


def monthly_heatmap_figure(returns: pd.Series, name: str) -> go.Figure:
    """Compounded return of each calendar month (rows: years, columns: months), in %."""
    table = ts.monthly_returns(returns)
    z = table.to_numpy()
    bound = float(np.nanmax(np.abs(z))) if np.isfinite(z).any() else 0.1
    text = [[("" if not np.isfinite(v) else f"{v:+.1%}") for v in row] for row in z]
    fig = go.Figure(
        go.Heatmap(
            z=z, x=[calendar.month_abbr[int(m)] for m in table.columns], y=[str(y) for y in table.index],
            zmin=-bound, zmax=bound, zmid=0.0, colorscale=DIVERGING, text=text,
            texttemplate="%{text}", textfont={"size": 11},
            colorbar={"title": {"text": "return"}, "tickformat": ".0%"},
            hovertemplate="%{y} %{x}: %{z:.2%}<extra></extra>", xgap=2, ygap=2,
        )
    )  # fmt: skip
    fig.update_yaxes(autorange="reversed", type="category", showgrid=False, ticks="")
    fig.update_xaxes(showgrid=False, ticks="")
    return styled(fig, f"Monthly returns of {esc(name)} (compounded, %)",
                  height=max(240, 34 * len(table) + 130), xtitle="month", ytitle="year",
                  hover="closest")  # fmt: skip


def yearly_figure(returns: pd.DataFrame) -> go.Figure:
    """Compounded return of each calendar year, one bar per run."""
    fig = go.Figure()
    for i, name in enumerate(returns.columns):
        y = ts.yearly_returns(returns[name])
        fig.add_trace(
            go.Bar(x=[str(v) for v in y.index], y=y.to_numpy(), name=esc(name),
                   marker_color=colour(i), hovertemplate="%{x}: %{y:.1%}<extra>" + esc(name) + "</extra>")
        )  # fmt: skip
    fig.update_yaxes(tickformat=".0%")
    fig.update_xaxes(type="category")
    first, last = returns.index[0], returns.index[-1]
    return styled(fig, f"Yearly returns (first year from {first:%Y-%m-%d}, last to {last:%Y-%m-%d})",
                  xtitle="calendar year", ytitle="return in the year (%)", hover="closest")  # fmt: skip


def rolling_window(n_periods: int, periods_per_year: int) -> int:
    """Half a year of periods, shortened to a quarter of the data on short runs (>= 20)."""
    return int(max(20, min(periods_per_year // 2, n_periods // 4)))


def rolling_figure(
    returns: pd.DataFrame, periods_per_year: int, window: int, kind: str
) -> go.Figure:
    """Rolling Sharpe ratio (``kind="sharpe"``) or rolling volatility (``"volatility"``)."""
    fn = ts.rolling_sharpe if kind == "sharpe" else ts.rolling_volatility
    fig = go.Figure()
    for i, name in enumerate(returns.columns):
        s = downsample(fn(returns[name], window, periods_per_year).dropna(), "last")
        fig.add_trace(
            go.Scatter(x=s.index, y=s.to_numpy(), name=esc(name), mode="lines",
                       line={"color": colour(i), "width": 2.2 if i == 0 else 1.2})
        )  # fmt: skip
    if kind == "sharpe":
        fig.add_hline(y=0.0, line={"color": "#8a96a3", "width": 1})
        return styled(fig, f"Rolling Sharpe ratio ({window}-period window, annualized)",
                      xtitle="date (window end)", ytitle="Sharpe ratio (annualized, rf = 0)")  # fmt: skip
    fig.update_yaxes(tickformat=".0%", rangemode="tozero")
    return styled(fig, f"Rolling volatility ({window}-period window, annualized)",
                  xtitle="date (window end)", ytitle="volatility (annualized %)")  # fmt: skip


def distribution_figure(returns: pd.Series, name: str, bins: int = 70) -> go.Figure:
    """Histogram of per-period returns with the normal density of the same mean and std."""
    r = returns.to_numpy(dtype=float)
    d = ts.return_distribution(returns)
    lo, hi = np.quantile(r, [0.001, 0.999])
    edges = np.linspace(lo, hi, bins + 1)
    counts, _ = np.histogram(np.clip(r, lo, hi), bins=edges)
    centres = 0.5 * (edges[1:] + edges[:-1])
    share = counts / counts.sum()
    fig = go.Figure()
    fig.add_trace(
        go.Bar(x=centres, y=share, name=f"{esc(name)}: share of periods", marker_color=colour(0),
               marker_line_width=0, opacity=0.85,
               hovertemplate="return %{x:.2%}: %{y:.2%} of periods<extra></extra>")
    )  # fmt: skip
    if d["std"] > 0:
        width = edges[1] - edges[0]
        dens = np.exp(-0.5 * ((centres - d["mean"]) / d["std"]) ** 2) / (
            d["std"] * np.sqrt(2 * np.pi)
        )
        fig.add_trace(
            go.Scatter(x=centres, y=dens * width, name="normal, same mean and std", mode="lines",
                       line={"color": colour(5), "width": 1.6, "dash": "dot"}, hoverinfo="skip")
        )  # fmt: skip
    fig.update_layout(bargap=0.02)
    fig.update_xaxes(tickformat=".1%")
    fig.update_yaxes(tickformat=".1%")
    title = (f"Distribution of period returns: skew {d['skew']:.2f}, excess kurtosis "
             f"{d['kurtosis']:.2f}")  # fmt: skip
    return styled(fig, title, xtitle="return over one period (%)", ytitle="share of periods (%)",
                  hover="closest")  # fmt: skip
