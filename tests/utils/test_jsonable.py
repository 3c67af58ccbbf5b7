"""JSON-able conversion: numpy, pandas, dataclasses and non-finite numbers."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import numpy as np
import pandas as pd

from rwafolio.utils.jsonable import frame_of, jsonable


@dataclasses.dataclass(frozen=True)
class Point:
    lam0: float
    window: int


def test_jsonable_values_round_trip_through_json() -> None:
    value = {
        "a": np.float64(0.5), "b": np.int32(3), "c": np.bool_(True), "nan": float("nan"),
        "arr": np.array([1.0, np.inf]), "when": pd.Timestamp("2024-01-02"),
        "day": dt.date(2024, 1, 3), "point": Point(2.0, 30), 7: (1, "x"), "obj": object,
    }  # fmt: skip
    out = jsonable(value)
    assert json.loads(json.dumps(out, allow_nan=False)) == out
    assert out["a"] == 0.5 and out["b"] == 3 and out["c"] is True and out["nan"] is None
    assert out["arr"] == [1.0, None] and out["when"] == "2024-01-02T00:00:00"
    assert out["day"] == "2024-01-03" and out["point"] == {"lam0": 2.0, "window": 30}
    assert out["7"] == [1, "x"] and out["obj"] == repr(object)


def test_frame_of_makes_nested_cells_json_text() -> None:
    df = frame_of([{"p": {"lam0": 1.0}, "s": 0.5}, Point(1.0, 2)])
    assert list(df.columns) == ["p", "s", "lam0", "window"]
    assert df.loc[0, "p"] == '{"lam0": 1.0}'


def test_param_jsonable_names_typed_objects_and_rebuilds_them() -> None:
    import json

    from rwafolio.optimize import returns as rt
    from rwafolio.strategies import DynamicLambdaStrategy
    from rwafolio.utils.jsonable import param_jsonable

    bl = rt.BlackLitterman(prior_obs=120.0)
    doc = param_jsonable({"mean_estimator": bl, "window": 30, "nan": float("nan")})
    assert doc["window"] == 30 and doc["nan"] is None
    typed = doc["mean_estimator"]
    assert typed["type"] == "BlackLitterman" and typed["prior_obs"] == 120.0
    # What was recorded is enough to rebuild the object (the JSON round trip included).
    back = json.loads(json.dumps(typed))
    kind = back.pop("type")
    assert getattr(rt, kind)(**back) == bl
    # A strategy (scikit-learn get_params) nests the same way.
    strat = param_jsonable(DynamicLambdaStrategy(window=45, mean_estimator=bl))
    assert strat["type"] == "DynamicLambdaStrategy" and strat["window"] == 45
    assert strat["mean_estimator"] == typed
