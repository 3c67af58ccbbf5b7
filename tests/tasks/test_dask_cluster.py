"""The Dask executor on a real cluster: a ``dask scheduler`` and ``dask worker`` processes.

The scheduler and the workers are separate processes on 127.0.0.1 (a free port), as a user would
start them; this process never holds a default Dask client, so nothing here works by borrowing
one (the bug this replaces: ``as_completed`` looked for a default client and found none). The
walk-forward and the frequency study run through the CLI with ``--executor dask://HOST:PORT``
and must equal the local process pool bit for bit.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import rwafolio
from rwafolio.cli import main
from rwafolio.tasks import DaskExecutor, Task, run_tasks, task_seed
from tests.tasks.test_executors import draw_task

distributed = pytest.importorskip("distributed")

N_WORKERS = 2
READY_SECONDS = 180  # liveness bound for the cluster to come up on a loaded machine


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _stop(procs: list[subprocess.Popen[bytes]]) -> None:
    """SIGTERM each process group, then SIGKILL whatever is left (nannies spawn workers)."""
    for p in procs:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
    deadline = time.monotonic() + 30
    for p in procs:
        try:
            p.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(p.pid, signal.SIGKILL)  # the group may outlive its leader
        except ProcessLookupError:
            pass
        p.wait(timeout=30)


def _assert_no_default_client() -> None:
    with pytest.raises(ValueError, match="No clients found"):
        distributed.default_client()


@pytest.fixture(scope="module")
def scheduler(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Address ``dask://127.0.0.1:PORT`` of a live scheduler with N_WORKERS workers."""
    folder = tmp_path_factory.mktemp("dask")
    src = Path(rwafolio.__file__).resolve().parents[1]
    root = Path(__file__).resolve().parents[2]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(src), str(root)]),  # workers import this rwafolio
        "NUMBA_CACHE_DIR": os.environ.get("NUMBA_CACHE_DIR", str(folder / "numba")),
    }
    port = _free_port()
    log = folder / "scheduler.log"
    procs: list[subprocess.Popen[bytes]] = []
    try:
        with log.open("wb") as fh:
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                 "--port", str(port), "--no-dashboard"],
                stdout=fh, stderr=subprocess.STDOUT, env=env, start_new_session=True, cwd=folder,
            ))  # fmt: skip
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "distributed.cli.dask_worker", f"tcp://127.0.0.1:{port}",
                 "--nworkers", str(N_WORKERS), "--nthreads", "1", "--no-dashboard",
                 "--local-directory", str(folder / "workers")],
                stdout=fh, stderr=subprocess.STDOUT, env=env, start_new_session=True, cwd=folder,
            ))  # fmt: skip
        deadline = time.monotonic() + READY_SECONDS
        while log.read_text(errors="replace").count("Register worker") < N_WORKERS:
            dead = [p.args[2] for p in procs if p.poll() is not None]
            if dead or time.monotonic() > deadline:
                pytest.fail(f"dask cluster did not come up ({dead or 'timeout'}):\n"
                            + log.read_text(errors="replace")[-3000:])  # fmt: skip
            time.sleep(0.5)
        yield f"dask://127.0.0.1:{port}"
    finally:
        _stop(procs)


@pytest.fixture
def watch_dask(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record every Dask run, and check that no default client exists while it runs."""
    seen: list[str] = []
    imap = DaskExecutor.imap

    def checked(self: DaskExecutor, *args: Any) -> Iterator[Any]:
        for out in imap(self, *args):
            _assert_no_default_client()  # the executor's own client is not the default
            seen.append(self.description)
            yield out

    monkeypatch.setattr(DaskExecutor, "imap", checked)
    _assert_no_default_client()
    return seen


def _capture(monkeypatch: pytest.MonkeyPatch, module: Any, name: str) -> list[Any]:
    """Replace ``module.name`` with a wrapper that records what it returns."""
    got: list[Any] = []
    fn: Callable[..., Any] = getattr(module, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        out = fn(*args, **kwargs)
        got.append(out)
        return out

    monkeypatch.setattr(module, name, wrapper)
    return got


GRID = """[strategy]
name = "dynamic"
[grid]
lam0 = [1.0, 4.0]
[walkforward]
train = "365D"
test = "180D"
seed = 3
"""


@pytest.mark.slow
def test_walkforward_cli_on_a_real_cluster_equals_local_bit_for_bit(
    scheduler: str, watch_dask: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import rwafolio.walkforward.entry as entry

    grid = tmp_path / "grid.toml"
    grid.write_text(GRID, encoding="utf-8")
    runs = _capture(monkeypatch, entry, "walk_forward")
    common = ["walkforward", "--grid", str(grid), "--no-var", "--start", "2021-01-01",
              "--end", "2023-06-30"]  # fmt: skip
    assert main([*common, "--executor", scheduler, "--out", str(tmp_path / "d.html")]) == 0
    assert main([*common, "--executor", "local:2", "--out", str(tmp_path / "l.html")]) == 0
    remote, local = runs
    assert watch_dask and remote.executor == scheduler and local.executor == "local:2"
    assert remote.n_tasks == local.n_tasks > 0 and len(remote.failures) == 0
    assert remote.scores.to_numpy().tobytes() == local.scores.to_numpy().tobytes()
    assert remote.stitched.value.to_numpy().tobytes() == local.stitched.value.to_numpy().tobytes()
    assert (
        remote.stitched.weights.to_numpy().tobytes() == local.stitched.weights.to_numpy().tobytes()
    )
    assert [f.params for f in remote.folds] == [f.params for f in local.folds]
    _assert_no_default_client()


@pytest.mark.slow
def test_frequency_cli_on_a_real_cluster_equals_local_bit_for_bit(
    scheduler: str, watch_dask: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import rwafolio.frequency as frequency

    runs = _capture(monkeypatch, frequency, "frequency_report")
    common = ["frequency", "--start", "2023-01-01", "--end", "2023-05-31", "--seed", "4"]
    assert main([*common, "--executor", scheduler]) == 0
    assert main([*common, "--executor", "local:2"]) == 0
    (remote, _), (local, _) = runs
    assert len(watch_dask) == len(remote.table) > 0
    a, b = remote.table.drop(columns="seconds"), local.table.drop(columns="seconds")
    assert list(a.columns) == list(b.columns) and list(a.index) == list(b.index)
    for col in a.columns:
        x, y = a[col].to_numpy(), b[col].to_numpy()
        if x.dtype.kind == "f":
            assert x.tobytes() == y.tobytes(), col
        else:
            assert list(x) == list(y), col
    _assert_no_default_client()


def test_run_tasks_on_a_real_cluster_retries_and_matches_serial(
    scheduler: str, watch_dask: list[str]
) -> None:
    tasks = [Task(f"t{i}", {"n": 3 + i}, task_seed(11, f"t{i}")) for i in range(6)]
    tasks.append(Task("bad", {"n": 2, "fail": True}, 1))
    ser = run_tasks(draw_task, tasks, shared={"scale": 1.5}, executor="serial", progress=False)
    das = run_tasks(draw_task, tasks, shared={"scale": 1.5}, executor=scheduler, progress=False)
    assert len(watch_dask) == len(tasks)
    assert list(das) == list(ser)
    assert all(das[k].value == ser[k].value for k in ser if k != "bad")
    assert np.isfinite(das["t0"].value["mean"])
    assert not das["bad"].ok and das["bad"].attempts == 2 and "always fails" in das["bad"].error
    _assert_no_default_client()


def _explode() -> None:
    raise RuntimeError("this payload cannot be loaded")


class Unloadable:
    """Pickles fine here, raises when a worker loads it (as code missing on a worker would)."""

    def __reduce__(self) -> tuple[Any, ...]:
        return (_explode, ())


def test_a_task_the_cluster_cannot_load_is_a_failed_task_not_a_crash(
    scheduler: str, watch_dask: list[str]
) -> None:
    tasks = [Task("t0", {"n": 3}, 1), Task("bomb", {"n": 4, "x": Unloadable()}, 2)]
    out = run_tasks(draw_task, tasks, shared={"scale": 1.0}, executor=scheduler, progress=False)
    assert out["t0"].ok and np.isfinite(out["t0"].value["mean"])
    assert not out["bomb"].ok and "deserialization" in out["bomb"].error
    assert "Dask cluster" in out["bomb"].error and "\n" not in out["bomb"].error
    _assert_no_default_client()


def test_no_scheduler_at_the_address_is_a_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    grid = tmp_path / "grid.toml"
    grid.write_text(GRID, encoding="utf-8")
    nobody = f"dask://127.0.0.1:{_free_port()}"
    code = main(["walkforward", "--grid", str(grid), "--no-var", "--executor", nobody,
                 "--start", "2021-01-01", "--end", "2023-06-30", "--out", str(tmp_path / "x.html")])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and "no Dask scheduler answered" in err and nobody in err
    assert "Traceback" not in err
    _assert_no_default_client()
