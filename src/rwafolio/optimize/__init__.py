"""The optimizer: exact, fast, cost-aware mean-variance with a dynamic risk aversion.

At one date it solves ``max w'R - lam w'Sigma w - sum C_i|w_i - w_prev_i|`` s.t. ``sum w = 1``,
``lo <= w <= hi`` (R, Sigma annualized by default; C one-off cost fractions; no 1/2 before lam).

Public API: :func:`solve` (validating, pandas-aware; refuses an indefinite Sigma),
:func:`solve_arrays` (lean hot-loop entry), the numba kernel ``solve_nb`` (callable from numba
code, e.g. the crowding agents; it first checks an exact no-trade certificate, the KKT conditions
at ``w = w_prev``, and returns the held book without iterating when they hold), the model helpers (``objective``, ``subgradient``,
``kkt_residual``, ``FactorCovariance``), the one cost model (:class:`CostModel`), a decision
date's problem as plain arrays (:class:`Problem`), the estimators of R and Sigma and the
risk-aversion rules (each with its derivative ``dlam_dvix``). The pure-numpy twins the tests
compare the kernels against live in ``rwafolio.optimize._twins`` and are not exported. The cvxpy
reference lives in ``rwafolio.optimize.reference`` and is imported lazily (only that module
imports cvxpy).
"""

from __future__ import annotations

from rwafolio.optimize._kernels import solve_nb
from rwafolio.optimize.costs import CostMode, CostModel
from rwafolio.optimize.estimators import (
    EWMAEstimator,
    LedoitWolfEstimator,
    SampleEstimator,
    ewma,
    ledoit_wolf,
    psd_repair,
    sample,
)
from rwafolio.optimize.model import (
    FactorCovariance,
    kkt_residual,
    objective,
    project_feasible,
    subgradient,
    validate_problem,
)
from rwafolio.optimize.problem import Problem
from rwafolio.optimize.risk_aversion import Callable, Constant, VixLinear
from rwafolio.optimize.solution import Solution
from rwafolio.optimize.solver import solve, solve_arrays

__all__ = [
    "Callable",
    "Constant",
    "CostMode",
    "CostModel",
    "EWMAEstimator",
    "FactorCovariance",
    "LedoitWolfEstimator",
    "Problem",
    "SampleEstimator",
    "Solution",
    "VixLinear",
    "ewma",
    "kkt_residual",
    "ledoit_wolf",
    "objective",
    "project_feasible",
    "psd_repair",
    "sample",
    "solve",
    "solve_arrays",
    "solve_nb",
    "subgradient",
    "validate_problem",
]
