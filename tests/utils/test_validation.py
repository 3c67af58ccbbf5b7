"""Argument checks: typed errors naming the parameter; argparse types built on them."""

from __future__ import annotations

import argparse

import numpy as np
import pytest

from rwafolio.exceptions import ConfigError, DataError
from rwafolio.utils.validation import argparse_type, check_choice, check_int, check_number


def test_check_int() -> None:
    assert check_int(3, "every", minimum=1) == 3
    assert check_int(np.int64(4), "every") == 4 and type(check_int(np.int64(4), "every")) is int
    for bad in (0, 2.0, True, "3", None):
        with pytest.raises(ConfigError, match=r"`every` must be a whole number >= 1"):
            check_int(bad, "every", minimum=1)
    with pytest.raises(DataError, match=r"<= 5"):
        check_int(6, "n", maximum=5, error=DataError)


def test_check_number() -> None:
    assert check_number(2, "lam0") == 2.0 and check_number(np.float64(0.5), "eta") == 0.5
    with pytest.raises(ConfigError, match="`nu` must be a finite number > 0, got 0"):
        check_number(0, "nu", minimum=0, strict_minimum=True)
    for bad in (float("nan"), float("inf"), True, "1", None):
        with pytest.raises(ConfigError, match="`x` must be a finite number"):
            check_number(bad, "x")
    with pytest.raises(ConfigError, match="<= 1"):
        check_number(1.5, "x", maximum=1)


def test_check_choice() -> None:
    assert check_choice("zero", "mean", ("estimate", "zero")) == "zero"
    with pytest.raises(ConfigError, match=r"`mean` must be one of \['estimate', 'zero'\]"):
        check_choice("median", "mean", ("estimate", "zero"))


def test_argparse_type_reports_like_argparse() -> None:
    pos = argparse_type(int, check_int, minimum=1)
    assert pos("5") == 5
    with pytest.raises(argparse.ArgumentTypeError, match="expected a whole number, got 'x'"):
        pos("x")
    with pytest.raises(argparse.ArgumentTypeError, match="expected a whole number >= 1, got 0"):
        pos("0")
    p = argparse.ArgumentParser(exit_on_error=False)
    p.add_argument("--every", type=pos)
    with pytest.raises(argparse.ArgumentError, match="--every"):
        p.parse_args(["--every", "-2"])
