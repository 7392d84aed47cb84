"""Benchmark ``finlens import sensors``: generate a Sensors-style log, import it into a DuckDB file, report speed.

    python bench/import_bench.py --events 2000000 [--gzip] [--jobs 2] [--keep DIR]

The log imitates the mobile SDKs' records (``_track_id``, ``$lib``/``$os``/``$model``,
``$screen_name``, UTM, business properties, ~550 bytes a line) with 1 in 10,000 lines
malformed. Prints events/s, the import's wall time, the peak RSS of the largest process
(this one or a parsing worker), the load average before and after (the machine may be
shared: repeat a run that started under load), and the CPU time per line of the importing
process and of its worker processes, with the speed those allow on idle cores (the slower of
the importing process alone and all the work spread over every core).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from connectors import connect  # noqa: E402
from ingest.sensors import import_sensors  # noqa: E402

EVENTS = [
    "$AppViewScreen",
    "$AppClick",
    "$AppStart",
    "$AppEnd",
    "login",
    "bind_card",
    "deposit",
    "P2P_invest",
    "forex_trade",
    "stock_trade",
    "life_item_view",
]
PAGES = ["home", "product_list", "product_detail", "bind_card", "deposit", "forex_market", "mall_home"]


def write_log(path: Path, events: int, *, compress: bool, seed: int = 7) -> int:
    """Write ``events`` lines to ``path``; returns its size in bytes."""
    rng = random.Random(seed)
    start = 1_772_294_400_000  # 2026-03-01 00:00 +08:00
    opener = gzip.open if compress else open
    with opener(path, "wt", encoding="utf-8") as out:  # type: ignore[operator]
        batch = []
        for i in range(events):
            user = rng.randrange(events // 20 + 1)
            lib = "iOS" if user % 3 == 0 else "Android"
            event = EVENTS[i % len(EVENTS)]
            props = {
                "$lib": lib,
                "$lib_version": "6.8.0",
                "$os": lib,
                "$os_version": "17.2",
                "$model": "iPhone15,2",
                "$manufacturer": "Apple",
                "$app_version": "5.2.1",
                "$screen_name": rng.choice(PAGES),
                "$network_type": "WIFI",
                "$wifi": True,
                "$province": "Guangdong",
                "$city": "Shenzhen",
                "$utm_source": "douyin" if user % 7 == 0 else None,
                "$is_first_day": False,
                "amount": round(rng.random() * 5000, 2) if event in ("deposit", "P2P_invest") else None,
                "is_success": rng.random() < 0.9 if event in ("bind_card", "deposit", "P2P_invest") else None,
                "product_id": f"p{rng.randrange(50)}" if event == "P2P_invest" else None,
            }
            record = {
                "_track_id": rng.randrange(2**31),
                "type": "track",
                "event": event,
                "time": start + i * 50,
                "distinct_id": f"anon{user:08x}",
                "properties": {k: v for k, v in props.items() if v is not None},
                "lib": {"$lib": lib, "$lib_version": "6.8.0", "$lib_method": "code"},
            }
            line = json.dumps(record, separators=(",", ":"))
            batch.append("{broken" if i % 10_000 == 9_999 else line)
            if len(batch) == 10_000:
                out.write("\n".join(batch) + "\n")
                batch = []
        if batch:
            out.write("\n".join(batch) + "\n")
    return path.stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument("--gzip", action="store_true")
    parser.add_argument("--jobs", type=int, default=None)
    parser.add_argument("--keep", help="folder for the log and warehouse (default: a temporary one)")
    parser.add_argument("--log", help="import this existing log instead of generating one")
    args = parser.parse_args()
    folder = Path(args.keep or tempfile.mkdtemp(prefix="finlens-import-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    log = Path(args.log) if args.log else folder / ("events.log.gz" if args.gzip else "events.log")
    if not args.log:
        began = time.perf_counter()
        size = write_log(log, args.events, compress=args.gzip)
        print(f"log: {log} {size / 1e6:,.0f} MB, {args.events:,} lines, written in {time.perf_counter() - began:.0f} s")
    db = folder / "bench.duckdb"
    db.unlink(missing_ok=True)
    before = os.getloadavg()
    cpu = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    with connect(f"duckdb:///{db.as_posix()}", read_only=False) as warehouse:
        summary = import_sensors(warehouse, [log], jobs=args.jobs)
    after = os.getloadavg()
    # CPU per line, which a shared machine's load does not change much (unlike the wall time)
    main_us, other_us = (
        (now.ru_utime + now.ru_stime - then.ru_utime - then.ru_stime) / summary.lines * 1e6
        for now, then in zip([resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)], cpu)
    )
    cores = os.cpu_count() or 1
    bound = 1e6 / max(main_us, (main_us + other_us) / cores)
    peak = max(resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    print(
        f"import: {summary.lines:,} lines, {summary.events:,} events, {summary.rejected:,} rejected, "
        f"{summary.seconds:.1f} s, {summary.lines / summary.seconds:,.0f} lines/s, "
        f"{summary.events / summary.seconds:,.0f} events/s, peak RSS {peak / 1024:,.0f} MB (largest process), "
        f"jobs {args.jobs or 'default'}, {os.cpu_count()} CPUs, "
        f"load average {before[0]:.2f} before, {after[0]:.2f} after"
    )
    print(
        f"CPU per line: importing process {main_us:.2f} µs, worker and reader processes {other_us:.2f} µs; "
        f"on {cores} idle cores at most {bound:,.0f} lines/s"
    )


if __name__ == "__main__":
    main()
