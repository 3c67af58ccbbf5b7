"""[assets.SYMBOL] config tables: declared class, calendar, cost and proxy; bad tables refused."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest

from rwafolio.cli import main
from rwafolio.config import parse_config
from rwafolio.exceptions import ConfigError
from rwafolio.loaders import load

CONFIG = """
[assets.gld_hourly]
class = "rwa"
calendar = "XNYS"
cost = 0.002
proxies = "gold"
[assets.BTCUSDT_1h]
class = "crypto"
calendar = "24/7"
[data]
bar = "1h"
missing = "ffill"
[strategy]
window = 24
eta = 0.0
"""


def test_assets_tables_parse_and_validate() -> None:
    cfg = parse_config(__import__("tomllib").loads(CONFIG))
    assert cfg.assets["gld_hourly"] == {
        "asset_class": "rwa",
        "calendar": "XNYS",
        "cost": 0.002,
        "proxies": "gold",
    }
    # A declared crypto or stablecoin trades around the clock unless the table says otherwise.
    declared = parse_config({"assets": {"X_1h": {"class": "crypto"}}}).assets["X_1h"]
    assert declared == {"asset_class": "crypto", "calendar": "24/7"}
    for bad, msg in [
        ('[assets.X]\nclas = "rwa"', "unknown key"),
        ('[assets.X]\nclass = "bond"', "asset_class"),
        ('[assets.X]\ncalendar = "LSE"', "calendar"),
        ("[assets.X]\ncost = 1.5", "cost"),
        ('[assets.X]\nschedule = "every0bars"', "schedule"),
        ('[data]\nbar = "5m"', "bar"),
    ]:
        with pytest.raises(ConfigError, match=msg):
            parse_config(__import__("tomllib").loads(bad))


def test_declared_assets_in_a_daily_files_panel(shared_data) -> None:  # type: ignore[no-untyped-def]
    panel = load(
        "files",
        ["BTC-USD", "GLD"],
        data_dirs=[
            shared_data / "Alexshch09__Stocks-prices",
            shared_data / "jmlestevez-source__taa-dashboard",
        ],
        start="2024-01-01",
        end="2024-03-01",
        assets={"GLD": {"cost": 0.003, "proxies": "gold bullion"}},
    )
    assert panel.universe["GLD"].cost == 0.003
    assert panel.universe["GLD"].proxies == "gold bullion"


def test_hourly_files_declared_by_config_through_the_cli(shared_data, tmp_path) -> None:  # type: ignore[no-untyped-def]
    data = tmp_path / "hourly"
    data.mkdir()
    shutil.copy(shared_data / "waikit1986__gold-price-live" / "gld_hourly.csv", data)
    shutil.copy(
        shared_data
        / "hopeffy__economics-project-algorithmic-trading-algorithms"
        / "BTCUSDT_1h.csv",
        data,
    )
    cfg = tmp_path / "c.toml"
    cfg.write_text(CONFIG)
    args = [
        "--source",
        "files",
        "--data-dir",
        str(data),
        "--symbols",
        "BTCUSDT_1h",
        "gld_hourly",
        "--start",
        "2024-03-01",
        "--end",
        "2024-03-20",
        "--config",
        str(cfg),
    ]
    assert (
        main(
            [
                "live",
                *args,
                "--state",
                str(tmp_path / "st"),
                "--orders",
                str(tmp_path / "o.jsonl"),
                "--quiet",
            ]
        )
        == 0
    )
    lines = [json.loads(x) for x in (tmp_path / "o.jsonl").read_text().splitlines()]
    assert len(lines) == 20 * 24  # every hour from 2024-03-01 00:00 to 2024-03-20 23:00
    why = [x["frozen_why"] for x in lines]
    assert any(w.get("gld_hourly") == "closed" for w in why)  # XNYS: closed nights and weekends
    assert all(w.get("BTCUSDT_1h") != "closed" for w in why)  # declared 24/7 crypto
    # Without its table the stem is guessed an exchange-traded proxy: closed at night.
    cfg.write_text(CONFIG.replace('[assets.BTCUSDT_1h]\nclass = "crypto"\ncalendar = "24/7"\n', ""))
    assert (
        main(
            [
                "live",
                *args,
                "--state",
                str(tmp_path / "st2"),
                "--orders",
                str(tmp_path / "o2.jsonl"),
                "--quiet",
            ]
        )
        == 0
    )
    guessed = [
        json.loads(x)["frozen_why"] for x in (tmp_path / "o2.jsonl").read_text().splitlines()
    ]
    assert any(w.get("BTCUSDT_1h") == "closed" for w in guessed)


def test_hourly_backtest_json_records_the_bar(shared_data, tmp_path) -> None:  # type: ignore[no-untyped-def]
    data = tmp_path / "hourly"
    data.mkdir()
    shutil.copy(shared_data / "waikit1986__gold-price-live" / "gld_hourly.csv", data)
    shutil.copy(
        shared_data
        / "hopeffy__economics-project-algorithmic-trading-algorithms"
        / "BTCUSDT_1h.csv",
        data,
    )
    cfg = tmp_path / "c.toml"
    cfg.write_text(CONFIG)
    out = tmp_path / "s.json"
    assert (
        main(
            [
                "backtest",
                "--source",
                "files",
                "--data-dir",
                str(data),
                "--symbols",
                "BTCUSDT_1h",
                "gld_hourly",
                "--start",
                "2024-03-01",
                "--end",
                "2024-03-20",
                "--config",
                str(cfg),
                "--vix",
                str(shared_data / "datasets__finance-vix" / "vix-daily.csv"),
                "--no-risk",
                "--no-crowding",
                "--out",
                str(tmp_path / "r.html"),
                "--json",
                str(out),
            ]
        )
        == 0
    )
    doc = json.loads(out.read_text())
    assert doc["data"]["bar"] == "1h" and doc["data"]["periods_per_year"] == 8760
    # Hourly bars keep their hour: the last decision is a bar's ISO date-time, not a date.
    last = pd.Timestamp(doc["last_decision"])
    assert "T" in doc["last_decision"] and last.strftime("%Y-%m-%d") <= "2024-03-20"
    assert pd.Timestamp(doc["data"]["start"]) <= last <= pd.Timestamp(doc["data"]["end"])


def test_example_hourly_config() -> None:
    from pathlib import Path

    from rwafolio.config import load_config

    cfg = load_config(Path(__file__).resolve().parents[2] / "examples" / "hourly.toml")
    assert cfg.data["bar"] == "1h" and cfg.daily_symbols() == ["VNQ"]
    assert cfg.assets["gld_hourly"]["calendar"] == "XNYS"
    assert cfg.build_strategy().schedules == {"crypto": "every4bars", "rwa": "daily@15:00"}


def test_live_replay_example_matches_the_backtest() -> None:
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    env = {**__import__("os").environ, "PYTHONPATH": str(root / "src")}
    out = subprocess.run(
        [sys.executable, str(root / "examples" / "live_replay.py")],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr
    assert "largest gap to the backtest's weights: 0.0e+00" in out.stdout
