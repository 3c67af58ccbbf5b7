"""risk/ stands on optimize's public surface only (issue 11: no private ``optimize._*``)."""

from __future__ import annotations

import ast
from pathlib import Path

import rwafolio.risk

RISK = Path(rwafolio.risk.__file__).parent


def test_risk_imports_no_private_optimize_module() -> None:
    offenders = []
    for path in sorted(RISK.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            offenders += [f"{path.name}: {n}" for n in names if n.startswith("rwafolio.optimize._")]
    assert len(list(RISK.glob("*.py"))) > 5 and offenders == []
