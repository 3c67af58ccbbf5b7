"""The --json summary: written by the CLI, valid against the schema the README documents."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import numpy as np
import pytest

from rwafolio.backtest.summary import REQUIRED_STATS, SUMMARY_SCHEMA, summary_json
from rwafolio.cli import main
from rwafolio.exceptions import ConfigError

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_schema() -> dict:
    text = README.read_text(encoding="utf-8")
    m = re.search(r"<!-- summary-schema -->\s*```json\n(.*?)```", text, re.S)
    assert m, "README has no summary-schema block"
    return json.loads(m.group(1))


def test_readme_documents_the_schema_in_code() -> None:
    assert readme_schema() == json.loads(json.dumps(SUMMARY_SCHEMA))


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> dict:
    path = tmp_path_factory.mktemp("json") / "sub" / "run.json"
    html = path.parent.parent / "bt.html"
    code = main(
        ["backtest", "--source", "synthetic", "--start", "2021-01-01", "--end", "2021-09-30",
         "--no-risk", "--out", str(html), "--json", str(path)]
    )  # fmt: skip
    assert code == 0
    return json.loads(path.read_text(encoding="utf-8"))


def test_cli_json_is_valid_against_the_readme_schema(written: dict) -> None:
    jsonschema.validate(written, readme_schema(), format_checker=jsonschema.FormatChecker())
    assert written["data"]["policy"] == "all_days" and written["data"]["synthetic"] is True
    assert set(written["stats"]) >= {"dynamic", "equal_weight"}
    for entry in written["stats"].values():
        assert set(REQUIRED_STATS) <= set(entry)
    assert written["strategy"]["params"]["window"] == 30


def test_json_numbers_equal_the_result(written: dict) -> None:
    """Re-run the same strategy in Python: the JSON carries its stats and final book."""
    from rwafolio.backtest import run
    from rwafolio.loaders import load
    from rwafolio.strategies import DynamicLambdaStrategy, benchmark_suite

    panel = load("synthetic", start="2021-01-01", end="2021-09-30", seed=7)  # the CLI default
    strat = DynamicLambdaStrategy()
    suite = {"dynamic": strat, **benchmark_suite(strat)}
    first = max(s.warmup for s in suite.values())
    res = run(strat, panel, name="dynamic", first_decision=first, progress=False)
    s = res.stats()
    got = written["stats"]["dynamic"]
    for k in REQUIRED_STATS:
        np.testing.assert_allclose(got[k], s[k], rtol=1e-12)
    last = res.decisions.index[-1]
    assert written["last_decision"] == last.date().isoformat()
    w = res.weights.loc[last]
    np.testing.assert_allclose(
        [written["final_weights"][k] for k in w.index], w.to_numpy(), rtol=1e-12
    )


def test_extra_sections_and_clash(written: dict) -> None:
    from rwafolio.backtest import run
    from rwafolio.strategies import EqualWeight
    from tests.backtest.conftest import make_panel

    res = run(EqualWeight(warmup_periods=10), make_panel(n_days=60), progress=False)
    doc = summary_json(res, EqualWeight(warmup_periods=10), extra={"risk_tests": []})
    assert doc["risk_tests"] == []
    json.dumps(doc, allow_nan=False)
    jsonschema.validate(doc, SUMMARY_SCHEMA)
    with pytest.raises(ConfigError, match="stats"):
        summary_json(res, EqualWeight(), extra={"stats": {}})
