"""rwafolio.outputs: atomic writes and the output-path checks, attacked directly.

Every special file lives in a pytest tmp folder (never /dev). A killed writer is a real
subprocess killed with SIGKILL in the middle of its write.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

from rwafolio.exceptions import OutputError
from rwafolio.outputs import (
    REPORT_MARKER,
    RUN_MARKER,
    Output,
    atomic_write,
    check_outputs,
    ensure_parent,
    write_atomic,
    written_by_rwafolio,
)

SRC = Path(__file__).resolve().parents[1] / "src"


def _report(path: Path) -> Path:
    path.write_bytes(b"<!DOCTYPE html>\n<html><head>" + REPORT_MARKER + b"</head></html>")
    return path


def _run(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.comment = RUN_MARKER
        zf.writestr("manifest.json", "{}")
    return path


def _special(tmp_path: Path, kind: str) -> Path:
    p = tmp_path / f"special-{kind}"
    if kind == "fifo":
        os.mkfifo(p)
    elif kind == "dir":
        p.mkdir()
    elif kind == "socket":
        p = tmp_path / "s.sock"
        s = socket.socket(socket.AF_UNIX)
        s.bind(str(p))
        s.close()
    elif kind == "dangling":
        p.symlink_to(tmp_path / "nowhere")
    elif kind == "link-to-dir":
        (tmp_path / "target-dir").mkdir()
        p.symlink_to(tmp_path / "target-dir")
    return p


SPECIAL = ["fifo", "dir", "socket", "dangling", "link-to-dir"]


@pytest.mark.parametrize("kind", SPECIAL)
def test_atomic_write_never_replaces_a_special_file(tmp_path: Path, kind: str) -> None:
    p = _special(tmp_path, kind)
    before = os.lstat(p)
    with pytest.raises(OutputError, match=str(p.name)):
        write_atomic(p, ["<html>"])
    after = os.lstat(p)
    assert (after.st_mode, after.st_ino) == (before.st_mode, before.st_ino)
    assert [n for n in os.listdir(tmp_path) if n.endswith(".tmp")] == []


@pytest.mark.parametrize("kind", SPECIAL)
def test_check_refuses_a_special_file(tmp_path: Path, kind: str) -> None:
    p = _special(tmp_path, kind)
    with pytest.raises(OutputError, match="--out"):
        check_outputs([Output("--out", p, "report")], force=True)


def test_a_symbolic_link_is_written_through(tmp_path: Path) -> None:
    real = _report(tmp_path / "real.html")
    link = tmp_path / "link.html"
    link.symlink_to(real)
    check_outputs([Output("--out", link, "report")])
    write_atomic(link, ["new"])
    assert link.is_symlink() and real.read_text() == "new"


def test_an_input_is_never_an_output_even_with_force(tmp_path: Path) -> None:
    run = _run(tmp_path / "run.zip")
    cfg = tmp_path / "c.toml"
    cfg.write_text("x = 1")
    hard = tmp_path / "hard-link-to-config.toml"
    os.link(cfg, hard)
    for out, kind in ((run, "report"), (cfg, "report"), (hard, "run")):
        with pytest.raises(OutputError, match="input of this command"):
            check_outputs([Output("--out", out, kind)], inputs=[run, cfg], force=True)
    assert cfg.read_text() == "x = 1"


def test_data_file_names_inside_a_data_dir_are_refused(tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "sub").mkdir(parents=True)
    (data / "BTC-USD.csv").write_text("Date,Close\n2024-01-01,1\n")
    for name in ("BTC-USD.csv", "sub/NEW.parquet", "x.TXT"):
        with pytest.raises(OutputError, match="data folder"):
            check_outputs([Output("--out", data / name, "report")], data_dirs=[data], force=True)
    # A report inside the data folder is fine: the loader never reads .html.
    check_outputs([Output("--out", data / "report.html", "report")], data_dirs=[data])


def test_two_outputs_on_one_file_are_refused(tmp_path: Path) -> None:
    x = tmp_path / "x.html"
    outs = [Output("--out", x, "report"), Output("--save", tmp_path / "." / "x.html", "run")]
    with pytest.raises(OutputError, match="same file"):
        check_outputs(outs)
    assert not x.exists()
    _report(x)
    link = tmp_path / "alias.html"
    link.symlink_to(x)
    with pytest.raises(OutputError, match="same file"):
        check_outputs([Output("--out", x, "report"), Output("--save", link, "run")])
    hard = tmp_path / "hard.zip"
    os.link(x, hard)
    with pytest.raises(OutputError, match="same file"):
        check_outputs([Output("--out", x, "report"), Output("--save", hard, "run")], force=True)


def test_a_users_file_needs_force_and_rwafolio_knows_its_own(tmp_path: Path) -> None:
    mine_html, mine_zip = _report(tmp_path / "r.html"), _run(tmp_path / "r.zip")
    user = tmp_path / "notes.html"
    user.write_text("my notes")
    empty = tmp_path / "empty.zip"
    empty.write_bytes(b"")
    other_zip = tmp_path / "photos.zip"
    with zipfile.ZipFile(other_zip, "w") as zf:
        zf.writestr("a.jpg", b"\xff\xd8")
    check_outputs([Output("--out", mine_html, "report"), Output("--save", mine_zip, "run")])
    for path, kind in ((user, "report"), (empty, "run"), (other_zip, "run"),
                       (mine_zip, "report"), (mine_html, "run")):  # fmt: skip
        with pytest.raises(OutputError, match="--force"):
            check_outputs([Output("--out", path, kind)])
        check_outputs([Output("--out", path, kind)], force=True)
    assert written_by_rwafolio(mine_html, "report") and written_by_rwafolio(mine_zip, "run")
    assert not written_by_rwafolio(user, "report")


def test_unwritable_paths_are_typed_errors(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(OutputError, match="not a folder"):
        check_outputs([Output("--out", blocker / "r.html", "report")])
    with pytest.raises(OutputError, match="folder"):
        ensure_parent(blocker / "sub" / "r.html", "`--out`")
    with pytest.raises(OutputError):
        write_atomic(blocker / "r.html", ["x"])
    with pytest.raises(OutputError, match="does not exist"):
        write_atomic(tmp_path / "missing" / "r.html", ["x"])
    with pytest.raises(OutputError, match="folder"):
        ensure_parent(Path("/proc/rwafolio-no-such/r.html"), "`--out`")


_KILLED_WRITER = """
import sys, time
sys.path.insert(0, {src!r})
from rwafolio.outputs import atomic_write

def slow(fh):
    fh.write(b"partial")
    fh.flush()
    print("writing", flush=True)
    time.sleep(60)

atomic_write({target!r}, slow)
"""


def test_kill_9_debris_is_removed_by_the_next_write(tmp_path: Path) -> None:
    target = tmp_path / "report.html"
    target.write_text("GOOD")
    code = textwrap.dedent(_KILLED_WRITER.format(src=str(SRC), target=str(target)))
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "writing"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    debris = [n for n in os.listdir(tmp_path) if n.endswith(".tmp")]
    assert len(debris) == 1 and target.read_text() == "GOOD"
    # A live writer's temporary file is left alone; a dead one's is removed.
    live = tmp_path / f".report.html.{os.getpid()}-live.tmp"
    live.write_text("in progress")
    other = tmp_path / f".other.html.{proc.pid}-x.tmp"
    other.write_text("not this target")
    atomic_write(target, lambda fh: fh.write(b"NEW"))
    assert target.read_text() == "NEW"
    assert sorted(n for n in os.listdir(tmp_path) if n.endswith(".tmp")) == sorted(
        [live.name, other.name]
    )


def test_failed_write_leaves_target_and_no_temporary(tmp_path: Path) -> None:
    target = _report(tmp_path / "r.html")
    before = target.read_bytes()

    def boom(fh: object) -> None:
        raise RuntimeError("crash")

    with pytest.raises(RuntimeError):
        atomic_write(target, boom)
    assert target.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["r.html"]


def test_a_json_summary_is_known_by_the_schema_keys(tmp_path: Path) -> None:
    import json

    from rwafolio.backtest.summary import SUMMARY_SCHEMA
    from rwafolio.outputs import SUMMARY_KEYS

    assert set(SUMMARY_SCHEMA["required"]) == SUMMARY_KEYS
    mine = tmp_path / "s.json"
    mine.write_text(json.dumps(dict.fromkeys(SUMMARY_KEYS, 1)))
    check_outputs([Output("--json", mine, "summary")])
    for text in ('{"data": 1}', "[1, 2]", "not json", "[" * 100_000):
        user = tmp_path / "user.json"
        user.write_text(text)
        with pytest.raises(OutputError, match="--force"):
            check_outputs([Output("--json", user, "summary")])


def test_a_link_with_another_name_never_reaches_a_data_file(tmp_path: Path) -> None:
    """``--out report.html --force`` where report.html links to a data file in a data folder
    (one this command does not read): the file behind the link is a data file all the same."""
    data = tmp_path / "data"
    data.mkdir()
    csv = data / "VNQ.csv"
    csv.write_text("Date,Close\n2024-01-01,1\n")
    link = tmp_path / "report.html"
    link.symlink_to(csv)
    with pytest.raises(OutputError, match="data folder"):
        check_outputs([Output("--out", link, "report")], data_dirs=[data], force=True)
    assert csv.read_text() == "Date,Close\n2024-01-01,1\n"
