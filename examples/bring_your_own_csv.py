"""Bring your own CSV files: one file per symbol, in any layout the files loader knows.

Usage: ``.venv/bin/python examples/bring_your_own_csv.py DATA_DIR [VIX_FILE]``. With no argument
it writes two small CSVs (a classic Yahoo layout and a plain ``date,close``) into a temporary
folder first, then loads them, so it runs anywhere.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from rwafolio.loaders import load

if len(sys.argv) > 1:
    data_dir = Path(sys.argv[1])
    vix = sys.argv[2] if len(sys.argv) > 2 else "realized:BTC-USD"
    symbols = [p.stem for p in sorted(data_dir.glob("*.csv"))]
else:
    data_dir = Path(tempfile.mkdtemp())
    rng = np.random.default_rng(0)
    days = pd.date_range("2022-01-01", "2023-12-31", freq="D")
    btc = 30000 * np.cumprod(1 + rng.normal(0, 0.03, len(days)))
    pd.DataFrame({"date": days.strftime("%Y-%m-%d"), "close": btc}).to_csv(
        data_dir / "BTC-USD.csv", index=False
    )
    sessions = days[days.day_of_week < 5]
    sessions = sessions[
        ~sessions.isin(
            pd.to_datetime(
                [
                    "2022-01-17",
                    "2022-02-21",
                    "2022-04-15",
                    "2022-05-30",
                    "2022-06-20",
                    "2022-07-04",
                    "2022-09-05",
                    "2022-11-24",
                    "2022-12-26",
                    "2023-01-02",
                    "2023-01-16",
                    "2023-02-20",
                    "2023-04-07",
                    "2023-05-29",
                    "2023-06-19",
                    "2023-07-04",
                    "2023-09-04",
                    "2023-11-23",
                    "2023-12-25",
                ]
            )
        )
    ]
    vnq = 100 * np.cumprod(1 + rng.normal(0, 0.012, len(sessions)))
    pd.DataFrame(
        {
            "Date": sessions.strftime("%Y-%m-%d"),
            "Open": vnq * 0.998,
            "High": vnq * 1.004,
            "Low": vnq * 0.995,
            "Close": vnq,
            "Adj Close": vnq,
            "Volume": 1000,
        }
    ).to_csv(data_dir / "VNQ.csv", index=False)
    vix, symbols = "realized:BTC-USD", ["BTC-USD", "VNQ"]

panel = load("files", symbols, data_dirs=[data_dir], vix=vix, policy="all_days")
print(panel.summary().to_string())
print(f"vix: {panel.vix_source}; findings: {len(panel.findings)}")
