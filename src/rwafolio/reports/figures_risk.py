"""Plotly figures of the risk sections: forecasts against reality, the scenario view, crowding
and the walk-forward curve, drawn from plain tables.

Sign convention (as in :mod:`rwafolio.risk`): every risk number is a return over the horizon,
negative = loss; drawdowns are <= 0.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from rwafolio.reports.figures import colour, downsample, esc, log_ticks
from rwafolio.reports.theme import styled


def level_label(level: float) -> str:
    """Column suffix of a level in the rolling table: 0.95 -> "95", 0.995 -> "99.5"."""
    return f"{level * 100:.10g}"


def breach_frame(forecasts: pd.DataFrame, level: float, kind: str = "var") -> pd.DataFrame:
    """Complete forecasts whose outcome fell below the forecast (realized < VaR or DaR).

    Columns: ``forecast``, ``realized``, ``sampled`` (counted by the backtests).
    """
    lab = level_label(level)
    realized = "realized_return" if kind == "var" else "realized_mdd"
    t = forecasts[forecasts["complete"].astype(bool) & forecasts["forecast_ok"].astype(bool)]
    hit = t[realized] < t[f"{kind}_{lab}"]
    b = t.loc[hit.to_numpy()]
    return pd.DataFrame(
        {
            "forecast": b[f"{kind}_{lab}"],
            "realized": b[realized],
            "sampled": b["sampled"].astype(bool),
        },
        index=b.index,
    )


def _breach_traces(fig: go.Figure, br: pd.DataFrame, what: str) -> None:
    for sampled, name, symbol in (
        (True, f"breach of the {what} (counted by the tests)", "x"),
        (False, "breach in an overlapping window (not counted)", "circle-open"),
    ):
        part = br[br["sampled"] == sampled]
        if part.empty:
            continue
        fig.add_trace(
            go.Scatter(
                x=part.index, y=part["realized"].to_numpy(), name=name, mode="markers",
                marker={"symbol": symbol, "size": 10 if sampled else 5, "color": "#c0392b",
                        "opacity": 1.0 if sampled else 0.55,
                        "line": {"width": 2 if sampled else 1, "color": "#c0392b"}},
                hovertemplate="%{x|%Y-%m-%d}: realized %{y:.2%}<extra></extra>",
            )
        )  # fmt: skip


def _lv(level: float) -> str:
    return f"{level:.1%}".replace(".0%", "%")


def var_figure(forecasts: pd.DataFrame, levels: list[float], horizon: int) -> go.Figure:
    """Realized H-period returns against the forecast VaR band, breaches marked.

    The band runs from the VaR at ``levels[0]`` down to the VaR at ``levels[-1]``. Each point
    sits at the forecast date t; the realized return is ``V_{t+H} / V_t - 1``.
    """
    done = forecasts[forecasts["complete"].astype(bool)]
    main, deep = levels[0], levels[-1]
    cols = list(dict.fromkeys(["realized_return", f"var_{level_label(main)}",
                               f"var_{level_label(deep)}"]))  # fmt: skip
    shown = downsample(done[cols].astype(float), "last")
    fig = go.Figure()
    upper = shown[f"var_{level_label(main)}"].to_numpy()
    fig.add_trace(
        go.Scatter(x=shown.index, y=upper, name=f"VaR {_lv(main)}", mode="lines",
                   line={"color": colour(1), "width": 1.4},
                   hovertemplate="VaR " + _lv(main) + ": %{y:.2%}<extra></extra>")
    )  # fmt: skip
    if deep != main:
        fig.add_trace(
            go.Scatter(x=shown.index, y=shown[f"var_{level_label(deep)}"].to_numpy(),
                       name=f"VaR {_lv(deep)} (band between the two)", mode="lines",
                       line={"color": colour(1), "width": 0.8, "dash": "dot"}, fill="tonexty",
                       fillcolor="rgba(217, 130, 43, 0.18)",
                       hovertemplate="VaR " + _lv(deep) + ": %{y:.2%}<extra></extra>")
        )  # fmt: skip
    fig.add_trace(
        go.Scatter(x=shown.index, y=shown["realized_return"].to_numpy(),
                   name=f"realized {horizon}-period return", mode="lines",
                   line={"color": colour(0), "width": 1.3},
                   hovertemplate="%{x|%Y-%m-%d}: realized %{y:.2%}<extra></extra>")
    )  # fmt: skip
    _breach_traces(fig, breach_frame(forecasts, main), f"VaR {_lv(main)}")
    fig.update_yaxes(tickformat=".0%")
    return styled(fig, f"Realized {horizon}-period returns against the forecast VaR",
                  xtitle="forecast date t", ytitle=f"return over the next {horizon} periods (%)",
                  hover="closest")  # fmt: skip


def dar_figure(forecasts: pd.DataFrame, levels: list[float], horizon: int) -> go.Figure:
    """Realized maximum drawdown inside each forward window against the drawdown-at-risk."""
    done = forecasts[forecasts["complete"].astype(bool)]
    main = levels[0]
    lab = level_label(main)
    shown = downsample(done[["realized_mdd", f"dar_{lab}"]].astype(float), "last")
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(x=shown.index, y=shown["realized_mdd"].to_numpy(),
                   name=f"realized max drawdown in the next {horizon} periods", mode="lines",
                   line={"color": colour(0), "width": 1.3})
    )  # fmt: skip
    fig.add_trace(
        go.Scatter(x=shown.index, y=shown[f"dar_{lab}"].to_numpy(),
                   name=f"drawdown-at-risk {main:.0%}", mode="lines",
                   line={"color": colour(1), "width": 1.8})
    )  # fmt: skip
    _breach_traces(fig, breach_frame(forecasts, main, "dar"), f"DaR {_lv(main)}")
    fig.update_yaxes(tickformat=".0%")
    return styled(fig, f"Realized {horizon}-period drawdowns against the drawdown-at-risk",
                  xtitle="forecast date t", ytitle=f"max drawdown in the next {horizon} periods (%)",
                  hover="closest")  # fmt: skip


def _histogram_traces(
    fig: go.Figure, paths: pd.DataFrame, group: str, value: str, bins: int = 80
) -> dict[str, str]:
    x_all = paths[value].to_numpy(dtype=float)
    lo, hi = np.quantile(x_all, [0.0005, 0.9995])
    edges = np.linspace(lo, hi, bins + 1)
    centres = 0.5 * (edges[1:] + edges[:-1])
    colours = {}
    for i, (label, part) in enumerate(paths.groupby(group, sort=False)):
        x = np.clip(part[value].to_numpy(dtype=float), lo, hi)
        counts, _ = np.histogram(x, bins=edges)
        density = counts / counts.sum()
        c = colour(i * 5 if i < 2 else i)
        colours[str(label)] = c
        fig.add_trace(
            go.Scatter(x=centres, y=density, name=esc(label), mode="lines",
                       line={"shape": "hvh", "color": c, "width": 1.6}, fill="tozeroy",
                       opacity=0.5)
        )  # fmt: skip
    return colours


def _marker_traces(
    fig: go.Figure, stats: pd.DataFrame, group: str, colours: dict[str, str]
) -> None:
    top = 1.0
    if fig.data:
        top = max(float(np.max(np.asarray(tr.y, dtype=float))) for tr in fig.data) * 1.05
    for _, row in stats.iterrows():
        label, lv = str(row[group]), float(row["level"])
        for what, dash in (("var", "solid"), ("cvar", "dot")):
            x = float(row[what])
            fig.add_trace(
                go.Scatter(
                    x=[x, x], y=[0.0, top], mode="lines", showlegend=False,
                    name=esc(f"{'VaR' if what == 'var' else 'CVaR'} {lv:.1%} {label}: {x:.2%}".replace(".0%", "%", 1)),
                    line={"color": colours.get(label, "#333"), "dash": dash, "width": 1.2},
                    hovertemplate="%{fullData.name}<extra></extra>",
                )
            )  # fmt: skip


def scenario_figure(paths: pd.DataFrame, stats: pd.DataFrame, horizon: int | None) -> go.Figure:
    """Monte Carlo outcome distribution per label (normal, Student-t) with VaR/CVaR marked."""
    fig = go.Figure()
    colours = _histogram_traces(fig, paths, "label", "outcome")
    _marker_traces(fig, stats, "label", colours)
    fig.update_xaxes(tickformat=".0%", title_text="return over the horizon (%, negative = loss)")
    fig.update_yaxes(title_text="share of scenarios (%)", tickformat=".1%")
    h = f"{horizon}-period " if horizon else ""
    return styled(fig, f"Monte Carlo {h}outcomes at the latest date: normal against Student-t",
                  hover="closest", height=460)  # fmt: skip


def crowding_figure(paths: pd.DataFrame, stats: pd.DataFrame) -> go.Figure:
    """Outcome distribution without and with the other agents, VaR/CVaR marked."""
    fig = go.Figure()
    colours = _histogram_traces(fig, paths, "case", "outcome")
    _marker_traces(fig, stats, "case", colours)
    fig.update_xaxes(tickformat=".0%", title_text="return over the horizon (%, negative = loss)")
    fig.update_yaxes(title_text="share of scenarios (%)", tickformat=".1%")
    return styled(fig, "Crowding: outcomes without and with the other agents trading",
                  hover="closest", height=460)  # fmt: skip


def walkforward_figure(
    oos: pd.DataFrame, folds: pd.DataFrame | None, benchmark: pd.Series | None = None
) -> go.Figure:
    """The stitched out-of-sample equity curve (log scale) beside a benchmark over the same
    dates, fold starts marked."""
    v = oos["value"].astype(float)
    v = v / v.iloc[0]
    shown = downsample(v, "last")
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(x=shown.index, y=shown.to_numpy(), name="walk-forward, stitched out of sample",
                   mode="lines", line={"color": colour(0), "width": 2.2})
    )  # fmt: skip
    lo, hi = float(np.min(shown.to_numpy())), float(np.max(shown.to_numpy()))
    if benchmark is not None:
        bench = benchmark.reindex(v.index).dropna()
        if len(bench):
            b = downsample(bench / bench.iloc[0], "last")
            fig.add_trace(
                go.Scatter(x=b.index, y=b.to_numpy(), name=esc(f"{benchmark.name}, same dates"),
                           mode="lines", line={"color": colour(1), "width": 1.3})
            )  # fmt: skip
            lo, hi = min(lo, float(np.min(b.to_numpy()))), max(hi, float(np.max(b.to_numpy())))
    if folds is not None:
        for col in ("test_start", "oos_start", "start"):
            if col in folds:
                for d in pd.to_datetime(folds[col], errors="coerce").dropna():
                    fig.add_vline(x=d, line={"color": "#9aa5b1", "dash": "dot", "width": 1})
                break
    ticks = log_ticks(lo, hi)
    fig.update_yaxes(type="log", tickvals=ticks, ticktext=[f"{t:g}" for t in ticks])
    return styled(fig, "Walk-forward: stitched out-of-sample equity (log scale)", xtitle="date",
                  ytitle="value (multiple of the start, log scale)")  # fmt: skip
