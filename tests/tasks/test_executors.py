"""Executors: per-task seeds, retry once, failure reporting, resume from the cache.

The Dask executor is tested against a real scheduler in ``test_dask_cluster.py``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rwafolio.exceptions import ConfigError
from rwafolio.strategies import FixedMix
from rwafolio.tasks import (
    CacheWarning,
    LocalExecutor,
    SerialExecutor,
    Task,
    TaskCache,
    resolve_executor,
    run_tasks,
    task_seed,
)
from rwafolio.walkforward import walk_forward
from tests.backtest.conftest import make_panel


def draw_task(shared: Any, payload: Any, seed: int) -> dict[str, Any]:
    """A Monte Carlo-like task: draws depend only on the task's seed."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(payload["n"]) * shared["scale"]
    if payload.get("fail"):
        raise ValueError(f"task {payload['n']} always fails")
    if payload.get("log"):  # record every call, to count what really ran
        with Path(payload["log"]).open("a") as fh:
            fh.write(f"{payload['n']}\n")
    return {"mean": float(x.mean()), "first": float(x[0])}


def flaky_task(shared: Any, payload: Any, seed: int) -> int:
    """Fails on its first call (leaves a marker), succeeds on the retry."""
    marker = Path(payload["marker"])
    if not marker.exists():
        marker.write_text("failed once")
        raise RuntimeError("transient")
    return 7


def _tasks(n: int, **extra: Any) -> list[Task]:
    return [Task(f"t{i}", {"n": 3 + i, **extra}, task_seed(11, f"t{i}")) for i in range(n)]


def test_task_seed_is_a_seedsequence_of_base_and_key() -> None:
    import hashlib

    words = np.frombuffer(hashlib.sha256(b"fold1/p2").digest()[:16], dtype="<u4")
    ref = np.random.SeedSequence(5, spawn_key=tuple(int(w) for w in words)).generate_state(
        1, np.uint64
    )[0]
    assert task_seed(5, "fold1/p2") == int(ref >> np.uint64(1))
    assert task_seed(5, "fold1/p2") != task_seed(5, "fold1/p3") != task_seed(6, "fold1/p2")
    with pytest.raises(ConfigError, match="base_seed"):
        task_seed(-1, "x")


def test_retry_once_then_report(tmp_path: Path) -> None:
    tasks = [
        Task("flaky", {"marker": str(tmp_path / "m")}),
        Task("bad", {"n": 2, "fail": True}),
        Task("good", {"n": 4}, 9),
    ]
    out = run_tasks(flaky_task, tasks[:1], executor="serial", progress=False)
    assert out["flaky"].ok and out["flaky"].value == 7 and out["flaky"].attempts == 2
    out = run_tasks(draw_task, tasks[1:], shared={"scale": 1.0}, executor="serial", progress=False)
    assert list(out) == ["bad", "good"]
    assert not out["bad"].ok and out["bad"].attempts == 2 and out["bad"].value is None
    assert "ValueError: task 2 always fails" in out["bad"].error
    assert out["good"].ok  # the failure did not abort the sweep


def test_resume_from_cache_after_interruption(tmp_path: Path) -> None:
    log, cache = tmp_path / "calls.log", tmp_path / "cache"
    tasks = _tasks(6, log=str(log))
    # an "interrupted" sweep: only the first 4 tasks finished
    first = run_tasks(draw_task, tasks[:4], shared={"scale": 2.0}, executor="serial", cache=cache,
                      progress=False)  # fmt: skip
    assert log.read_text().split() == ["3", "4", "5", "6"]
    assert len(TaskCache(cache)) == 4 and not [p for p in cache.iterdir() if p.name.startswith(".")]
    again = run_tasks(draw_task, tasks, shared={"scale": 2.0}, executor="serial", cache=cache,
                      progress=False)  # fmt: skip
    assert log.read_text().split() == ["3", "4", "5", "6", "7", "8"]  # only the missing two ran
    assert [o.cached for o in again.values()] == [True] * 4 + [False] * 2
    assert all(again[k].value == first[k].value for k in first)
    # stored as JSON (no pickle), with a checksum; keyed by inputs, the shared data included
    doc = json.loads(next(cache.glob("*.json")).read_text())
    assert set(doc) == {"format", "hash", "key", "code", "checksum", "value"}
    other = run_tasks(draw_task, tasks[:1], shared={"scale": 3.0}, executor="serial", cache=cache,
                      progress=False)  # fmt: skip
    assert not other["t0"].cached and other["t0"].value != first["t0"].value
    # a corrupt file is a reported miss, not a crash
    for p in cache.glob("*.json"):
        p.write_text("{not json")
    with pytest.warns(CacheWarning, match="rejected and recomputed.*corrupt"):
        redo = run_tasks(draw_task, tasks[:1], shared={"scale": 2.0}, executor="serial",
                         cache=cache, progress=False)  # fmt: skip
    assert not redo["t0"].cached and redo["t0"].value == first["t0"].value


def test_walk_forward_resumes_from_cache(tmp_path: Path) -> None:
    panel = make_panel(700, seed=2, costs={"BTC-USD": 0.001, "ETH-USD": 0.002, "VNQ": 0.01})
    grid = {"weights": [{"BTC-USD": 1.0}, {"ETH-USD": 1.0}, None]}
    kw: dict[str, Any] = dict(train="365D", test="120D", executor="serial", progress=False,
                              var=None, cache=tmp_path)  # fmt: skip
    a = walk_forward(FixedMix(), panel, grid, **kw)
    b = walk_forward(FixedMix(), panel, grid, **kw)
    assert a.cache_hits == 0 and b.cache_hits == b.n_tasks > 0
    assert a.scores.equals(b.scores) and a.stitched.value.equals(b.stitched.value)
    c = walk_forward(FixedMix(), panel, grid, **{**kw, "cache": None})
    assert c.scores.equals(a.scores)  # JSON round trip loses nothing


def test_resolve_executor() -> None:
    assert isinstance(resolve_executor("serial"), SerialExecutor)
    ex = resolve_executor("local:3")
    assert isinstance(ex, LocalExecutor) and ex.n_workers == 3 and ex.description == "local:3"
    assert isinstance(resolve_executor(None), LocalExecutor)
    for bad in ["locale", "local:x", "ray://h:1"]:
        with pytest.raises(ConfigError, match="executor"):
            resolve_executor(bad)


def test_local_processes_equal_serial_bit_for_bit() -> None:
    tasks = [*_tasks(8), Task("bad", {"n": 2, "fail": True}, 1)]
    ser = run_tasks(draw_task, tasks, shared={"scale": 1.5}, executor="serial", progress=False)
    loc = run_tasks(draw_task, tasks, shared={"scale": 1.5}, executor=LocalExecutor(2),
                    progress=False)  # fmt: skip
    assert list(loc) == list(ser)
    assert all(loc[k].value == ser[k].value for k in ser)
    assert not loc["bad"].ok and loc["bad"].attempts == 2
