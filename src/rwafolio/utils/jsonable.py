"""JSON-able conversion: :func:`jsonable` turns numpy/pandas/dataclass values into plain JSON
values (non-finite floats become None); :func:`param_jsonable` does the same for constructor
parameters, naming each object's type; :func:`frame_of` makes a parquet-safe table of a result.

Used by the engine (a result's parameters), the reports (run files) and the pipeline (``--json``).
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import json
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd


def jsonable(value: Any) -> Any:
    """A JSON-safe rendering of ``value`` (numbers, strings, lists, dicts; anything else repr).

    Non-finite floats become None (JSON has no NaN).
    """
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        f = float(value)
        return f if np.isfinite(f) else None
    if isinstance(value, pd.Timestamp | _dt.date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray | pd.Index):
        return [jsonable(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    return repr(value)


def param_jsonable(value: Any) -> Any:
    """A constructor parameter as JSON: like :func:`jsonable`, but typed objects stay readable.

    An object that states its parameters (``get_params()``, scikit-learn style, or a dataclass)
    becomes ``{"type": <class name>, <parameter>: <value>, ...}`` instead of its repr, so a run's
    recorded parameters say what was used in a form a program can read back (e.g.
    ``{"type": "BlackLitterman", "prior_obs": 365.0, "reference": None, "lam": None}``).
    """
    if isinstance(value, type):
        return value.__name__
    get_params = getattr(value, "get_params", None)
    if callable(get_params):
        return {"type": type(value).__name__, **param_jsonable(dict(get_params()))}
    if dataclasses.is_dataclass(value):
        fields = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
        return {"type": type(value).__name__, **param_jsonable(fields)}
    if isinstance(value, Mapping):
        return {str(k): param_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [param_jsonable(v) for v in value]
    return jsonable(value)


def _cell(value: Any) -> Any:
    if isinstance(value, Mapping | list | tuple | np.ndarray):
        return json.dumps(jsonable(value))
    return value


def frame_of(obj: Any) -> pd.DataFrame:
    """A parquet-safe DataFrame from a DataFrame, Series, mapping or list of records/objects.

    Column names become strings; cells holding lists or dicts become JSON text.
    """
    if isinstance(obj, pd.DataFrame):
        df = obj.copy()
    elif isinstance(obj, pd.Series):
        df = obj.to_frame()
    elif isinstance(obj, Mapping):
        df = pd.DataFrame({str(k): [jsonable(v)] for k, v in obj.items()})
    else:
        rows = []
        for item in obj:
            if isinstance(item, Mapping):
                rows.append(dict(item))
            elif dataclasses.is_dataclass(item) and not isinstance(item, type):
                rows.append({f.name: getattr(item, f.name) for f in dataclasses.fields(item)})
            else:
                rows.append(dict(vars(item)))
        df = pd.DataFrame(rows)
    df.columns = [str(c) for c in df.columns]
    for c in df.columns:
        if df[c].dtype == object:
            df[c] = [_cell(v) for v in df[c]]
            if not all(v is None or isinstance(v, str) for v in df[c]):
                df[c] = [None if v is None else str(v) for v in df[c]]
    return df
