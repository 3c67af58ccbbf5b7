"""Pool workers die with their parent: ``kill -9`` of a walk-forward leaves no worker behind.

A real subprocess runs a walk-forward on a local process pool whose tasks block (each writes its
worker's pid, then sleeps far longer than the test waits). The test kills that process with
SIGKILL and waits, up to a liveness bound, for every worker pid to be gone. Before workers
watched their parent, they slept on as orphans (in the field: 333 MB each, until their task
ended).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import rwafolio
from rwafolio.strategies import FixedMix
from rwafolio.strategies.base import Decision, MarketView

pytestmark = pytest.mark.skipif(os.name != "posix", reason="kill -9 and /proc are POSIX")

GONE_SECONDS = 30.0  # liveness bound: workers poll their parent every 0.5 s
BLOCK_SECONDS = 600.0  # how long a task would sleep if nobody stopped it


class BlockingMix(FixedMix):
    """FixedMix that records its worker's pid in ``pid_dir`` and then blocks (test only)."""

    def __init__(self, weights: Any = None, pid_dir: str = "") -> None:
        super().__init__(weights)
        self.pid_dir = pid_dir

    def decide(self, view: MarketView) -> Decision | None:
        Path(self.pid_dir, f"{os.getpid()}.pid").write_text(str(os.getpid()))
        time.sleep(BLOCK_SECONDS)
        return super().decide(view)


SCRIPT = """
import sys
from rwafolio.tasks import LocalExecutor
from rwafolio.walkforward import walk_forward
from tests.backtest.conftest import make_panel
from tests.tasks.test_pool_death import BlockingMix

if __name__ == "__main__":  # spawned workers import this file too
    panel = make_panel(500, seed=1)
    grid = {"weights": [{"BTC-USD": 1.0}, {"ETH-USD": 1.0}, {"VNQ": 1.0}, None]}
    walk_forward(BlockingMix(pid_dir=sys.argv[1]), panel, grid, train="200D", test="100D",
                 executor=LocalExecutor(2), var=None, progress=False)
"""


def _alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie (an exited process awaiting its reaper)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    except OSError:  # no /proc: ask the kernel
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.fixture
def pid_dir(tmp_path: Path) -> Iterator[Path]:
    """Folder the workers write their pids to; any worker still alive at the end is killed."""
    folder = tmp_path / "pids"
    folder.mkdir()
    yield folder
    for f in folder.glob("*.pid"):
        pid = int(f.read_text())
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)


@pytest.mark.slow
def test_kill_9_of_a_walk_forward_takes_its_pool_workers_with_it(
    pid_dir: Path, tmp_path: Path
) -> None:
    src = Path(rwafolio.__file__).resolve().parents[1]
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(src), str(root)])}
    script = tmp_path / "wf.py"
    script.write_text(textwrap.dedent(SCRIPT), encoding="utf-8")
    log = (tmp_path / "wf.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, str(script), str(pid_dir)], env=env, stdout=log, stderr=log, cwd=root
    )
    try:
        deadline = time.monotonic() + 180  # imports and the first decisions on a busy machine
        while len(list(pid_dir.glob("*.pid"))) < 2:
            if proc.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail("the pool never started:\n" + (tmp_path / "wf.log").read_text()[-3000:])
            time.sleep(0.2)
        workers = sorted(int(f.read_text()) for f in pid_dir.glob("*.pid"))
        assert proc.pid not in workers and all(_alive(p) for p in workers)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        log.close()
    deadline = time.monotonic() + GONE_SECONDS
    while any(_alive(p) for p in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = [p for p in workers if _alive(p)]
    assert not left, f"pool workers {left} outlived their killed parent by {GONE_SECONDS} s"


def test_a_worker_whose_parent_is_already_gone_exits_at_once(tmp_path: Path) -> None:
    """The race: the parent died before the worker armed its watch (parent pid mismatch)."""
    code = (
        "import os, sys\n"
        "from rwafolio.tasks.executors import die_with_parent\n"
        "die_with_parent(os.getppid() + 10**7)\n"  # not our parent: as if it had died
        "sys.exit(0)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(rwafolio.__file__).resolve().parents[1])}
    done = subprocess.run([sys.executable, "-c", code], env=env, timeout=120)
    assert done.returncode == 1


@pytest.mark.parametrize("platform", ["linux", "other"])
def test_die_with_parent_on_kill_9_with_and_without_prctl(platform: str, pid_dir: Path) -> None:
    """A parent starts a child that arms :func:`die_with_parent`; ``kill -9`` of the parent ends
    the child, with Linux's ``prctl`` and with the portable watch thread alone."""
    child = (
        "import os, sys, time\n"
        "from pathlib import Path\n"
        "import rwafolio.tasks.executors as ex\n"
        f"ex.sys.platform = {platform!r} if {platform!r} != 'linux' else ex.sys.platform\n"
        "ex.die_with_parent(os.getppid())\n"
        f"Path({str(pid_dir)!r}, f'{{os.getpid()}}.pid').write_text(str(os.getpid()))\n"
        f"time.sleep({BLOCK_SECONDS})\n"
    )
    parent = (
        "import subprocess, sys, time\n"
        f"subprocess.Popen([sys.executable, '-c', {child!r}])\n"
        f"time.sleep({BLOCK_SECONDS})\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(rwafolio.__file__).resolve().parents[1])}
    proc = subprocess.Popen([sys.executable, "-c", parent], env=env)
    try:
        deadline = time.monotonic() + 120
        while not list(pid_dir.glob("*.pid")):
            assert proc.poll() is None and time.monotonic() < deadline, "child never started"
            time.sleep(0.1)
        (pid,) = (int(f.read_text()) for f in pid_dir.glob("*.pid"))
        assert _alive(pid)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    deadline = time.monotonic() + GONE_SECONDS
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(pid), f"child {pid} outlived its killed parent by {GONE_SECONDS} s"
