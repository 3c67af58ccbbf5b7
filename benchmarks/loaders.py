"""Loader speed: the synthetic market and, when ../shared/data is present, the files loader.

Timing lives here, not in the unit tests (a busy machine must not fail a test). Prints the best
of ``--repeat`` warm runs for each.

Run: ``.venv/bin/python benchmarks/loaders.py [--repeat 5]``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from rwafolio.loaders import load

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
CORE = ["BTC-USD", "ETH-USD", "USDT-USD", "VNQ", "BIL", "GLD"]


def best_of(repeat: int, fn: object) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    n = ap.parse_args().repeat
    load("synthetic", seed=3)  # warm the calendar
    print(
        f"synthetic market (6 assets, 2019-2024): {best_of(n, lambda: load('synthetic', seed=3)):.3f} s"
    )
    dirs = [SHARED / "jmlestevez-source__taa-dashboard", SHARED / "Alexshch09__Stocks-prices"]
    if all(d.is_dir() for d in dirs):
        vix = str(SHARED / "datasets__finance-vix" / "vix-daily.csv")

        def files() -> object:
            return load("files", CORE, data_dirs=dirs, vix=vix)

        files()
        print(f"files loader (6 assets + VIX file): {best_of(n, files):.3f} s")
    else:
        print("files loader: ../shared/data not found, skipped")


if __name__ == "__main__":
    main()
