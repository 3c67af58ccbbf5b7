"""Turn the crowding comparison and the walk-forward result into the record's plain tables.

These read their inputs by attribute name (duck typing), so the report does not import the
modules that produce them, and an input of an unknown shape fails with a clear error rather
than a half-drawn section.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from rwafolio.exceptions import ConfigError
from rwafolio.reports._plain import frame_of, jsonable


def _first_attr(obj: Any, names: tuple[str, ...]) -> Any:
    for name in names:
        if isinstance(obj, Mapping) and name in obj:
            return obj[name]
        if hasattr(obj, name):
            return getattr(obj, name)
    return None


def _forecast_rows(case: str, f: Any) -> list[dict[str, Any]]:
    rows = []
    for k, level in enumerate(f.levels):
        rows.append(
            {
                "case": case, "level": float(level), "var": float(f.var[k]),
                "cvar": float(f.cvar[k]), "dar": float(f.dar[k]), "mean": float(f.mean),
            }
        )  # fmt: skip
    return rows


def crowding_tables(crowding: Any) -> tuple[dict[str, pd.DataFrame], dict[str, Any]]:
    """Plain tables of a with/without-agents comparison (a
    :class:`~rwafolio.risk.crowding.CrowdingResult`: ``without_agents`` and ``with_agents``
    RiskForecasts, ``to_frame()``, ``config``, ``seed`` and crowding diagnostics)."""
    alone = _first_attr(crowding, ("without_agents",))
    crowded = _first_attr(crowding, ("with_agents",))
    if alone is None or crowded is None or not hasattr(alone, "outcomes"):
        raise ConfigError(
            "`crowding` must be a CrowdingResult (with `without_agents` and `with_agents` "
            f"forecasts), got {type(crowding).__name__}"
        )
    rows = _forecast_rows("without agents", alone) + _forecast_rows("with agents", crowded)
    tables = {
        "crowding": pd.DataFrame(rows),
        "crowding_paths": pd.concat(
            [
                pd.DataFrame(
                    {"case": "without agents", "outcome": np.asarray(alone.outcomes, float)}
                ),
                pd.DataFrame(
                    {"case": "with agents", "outcome": np.asarray(crowded.outcomes, float)}
                ),
            ],
            ignore_index=True,
        ),
    }
    if hasattr(crowding, "to_frame"):
        tables["crowding_impact"] = frame_of(crowding.to_frame().reset_index())
    meta: dict[str, Any] = {"horizon": int(alone.horizon), "n_scenarios": int(alone.n_scenarios)}
    for key in ("seed", "alignment", "turnover", "impact_cost", "fire_share", "config"):
        val = _first_attr(crowding, (key,))
        if val is not None:
            meta[key] = jsonable(val)
    cal = _first_attr(crowding, ("calibration",))
    if cal is not None and hasattr(cal, "table"):
        meta["liquidity"] = jsonable(cal.table().to_dict(orient="index"))
    return tables, meta


def walkforward_tables(walkforward: Any) -> tuple[dict[str, pd.DataFrame], dict[str, Any]]:
    """Plain tables of a :class:`~rwafolio.walkforward.WalkForwardResult`: folds (``summary()``),
    chosen parameters (``params_over_time()``), the stitched out-of-sample curve
    (``stitched.value``) and the comparison with the best fixed point in hindsight."""
    tables: dict[str, pd.DataFrame] = {}
    if hasattr(walkforward, "summary"):
        tables["wf_folds"] = frame_of(walkforward.summary().reset_index())
    if hasattr(walkforward, "params_over_time"):
        tables["wf_params"] = frame_of(walkforward.params_over_time().reset_index())
    stitched = _first_attr(walkforward, ("stitched",))
    if stitched is not None and hasattr(stitched, "value"):
        tables["wf_oos"] = stitched.value.astype(float).to_frame("value").rename_axis("date")
    comparison = _first_attr(walkforward, ("comparison",))
    if isinstance(comparison, pd.DataFrame) and not comparison.empty:
        tables["wf_comparison"] = frame_of(comparison.rename_axis("statistic").reset_index())
    if not tables:
        raise ConfigError(
            "`walkforward` must be a WalkForwardResult (folds, chosen parameters, stitched "
            f"curve), got {type(walkforward).__name__}"
        )
    meta: dict[str, Any] = {}
    for key in ("metric", "seed", "executor", "settings", "hindsight_point", "var_note",
                "n_tasks", "cache_hits", "seconds"):  # fmt: skip
        val = _first_attr(walkforward, (key,))
        if val is not None and not callable(val):
            meta[key] = jsonable(val)
    folds = _first_attr(walkforward, ("folds",))
    if folds is not None:
        meta["n_folds"] = len(folds)
    return tables, meta
