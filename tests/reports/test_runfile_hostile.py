"""Hostile run files: every malformed, oversized or script-carrying zip is a typed error.

Each case starts from a good run file and breaks one thing. ``load_run`` must raise
``RunFileError`` (never another exception), and ``rwafolio report`` must exit 2 with one line
on stderr and write nothing. The old reader accepted the ``html`` section and the image URL
and raised raw KeyError/TypeError/ArrowInvalid/RecursionError on many of the others.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from rwafolio.cli import main
from rwafolio.exceptions import ConfigError, RunFileError
from rwafolio.reports import collect, load_run, render_html, save_run
from rwafolio.reports.figure_guard import sanitize_figure
from rwafolio.reports.runfile import MAX_CELLS, MAX_MEMBERS, MAX_TOTAL_BYTES

Members = dict[str, bytes]


@pytest.fixture(scope="module")
def good(run_inputs: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Members:
    record = collect(
        run_inputs["result"],
        extra_sections=[("A table", pd.DataFrame({"a": [1.0, 2.0]}), "note"),
                        ("Some text", "plain <b>text</b>", "")],
    )  # fmt: skip
    path = save_run(tmp_path_factory.mktemp("good") / "run.zip", record)
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def _zip(path: Path, members: Members, comment: bytes = b"") -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.comment = comment
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def _manifest(edit: Callable[[dict[str, Any]], None]) -> Callable[[Members], Members]:
    def apply(members: Members) -> Members:
        m = json.loads(members["manifest.json"])
        edit(m)
        return {**members, "manifest.json": json.dumps(m).encode()}

    return apply


def _raw_manifest(raw: bytes) -> Callable[[Members], Members]:
    return lambda members: {**members, "manifest.json": raw}


def _member(name: str, data: bytes | None) -> Callable[[Members], Members]:
    def apply(members: Members) -> Members:
        out = dict(members)
        if data is None:
            del out[name]
        else:
            out[name] = data
        return out

    return apply


def _parquet(df: pd.DataFrame | pa.Table) -> bytes:
    buf = io.BytesIO()
    table = df if isinstance(df, pa.Table) else pa.Table.from_pandas(df)
    pq.write_table(table, buf, compression="zstd")
    return buf.getvalue()


def _section(**entry: Any) -> Callable[[dict[str, Any]], None]:
    return lambda m: m["extra_sections"].append({"title": "t", "note": "", **entry})


def _figure(**layout: Any) -> str:
    return json.dumps({"data": [{"type": "bar", "x": ["a"], "y": [1]}], "layout": layout})


IMAGE = [{"source": "http://127.0.0.1:9/x.png", "xref": "paper", "yref": "paper", "x": 0,
          "y": 1, "sizex": 1, "sizey": 1}]  # fmt: skip

# (id, mutation of the good members, expected words in the error)
CASES: list[tuple[str, Callable[[Members], Members], str]] = [
    ("no-manifest", _member("manifest.json", None), "manifest"),
    ("manifest-not-json", _raw_manifest(b"{not json"), "manifest"),
    ("manifest-not-utf8", _raw_manifest(b'{"format": "\xff\xfe"}'), "manifest"),
    ("manifest-array", _raw_manifest(b"[1, 2]"), "not a rwafolio run"),
    ("manifest-deep", _raw_manifest(b"[" * 200_000 + b"]" * 200_000), "manifest"),
    ("manifest-nan", _manifest(lambda m: m["meta"].update(init_cash=float("nan"))), "NaN"),
    ("format", _manifest(lambda m: m.update(format="other")), "not a rwafolio run"),
    ("version-2", _manifest(lambda m: m.update(version=2)), "version"),
    ("version-str", _manifest(lambda m: m.update(version="1")), "version"),
    ("version-bool", _manifest(lambda m: m.update(version=True)), "version"),
    ("unknown-key", _manifest(lambda m: m.update(script="alert(1)")), "keys"),
    ("meta-list", _manifest(lambda m: m.update(meta=[])), "meta"),
    ("meta-no-name", _manifest(lambda m: m["meta"].pop("name")), "name"),
    ("meta-name-int", _manifest(lambda m: m["meta"].update(name=3)), "meta.name"),
    ("meta-panel-str", _manifest(lambda m: m["meta"].update(panel="x")), "meta.panel"),
    ("meta-panel-keys", _manifest(lambda m: m["meta"]["panel"].pop("start")), "start"),
    ("universe-entry", _manifest(lambda m: m["meta"]["universe"].append("BTC")), "universe"),
    ("tables-list", _manifest(lambda m: m.update(tables=[])), "tables"),
    ("table-name", _manifest(lambda m: m["tables"].update({"Bad Name": "tables/x.parquet"})),
     "table name"),
    ("table-traversal", _manifest(lambda m: m["tables"].update(values="../../etc/passwd")),
     "unexpected member"),
    ("table-required", _manifest(lambda m: m["tables"].pop("weights")), "weights"),
    ("table-missing-member", _member("tables/flows.parquet", None), "tables/flows.parquet"),
    ("table-corrupt", _member("tables/values.parquet", b"PAR1garbagePAR1"), "parquet"),
    ("table-truncated", lambda ms: {**ms, "tables/values.parquet":
                                    ms["tables/values.parquet"][:200]}, "parquet"),
    ("table-nested", _member("tables/flows.parquet", _parquet(pa.table({"x": [[1, 2]]}))),
     "type"),
    ("member-extra", _member("evil.sh", b"rm -rf ~"), "unexpected member"),
    ("member-pickle", _member("tables/values.pkl", b"\x80\x04."), "unexpected member"),
    ("sections-dict", _manifest(lambda m: m.update(extra_sections={})), "extra_sections"),
    ("section-html", _manifest(_section(kind="html", content="<script>window.x=1</script>")),
     "html"),
    ("section-script", _manifest(_section(kind="script", content="alert(1)")), "script"),
    ("section-title", _manifest(_section(kind="text", content="x", title=["<b>"])), "title"),
    ("section-key", _manifest(_section(kind="text", content="x", onload="alert(1)")), "keys"),
    ("section-table-content", _manifest(_section(kind="table", content="x")), "table"),
    ("section-table-path", _manifest(_section(kind="table", table="tables/values.parquet")),
     "table"),
    ("figure-not-json", _manifest(_section(kind="figure", content="{")), "JSON"),
    ("figure-image-url", _manifest(_section(kind="figure", content=_figure(images=IMAGE))),
     "images"),
    ("figure-template-image", _manifest(_section(kind="figure", content=_figure(
        template={"layout": {"images": IMAGE}}))), "images"),
    ("figure-href", _manifest(_section(kind="figure", content=json.dumps(
        {"data": [{"type": "bar", "name": "<a href='http://x.test'>x</a>", "y": [1]}]}))), "URL"),
    ("figure-js-url", _manifest(_section(kind="figure", content=_figure(
        title={"text": "javascript:alert(1)"}))), "URL"),
    ("figure-css-url", _manifest(_section(kind="figure", content=_figure(
        font={"family": "x; background:url(//x.test/a)"}))), "URL"),
    ("figure-map-trace", _manifest(_section(kind="figure", content=json.dumps(
        {"data": [{"type": "scattermapbox", "lat": [0], "lon": [0]}]}))), "scattermapbox"),
    ("figure-geo-trace", _manifest(_section(kind="figure", content=json.dumps(
        {"data": [{"type": "scattergeo", "lat": [0], "lon": [0]}]}))), "scattergeo"),
    ("figure-frames", _manifest(_section(kind="figure", content=json.dumps(
        {"data": [], "frames": []}))), "frames"),
    ("figure-data-uri", _manifest(_section(kind="figure", content=_figure(
        title={"text": "data:text/html,<script>1</script>"}))), "URL"),
]  # fmt: skip


@pytest.mark.parametrize("name, mutate, words", CASES, ids=[c[0] for c in CASES])
def test_malformed_run_files_are_typed_errors(
    good: Members, tmp_path: Path, name: str, mutate: Any, words: str, capsys: Any
) -> None:
    path = _zip(tmp_path / "bad.zip", mutate(good))
    with pytest.raises(RunFileError) as err:
        load_run(path)
    assert words.lower() in str(err.value).lower(), str(err.value)
    out = tmp_path / "r.html"
    assert main(["report", str(path), "--out", str(out)]) == 2
    stderr = capsys.readouterr().err
    assert stderr.count("\n") == 1 and "Traceback" not in stderr and "error:" in stderr
    assert not out.exists()


def test_broken_zips_are_typed_errors(good: Members, tmp_path: Path) -> None:
    whole = _zip(tmp_path / "good.zip", good).read_bytes()
    bad = {
        "empty": b"",
        "text": b"hello",
        "truncated": whole[: len(whole) // 2],
        "tail-cut": whole[:-10],
    }
    # Corrupt the deflate stream of the first member (its data starts after the local header).
    corrupt = bytearray(whole)
    start = 30 + len("tables/values.parquet") + 20
    corrupt[start : start + 40] = b"\x00" * 40
    bad["crc"] = bytes(corrupt)
    for name, data in bad.items():
        p = tmp_path / f"{name}.zip"
        p.write_bytes(data)
        with pytest.raises(RunFileError):
            load_run(p)
    # A member whose central-directory size lies (declares 10 bytes, holds more).
    raw = bytearray(_zip(tmp_path / "lie.zip", good).read_bytes())
    i = raw.find(b"PK\x01\x02")
    while raw[i + 46 : i + 46 + len(b"manifest.json")] != b"manifest.json":
        i = raw.find(b"PK\x01\x02", i + 4)
        assert i > 0
    raw[i + 24 : i + 28] = (10).to_bytes(4, "little")
    (tmp_path / "lie.zip").write_bytes(bytes(raw))
    with pytest.raises(RunFileError, match="manifest"):
        load_run(tmp_path / "lie.zip")
    # The same member (true size) flagged as encrypted.
    enc = bytearray(_zip(tmp_path / "encrypted.zip", good).read_bytes())
    enc[i + 8] |= 0x1
    (tmp_path / "encrypted.zip").write_bytes(bytes(enc))
    with pytest.raises(RunFileError, match="encrypted"):
        load_run(tmp_path / "encrypted.zip")
    with pytest.raises(RunFileError):
        load_run(tmp_path / "does-not-exist.zip")
    folder = tmp_path / "a-folder.zip"
    folder.mkdir()
    with pytest.raises(RunFileError, match="not a file"):
        load_run(folder)


def test_zip_bomb_is_refused_before_decompressing(good: Members, tmp_path: Path) -> None:
    path = tmp_path / "bomb.zip"
    _zip(path, good)
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as zf:
        for i in range(3):  # 3 x 200 MiB of zeros: about 0.6 MB on disk
            with zf.open(f"extra/{90 + i}.parquet", "w", force_zip64=True) as fh:
                chunk = bytes(1 << 20)
                for _ in range(200):
                    fh.write(chunk)
    assert path.stat().st_size < 3 << 20 and 3 * 200 << 20 > MAX_TOTAL_BYTES
    with pytest.raises(RunFileError, match="limit"):
        load_run(path)


def test_too_many_members_are_refused(good: Members, tmp_path: Path) -> None:
    many = {**good, **{f"extra/{i}.parquet": b"" for i in range(10, 10 + MAX_MEMBERS)}}
    with pytest.raises(RunFileError, match="members"):
        load_run(_zip(tmp_path / "many.zip", many))
    # 70,000 members: zip64 end record; refused from the end record alone.
    path = tmp_path / "zip64.zip"
    with zipfile.ZipFile(path, "w", allowZip64=True) as zf:
        for i in range(70_000):
            zf.writestr(f"tables/t{i}.parquet", b"")
    with pytest.raises(RunFileError, match="declares 70,000 members"):
        load_run(path)


def test_parquet_bombs_are_refused(good: Members, tmp_path: Path) -> None:
    # Cells: one table of MAX_CELLS + 1 zeros (run-length encoded: a few hundred bytes).
    n = MAX_CELLS + 1
    cells = _parquet(pa.table({"x": pa.array(np.zeros(n, dtype=np.int8))}))
    assert len(cells) < 1 << 20
    with pytest.raises(RunFileError, match="cells"):
        load_run(_zip(tmp_path / "cells.zip", _member("tables/flows.parquet", cells)(good)))
    # Text: 600 rows of one 1 MiB string, dictionary-encoded: 600 MiB once decoded.
    big = pa.DictionaryArray.from_arrays(
        pa.array(np.zeros(600, dtype=np.int32)), pa.array(["a" * (1 << 20)])
    )
    text = _parquet(pa.table({"s": big}))
    assert len(text) < 1 << 20 and 600 << 20 > MAX_TOTAL_BYTES
    with pytest.raises(RunFileError, match="text"):
        load_run(_zip(tmp_path / "text.zip", _member("tables/flows.parquet", text)(good)))


def test_malformed_content_found_while_drawing_is_a_typed_error(
    good: Members, tmp_path: Path, capsys: Any
) -> None:
    """A table that is well-formed parquet but not what the report needs."""
    members = _member("tables/values.parquet", _parquet(pd.DataFrame({"x": ["a", "b"]})))(good)
    path = _zip(tmp_path / "odd.zip", members)
    out = tmp_path / "r.html"
    assert main(["report", str(path), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "malformed" in err and "Traceback" not in err and err.count("\n") == 1
    assert not out.exists()


def test_every_string_of_a_run_is_escaped(good: Members, tmp_path: Path) -> None:
    evil = "<script>window.__evil=1</script><img src=x onerror=alert(1)>"

    def edit(m: dict[str, Any]) -> None:
        m["meta"]["name"] = evil
        m["meta"]["universe"][0]["name"] = evil
        m["extra_sections"].append({"title": evil, "kind": "text", "content": evil, "note": evil})

    path = _zip(tmp_path / "evil.zip", _manifest(edit)(good))
    html = render_html(load_run(path), path=tmp_path / "r.html").read_text(encoding="utf-8")
    assert evil not in html and "<img src=x" not in html
    assert html.count("&lt;script&gt;window.__evil=1&lt;/script&gt;") >= 4


def test_saving_an_html_section_is_refused(run_inputs: dict[str, Any], tmp_path: Path) -> None:
    from markupsafe import Markup

    record = collect(run_inputs["result"], extra_sections=[("x", Markup("<b>x</b>"), "")])
    with pytest.raises(ConfigError, match="data only"):
        save_run(tmp_path / "run.zip", record)
    assert not (tmp_path / "run.zip").exists()


def test_our_own_figures_pass_the_guard() -> None:
    import plotly.graph_objects as go

    fig = go.Figure(go.Scatter(x=[1, 2], y=[3, 4], name="a <b>b</b>", hovertemplate="%{x}<br>%{y}"))
    back = json.loads(sanitize_figure(fig.to_json()))
    assert back["data"][0]["name"] == "a <b>b</b>"
