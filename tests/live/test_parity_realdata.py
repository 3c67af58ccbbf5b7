"""The live path proved on the real daily data: replay equals the backtest, kill -9 and restart."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rwafolio.backtest import run
from rwafolio.live import LiveRebalancer, panel_bars
from rwafolio.loaders import load
from rwafolio.optimize.costs import CostModel
from rwafolio.strategies import DynamicLambdaStrategy
from tests.live.conftest import DAILY, daily_dirs, daily_vix

pytestmark = [pytest.mark.realdata, pytest.mark.slow]


@pytest.mark.parametrize("policy", ["all_days", "exchange_days"])
def test_replay_equals_backtest_on_real_data(shared_data, policy) -> None:  # type: ignore[no-untyped-def]
    panel = load(
        "files",
        DAILY,
        data_dirs=daily_dirs(shared_data),
        vix=str(daily_vix(shared_data)),
        start="2020-01-01",
        end="2024-11-30",
        policy=policy,
    )
    res = run(DynamicLambdaStrategy(), panel, execute=False)
    reb = LiveRebalancer(
        DynamicLambdaStrategy(),
        panel.symbols,
        panel.universe.classes,
        CostModel.from_universe(panel.universe),
        panel.periods_per_year,
        True,
    )
    after = np.array([reb.step(bar).weights_after for bar in panel_bars(panel)])
    np.testing.assert_allclose(after, res.weights.to_numpy(), rtol=0, atol=1e-12)
    assert (res.turnover > 0).sum() > 100


def _cli(shared: Path, tmp: Path, name: str, end: str, extra: list[str] = ()) -> list[str]:  # type: ignore[assignment]
    return [
        sys.executable,
        "-u",
        "-m",
        "rwafolio.cli",
        "live",
        "--source",
        "files",
        "--data-dir",
        str(daily_dirs(shared)[0]),
        "--data-dir",
        str(daily_dirs(shared)[1]),
        "--vix",
        str(daily_vix(shared)),
        "--symbols",
        *DAILY,
        "--start",
        "2023-01-01",
        "--end",
        end,
        "--state",
        str(tmp / name),
        "--orders",
        str(tmp / f"{name}.jsonl"),
        "--portfolio-value",
        "100000",
        *extra,
    ]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    src = str(Path(__file__).resolve().parents[2] / "src")
    env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "")
    return env


def test_cli_replay_killed_and_restarted(shared_data, tmp_path) -> None:  # type: ignore[no-untyped-def]
    end = "2024-06-30"
    whole = subprocess.run(
        _cli(shared_data, tmp_path, "whole", end),
        env=_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert whole.returncode == 0, whole.stderr
    lines = (tmp_path / "whole.jsonl").read_text().splitlines()
    # Every weights_after equals the backtest's book after that date's trade, the last its final.
    panel = load(
        "files",
        DAILY,
        data_dirs=daily_dirs(shared_data),
        vix=str(daily_vix(shared_data)),
        start="2023-01-01",
        end=end,
    )
    res = run(DynamicLambdaStrategy(), panel, execute=False)
    got = np.array([[json.loads(x)["weights_after"][s] for s in DAILY] for x in lines])
    np.testing.assert_allclose(got, res.weights.to_numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(got[-1], res.weights.iloc[-1].to_numpy(), rtol=0, atol=1e-12)
    # ...and the last decision's weights equal `backtest --json`'s final_weights.
    from rwafolio.cli import main

    dirs = daily_dirs(shared_data)
    summary = tmp_path / "summary.json"
    code = main(
        [
            "backtest",
            "--source",
            "files",
            "--data-dir",
            str(dirs[0]),
            "--data-dir",
            str(dirs[1]),
            "--vix",
            str(daily_vix(shared_data)),
            "--symbols",
            *DAILY,
            "--start",
            "2023-01-01",
            "--end",
            end,
            "--no-risk",
            "--no-crowding",
            "--out",
            str(tmp_path / "r.html"),
            "--json",
            str(summary),
        ]
    )
    assert code == 0
    doc = json.loads(summary.read_text())
    assert doc["data"]["bar"] == "1d" and doc["data"]["periods_per_year"] == 365
    by_time = {json.loads(x)["time"][:10]: json.loads(x) for x in lines}
    final = by_time[doc["last_decision"]]["weights_after"]
    for s in DAILY:
        assert abs(final[s] - doc["final_weights"][s]) <= 1e-12

    # The same run killed with SIGKILL in the middle, then restarted.
    proc = subprocess.Popen(
        _cli(shared_data, tmp_path, "part", end),
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    seen = 0
    for _ in proc.stdout:
        seen += 1
        if seen == 250:
            os.kill(proc.pid, signal.SIGKILL)
            break
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    partial = (tmp_path / "part.jsonl").read_text().splitlines()
    assert 250 <= len(partial) < len(lines)
    again = subprocess.run(
        _cli(shared_data, tmp_path, "part", end),
        env=_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert again.returncode == 0, again.stderr
    assert (tmp_path / "part.jsonl").read_text().splitlines() == lines


def test_cli_refusals_are_one_line(shared_data, tmp_path) -> None:  # type: ignore[no-untyped-def]
    ok = subprocess.run(
        _cli(shared_data, tmp_path, "s", "2023-03-31", ["--quiet"]),
        env=_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert ok.returncode == 0, ok.stderr
    state = tmp_path / "s" / "state.json"
    saved = state.read_bytes()
    cases = [
        (["--end", "2023-03-01"], "end before the state's last bar"),  # a bar older than the state
        (["--symbols", *DAILY[:-1]], "other parameters"),  # a symbol disappears
        (["--symbols", *DAILY, "SPY"], "other parameters"),  # a symbol appears
    ]
    for extra, message in cases:
        cmd = _cli(shared_data, tmp_path, "s", "2023-04-30", ["--quiet"])
        cmd = (
            cmd[: cmd.index("--symbols")]
            + cmd[cmd.index("--start") :]
            + (extra if extra[0] == "--symbols" else ["--symbols", *DAILY, *extra])
        )
        p = subprocess.run(cmd, env=_env(), capture_output=True, text=True, timeout=600)
        assert p.returncode == 2, (extra, p.stdout, p.stderr)
        assert message in p.stderr and len(p.stderr.strip().splitlines()) == 1, p.stderr
        assert state.read_bytes() == saved
    state.write_bytes(b"\x00garbage")
    p = subprocess.run(
        _cli(shared_data, tmp_path, "s", "2023-04-30"),
        env=_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert p.returncode == 2 and "not a readable state file" in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1 and state.read_bytes() == b"\x00garbage"
