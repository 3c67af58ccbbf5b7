"""The one configuration schema: run configs and grid files, parsed and type-checked once."""

from __future__ import annotations

from pathlib import Path

import pytest

from rwafolio.config import RunConfig, load_config, load_grid, parse_config, read_toml
from rwafolio.exceptions import ConfigError
from rwafolio.optimize import EWMAEstimator, LedoitWolfEstimator, SampleEstimator
from rwafolio.optimize.risk_aversion import Constant
from rwafolio.strategies import DynamicLambdaStrategy, FixedMix

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
EXAMPLE = EXAMPLES / "walkforward.toml"


def test_example_config_parses_and_builds() -> None:
    cfg = load_config(EXAMPLES / "config.toml")
    strat = cfg.build_strategy()
    assert strat.lam0 == 2.0 and strat.bounds == {"BTC-USD": (0.0, 0.6)}
    assert cfg.costs["VNQ"] == 0.01 and cfg.data["policy"] == "all_days"


@pytest.mark.parametrize(
    "doc, match",
    [
        ({"strategy": {"lamda": 2}}, "lamda"),
        ({"stratgy": {}}, "stratgy"),
        ({"costs": {"VNQ": "high"}}, "VNQ"),
        ({"data": {"calendar": "x"}}, "calendar"),
    ],
)
def test_bad_config_names_the_key(doc: dict, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        parse_config(doc)


@pytest.mark.parametrize(
    "doc, match",
    [
        ({"strategy": {"lam0": "two"}}, "lam0"),
        ({"strategy": {"stress_vix": True}}, "stress_vix"),
        ({"strategy": {"bounds": {"BTC-USD": 0.6}}}, "bounds"),
        ({"strategy": {"schedules": "daily"}}, "schedules"),
        ({"strategy": {"window": 30.5}}, "window"),
    ],
)
def test_config_values_of_the_wrong_type_are_named(doc: dict, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        parse_config(doc)


def test_load_grid_file(tmp_path: Path) -> None:
    p = tmp_path / "g.toml"
    p.write_text(
        '[strategy]\nname = "dynamic"\nstress_vix = 30.0\n'
        "[grid]\nlam0 = [1.0, 2.0]\nwindow = [30, 60]\n"
        '[walkforward]\ntrain = "365D"\ntest = "90D"\n'
    )
    spec = load_grid(p)
    assert isinstance(spec.strategy, DynamicLambdaStrategy) and spec.strategy.stress_vix == 30.0
    assert len(spec.grid) == 4 and spec.grid[1] == {"lam0": 1.0, "window": 60}
    assert spec.settings["train"] == "365D"
    p.write_text('[strategy]\nname = "fixed_mix"\n[grid]\nlam0 = [1.0]\n')
    with pytest.raises(ConfigError, match="lam0"):
        load_grid(p)
    p.write_text("[grid\n")
    with pytest.raises(ConfigError, match="TOML"):
        load_grid(p)
    p.write_text('[strategy]\nname = "fixed_mix"\n[grid]\nweights = [{"BTC-USD" = 1.0}]\n')
    spec = load_grid(p)
    assert isinstance(spec.strategy, FixedMix) and spec.grid == ({"weights": {"BTC-USD": 1.0}},)


def test_example_grid_file_is_valid() -> None:
    spec = load_grid(EXAMPLE)
    assert len(spec.grid) >= 8
    assert {"train", "test", "mode", "metric"} <= set(spec.settings)


def test_estimator_by_name_in_a_grid_file_builds_the_estimator(tmp_path: Path) -> None:
    p = tmp_path / "g.toml"
    p.write_text(
        '[strategy]\nestimator = "ewma"\newma_halflife = 7.0\n'
        '[grid]\nlam0 = [1.0]\nestimator = ["sample", "ewma", "ledoit_wolf"]\n',
        encoding="utf-8",
    )
    spec = load_grid(p)
    assert spec.strategy.estimator == EWMAEstimator(halflife=7.0)
    assert [pt["estimator"] for pt in spec.grid] == [
        SampleEstimator(), EWMAEstimator(halflife=7.0), LedoitWolfEstimator(),
    ]  # fmt: skip
    p.write_text('[strategy]\nestimator = "garch"\n[grid]\nlam0 = [1.0]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[strategy\]\.estimator.*garch"):
        load_grid(p)
    p.write_text('[grid]\nestimator = ["ewma", 3]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[grid\]\.estimator\[1\]"):
        load_grid(p)


def test_grid_values_are_type_checked_like_strategy_keys() -> None:
    with pytest.raises(ConfigError, match=r"\[grid\]\.window\[1\]"):
        parse_config({"grid": {"window": [30, "sixty"]}})
    with pytest.raises(ConfigError, match="lamda"):
        parse_config({"grid": {"lamda": [1.0]}})
    with pytest.raises(ConfigError, match="non-empty list"):
        parse_config({"grid": {"lam0": 2.0}})
    with pytest.raises(ConfigError, match=r"\[grid\]\.lam0 lists 1\.0 more than once"):
        parse_config({"grid": {"lam0": [1.0, 2.0, 1.0]}})  # one point run and counted twice


def test_rules_by_name_and_flags_override_the_file() -> None:
    cfg = parse_config({"strategy": {"lam0": 3.0, "risk_aversion": "constant", "window": 40}})
    strat = cfg.build_strategy()
    assert strat.risk_aversion == Constant(3.0) and strat.window == 40
    over = cfg.with_overrides(window=60, eta=None, threshold=0.02)
    assert over.strategy["window"] == 60 and over.strategy["threshold"] == 0.02
    assert over.strategy["lam0"] == 3.0 and "eta" not in over.strategy
    with pytest.raises(ConfigError, match="window"):
        cfg.with_overrides(window=2.5)


def test_risk_and_data_tables_are_checked() -> None:
    cfg = parse_config({"risk": {"horizon": 10, "mean": "zero"}, "data": {"policy": "all_days"}})
    assert cfg.risk == {"horizon": 10, "mean": "zero"}
    for doc, match in [
        ({"risk": {"horizon": 0}}, "horizon"),
        ({"risk": {"mean": "median"}}, "mean"),
        ({"risk": {"alpha": 0.05}}, "alpha"),
        ({"data": {"policy": "weekdays"}}, "policy"),
        ({"strategy": 3}, r"\[strategy\] must be a table"),
    ]:
        with pytest.raises(ConfigError, match=match):
            parse_config(doc)


@pytest.mark.parametrize(
    "content, match",
    [
        (b"[strategy]\nlam0 = 2.0\n# caf\xe9\n", "not UTF-8"),
        (b"lam0 = 2.0\n", "unknown table"),
        (b"strategy = 2.0\n", r"\[strategy\] must be a table"),
        (b"[strategy\n", "not valid TOML"),
        (b"\xef\xbb\xbf[strategy]\nlam0 = 2.0\n", "byte-order mark"),
        (b"[strategy]\n" + b"#" * (2 << 20), "larger than 1 MiB"),
    ],
)
def test_bad_files_give_one_typed_line(tmp_path: Path, content: bytes, match: str) -> None:
    p = tmp_path / "c.toml"
    p.write_bytes(content)
    with pytest.raises(ConfigError, match=match) as exc:
        load_config(p)
    assert "\n" not in str(exc.value)


def test_read_toml_names_the_flag_for_a_folder_and_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"--grid.*folder"):
        read_toml(tmp_path, "--grid")
    with pytest.raises(ConfigError, match=r"--config.*does not exist"):
        read_toml(tmp_path / "nope.toml", "--config")


def test_an_endless_stream_is_refused_after_its_first_mebibyte(tmp_path: Path) -> None:
    """``--config`` naming a device or a pipe that never ends (/dev/zero, ``<(yes)``) used to be
    read to the end: memory grew until the process was killed. A pipe stands in for the device
    (tests never touch /dev); the writer never stops, so a reader without a bound never returns."""
    import os
    import threading

    r, w = os.pipe()
    stop = threading.Event()

    def endless() -> None:
        try:
            while not stop.is_set():
                os.write(w, b"\0" * 65536)
        except OSError:  # the reader closed its end
            pass

    writer = threading.Thread(target=endless, daemon=True)
    writer.start()
    try:
        with pytest.raises(ConfigError, match=r"`--config` .* larger than 1 MiB") as exc:
            read_toml(f"/dev/fd/{r}", "--config")
        assert "\n" not in str(exc.value)
    finally:
        stop.set()
        os.close(r)
        writer.join(5)
        os.close(w)


def test_empty_config_builds_the_default_strategy() -> None:
    strat = RunConfig().build_strategy()
    assert isinstance(strat, DynamicLambdaStrategy)
    assert strat.get_params() == DynamicLambdaStrategy().get_params()


def test_rebuild_param_builds_only_rwafolio_types() -> None:
    from rwafolio.config import rebuild_param
    from rwafolio.optimize.returns import BlackLitterman

    assert rebuild_param({"type": "BlackLitterman", "prior_obs": 90.0}) == BlackLitterman(90.0)
    assert rebuild_param({"a": [1, {"b": 2}]}) == {"a": [1, {"b": 2}]}
    # A saved file is data: a type outside rwafolio's own is refused, never imported.
    for name in ("Popen", "system", "eval", "Path"):
        with pytest.raises(ConfigError, match="unknown type"):
            rebuild_param({"type": name, "args": ["echo"]})
    with pytest.raises(ConfigError, match="BlackLitterman"):
        rebuild_param({"type": "BlackLitterman", "no_such_arg": 1})


@pytest.mark.parametrize("key", ["lam0", "eta"])
def test_negative_risk_aversion_keys_are_named_like_their_flags(key: str) -> None:
    """``lam0 = -1`` used to fail later as "`lam` must give a finite lam >= 0, got -2.0" (a
    number the user never wrote); the flags refuse it as "expected a finite number >= 0"."""
    with pytest.raises(
        ConfigError, match=rf"config \[strategy\]\.{key}` must be a finite number >= 0, got -1"
    ):
        parse_config({"strategy": {key: -1.0}})
    with pytest.raises(ConfigError, match=rf"\[grid\]\.{key}\[1\]"):
        parse_config({"grid": {key: [1.0, -1.0]}})


def test_a_grid_file_given_as_a_run_config_is_refused(tmp_path: Path) -> None:
    """``backtest --config walkforward.toml`` ran [strategy] and silently left out [grid] and
    [walkforward]; those tables are read by ``walkforward --grid`` only."""
    with pytest.raises(ConfigError, match=r"`--config` .*\[grid\].*walkforward --grid"):
        load_config(EXAMPLES / "walkforward.toml")
    assert load_grid(EXAMPLES / "walkforward.toml").grid  # still a good grid file
