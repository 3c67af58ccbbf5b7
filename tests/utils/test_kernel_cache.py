"""The numba cache folder follows the kernels' source, so a changed callee is never served stale."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from rwafolio.utils import kernel_cache
from rwafolio.utils.kernel_cache import PREFIX, cache_dir, kernel_digest


def _digest(root: Path) -> str:
    kernel_digest.cache_clear()
    try:
        return kernel_digest(root)
    finally:
        kernel_digest.cache_clear()


def test_digest_follows_kernel_files_only(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    callee = tmp_path / "sub" / "callee.py"
    callee.write_text("from numba import njit\n\n@njit(cache=True)\ndef f():\n    return 1\n")
    plain = tmp_path / "plain.py"
    plain.write_text("X = 1\n")
    d0 = _digest(tmp_path)
    plain.write_text("X = 2\n")  # no numba in it: the compiled code cannot depend on it
    assert _digest(tmp_path) == d0
    callee.write_text(callee.read_text().replace("return 1", "return 2"))
    d1 = _digest(tmp_path)
    assert d1 != d0 and len(d1) == 16


def test_cache_dir_is_named_by_the_digest_and_never_nested(tmp_path: Path) -> None:
    here = cache_dir(tmp_path)
    assert here == tmp_path / f"{PREFIX}{kernel_digest()}"
    assert cache_dir(here) == here  # a worker that inherited the folder keeps it
    assert cache_dir(tmp_path / f"{PREFIX}0123456789abcdef") == here  # an older source's folder


def test_importing_rwafolio_points_numba_and_workers_at_the_folder(tmp_path: Path) -> None:
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    code = (
        "import os, rwafolio, numba; "
        "print(os.environ['NUMBA_CACHE_DIR']); print(numba.config.CACHE_DIR)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    want = str(tmp_path / f"{PREFIX}{kernel_digest()}")
    assert out == [want, want]
    # numba imported first (as vectorbt does): the kernels defined after rwafolio still move.
    code2 = "import numba, rwafolio; print(numba.config.CACHE_DIR)"
    out2 = subprocess.run(
        [sys.executable, "-c", code2], env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    assert out2 == [want]


def test_package_digest_covers_the_decision_kernel() -> None:
    kernel_digest.cache_clear()
    files = [p for p in kernel_cache.PACKAGE.rglob("*.py") if b"numba" in p.read_bytes()]
    names = {p.name for p in files}
    assert {"_decide_kernels.py", "_kernels.py"} <= names


def test_prune_deletes_only_other_versions_folders(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    """`rwafolio cache --prune` deletes the folders of other versions and nothing else: not this
    version's, not a name that only looks alike, not a file, not a symlink (nor what it points
    to), not a folder outside."""
    from rwafolio.cli import main

    base = tmp_path / "cache"
    mine = cache_dir(base)
    old = [base / f"{PREFIX}0123456789abcdef", base / f"{PREFIX}fedcba9876543210"]
    for folder in [mine, *old]:
        (folder / "sub").mkdir(parents=True)
        (folder / "sub" / "k.nbc").write_bytes(b"x" * 1000)
        (folder / "k.nbi").write_bytes(b"y" * 24)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("mine")
    kept = [
        base / f"{PREFIX}notes",  # not a digest
        base / f"{PREFIX}0123456789ABCDEF",  # upper case: not a name cache_dir gives
        base / "other-tool",
    ]
    for folder in kept:
        folder.mkdir()
    (base / f"{PREFIX}1111111111111111").symlink_to(outside, target_is_directory=True)
    (base / f"{PREFIX}2222222222222222").write_text("a file")
    (old[0] / "link-out").symlink_to(outside, target_is_directory=True)

    found = kernel_cache.cache_folders(base)
    assert [f.path for f in found] == sorted([mine, *old])
    assert [f.current for f in found] == [f.path == mine for f in found]
    assert all(f.size == 1024 for f in found)  # regular files only; the link is not followed

    env = os.environ.get("NUMBA_CACHE_DIR")
    os.environ["NUMBA_CACHE_DIR"] = str(mine)  # as rwafolio's import sets it
    try:
        assert main(["cache"]) == 0
        listing = capsys.readouterr().out
        assert "2 folder(s) of other versions" in listing and all(f.exists() for f in old)
        assert main(["cache", "--prune"]) == 0
        pruned = capsys.readouterr().out
    finally:
        if env is None:
            os.environ.pop("NUMBA_CACHE_DIR")
        else:
            os.environ["NUMBA_CACHE_DIR"] = env
    assert all(f"deleted {f.name}" in pruned for f in old)
    assert not any(f.exists() for f in old)
    assert (mine / "sub" / "k.nbc").exists()
    assert all(f.is_dir() for f in kept)
    assert (base / f"{PREFIX}1111111111111111").is_symlink()
    assert (outside / "keep.txt").read_text() == "mine"
    assert (base / f"{PREFIX}2222222222222222").read_text() == "a file"
