"""The studies' figures and report sections (rwafolio.reports.studies)."""

from __future__ import annotations

import pytest

from rwafolio.backtest import run
from rwafolio.reports.figures_studies import tornado_figure
from rwafolio.reports.sections import normalize_sections
from rwafolio.reports.studies import frequency_sections, sensitivity_sections
from rwafolio.strategies.dynamic import DynamicLambdaStrategy
from rwafolio.studies import frequency_study, schedule_grid, sensitivity_overview
from tests.backtest.conftest import make_panel


@pytest.fixture(scope="module")
def panel():
    return make_panel(200, seed=11)


@pytest.fixture(scope="module")
def result(panel):
    return run(DynamicLambdaStrategy(window=20), panel, execute=False, progress=False)


def test_sections_of_the_studies(panel, result) -> None:
    one = sensitivity_overview(result, date=result.estimate_dates[20])
    sections = sensitivity_sections(one)
    assert len(sections) == 2 and all(len(s) == 3 for s in sections)
    fig = tornado_figure(one.ranking, top=5)
    assert len(fig.data) == 2 and len(fig.data[0].y) == 5
    # rows are labelled "input  (turnover x%)", largest turnover on top
    assert [y.split("  (")[0] for y in fig.data[0].y][::-1] == list(one.ranking["input"].head(5))
    across = sensitivity_sections(sensitivity_overview(result, every=10))
    assert len(across) == 3
    study = frequency_study(
        panel,
        grid=schedule_grid(("daily",), ("weekly",), (25.0,)),
        executor="serial",
        var_levels=(),
    )
    fsections = frequency_sections(study)
    assert len(fsections) == 2
    assert len(normalize_sections(across + fsections)) == 5
