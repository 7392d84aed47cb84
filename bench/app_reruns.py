"""Benchmark: the server's own work on a warm rerun of every page, without the browser.

    python bench/app_reruns.py --db /tmp/finlens-bench/demo-40000u-180d-s7-2026-10-31.duckdb --reps 5

``bench/app_pages.py`` times a page from a click in Chromium to the end of the run, which on a
loaded machine is mostly the browser and the websocket. This script runs the app in process
(Streamlit's ``AppTest``), opens each page once (cold: its queries run) and then reruns it
``--reps`` times with every query cached: the median of those reruns is the work each warm
visit costs the server (the script from top to bottom: sidebar, catalog, cached results,
chart specs). Both wall time and the process's CPU time are recorded: on a shared, loaded
machine the CPU time is the steadier figure (a warm rerun waits on nothing but the CPU).
Run it from the checkout whose code is to be measured.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path.cwd()
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PAGES = {
    "overview": {},
    "board": {},
    "explore": {},
    "events": {},
    "funnel": {},
    "retention": {},
    "interval": {},
    "ltv": {},
    "stickiness": {},
    "paths": {},
    "attribution": {},
    "channels": {},
    "breakdown": {"m": "registrations", "by": "channel"},
    "distributions": {},
    "data_quality": {},
    "alerts": {},
    "segments": {},
    "intent": {},
    "lifecycle": {},
    "experiments": {},
    "users": {"m": "bind_card_users", "sel": "channel:invite"},
    "sequence": {"user": "u0000001"},
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, required=True, help="a DuckDB demo file")
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args(argv)
    os.environ["FINLENS_WAREHOUSE"] = "duckdb:///" + str(args.db.resolve())
    from streamlit.testing.v1 import AppTest

    app = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=900)
    app.run()
    print("| page | first visit (ms) | warm rerun, median wall (ms) | warm rerun, median CPU (ms) |")
    print("|---|---:|---:|---:|")
    for page, params in PAGES.items():
        app.query_params.clear()
        app.query_params.update(params)
        began = time.perf_counter()
        app.switch_page(str(ROOT / "finlens" / "pages" / f"{page}.py")).run()
        cold = (time.perf_counter() - began) * 1000
        wall, cpu = [], []
        for _ in range(args.reps):
            began, used = time.perf_counter(), time.process_time()
            app.run()
            wall.append((time.perf_counter() - began) * 1000)
            cpu.append((time.process_time() - used) * 1000)
        failed = " (error)" if app.exception else ""
        print(
            f"| {page}{failed} | {cold:,.0f} | {statistics.median(wall):,.0f} | {statistics.median(cpu):,.0f} |",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
