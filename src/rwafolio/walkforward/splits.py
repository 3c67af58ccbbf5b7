"""Walk-forward split plans: training windows, each followed by a test window, in calendar time.

Lengths are calendar periods written ``"<n><unit>"`` with unit ``D`` (days), ``W`` (weeks), ``M``
(calendar months) or ``Y`` (years): ``"730D"``, ``"26W"``, ``"6M"``, ``"2Y"``. They are calendar
spans, not row counts, so a plan means the same thing under the ``all_days`` and
``exchange_days`` calendar policies.

Layout (``t0`` = first date of the data; every window is half-open ``[start, end)`` in time)::

    test_start_k = t0 + train + gap + k * test          k = 0, 1, ...
    test_end_k   = test_start_k + test                   (clipped to the data's end)
    train_end_k  = test_start_k - gap                    (the gap is the purge/embargo)
    train_start_k = train_end_k - train  ("rolling")     or  t0  ("expanding")

Test windows are contiguous and do not overlap, so their out-of-sample pieces join end to end
into one continuous portfolio. The gap only separates each training window from its test window:
returns inside it are used by neither (no training label can overlap the test period). The last
test window may be shorter than ``test`` (flagged ``partial``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np
import pandas as pd

from rwafolio.exceptions import ConfigError, DataError

SplitMode = Literal["rolling", "expanding"]
SPLIT_MODES: tuple[str, ...] = get_args(SplitMode)

_PERIOD = re.compile(r"^\s*(\d+)\s*([DWMY])\s*$", re.IGNORECASE)


def parse_period(text: str | pd.DateOffset, *, name: str = "period") -> pd.DateOffset:
    """A calendar length such as ``"730D"``, ``"26W"``, ``"6M"`` or ``"2Y"`` as a DateOffset.

    Parameters
    ----------
    text : str or DateOffset
        Number and unit: D days, W weeks, M calendar months, Y years. ``"0D"`` is allowed (for a
        gap).
    name : str
        Parameter name used in the error message.

    Raises
    ------
    ConfigError
        If the text is not a non-negative whole number followed by one of D, W, M, Y.
    """
    if isinstance(text, pd.DateOffset):
        return text
    m = _PERIOD.match(text) if isinstance(text, str) else None
    if m is None:
        raise ConfigError(
            f"`{name}` must be a calendar length like '730D', '26W', '6M' or '2Y', got {text!r}"
        )
    n, unit = int(m.group(1)), m.group(2).upper()
    key = {"D": "days", "W": "weeks", "M": "months", "Y": "years"}[unit]
    return pd.DateOffset(**{key: n})  # type: ignore[arg-type]


def _label(text: str | pd.DateOffset) -> str:
    return text.strip().upper() if isinstance(text, str) else repr(text)


@dataclass(frozen=True)
class Fold:
    """One training window and the test window that follows it.

    Attributes
    ----------
    index : int
        Fold number, from 0.
    train_start, train_end, test_start, test_end : Timestamp or None
        First and LAST data dates inside each window (inclusive); None when the window holds no
        data date.
    train_rows, test_rows : tuple of (int, int)
        Half-open row ranges ``[i0, i1)`` of the data's dates.
    partial : bool
        The test window was clipped by the end of the data.
    """

    index: int
    train_start: pd.Timestamp | None
    train_end: pd.Timestamp | None
    test_start: pd.Timestamp | None
    test_end: pd.Timestamp | None
    train_rows: tuple[int, int]
    test_rows: tuple[int, int]
    partial: bool = False

    @property
    def n_train(self) -> int:
        return self.train_rows[1] - self.train_rows[0]

    @property
    def n_test(self) -> int:
        return self.test_rows[1] - self.test_rows[0]


@dataclass(frozen=True)
class SplitPlan:
    """The folds of a walk-forward run, printable before anything is computed.

    Attributes
    ----------
    mode : {"rolling", "expanding"}
    train, test, gap : str
        The calendar lengths as given (``"730D"``, ``"6M"``, ``"0D"``).
    folds : tuple of Fold
    first_date, last_date : Timestamp
        The data's span.
    """

    mode: SplitMode
    train: str
    test: str
    gap: str
    folds: tuple[Fold, ...]
    first_date: pd.Timestamp
    last_date: pd.Timestamp

    def __len__(self) -> int:
        return len(self.folds)

    def to_frame(self) -> pd.DataFrame:
        """One row per fold: window dates, row counts and the partial flag."""
        rows = [
            {
                "fold": f.index,
                "train_start": f.train_start,
                "train_end": f.train_end,
                "test_start": f.test_start,
                "test_end": f.test_end,
                "n_train": f.n_train,
                "n_test": f.n_test,
                "partial": f.partial,
            }
            for f in self.folds
        ]
        cols = ["fold", "train_start", "train_end", "test_start", "test_end", "n_train", "n_test"]
        return pd.DataFrame(rows, columns=[*cols, "partial"]).set_index("fold")

    def describe(self) -> str:
        """A human-readable table of the plan (what ``rwafolio walkforward`` prints first)."""

        def d(x: pd.Timestamp | None) -> str:
            return "-" if x is None else x.strftime("%Y-%m-%d")

        head = (
            f"walk-forward plan: {self.mode}, train {self.train}, test {self.test}, "
            f"gap {self.gap}; data {d(self.first_date)} .. {d(self.last_date)}; "
            f"{len(self.folds)} fold(s)"
        )
        lines = [head, "fold  train                      rows  test                       rows"]
        for f in self.folds:
            lines.append(
                f"{f.index:>4}  {d(f.train_start)} .. {d(f.train_end)}  {f.n_train:>5}  "
                f"{d(f.test_start)} .. {d(f.test_end)}  {f.n_test:>5}"
                + ("  (partial)" if f.partial else "")
            )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.describe()


def make_splits(
    dates: pd.DatetimeIndex | Sequence[pd.Timestamp],
    train: str | pd.DateOffset = "730D",
    test: str | pd.DateOffset = "180D",
    *,
    mode: SplitMode = "rolling",
    gap: str | pd.DateOffset = "0D",
) -> SplitPlan:
    """Plan the folds of a walk-forward run over ``dates`` (see the module docstring).

    Parameters
    ----------
    dates : DatetimeIndex of shape (n_dates,)
        The data's dates (sorted, unique), e.g. ``panel.dates``.
    train, test : str or DateOffset
        Calendar lengths of each training and test window (``"730D"``, ``"6M"``).
    mode : {"rolling", "expanding"}
        Rolling: every training window has length ``train``. Expanding: every training window
        starts at the first date; ``train`` is the length of the first one.
    gap : str or DateOffset, default "0D"
        Purge/embargo between the end of a training window and the start of its test window.

    Returns
    -------
    SplitPlan

    Raises
    ------
    ConfigError
        Unknown mode, malformed or zero lengths.
    DataError
        Dates not sorted/unique, or too short for even one test window.
    """
    if mode not in SPLIT_MODES:
        raise ConfigError(f"`mode` must be one of {SPLIT_MODES}, got {mode!r}")
    tr, te, gp = (
        parse_period(train, name="train"),
        parse_period(test, name="test"),
        parse_period(gap, name="gap"),
    )
    idx = pd.DatetimeIndex(list(dates) if not isinstance(dates, pd.DatetimeIndex) else dates)
    if len(idx) < 2 or not idx.is_monotonic_increasing or idx.has_duplicates:
        raise DataError("`dates` must hold at least 2 sorted, unique dates")
    t0, t_last = idx[0], idx[-1]
    if t0 + tr <= t0:
        raise ConfigError(f"`train` must be a positive length, got {train!r}")
    if t0 + te <= t0:
        raise ConfigError(f"`test` must be a positive length, got {test!r}")
    first_test = t0 + tr + gp
    if first_test > t_last:
        raise DataError(
            f"the data ({t0.date()} .. {t_last.date()}) ends before the first test window "
            f"starts ({first_test.date()} = start + train {_label(train)} + gap {_label(gap)})"
        )
    ends = idx.to_numpy()

    def rows(a: pd.Timestamp, b: pd.Timestamp) -> tuple[int, int]:
        return (
            int(np.searchsorted(ends, a.to_datetime64(), "left")),
            int(np.searchsorted(ends, b.to_datetime64(), "left")),
        )

    def first_last(r: tuple[int, int]) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
        return (idx[r[0]], idx[r[1] - 1]) if r[1] > r[0] else (None, None)

    folds: list[Fold] = []
    k = 0
    while True:
        ts = first_test + te * k if k else first_test
        if ts > t_last:
            break
        tend = first_test + te * (k + 1)
        train_end = ts - gp
        train_start = t0 if mode == "expanding" else max(t0, train_end - tr)
        r_tr, r_te = rows(train_start, train_end), rows(ts, tend)
        a, b = first_last(r_tr)
        c, d = first_last(r_te)
        folds.append(
            Fold(k, a, b, c, d, r_tr, r_te, partial=bool(tend > t_last + pd.Timedelta(days=1)))
        )
        k += 1
    return SplitPlan(
        mode=mode,
        train=_label(train),
        test=_label(test),
        gap=_label(gap),
        folds=tuple(folds),
        first_date=t0,
        last_date=t_last,
    )
