"""Split plans: rolling, expanding, purge gap, calendar lengths, printable plan."""

from __future__ import annotations

import itertools

import pandas as pd
import pytest

from rwafolio.exceptions import ConfigError, DataError
from rwafolio.walkforward import make_splits, parse_period

DAYS = pd.date_range("2020-01-01", "2021-12-31", freq="D")
BDAYS = pd.bdate_range("2020-01-01", "2021-12-31")


def test_parse_period_units() -> None:
    t = pd.Timestamp("2020-01-31")
    assert t + parse_period("730D") == pd.Timestamp("2022-01-30")
    assert t + parse_period("2w") == pd.Timestamp("2020-02-14")
    assert t + parse_period("1M") == pd.Timestamp("2020-02-29")  # calendar month, clipped
    assert t + parse_period("2Y") == pd.Timestamp("2022-01-31")
    for bad in ["", "10", "D", "-5D", "1.5M", "3Q", 30]:
        with pytest.raises(ConfigError, match="train"):
            parse_period(bad, name="train")  # type: ignore[arg-type]


def test_rolling_daily_hand_computed() -> None:
    plan = make_splits(DAYS, "365D", "90D", mode="rolling")
    f = plan.to_frame()
    # first test window starts 365 days after 2020-01-01; windows follow each other
    assert f["test_start"].iloc[0] == pd.Timestamp("2020-12-31")
    assert f["test_end"].iloc[0] == pd.Timestamp("2021-03-30")
    assert f["test_start"].iloc[1] == pd.Timestamp("2021-03-31")
    assert (f["n_train"] == 365).all()
    # 731 dates (2020 is a leap year); 365 train rows, then 366 = 4 * 90 + 6 test rows
    assert list(f["n_test"]) == [90, 90, 90, 90, 6]
    assert list(f["partial"]) == [False, False, False, False, True]
    # rolling: every training window ends the day before its test window
    for fold in plan.folds:
        assert fold.train_end == fold.test_start - pd.Timedelta(days=1)
        assert fold.train_rows[1] == fold.test_rows[0]
    # test windows are contiguous and cover the data from the first test date on
    rows = [fo.test_rows for fo in plan.folds]
    assert all(a[1] == b[0] for a, b in itertools.pairwise(rows))
    assert rows[-1][1] == len(DAYS)


def test_expanding_starts_at_first_date() -> None:
    plan = make_splits(DAYS, "365D", "6M", mode="expanding")
    assert all(fo.train_start == DAYS[0] for fo in plan.folds)
    n_train = [fo.n_train for fo in plan.folds]
    assert n_train == sorted(n_train) and n_train[0] == 365
    # calendar months: 2020-12-31 + 6M = 2021-06-30
    assert plan.folds[1].test_start == pd.Timestamp("2021-06-30")


def test_gap_purges_between_train_and_test() -> None:
    plan = make_splits(DAYS, "365D", "90D", gap="10D")
    for fo in plan.folds:
        assert fo.test_start - fo.train_end == pd.Timedelta(days=11)
        assert fo.test_rows[0] - fo.train_rows[1] == 10
    # the gap delays the first test window
    assert plan.folds[0].test_start == pd.Timestamp("2021-01-10")


def test_business_days_calendar_lengths() -> None:
    plan = make_splits(BDAYS, "1Y", "3M")
    fo = plan.folds[0]
    # calendar length, not a row count: one year of business days is ~262 rows
    assert fo.train_start == pd.Timestamp("2020-01-01")
    assert fo.test_start == pd.Timestamp("2021-01-01")
    assert fo.n_train == len(BDAYS[BDAYS < "2021-01-01"])
    assert fo.test_end == pd.Timestamp("2021-03-31")


def test_describe_and_errors() -> None:
    plan = make_splits(DAYS, "365D", "90D")
    text = plan.describe()
    assert "rolling" in text and "5 fold(s)" in text and "(partial)" in text
    assert "2020-12-31 .. 2021-03-30" in text
    with pytest.raises(ConfigError, match="mode"):
        make_splits(DAYS, mode="sliding")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="test"):
        make_splits(DAYS, "365D", "0D")
    with pytest.raises(DataError, match="first test window"):
        make_splits(DAYS, "3Y", "90D")
    with pytest.raises(DataError, match="sorted"):
        make_splits(DAYS[::-1])
