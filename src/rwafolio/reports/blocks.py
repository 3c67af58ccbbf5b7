"""Building blocks of the report's layout: formatted table cells, tables, chart blocks,
collapsible tables and text blocks (plain dictionaries the jinja2 template iterates over).

Numbers in tables carry their exact value in a ``data-value`` attribute beside the formatted
text, so the tests (and curious readers) can read them back.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from markupsafe import Markup


def fmt(value: Any, kind: str = "num") -> str:
    """Format a number for display: "pct" (2 decimals, %), "num" (4 significant), "int"."""
    if value is None:
        return "n/a"
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, int | np.integer) and kind != "pct":
        return f"{int(value):,}"
    try:
        x = float(value)
    except (TypeError, ValueError):
        return str(value)
    if not np.isfinite(x):
        return "n/a" if np.isnan(x) else ("inf" if x > 0 else "-inf")
    if kind == "pct":
        return f"{x:.2%}"
    if kind == "pct1":
        return f"{x:.1%}".replace(".0%", "%")
    if kind == "ratio":
        return f"{x:.2f}"
    if kind == "days":
        return f"{round(x):,} d"
    if kind == "int":
        return f"{round(x):,}"
    if kind == "p":
        return f"{x:.4f}"
    return f"{x:.4g}" if abs(x) < 1e4 else f"{x:,.0f}"


def cell(value: Any, kind: str = "text", cls: str = "") -> dict[str, Any]:
    """One table cell: display text, exact value (numbers only) and a CSS class."""
    if kind == "text":
        return {"text": "" if value is None else str(value), "value": None, "cls": cls}
    exact = None
    if isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool):
        exact = repr(float(value))
    return {"text": fmt(value, kind), "value": exact, "cls": cls or "num"}


def table(
    columns: list[str], rows: list[list[dict[str, Any]]], tid: str, caption: str = ""
) -> dict[str, Any]:
    return {"columns": columns, "rows": rows, "id": tid, "caption": caption}


#: Human names and formats of the columns the report's tables share (column -> (label, kind)).
COLUMN_LABELS: dict[str, tuple[str, str]] = {
    "level": ("Confidence level", "pct1"),
    "var": ("VaR", "pct"),
    "cvar": ("CVaR", "pct"),
    "dar": ("Drawdown-at-risk", "pct"),
    "mean": ("Mean outcome", "pct"),
    "std": ("Std of outcomes", "pct"),
    "label": ("Shocks", "text"),
    "case": ("Case", "text"),
    "var_without": ("VaR, book alone", "pct"),
    "var_with": ("VaR, with agents", "pct"),
    "cvar_without": ("CVaR, book alone", "pct"),
    "cvar_with": ("CVaR, with agents", "pct"),
    "dar_without": ("DaR, book alone", "pct"),
    "dar_with": ("DaR, with agents", "pct"),
    "impact_share": ("Share of the crowded VaR loss due to impact", "pct"),
    "impact_share_tail": ("Same, averaged over the crowded tail", "pct"),
}


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float | np.integer | np.floating) and not isinstance(
        v, bool | np.bool_
    )


def frame_table(
    df: pd.DataFrame,
    tid: str,
    index: bool = True,
    columns: dict[str, tuple[str, str]] | None = None,
) -> dict[str, Any]:
    """A table of a DataFrame: known columns get human names and formats (``columns``, then
    :data:`COLUMN_LABELS`), other numbers 4 significant digits; text is escaped by the
    template."""
    spec = {**COLUMN_LABELS, **(columns or {})}
    names = ([str(df.index.name or "")] if index else []) + [str(c) for c in df.columns]
    heads = [spec.get(c, (c.replace("_", " "), ""))[0] for c in names]
    kinds = [spec.get(c, ("", ""))[1] for c in names]
    rows = []
    for idx, rec in zip(df.index, df.itertuples(index=False)):
        values = ([idx] if index else []) + list(rec)
        row = []
        for j, (v, kind) in enumerate(zip(values, kinds)):
            if index and j == 0:
                row.append(cell(_date_text(v), cls="key"))
            elif _is_number(v) and kind != "text":
                row.append(cell(v, kind or "num"))
            else:
                row.append(cell(_date_text(v), cls="date" if isinstance(v, pd.Timestamp) else ""))
        rows.append(row)
    return table(heads, rows, tid)


def _date_text(v: Any) -> Any:
    if isinstance(v, pd.Timestamp):
        return v.strftime("%Y-%m-%d")
    return v


def figure_block(fid: str, fig: go.Figure | str, note: str, title: str = "") -> dict[str, Any]:
    """A chart block: its JSON (safe for a script element) and its "how to read this" note."""
    from rwafolio.reports.render import script_json
    from rwafolio.reports.theme import themed_json

    spec = themed_json(fig if isinstance(fig, str) else str(fig.to_json()))
    return {"kind": "figure", "id": fid, "json": script_json(spec), "note": note, "title": title}


def table_block(
    tid: str, tab: dict[str, Any], note: str = "", title: str = "", collapsed: bool = False
) -> dict[str, Any]:
    """A table block; ``collapsed`` puts it in a closed ``<details>`` (its summary says how many
    rows it holds)."""
    return {"kind": "table", "id": tid, "table": tab, "note": note, "title": title,
            "collapsed": collapsed}  # fmt: skip


def text_block(text: str, title: str = "", html: bool = False) -> dict[str, Any]:
    return {
        "kind": "html" if html else "text",
        "text": Markup(text) if html else text,
        "title": title,
        "id": "",
        "note": "",
    }
