"""The immutable result of one optimization."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

SolveStatus = Literal["optimal", "optimal_inaccurate", "max_iter", "failed"]
SolverName = Literal["fast", "reference", "hold"]


@dataclass(frozen=True)
class Solution:
    """Optimal weights of one problem and how they were found.

    Attributes
    ----------
    weights : ndarray of shape (n_assets,) or Series over symbols
        The optimum (labels kept when the inputs were pandas objects).
    objective : float
        U(w) = w'R - lam * w'Sigma w - sum_i C_i |w_i - w_prev_i| at ``weights``, in the units
        of R (annualized by default).
    kkt_residual : float
        Solver-independent optimality gap of ``weights`` (see ``model.kkt_residual``).
    iterations : int
    status : {"optimal", "optimal_inaccurate", "max_iter", "failed"}
    solver : {"fast", "reference", "hold"}
        Which solver's answer this is; ``"hold"`` means every solver failed and the weights are
        w_prev projected onto the bounds.
    fallback_reason : str
        Empty unless a fallback answered; then why the first choice was not used.
    """

    weights: np.ndarray | pd.Series
    objective: float
    kkt_residual: float
    iterations: int
    status: SolveStatus
    solver: SolverName
    fallback_reason: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "optimal"
