"""One-line, plain-language verdicts of the VaR backtests, for readers who are not statisticians.

The statistical verdicts themselves come from :mod:`rwafolio.risk.backtests`; these sentences
only restate them ("breaches came too often: the forecast understated the risk").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_WHAT = {"var": "VaR", "dar": "drawdown-at-risk"}


def plain_verdict(row: Mapping[str, Any], horizon: int) -> str:
    """Plain-language verdict of one backtest row.

    Parameters
    ----------
    row : mapping
        Keys ``kind`` ("var" or "dar"), ``level`` (VaR confidence, 0.95), ``test`` (the test's
        name), ``n_obs``, ``n_failures``, ``reject`` (bool) and ``zone`` (traffic light only).
    horizon : int
        Forecast horizon in periods, to name the windows.
    """
    kind, level = str(row["kind"]), float(row["level"])
    what = f"{level:.0%} {_WHAT.get(kind, kind)}"
    n, x = int(row["n_obs"]), int(row["n_failures"])
    expected = n * (1.0 - level)
    test = str(row["test"])
    reject = bool(row["reject"])
    windows = f"{n} non-overlapping {horizon}-period windows"
    if test.startswith("Kupiec"):
        if not reject:
            return (
                f"Breaches of the {what} came about as often as promised: {x} in {windows}, "
                f"about {expected:.1f} expected."
            )
        if x > expected:
            return (
                f"Breaches of the {what} came too often ({x} in {windows}, about "
                f"{expected:.1f} expected): the forecast understated the risk."
            )
        return (
            f"Breaches of the {what} came too rarely ({x} in {windows}, about {expected:.1f} "
            "expected): the forecast overstated the risk (too conservative)."
        )
    if test.startswith("Christoffersen"):
        if x == 0:
            return f"No breaches of the {what}, so nothing could cluster."
        if not reject:
            return f"No sign that breaches of the {what} cluster: one breach did not make the next more likely."
        return (
            f"Breaches of the {what} cluster in time: after one breach another was more "
            "likely, so the forecast reacts too slowly to changing risk."
        )
    if test.startswith("Conditional"):
        if not reject:
            return f"Taken together, the rate and the timing of {what} breaches fit a correct forecast."
        return f"Taken together, the rate or the timing of {what} breaches does not fit a correct forecast."
    zone = str(row.get("zone", ""))
    if zone == "green":
        return f"Green: {x} breaches of the {what} are within what chance explains."
    if zone == "yellow":
        return f"Yellow: {x} breaches of the {what} are more than chance usually gives; the model may understate risk."
    if zone == "red":
        return f"Red: {x} breaches of the {what} are far more than chance explains; the model understates risk."
    return str(row.get("verdict", ""))
