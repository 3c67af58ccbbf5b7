"""`rwafolio live` on the synthetic market: --until, --poll with Ctrl-C, output checks."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from rwafolio.cli import main

BASE = ["live", "--source", "synthetic", "--start", "2021-01-01", "--end", "2021-03-31", "--quiet"]


def _paths(tmp: Path) -> list[str]:
    return ["--state", str(tmp / "st"), "--orders", str(tmp / "o.jsonl")]


def _times(tmp: Path) -> list[str]:
    return [json.loads(x)["time"] for x in (tmp / "o.jsonl").read_text().splitlines()]


def test_until_then_resume(tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert main([*BASE, *_paths(tmp_path), "--until", "2021-02-10"]) == 0
    assert _times(tmp_path)[-1] == "2021-02-10T00:00:00"
    assert main([*BASE, *_paths(tmp_path)]) == 0
    times = _times(tmp_path)
    assert times[-1] == "2021-03-31T00:00:00" and len(times) == len(set(times)) == 90


def test_orders_path_checks(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "o.jsonl").write_text("someone's file\n")
    assert main([*BASE, *_paths(tmp_path)]) == 2
    assert "--force" in capsys.readouterr().err
    assert (tmp_path / "o.jsonl").read_text() == "someone's file\n"
    assert main([*BASE, *_paths(tmp_path), "--force"]) == 0
    assert len(_times(tmp_path)) == 90
    (tmp_path / "dir.jsonl").mkdir()
    assert (
        main([*BASE, "--state", str(tmp_path / "s2"), "--orders", str(tmp_path / "dir.jsonl")]) == 2
    )
    assert "regular file" in capsys.readouterr().err
    cfg = tmp_path / "c.toml"
    cfg.write_text("[strategy]\nwindow = 20\n")
    assert (
        main([*BASE, "--config", str(cfg), "--state", str(tmp_path / "s3"), "--orders", str(cfg)])
        == 2
    )
    assert "inputs" in capsys.readouterr().err
    assert cfg.read_text() == "[strategy]\nwindow = 20\n"
    assert (
        main([*BASE, "--state", str(tmp_path / "s4"), "--orders", str(tmp_path / "s4" / "o.jsonl")])
        == 2
    )


def test_journal_edited_is_refused(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main([*BASE, *_paths(tmp_path), "--until", "2021-02-10"]) == 0
    journal = tmp_path / "o.jsonl"
    lines = journal.read_text().splitlines(keepends=True)
    journal.write_text("".join(lines[:-1]) + lines[-1].replace('"status"', '"Status"'))
    assert main([*BASE, *_paths(tmp_path)]) == 2
    assert "edited" in capsys.readouterr().err
    journal.write_text("".join(lines[:-3]))
    assert main([*BASE, *_paths(tmp_path)]) == 2
    assert "truncated" in capsys.readouterr().err


def _start(tmp: Path) -> subprocess.Popen[str]:
    env = dict(os.environ)
    src = str(Path(__file__).resolve().parents[2] / "src")
    env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "")
    cmd = [sys.executable, "-m", "rwafolio.cli", *BASE, *_paths(tmp), "--poll", "0.5"]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for(state: Path, ok) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            if state.exists() and ok(json.loads(state.read_text())):
                return
        except json.JSONDecodeError:  # pragma: no cover - the write is atomic; never partial
            raise
        time.sleep(0.05)
    raise AssertionError("timed out")


def test_poll_stops_on_ctrl_c_after_the_bar(tmp_path) -> None:  # type: ignore[no-untyped-def]
    state = tmp_path / "st" / "state.json"
    # Ctrl-C in the middle of the bars: the current bar finishes, state and journal agree.
    proc = _start(tmp_path)
    _wait_for(state, lambda s: s["row"] >= 5)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert "stopping after the current bar" in out
    row = json.loads(state.read_text())["row"]
    assert len(_times(tmp_path)) == row + 1  # (fewer than 90 unless the bars ran out first)
    # Restarted, it catches up, polls, and stops on Ctrl-C while waiting.
    proc = _start(tmp_path)
    _wait_for(state, lambda s: s["time"] == "2021-03-31T00:00:00")
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert f"live: {89 - row} new bar(s)" in out
    times = _times(tmp_path)
    assert len(times) == len(set(times)) == 90


def test_yfinance_source_processes_only_ended_bars(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import pandas as pd

    import rwafolio.live.command as command
    import rwafolio.loaders.api as api
    from tests.loaders.test_yahoo import FakeYF

    real = api.load_yahoo
    fake = FakeYF()
    monkeypatch.setattr(api, "load_yahoo", lambda *a, **k: real(*a, **{**k, "downloader": fake}))
    monkeypatch.setattr(command, "_now", lambda: pd.Timestamp("2024-01-20 12:00"))
    args = [
        "live",
        "--source",
        "yfinance",
        "--symbols",
        "BTC-USD",
        "ETH-USD",
        "--vix",
        "realized:BTC-USD",
        "--start",
        "2023-10-01",
        "--end",
        "2024-01-20",
        "--cache-dir",
        str(tmp_path / "cache"),
        "--quiet",
        *_paths(tmp_path),
    ]
    assert main(args) == 0
    assert fake.calls  # the network call went to the fake
    times = _times(tmp_path)
    assert times[-1] == "2024-01-19T00:00:00"  # the 20th is still trading at 12:00 UTC: not yet
    monkeypatch.setattr(command, "_now", lambda: pd.Timestamp("2024-01-21 00:00"))
    assert main(args) == 0
    assert _times(tmp_path)[-1] == "2024-01-20T00:00:00" and len(_times(tmp_path)) == len(times) + 1


def test_a_config_pipe_is_read_once_and_used(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """``--config <(...)``: a pipe can be read only once; the strategy must still be the config's
    (it used to be read twice, and the second, empty read gave the default strategy)."""
    r, w = os.pipe()
    os.write(w, b"[strategy]\nwindow = 20\n")
    os.close(w)
    try:
        code = main([*BASE, *_paths(tmp_path), "--config", f"/dev/fd/{r}", "--until", "2021-02-10"])
    finally:
        os.close(r)
    assert code == 0
    state = json.loads(next((tmp_path / "st").glob("*.json")).read_text())
    assert state["params"]["strategy_params"]["window"] == 20


def test_orders_through_a_link_never_touch_a_data_file(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    """An --orders link (any name) to a data file, or a --state folder that is a data folder, is
    refused before anything is written, even with --force: the journal used to truncate and
    append to the file behind the link."""
    from tests.loaders.test_hostile_files import write_prices

    data = tmp_path / "data"
    data.mkdir()
    for s in ("AAA-USD", "BBB-USD", "CCC-USD"):
        write_prices(data / f"{s}.csv", n=80)
    before = {p.name: p.read_bytes() for p in data.iterdir()}
    files = ["live", "--source", "files", "--data-dir", str(data), "--symbols", "AAA-USD",
             "BBB-USD", "--vix", "none", "--quiet"]  # fmt: skip
    for target in ("AAA-USD.csv", "CCC-USD.csv"):  # read by the command, or only in its folder
        link = tmp_path / f"to-{target}.jsonl"
        link.symlink_to(data / target)
        args = [*files, "--state", str(tmp_path / "st"), "--orders", str(link), "--force"]
        assert main(args) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "`--orders`" in err, err
    args = [*files, "--state", str(data), "--orders", str(tmp_path / "o.jsonl")]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "`--state`" in err and "data folder" in err, err
    assert {p.name: p.read_bytes() for p in data.iterdir()} == before
    assert not (tmp_path / "st").exists()


EDITS = {  # a hand edit of state.json -> what the check must name
    "weights-nan": (lambda d: d["weights"].__setitem__(0, None), "weights"),
    "weights-short": (lambda d: d["weights"].pop(), "weights"),
    "weights-text": (lambda d: d.__setitem__("weights", "abc"), "weights"),
    "weights-sum": (lambda d: d["weights"].__setitem__(0, -5.0), "weights"),
    "cash": (lambda d: d.__setitem__("cash", 1e308), "weights"),
    "value": (lambda d: d.__setitem__("value", -1.0), "value"),
    "row": (lambda d: d.__setitem__("row", "x"), "row"),
    "time": (lambda d: d.__setitem__("time", "garbage"), "time"),
    "prices": (lambda d: d.__setitem__("prices", [0.0] * len(d["prices"])), "prices"),
    "vix": (lambda d: d.__setitem__("vix", "x"), "vix"),
    "window": (lambda d: d.__setitem__("window", 5), "window"),
    "window-count": (lambda d: d["window"].__setitem__("count", 10**6), "window"),
    "last_key": (lambda d: d.__setitem__("last_key", None), "last_key"),
    "warm_start": (lambda d: d.__setitem__("warm_start", [1.0]), "warm_start"),
    "orders_bytes": (lambda d: d.__setitem__("orders_bytes", -1), "orders_bytes"),
    "paper": (lambda d: d.__setitem__("paper", {"cash": 1.0}), "paper"),
}


def test_a_hand_edited_state_is_refused_and_left_unchanged(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    """Each edit used to be either taken as the book (a -5 weight traded on) or an unexpected
    error; now each is one line naming the field, and state and journal stay as they were."""
    assert main([*BASE, *_paths(tmp_path), "--until", "2021-02-10"]) == 0
    state, journal = tmp_path / "st" / "state.json", tmp_path / "o.jsonl"
    good, lines = state.read_text(), journal.read_bytes()
    for name, (edit, field) in EDITS.items():
        doc = json.loads(good)
        edit(doc)
        state.write_text(json.dumps(doc))
        edited = state.read_bytes()
        assert main([*BASE, *_paths(tmp_path)]) == 2, name
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and f"field {field!r}" in err and "--state" in err, (name, err)
        assert state.read_bytes() == edited and journal.read_bytes() == lines, name


def test_a_state_later_than_every_bar_is_refused(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    """A state whose last bar is after all the data (a later time written in, or data of another
    calendar) used to report '0 new bars' and exit 0: the data contradict it."""
    assert main([*BASE, *_paths(tmp_path), "--until", "2021-02-10"]) == 0
    state = tmp_path / "st" / "state.json"
    doc = json.loads(state.read_text())
    doc["time"] = "2030-01-01T00:00:00"
    state.write_text(json.dumps(doc))
    assert main([*BASE, *_paths(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "differ from the data the state processed" in err, err


def test_missing_or_impossible_folders_are_one_line(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    """A journal in a folder that does not exist yet is written there (as --out creates its
    folder); a state folder under a file is a typed error. Both were unexpected errors."""
    orders = tmp_path / "new" / "sub" / "o.jsonl"
    args = [
        *BASE,
        "--state",
        str(tmp_path / "st"),
        "--orders",
        str(orders),
        "--until",
        "2021-01-10",
    ]
    assert main(args) == 0
    assert len(orders.read_text().splitlines()) == 10
    (tmp_path / "afile").write_text("mine\n")
    args = [*BASE, "--state", str(tmp_path / "afile" / "st"), "--orders", str(tmp_path / "o.jsonl")]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "`--state`" in err and "not a folder" in err, err
    assert (tmp_path / "afile").read_text() == "mine\n"
    args = [*BASE, "--state", str(tmp_path / ("s" * 300)), "--orders", str(tmp_path / "o.jsonl")]
    assert main(args) == 2  # a name longer than the system allows: was an unexpected OSError
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "`--state`" in err and "too long" in err, err


def test_lines_after_the_recorded_bars_are_cut_only_when_they_are_the_next_bar(
    tmp_path, capsys
) -> None:  # type: ignore[no-untyped-def]
    """A killed run can leave the next bar's line (or part of it) unrecorded by the state: that
    is cut and redone. Anything else appended was cut too, silently: a user's note, or lines
    of another run. Now it is refused and kept."""
    assert main([*BASE, *_paths(tmp_path), "--until", "2021-02-11"]) == 0
    journal, state = tmp_path / "o.jsonl", tmp_path / "st" / "state.json"
    lines = journal.read_bytes().splitlines(keepends=True)
    other = tmp_path / "other"
    assert main([*BASE, *_paths(other), "--until", "2021-02-10"]) == 0
    # the state and journal of a run stopped at 02-10, plus the 02-11 line it never recorded
    stray = (other / "o.jsonl").read_bytes() + lines[-1]
    for extra in (b"my own note\n", lines[-1] + lines[-1], lines[-2]):
        (other / "o.jsonl").write_bytes(stray[: -len(lines[-1])] + extra)
        assert main([*BASE, *_paths(other)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "`--orders`" in err and "not the next bar" in err, err
        assert (other / "o.jsonl").read_bytes().endswith(extra)
    for extra in (lines[-1], lines[-1][:40]):  # the next bar's line, whole or torn: redone
        (other / "o.jsonl").write_bytes(stray[: -len(lines[-1])] + extra)
        assert main([*BASE, *_paths(other), "--until", "2021-02-11"]) == 0
        assert (other / "o.jsonl").read_bytes() == journal.read_bytes()
        assert (
            json.loads((other / "st" / "state.json").read_text())["row"]
            == json.loads(state.read_text())["row"]
        )
        assert main([*BASE, *_paths(other), "--until", "2021-02-10"]) == 0  # nothing to do
        # back to the 02-10 state for the next case
        shutil.rmtree(other)
        assert main([*BASE, *_paths(other), "--until", "2021-02-10"]) == 0
