"""Saved runs: round trip, re-render without re-running, and refusal of unsafe or odd files."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from rwafolio.exceptions import DataError
from rwafolio.reports import collect, load_run, render_html, save_run
from rwafolio.reports.runfile import FORMAT


@pytest.fixture(scope="module")
def record(run_inputs: dict[str, Any]) -> Any:
    return collect(
        run_inputs["result"], run_inputs["forecasts"], benchmarks=run_inputs["benchmarks"],
        crowding=run_inputs["crowding"], scenario=run_inputs["scenario"],
        extra_sections=[("A table", pd.DataFrame({"a": [1.0, 2.0]}), "note"),
                        ("Some text", "plain <b>text</b>", "")],
    )  # fmt: skip


def test_round_trip_keeps_every_table_and_the_metadata(record: Any, tmp_path: Path) -> None:
    path = save_run(tmp_path / "run.zip", record)
    back = load_run(path)
    assert set(back.tables) == set(record.tables)
    for name, df in record.tables.items():
        pd.testing.assert_frame_equal(back.tables[name], df, check_freq=False, obj=name)
    assert back.meta == json.loads(json.dumps(record.meta))
    assert [(s.title, s.kind, s.note) for s in back.extra_sections] == [
        (s.title, s.kind, s.note) for s in record.extra_sections
    ]
    pd.testing.assert_frame_equal(back.extra_sections[0].content, record.extra_sections[0].content)
    # Only JSON and parquet inside: nothing that could be unpickled.
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
    assert "manifest.json" in names
    assert all(n == "manifest.json" or n.endswith(".parquet") for n in names)


def test_rerender_from_saved_run_is_identical(record: Any, tmp_path: Path) -> None:
    direct = render_html(record, path=tmp_path / "direct.html")
    again = render_html(
        load_run(save_run(tmp_path / "run.zip", record)), path=tmp_path / "again.html"
    )
    assert direct.read_bytes() == again.read_bytes()


def test_saved_run_holds_what_reproduces_it(
    run_inputs: dict[str, Any], record: Any, tmp_path: Path
) -> None:
    back = load_run(save_run(tmp_path / "run.zip", record))
    res = run_inputs["result"]
    assert back.meta["params"]["lam0"] == res.params["lam0"]
    assert back.meta["params"]["first_decision"] == res.params["first_decision"]
    assert back.meta["panel"]["start"] == res.panel.dates[0].strftime("%Y-%m-%d")
    assert back.meta["seeds"]["forecasts"] == run_inputs["forecasts"].seed
    assert back.meta["seeds"]["data"] == res.panel.meta["seed"]
    assert back.meta["versions"]["numpy"] == np.__version__
    panel = back.rebuild_panel()
    pd.testing.assert_frame_equal(panel.prices, res.panel.prices, check_freq=False)
    pd.testing.assert_frame_equal(panel.tradable, res.panel.tradable, check_freq=False)
    assert panel.universe == res.panel.universe
    # Re-running the strategy on the rebuilt panel reproduces the saved values exactly.
    from rwafolio.backtest import run
    from rwafolio.config import rebuild_strategy

    # Parameters are saved as data (objects typed, see param_jsonable) and rebuild the strategy.
    strategy = rebuild_strategy(back.meta["params"])
    assert strategy.get_params() == res.strategy.get_params()
    again = run(strategy, panel, name="dynamic", progress=False, execute=False)
    np.testing.assert_allclose(again.value.to_numpy(), back.tables["values"]["dynamic"].to_numpy(),
                               rtol=1e-12)  # fmt: skip


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def test_bad_files_are_refused(record: Any, tmp_path: Path) -> None:
    (tmp_path / "plain.txt").write_text("hello")
    with pytest.raises(DataError, match="not a zip"):
        load_run(tmp_path / "plain.txt")
    with pytest.raises(DataError, match="not a file"):
        load_run(tmp_path / "nothing.zip")
    with pytest.raises(DataError, match="manifest"):
        load_run(_zip(tmp_path / "a.zip", {"x.parquet": b""}))
    with pytest.raises(DataError, match="not a rwafolio run"):
        load_run(_zip(tmp_path / "b.zip", {"manifest.json": b'{"format": "other"}'}))
    with pytest.raises(DataError, match="version"):
        load_run(
            _zip(
                tmp_path / "c.zip",
                {"manifest.json": json.dumps({"format": FORMAT, "version": 99}).encode()},
            )
        )
    path = save_run(tmp_path / "ok.zip", record)
    with zipfile.ZipFile(path) as zf:
        good = json.loads(zf.read("manifest.json"))
    evil = {**good, "tables": {**good["tables"], "values": "../../etc/passwd"}}
    with pytest.raises(DataError, match="unexpected member"):
        load_run(_zip(tmp_path / "d.zip", {"manifest.json": json.dumps(evil).encode()}))
    pickled = {**good, "tables": {**good["tables"], "values": "tables/values.pkl"}}
    with pytest.raises(DataError, match="unexpected member"):
        load_run(_zip(tmp_path / "e.zip", {"manifest.json": json.dumps(pickled).encode(),
                                            "tables/values.pkl": b"\x80\x04."}))  # fmt: skip
    # A run without the required tables.
    with zipfile.ZipFile(path) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        members = {n: zf.read(n) for n in zf.namelist()}
    del manifest["tables"]["stats"]
    members["manifest.json"] = json.dumps(manifest).encode()
    with pytest.raises(DataError, match="stats"):
        load_run(_zip(tmp_path / "f.zip", members))


def test_save_is_atomic(record: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from rwafolio.reports import runfile

    target = tmp_path / "run.zip"
    save_run(target, record)
    good = target.read_bytes()

    def boom(*a: Any, **k: Any) -> bytes:
        raise RuntimeError("parquet writer crashed")

    monkeypatch.setattr(runfile, "_parquet_bytes", boom)
    with pytest.raises(RuntimeError, match="crashed"):
        save_run(target, record)
    assert target.read_bytes() == good
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.zip"]
