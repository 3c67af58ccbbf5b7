"""Per-class volatility indexes: normalization by hand, realized paths against pandas, no future."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rwafolio.exceptions import ConfigError
from rwafolio.strategies.indexes import (
    REFERENCE_VIX,
    normalize_past,
    realized_path,
    resolve_indexes,
)


def test_normalize_by_hand() -> None:
    # mean(10, 20, 30) = 20: today's 30 reads 1.5 times the reference
    assert normalize_past(np.array([10.0, 20.0, 30.0])) == pytest.approx(1.5 * REFERENCE_VIX)
    assert normalize_past(np.array([np.nan, 40.0]), reference=20.0) == pytest.approx(20.0)
    assert np.isnan(normalize_past(np.array([np.nan])))


def test_realized_path_matches_pandas() -> None:
    r = np.random.default_rng(0).normal(0, 0.03, 200)
    got = realized_path(r, 30, 365)
    ref = pd.Series(r).rolling(30).std(ddof=1).to_numpy() * np.sqrt(365) * 100
    np.testing.assert_allclose(got, ref, rtol=1e-9, equal_nan=True)


def test_no_future_value_changes_a_past_level() -> None:
    """Appending any future values leaves every past date's normalized level unchanged."""
    rng = np.random.default_rng(1)
    r = rng.normal(0, 0.03, 300)
    future = np.concatenate([r, rng.normal(0, 0.5, 100)])  # a violent future
    for t in (40, 120, 299):
        a = normalize_past(realized_path(r[: t + 1], 30, 365))
        b = normalize_past(realized_path(future[: t + 1], 30, 365))
        assert a == b
        # and the level at t equals the one computed on the whole future-including path's prefix
        full = realized_path(future, 30, 365)
        assert normalize_past(full[: t + 1]) == pytest.approx(a, rel=1e-9)


def test_resolve_indexes_validates() -> None:
    syms, classes = ["BTC-USD", "VNQ"], ["crypto", "rwa"]
    out = resolve_indexes({"crypto": ["realized:BTC-USD", 30.0], "rwa": "vix"}, syms, classes, 25.0)
    assert out["crypto"].column == 0 and out["crypto"].stress == 30.0 and out["rwa"].stress == 25.0
    with pytest.raises(ConfigError, match="no index"):
        resolve_indexes({"crypto": "vix"}, syms, classes, 25.0)
    with pytest.raises(ConfigError, match="ZZZ"):
        resolve_indexes({"crypto": "realized:ZZZ", "rwa": "vix"}, syms, classes, 25.0)
    with pytest.raises(ConfigError, match="source"):
        resolve_indexes({"crypto": "dvol", "rwa": "vix"}, syms, classes, 25.0)
