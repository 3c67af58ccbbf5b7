"""The one visual template of every chart in a report (fonts, colours, grid, legend, margins).

:data:`TEMPLATE` is a plain plotly template; :func:`styled` applies it (with a title and axis
titles) to a figure. Figures added through ``extra_sections`` get it too when they come without
a template of their own, so a report never mixes plotly's grey default with ours.
"""

from __future__ import annotations

import json
from typing import Any

import plotly.graph_objects as go

INK = "#1d2733"
MUTED = "#5b6875"
GRID = "#e3e8ee"
FONT = "system-ui, -apple-system, Segoe UI, Roboto, Helvetica, Arial, sans-serif"

#: Colours by position: strategy first, then benchmarks.
PALETTE = (
    "#1f4e9c", "#d9822b", "#2a9d8f", "#8e44ad", "#7f8c8d", "#c0392b", "#16a085", "#b7950b",
)  # fmt: skip

#: Diverging scale for signed returns (red = loss, white = 0, green = gain).
DIVERGING = [[0.0, "#b03a2e"], [0.5, "#f7f7f7"], [1.0, "#1e8449"]]

_AXIS = {
    "gridcolor": GRID,
    "zerolinecolor": "#c5ced8",
    "linecolor": "#c5ced8",
    "showline": True,
    "ticks": "outside",
    "tickcolor": "#c5ced8",
    "ticklen": 4,
    "automargin": True,
    "title": {"font": {"size": 12.5, "color": MUTED}, "standoff": 8},
}

TEMPLATE = go.layout.Template(
    layout={
        "font": {"family": FONT, "size": 12.5, "color": INK},
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "colorway": list(PALETTE),
        "title": {"x": 0.01, "xanchor": "left", "font": {"size": 15, "color": INK}},
        "xaxis": _AXIS,
        "yaxis": _AXIS,
        "legend": {
            "orientation": "h",
            "y": -0.18,
            "x": 0.0,
            "font": {"size": 12},
            "traceorder": "normal",
        },
        "hoverlabel": {"font": {"family": FONT, "size": 12}},
        "margin": {"l": 64, "r": 28, "t": 56, "b": 48},
        "colorscale": {"diverging": DIVERGING},
    }
)


def colour(i: int) -> str:
    """The i-th colour of :data:`PALETTE` (cycling)."""
    return PALETTE[i % len(PALETTE)]


def styled(
    fig: go.Figure,
    title: str,
    *,
    height: int = 420,
    xtitle: str | None = None,
    ytitle: str | None = None,
    hover: str = "x unified",
) -> go.Figure:
    """Apply :data:`TEMPLATE`, a title, a height and axis titles (with units) to ``fig``."""
    fig.update_layout(template=TEMPLATE, title={"text": title}, height=height, hovermode=hover)
    if xtitle is not None:
        fig.update_xaxes(title_text=xtitle)
    if ytitle is not None:
        fig.update_yaxes(title_text=ytitle)
    return fig


def themed_json(spec: str) -> str:
    """A figure's JSON with :data:`TEMPLATE` in place of a missing or plotly-default template."""
    fig: dict[str, Any] = json.loads(spec)
    layout = fig.setdefault("layout", {})
    template = layout.get("template")
    default = template is None or (
        isinstance(template, dict) and template.get("layout", {}).get("plot_bgcolor") == "#E5ECF6"
    )
    if default:
        layout["template"] = TEMPLATE.to_plotly_json()
    return json.dumps(fig)
