"""Caches that cannot lie: keys cover user code, unkeyable inputs are not cached, entries are
verified by checksum.

The attacks reproduced here (issue: "the task cache returns wrong numbers"): a user strategy
whose code changes between two cached walk-forwards under the same class name and parameters;
a lambda parameter; a hand-edited cache entry. The reference for every cached answer is the same
run without a cache.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import textwrap
import threading
import types
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import rwafolio
from rwafolio.tasks import CacheWarning, Task, TaskCache, Unkeyable, fingerprint, run_tasks
from rwafolio.walkforward import walk_forward
from tests.backtest.conftest import make_panel
from tests.tasks.test_executors import draw_task

GRID = {"weights": [{"BTC-USD": 1.0}, {"ETH-USD": 1.0}, {"VNQ": 1.0}]}
KW: dict[str, Any] = dict(train="365D", test="120D", executor="serial", progress=False, var=None)

STRATEGY = '''
from rwafolio.strategies import FixedMix
import {helper} as helper


class UserTilt(FixedMix):
    """A user's strategy: FixedMix whose mix goes through ``shape`` and the helper module."""

    def __init__(self, weights=None, shape=None):
        super().__init__(weights)
        self.shape = shape

    def prepare(self, setup):
        super().prepare(setup)
        mix = helper.adjust(self.mix_)
        if self.shape is not None:
            mix = self.shape(mix)
        self.mix_ = {body}
'''
HELPER = "def adjust(mix):\n    return {body}\n"
SHAPES = "def reverse(mix):\n    return {body}\n"


@pytest.fixture(scope="module")
def panel() -> Any:
    return make_panel(700, seed=2, costs={"BTC-USD": 0.001, "ETH-USD": 0.002, "VNQ": 0.01})


@pytest.fixture
def user_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Any]]:
    """``write(name, source)``: write a module file into a temporary folder and import it fresh
    (as a new process would after the user edited the file); write imported modules first."""
    folder = tmp_path / "user"
    folder.mkdir()
    monkeypatch.setattr(sys, "dont_write_bytecode", True)  # no stale .pyc within one second
    monkeypatch.syspath_prepend(str(folder))
    names: set[str] = set()

    def write(name: str, source: str) -> types.ModuleType:
        (folder / f"{name}.py").write_text(textwrap.dedent(source), encoding="utf-8")
        names.add(name)
        sys.modules.pop(name, None)
        importlib.invalidate_caches()
        return importlib.import_module(name)

    yield write
    for n in names:
        sys.modules.pop(n, None)


def _install(
    write: Callable[..., Any], tag: str, strategy: str, helper: str, shape: str | None
) -> Any:
    """A UserTilt from freshly written modules; ``shape=None`` passes no function parameter."""
    write(f"helper_{tag}", HELPER.format(body=helper))
    shapes = write(f"shapes_{tag}", SHAPES.format(body=shape or "mix"))
    mod = write(f"strat_{tag}", STRATEGY.format(helper=f"helper_{tag}", body=strategy))
    return mod.UserTilt(shape=None if shape is None else shapes.reverse)


SAME: dict[str, Any] = {"strategy": "mix", "helper": "mix", "shape": "mix"}


@pytest.mark.parametrize(
    "change",
    [
        {"strategy": "mix[::-1].copy()", "shape": None},  # the class's own code
        {"helper": "mix[[1, 2, 0]].copy()", "shape": None},  # a module the class's module imports
        {"shape": "mix[[2, 0, 1]].copy()"},  # a function passed as a parameter
    ],
    ids=["class-body", "imported-helper", "function-parameter"],
)
def test_changed_user_code_gives_the_new_answer(
    change: dict[str, Any], user_code: Callable[..., Any], panel: Any, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    before = {**SAME, "shape": "mix" if change["shape"] is not None else None}
    old = walk_forward(_install(user_code, "x", **before), panel, GRID, cache=cache, **KW)
    again = walk_forward(_install(user_code, "x", **before), panel, GRID, cache=cache, **KW)
    assert old.cache_hits == 0 and again.cache_hits == again.n_tasks > 0  # unchanged code hits
    new_strategy = _install(user_code, "x", **{**SAME, **change})  # same names, new logic
    new = walk_forward(new_strategy, panel, GRID, cache=cache, **KW)
    truth = walk_forward(new_strategy, panel, GRID, cache=None, **KW)
    assert new.cache_hits == 0
    assert new.stitched.value.to_numpy().tobytes() == truth.stitched.value.to_numpy().tobytes()
    assert new.scores.to_numpy().tobytes() == truth.scores.to_numpy().tobytes()
    assert not np.allclose(new.scores.to_numpy(), old.scores.to_numpy())  # the edit matters


def _run_counting_warnings(fn: Callable[[], Any]) -> tuple[Any, list[str]]:
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        out = fn()
    return out, [str(w.message) for w in seen if issubclass(w.category, CacheWarning)]


def test_lambda_parameter_is_not_cached_and_the_user_is_told_once(
    user_code: Callable[..., Any], panel: Any, tmp_path: Path
) -> None:
    cls = type(_install(user_code, "l", **SAME))
    strategy = cls(shape=lambda m: m[::-1].copy())
    cache = tmp_path / "cache"
    truth = walk_forward(strategy, panel, GRID, cache=None, **KW)
    for _ in range(2):
        res, told = _run_counting_warnings(
            lambda: walk_forward(strategy, panel, GRID, cache=cache, **KW)
        )
        assert len(told) == 1, told
        assert "shape" in told[0] and "lambda" in told[0] and "not cached" in told[0]
        assert res.cache_hits == 0 and len(TaskCache(cache)) == 0
        assert res.stitched.value.to_numpy().tobytes() == truth.stitched.value.to_numpy().tobytes()


def test_hand_edited_entry_is_a_reported_miss(panel: Any, tmp_path: Path) -> None:
    from rwafolio.strategies import FixedMix

    cache = tmp_path / "cache"
    first = walk_forward(FixedMix(), panel, GRID, cache=cache, **KW)
    entries = sorted(cache.glob("*.json"))
    assert len(entries) == first.n_tasks
    for p in entries:  # the attack: make every in-sample return look better
        doc = json.loads(p.read_text())
        doc["value"]["returns"] = [r + 0.01 for r in doc["value"]["returns"]]
        p.write_text(json.dumps(doc))
    edited, told = _run_counting_warnings(
        lambda: walk_forward(FixedMix(), panel, GRID, cache=cache, **KW)
    )
    assert (
        len(told) == 1 and f"{len(entries)} entries rejected" in told[0] and "checksum" in told[0]
    )
    assert edited.cache_hits == 0
    assert edited.scores.to_numpy().tobytes() == first.scores.to_numpy().tobytes()
    assert edited.stitched.value.to_numpy().tobytes() == first.stitched.value.to_numpy().tobytes()
    healed, told = _run_counting_warnings(
        lambda: walk_forward(FixedMix(), panel, GRID, cache=cache, **KW)
    )
    assert not told and healed.cache_hits == healed.n_tasks  # rewritten with the right values


def _tamper_value(doc: dict[str, Any], path: Path, other: Path) -> str:
    doc["value"]["mean"] += 1e-12
    return json.dumps(doc)


def _tamper_checksum(doc: dict[str, Any], path: Path, other: Path) -> str:
    doc["checksum"] = "0" * 64
    return json.dumps(doc)


def _swap(doc: dict[str, Any], path: Path, other: Path) -> str:
    return other.read_text()  # another task's genuine entry, renamed


def _truncate(doc: dict[str, Any], path: Path, other: Path) -> str:
    return path.read_text()[:-7]


def _old_layout(doc: dict[str, Any], path: Path, other: Path) -> str:
    return json.dumps({k: doc[k] for k in ("hash", "key", "code", "value")})


def _list(doc: dict[str, Any], path: Path, other: Path) -> str:
    return json.dumps([doc])


@pytest.mark.parametrize(
    "tamper, status",
    [(_tamper_value, "checksum"), (_tamper_checksum, "checksum"), (_swap, "mismatch"),
     (_truncate, "corrupt"), (_old_layout, "corrupt"), (_list, "corrupt")],
)  # fmt: skip
def test_tampered_entries_are_reported_misses(
    tamper: Callable[..., str], status: str, tmp_path: Path
) -> None:
    tasks = [Task(f"t{i}", {"n": 3 + i}, 100 + i) for i in range(3)]
    kw: dict[str, Any] = dict(shared={"scale": 2.0}, executor="serial", cache=tmp_path,
                              progress=False)  # fmt: skip
    first = run_tasks(draw_task, tasks, **kw)
    store = TaskCache(tmp_path)
    by_key = {json.loads(p.read_text())["key"]: p for p in tmp_path.glob("*.json")}
    target, other = by_key["t1"], by_key["t2"]
    target.write_text(tamper(json.loads(target.read_text()), target, other))
    assert store.lookup(target.stem).status == status
    again, told = _run_counting_warnings(lambda: run_tasks(draw_task, tasks, **kw))
    assert len(told) == 1 and target.name in told[0] and status in told[0]
    assert [o.cached for o in again.values()] == [True, False, True]
    assert all(again[k].value == first[k].value for k in first)


def _closure() -> Callable[[Any], Any]:
    k = 2

    def scale(m: Any) -> Any:
        return m * k

    return scale


def _local_def() -> Callable[[Any], Any]:
    def ident(m: Any) -> Any:
        return m

    return ident


def _local_class_instance() -> Any:
    class Local:
        pass

    return Local()


def _sourceless_instance() -> Any:
    mod = types.ModuleType("rwafolio_test_sourceless")
    exec("class Ghost:\n    def __init__(self):\n        self.k = 1\n", mod.__dict__)
    sys.modules[mod.__name__] = mod
    return mod.Ghost()


def _cycle() -> Any:
    a: list[Any] = []
    a.append(a)
    return a


@pytest.mark.parametrize(
    "make, why",
    [(lambda: (lambda m: m), "a lambda"), (_closure, "closure over (k)"),
     (_local_def, "defined inside a function"), (_local_class_instance, "defined inside a function"),
     (_sourceless_instance, "source of its module"), (threading.Lock, "no inspectable state"),
     (_cycle, "reference cycle")],
    ids=["lambda", "closure", "local-def", "local-class", "no-source", "lock", "cycle"],
)  # fmt: skip
def test_what_cannot_be_keyed_is_named(make: Callable[[], Any], why: str, tmp_path: Path) -> None:
    value = {"params": {"rule": make()}}
    with pytest.raises(Unkeyable, match="rule") as info:
        fingerprint(value, "context")
    assert why in info.value.why
    tasks = [Task("t0", {"n": 3}, 1)]
    out, told = _run_counting_warnings(
        lambda: run_tasks(draw_task, tasks, shared={"scale": 1.0, "x": value}, executor="serial",
                          cache=tmp_path, progress=False)
    )  # fmt: skip
    assert len(told) == 1 and why in told[0] and out["t0"].ok and not out["t0"].cached
    assert len(TaskCache(tmp_path)) == 0
    sys.modules.pop("rwafolio_test_sourceless", None)  # made by _sourceless_instance


def test_fingerprint_tells_values_apart_and_ignores_what_does_not_matter() -> None:
    a = np.arange(6.0).reshape(2, 3)
    b = a.copy()
    b[1, 2] = np.nextafter(b[1, 2], 10)  # one ulp
    df = pd.DataFrame(a, columns=list("xyz"))
    df2 = df.copy()
    df2.iloc[0, 0] = -0.0  # same value under ==, different bits
    distinct = [1, 1.0, True, "1", (1,), [1], {1}, a, b, a.astype(np.float32), df, df2,
                pd.Timestamp("2024-01-01"), pd.Timestamp("2024-01-01 00:00:01"), None]  # fmt: skip
    keys = [json.dumps(fingerprint(v)) for v in distinct]
    assert len(set(keys)) == len(keys)
    assert fingerprint({"a": 1, "b": [2.5]}) == fingerprint({"b": [2.5], "a": 1})
    assert fingerprint({"x", "y", "z"}) == fingerprint({"z", "y", "x"})


def test_keys_are_the_same_in_every_process(tmp_path: Path) -> None:
    """A key that changed between processes would never hit (hash randomization, addresses)."""
    code = (
        "from rwafolio.tasks.executors import task_hashes\n"
        "from rwafolio.tasks import Task\n"
        "from rwafolio.strategies import DynamicLambdaStrategy\n"
        "from rwafolio.optimize.estimators import EWMAEstimator\n"
        "from tests.backtest.conftest import make_panel\n"
        "from tests.tasks.test_executors import draw_task\n"
        "s = DynamicLambdaStrategy(estimator=EWMAEstimator(), schedules={'crypto': 'daily'})\n"
        "keys, why = task_hashes(draw_task, [Task('a', {'p': {'x', 'y'}}, 1)],"
        " make_panel(50), {'s': s, 'set': frozenset({'u', 'v', 'w'})})\n"
        "print(keys['a'], why)\n"
    )
    src = Path(rwafolio.__file__).resolve().parents[1]
    root = Path(__file__).resolve().parents[2]
    outs = set()
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(src), str(root)]),
               "PYTHONHASHSEED": seed}  # fmt: skip
        done = subprocess.run([sys.executable, "-c", code], env=env, cwd=root, text=True,
                              capture_output=True, timeout=300)  # fmt: skip
        assert done.returncode == 0, done.stderr[-2000:]
        outs.add(done.stdout.strip())
    assert len(outs) == 1 and outs.pop().endswith("[]")


def test_a_cache_folder_that_is_a_file_is_refused_before_any_task(tmp_path: Path) -> None:
    """It used to run every task, call each entry 'corrupt' in a CacheWarning, then fail with
    an unexpected FileExistsError when writing: the work was lost."""
    from rwafolio.exceptions import ConfigError

    afile = tmp_path / "cache"
    afile.write_text("mine\n")
    ran: list[int] = []
    for where in (afile, afile / "sub"):
        with pytest.raises(ConfigError, match=r"task cache folder .* is a file"):
            run_tasks(lambda x: ran.append(x) or x, [Task("a", {"x": 1})], cache=where)
    assert ran == [] and afile.read_text() == "mine\n"
