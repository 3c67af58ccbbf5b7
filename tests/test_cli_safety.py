"""The command line never destroys a user's file and never shows a traceback.

Each attack of issue 14 is reproduced in a pytest tmp folder (FIFOs and folders, never /dev):
on the old code every one of these commands exited 0 and replaced what was at the path, or
ended in a Python traceback.
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path
from typing import Any

import pytest

from rwafolio import cli_safety
from rwafolio.cli import main
from rwafolio.outputs import written_by_rwafolio

QUICK = ["--no-risk", "--start", "2024-06-01"]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three price CSVs (from the synthetic market) in a folder of their own."""
    from rwafolio.loaders import load

    panel = load("synthetic", None, seed=7, start="2024-01-01")
    folder = tmp_path_factory.mktemp("data")
    for s in ("BTC-USD", "ETH-USD", "USDT-USD"):
        panel.prices[s].rename("Close").rename_axis("Date").to_csv(folder / f"{s}.csv")
    return folder


def _files_args(data: Path) -> list[str]:
    return ["--source", "files", "--data-dir", str(data), "--symbols", "BTC-USD", "ETH-USD",
            "USDT-USD", "--vix", "realized:BTC-USD", "--no-risk"]  # fmt: skip


@pytest.fixture(scope="module")
def saved_run(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("run")
    run = folder / "run.zip"
    args = ["backtest", *_files_args(data_dir), "--out", str(folder / "r.html"), "--save", str(run)]
    assert main(args) == 0
    return run


def _one_line_error(capsys: Any, *words: str) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    for w in words:
        assert w in err, err
    return err


@pytest.mark.parametrize("kind", ["fifo", "dir"])
def test_special_file_as_out_is_refused(tmp_path: Path, kind: str, capsys: Any) -> None:
    target = tmp_path / "target"
    os.mkfifo(target) if kind == "fifo" else target.mkdir()
    before = os.lstat(target)
    assert main(["demo", "--out", str(target), *QUICK]) == 2
    _one_line_error(capsys, "--out", "FIFO" if kind == "fifo" else "directory")
    after = os.lstat(target)
    assert stat.S_IFMT(after.st_mode) == stat.S_IFMT(before.st_mode)
    assert after.st_ino == before.st_ino


def test_report_over_its_own_run_file_is_refused(saved_run: Path, capsys: Any) -> None:
    before = saved_run.read_bytes()
    for flags in ([], ["--force"]):
        assert main(["report", str(saved_run), "--out", str(saved_run), *flags]) == 2
        _one_line_error(capsys, "input of this command")
    assert saved_run.read_bytes() == before


def test_report_over_an_input_csv_is_refused(data_dir: Path, tmp_path: Path, capsys: Any) -> None:
    csv = data_dir / "BTC-USD.csv"
    before = csv.read_bytes()
    for flags in ([], ["--force"]):
        args = ["backtest", *_files_args(data_dir), "--out", str(csv), *flags]
        assert main(args) == 2
        _one_line_error(capsys, "data folder")
    assert csv.read_bytes() == before
    # The same CSV reached through a symbolic link in another data folder: found once the
    # loader has said which files it read.
    # (A folder scan reads links only to files inside the folder: the targets live in it.)
    other = tmp_path / "other"
    (other / "real").mkdir(parents=True)
    for s in ("BTC-USD", "ETH-USD", "USDT-USD"):
        shutil.copy(data_dir / f"{s}.csv", other / "real" / f"{s}.dat")
        (other / f"{s}.csv").symlink_to(other / "real" / f"{s}.dat")
    alias = tmp_path / "alias.html"
    alias.symlink_to(other / "real" / "BTC-USD.dat")
    args = ["backtest", *_files_args(other), "--out", str(alias), "--force"]
    assert main(args) == 2
    _one_line_error(capsys, "input of this command")
    assert (other / "real" / "BTC-USD.dat").read_bytes() == before


def test_config_and_grid_are_never_outputs(tmp_path: Path, capsys: Any) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text("[strategy]\nlam0 = 2.0\n")
    assert main(["backtest", "--config", str(cfg), "--out", str(cfg), "--force", *QUICK]) == 2
    _one_line_error(capsys, "input of this command")
    grid = tmp_path / "g.toml"
    grid.write_text('[strategy]\nname = "dynamic"\n[grid]\nlam0 = [1.0]\n')
    assert main(["walkforward", "--grid", str(grid), "--out", str(grid), "--force"]) == 2
    _one_line_error(capsys, "input of this command")
    assert cfg.read_text().startswith("[strategy]") and grid.read_text().startswith("[strategy]")


def test_out_and_save_on_one_file_are_refused(tmp_path: Path, capsys: Any) -> None:
    x = tmp_path / "x"
    assert main(["demo", "--out", str(x), "--save", str(x), *QUICK]) == 2
    _one_line_error(capsys, "same file")
    for a, b in (("--out", "--json"), ("--save", "--json")):
        assert main(["backtest", a, str(x), b, str(x), *QUICK]) == 2
        _one_line_error(capsys, "same file")
    assert not x.exists()


def test_json_summary_over_an_input_is_refused(data_dir: Path, capsys: Any) -> None:
    csv = data_dir / "ETH-USD.csv"
    before = csv.read_bytes()
    args = ["backtest", *_files_args(data_dir), "--out", str(data_dir.parent / "r.html")]
    assert main([*args, "--json", str(csv), "--force"]) == 2
    _one_line_error(capsys, "--json", "data folder")
    assert csv.read_bytes() == before


def test_a_users_file_needs_force(saved_run: Path, tmp_path: Path, capsys: Any) -> None:
    mine = tmp_path / "notes.html"
    mine.write_text("my notes")
    assert main(["report", str(saved_run), "--out", str(mine)]) == 2
    _one_line_error(capsys, "--force")
    assert mine.read_text() == "my notes"
    assert main(["report", str(saved_run), "--out", str(mine), "--force"]) == 0
    assert written_by_rwafolio(mine, "report")
    # Now rwafolio wrote it: re-rendering needs no --force.
    assert main(["report", str(saved_run), "--out", str(mine)]) == 0
    # A run file is not replaced by a report without --force (it is not a report).
    copy = tmp_path / "copy.zip"
    copy.write_bytes(saved_run.read_bytes())
    assert main(["report", str(saved_run), "--out", str(copy)]) == 2
    _one_line_error(capsys, "--force")


def test_unwritable_outputs_are_one_line(saved_run: Path, tmp_path: Path, capsys: Any) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    for out in (blocker / "r.html", blocker / "sub" / "r.html"):
        assert main(["report", str(saved_run), "--out", str(out)]) == 2
        _one_line_error(capsys, "--out")
    for out in ("/proc/rwafolio-no-such/r.html", "/proc/version"):
        assert main(["report", str(saved_run), "--out", out, "--force"]) == 2
        _one_line_error(capsys, out)


def test_a_failed_walkforward_writes_no_report(tmp_path: Path, capsys: Any) -> None:
    grid = tmp_path / "g.toml"
    grid.write_text(
        '[strategy]\nname = "dynamic"\n[grid]\nthreshold = [2.0]\n'
        '[walkforward]\ntrain = "365D"\ntest = "365D"\n',
        encoding="utf-8",
    )
    out = tmp_path / "wf.html"
    args = ["walkforward", "--grid", str(grid), "--executor", "serial", "--out", str(out)]
    assert main([*args, "--no-var"]) == 2
    _one_line_error(capsys, "no report written")
    assert not out.exists()


def _boom(exc: BaseException) -> Any:
    def raiser(*a: Any, **k: Any) -> Any:
        raise exc

    return raiser


@pytest.mark.parametrize(
    "exc, code, words",
    [
        (KeyError("boom"), 1, "KeyError"),
        (MemoryError(), 1, "MemoryError"),
        (RecursionError("deep"), 1, "RecursionError"),
        (OSError(28, "No space left on device"), 1, "No space left"),
        (KeyboardInterrupt(), 130, "interrupted"),
    ],
)
def test_unexpected_errors_are_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: Any, exc: BaseException, code: int, words: str
) -> None:
    import rwafolio.loaders.api as api

    monkeypatch.setattr(api, "load_synthetic", _boom(exc))
    assert main(["var", "--scenarios", "100"]) == code
    err = _one_line_error(capsys, "rwafolio var:", words)
    if code == 1:
        assert "while loading data (loaders.api.load" in err and "--debug" in err


def test_debug_prints_the_traceback(monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    import rwafolio.loaders.api as api

    monkeypatch.setattr(api, "load_synthetic", _boom(KeyError("boom")))
    for argv in (["var", "--scenarios", "100", "--debug"], ["--debug", "var"]):
        assert main(argv) == 1
        err = capsys.readouterr().err
        assert "Traceback" in err and "KeyError: 'boom'" in err
        assert err.strip().splitlines()[-1].startswith("rwafolio var: unexpected error")


def test_failing_step_names_the_first_frame_below_the_command() -> None:
    def inner() -> None:
        from rwafolio.reports.figure_guard import sanitize_figure

        sanitize_figure(None)  # type: ignore[arg-type]

    with pytest.raises(TypeError) as info:
        inner()
    step = cli_safety.failing_step(info.value)
    assert step == "writing the report (reports.figure_guard.sanitize_figure)"


def test_var_json_answer_is_an_output_too(tmp_path: Path, capsys: Any) -> None:
    fifo = tmp_path / "answer.json"
    os.mkfifo(fifo)
    assert main(["var", "--crowding", "--json", str(fifo)]) == 2
    _one_line_error(capsys, "--json", "FIFO")
    user = tmp_path / "mine.json"
    user.write_text('{"mine": 1}')
    assert main(["var", "--crowding", "--json", str(user)]) == 2
    _one_line_error(capsys, "--force")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and user.read_text() == '{"mine": 1}'


def test_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    """``rwafolio data | head -1``: the reader goes away; it was an "unexpected error" line with
    a --debug hint (exit 1). Now the command stops quietly, as a shell tool does (141)."""
    import subprocess
    import sys

    env = {**os.environ, "PYTHONPATH": str(Path(cli_safety.__file__).resolve().parents[1])}
    cmd = [sys.executable, "-m", "rwafolio.cli", "data", "--end", "2019-06-01"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader is gone before the first line (deterministic, unlike
    # closing after one line: a short output may fit the pipe's buffer first)
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141
    assert "Traceback" not in err and "unexpected" not in err and "Exception" not in err, err
