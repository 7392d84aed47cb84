"""Benchmark: every catalog metric, compiled by finlens, against its hand-written twin.

    python bench/run.py                      # 10M demo events, cached under /tmp/finlens-bench/
    python bench/run.py --markdown           # the table as Markdown (for bench/README.md)
    python bench/run.py --users 20000 --days 60 --reps 3 --metrics pv,sessions,invest_funnel

For each metric one dashboard-shaped question (the last 28 days of the data,
by ``platform``, by ``day`` for metrics that take a grain) is compiled by
finlens and also answered by the hand-written SQL in ``tests/oracle_sql.py``.
Both statements run on the same DuckDB connection, back to back and
interleaved with the other metrics' (which of the two goes first alternates),
after one untimed warm-up run whose answers are compared. Each statement runs
at least ``--reps`` times and until it has run ``--min-seconds`` in total (at
most ``--max-reps``), so quick queries get steadier medians. The table shows
the median of each, their ratio, and the median time to compile the query
(``--compile-reps`` compiles, catalog already loaded).
Targets: compile < 10 ms, finlens within 1.2x of the hand-written twin.
Exit status 1 when a target is missed or an answer differs.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import duckdb  # noqa: E402

from connectors import connect  # noqa: E402
from semantic import Query, compile_query, load_catalog  # noqa: E402
from tests.oracle_sql import Ask, Oracles, plain  # noqa: E402

COMPILE_TARGET_MS = 10.0
RATIO_TARGET = 1.2
# About 49 events per person over 120 days: 204k people give ~10M events.
DEFAULT_USERS, DEFAULT_DAYS, DEFAULT_SEED, DEFAULT_END = 204_000, 120, 7, date(2026, 10, 31)
RANGE_DAYS = 28


@dataclass
class Line:
    name: str
    kind: str
    compile_ms: float
    finlens_ms: float
    twin_ms: float
    agree: bool
    note: str = ""
    runs: int = 0

    @property
    def ratio(self) -> float:
        return self.finlens_ms / self.twin_ms if self.twin_ms else math.inf


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--db", type=Path, help="DuckDB file to use (generated when missing); default under /tmp/finlens-bench/"
    )
    parser.add_argument(
        "--users", type=int, default=DEFAULT_USERS, help="demo people (default %(default)s: ~10M events)"
    )
    parser.add_argument("--days", type=int, default=DEFAULT_DAYS)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--end", type=date.fromisoformat, default=DEFAULT_END, help="last day of the demo data")
    parser.add_argument("--regenerate", action="store_true", help="regenerate the data even if the file exists")
    parser.add_argument(
        "--reps", type=int, default=5, help="at least this many timed runs of each statement (default %(default)s)"
    )
    parser.add_argument(
        "--min-seconds",
        type=float,
        default=1.0,
        help="keep repeating a quick statement until it ran this long in total (default %(default)s)",
    )
    parser.add_argument("--max-reps", type=int, default=41, help="at most this many timed runs (default %(default)s)")
    parser.add_argument("--compile-reps", type=int, default=200, help="compiles timed per query (default %(default)s)")
    parser.add_argument("--metrics", help="comma-separated metric names (default: the whole catalog)")
    parser.add_argument("--threads", type=int, help="DuckDB threads (default: DuckDB's, one per core)")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    args = parser.parse_args(argv)
    if args.reps < 1 or args.compile_reps < 1:
        parser.error("--reps and --compile-reps must be at least 1")

    db = args.db or Path("/tmp/finlens-bench") / f"demo-{args.users}u-{args.days}d-s{args.seed}-{args.end}.duckdb"
    info = ensure_data(db, args)
    catalog = load_catalog()
    oracles = Oracles(catalog.root)
    names = args.metrics.split(",") if args.metrics else sorted(catalog.metrics)
    unknown = [n for n in names if n not in catalog.metrics]
    if unknown:
        parser.error(f"unknown metrics: {', '.join(unknown)}")

    warehouse = connect("duckdb:///" + str(db.resolve()))
    if args.threads:
        warehouse.execute(f"SET threads = {int(args.threads)}")
    end = date.fromisoformat(info["end"])
    start = end - timedelta(days=RANGE_DAYS - 1)

    plans = []
    for name in names:
        metric = catalog.metrics[name]
        grain = {"funnel": None, "retention": None, "ltv": None, "stickiness": "week"}.get(metric.type, "day")
        query = Query(metrics=(name,), dimensions=("platform",), grain=grain, start=start, end=end)
        ask = Ask(start, end, by="platform", grain=grain)
        compiled = compile_query(catalog, query, "duckdb")
        plans.append((name, metric.type, query, compiled.sql, compiled.columns, oracles.twin_sql(name, ask), ask))

    lines: list[Line] = []
    for name, kind, query, _, _, _, _ in plans:
        lines.append(Line(name, kind, compile_ms(catalog, query, args.compile_reps), 0.0, 0.0, True))

    # One untimed run of each statement (warms caches), comparing the answers.
    for line, (name, kind, _, sql, columns, twin, ask) in zip(lines, plans):
        got = [dict(zip(columns, map(plain, row))) for row in warehouse.query(sql).rows]
        result = warehouse.query(twin)
        want = [dict(zip(result.columns, map(plain, row))) for row in result.rows]
        line.agree, line.note = agree(name, kind, ask, got, want)
        progress(f"warm-up {name}: {'agree' if line.agree else 'DIFFER ' + line.note}")

    # Interleaved: each round runs every unfinished metric's pair back to back, alternating which goes
    # first. A metric is finished after --reps rounds once each side has run --min-seconds in total
    # (so quick queries get more runs and steadier medians), or after --max-reps rounds.
    timings: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name in names}

    def finished(name: str) -> bool:
        runs = timings[name]
        if len(runs[0]) >= max(args.max_reps, args.reps):
            return True
        return len(runs[0]) >= args.reps and min(sum(runs[0]), sum(runs[1])) >= args.min_seconds * 1000

    rounds = 0
    while not all(finished(name) for name in names):
        for name, _, _, sql, _, twin, _ in plans:
            if finished(name):
                continue
            order = ((0, sql), (1, twin)) if rounds % 2 == 0 else ((1, twin), (0, sql))
            for side, statement in order:
                began = time.perf_counter()
                warehouse.query(statement)
                timings[name][side].append((time.perf_counter() - began) * 1000)
        rounds += 1
        progress(f"round {rounds}: {sum(not finished(n) for n in names)} metrics still running")
    for line in lines:
        line.finlens_ms = statistics.median(timings[line.name][0])
        line.twin_ms = statistics.median(timings[line.name][1])
        line.runs = len(timings[line.name][0])
    warehouse.close()

    header = (
        f"{info['events']:,} events, {info['users']:,} users, {info['days']} days ending {info['end']}; "
        f"question: {start}..{end} by platform (and by day where a grain applies); "
        f"median of {args.reps}-{max(args.max_reps, args.reps)} interleaved runs (>= {args.min_seconds:g} s per side), "
        f"compile median of {args.compile_reps}; "
        f"DuckDB {duckdb.__version__}, Python {platform.python_version()}, {cores()} cores"
    )
    print(render(lines, header, markdown=args.markdown))
    slow = [line.name for line in lines if line.ratio > RATIO_TARGET]
    slow_compile = [line.name for line in lines if line.compile_ms >= COMPILE_TARGET_MS]
    wrong = [line.name for line in lines if not line.agree]
    print()
    print(
        f"compile < {COMPILE_TARGET_MS:g} ms: {len(lines) - len(slow_compile)}/{len(lines)}"
        + (f" (over: {', '.join(slow_compile)})" if slow_compile else "")
    )
    print(
        f"finlens <= {RATIO_TARGET}x hand-written: {len(lines) - len(slow)}/{len(lines)}"
        + (f" (over: {', '.join(slow)})" if slow else "")
    )
    print(
        f"same answer as hand-written: {len(lines) - len(wrong)}/{len(lines)}"
        + (f" (differ: {', '.join(wrong)})" if wrong else "")
    )
    return 0 if not (slow or slow_compile or wrong) else 1


def ensure_data(db: Path, args: argparse.Namespace) -> dict[str, Any]:
    """The demo warehouse at ``db`` (generated unless a matching one is there) and what it holds."""
    meta_path = db.with_name(db.name + ".json")
    wanted = {"users": args.users, "days": args.days, "seed": args.seed, "end": str(args.end)}
    if db.exists() and not args.regenerate:
        if not meta_path.exists():
            progress(f"{db} exists without {meta_path.name}: benchmarking the data it holds as is")
            return describe(db)
        meta = json.loads(meta_path.read_text())
        if all(meta.get(k) == v for k, v in wanted.items()):
            return meta
        raise SystemExit(f"{db} holds other demo data ({meta}); pass --regenerate to replace it, or another --db")
    from ingest.demo import generate_demo

    db.parent.mkdir(parents=True, exist_ok=True)
    for stale in (db, db.with_name(db.name + ".wal"), meta_path):
        stale.unlink(missing_ok=True)
    progress(f"generating {args.users:,} users x {args.days} days into {db} ...")
    with connect("duckdb:///" + str(db.resolve()), read_only=False) as warehouse:
        summary = generate_demo(
            warehouse,
            users=args.users,
            days=args.days,
            seed=args.seed,
            end=args.end,
            progress=lambda done, total: (
                progress(f"  {done:,}/{total:,} users") if done % 40_000 < 4_000 or done == total else None
            ),
        )
        warehouse.execute("CHECKPOINT")
    meta = {**wanted, "events": summary.events, "generated_in_s": summary.seconds, "start": str(summary.start)}
    meta_path.write_text(json.dumps(meta, indent=2))
    progress(f"generated {summary.events:,} events in {summary.seconds:.0f} s")
    return meta


def describe(db: Path) -> dict[str, Any]:
    """Size and days of a warehouse the benchmark did not generate."""
    with connect("duckdb:///" + str(db.resolve())) as warehouse:
        events, users, first, last = warehouse.query(
            "SELECT COUNT(*), COUNT(DISTINCT user_id), MIN(event_time), MAX(event_time) FROM events"
        ).rows[0]
    return {"events": events, "users": users, "days": (last.date() - first.date()).days + 1, "end": str(last.date())}


def compile_ms(catalog, query: Query, reps: int) -> float:
    compile_query(catalog, query, "duckdb")
    samples = []
    for _ in range(reps):
        began = time.perf_counter()
        compile_query(catalog, query, "duckdb")
        samples.append((time.perf_counter() - began) * 1000)
    return statistics.median(samples)


def agree(name: str, kind: str, ask: Ask, got: list[dict], want: list[dict]) -> tuple[bool, str]:
    """Same rows (floats to 1e-9); an aggregate's group may be missing on one side when its value is 0/NULL."""
    if kind == "funnel":
        keys, optional = [ask.by, "step"], False
    elif kind in ("retention", "ltv"):
        keys, optional = ["cohort", ask.by, "period"], False
    elif kind == "stickiness":
        keys, optional = [ask.grain, ask.by, "active_days"], False
    else:
        keys, optional = [k for k in (ask.grain, ask.by) if k], True
    keys = [k for k in keys if k]
    g = {tuple(r[k] for k in keys): r for r in got}
    w = {tuple(r[k] for k in keys): r for r in want}
    for key in set(g) | set(w):
        a, b = g.get(key), w.get(key)
        if a is None or b is None:
            present = a or b
            values = [v for c, v in present.items() if c not in keys and c != "step_name"]
            if optional and all(v in (0, None) for v in values):
                continue
            return False, f"{dict(zip(keys, key))} only on one side"
        for column, expected in b.items():
            actual = a.get(column)
            if isinstance(actual, float) or isinstance(expected, float):
                if actual is None or expected is None or not math.isclose(actual, expected, rel_tol=1e-9, abs_tol=0.0):
                    if not (actual is None and expected is None):
                        return False, f"{dict(zip(keys, key))} {column}: {actual!r} vs {expected!r}"
            elif actual != expected:
                return False, f"{dict(zip(keys, key))} {column}: {actual!r} vs {expected!r}"
    return True, ""


def render(lines: list[Line], header: str, *, markdown: bool) -> str:
    columns = ["metric", "type", "compile ms", "finlens ms", "hand-written ms", "ratio", "runs", "ok"]
    rows = []
    for line in lines:
        ok = []
        if line.compile_ms >= COMPILE_TARGET_MS:
            ok.append("compile>10ms")
        if line.ratio > RATIO_TARGET:
            ok.append(f">{RATIO_TARGET}x")
        if not line.agree:
            ok.append("DIFFERS")
        rows.append(
            [
                line.name,
                line.kind,
                f"{line.compile_ms:.2f}",
                f"{line.finlens_ms:.1f}",
                f"{line.twin_ms:.1f}",
                f"{line.ratio:.2f}",
                str(line.runs),
                ", ".join(ok) or "yes",
            ]
        )
    if markdown:
        out = [
            f"_{header}_",
            "",
            "| " + " | ".join(columns) + " |",
            "|" + "|".join(["---", "---", "--:", "--:", "--:", "--:", "--:", "---"]) + "|",
        ]
        out += ["| " + " | ".join(r) + " |" for r in rows]
        return "\n".join(out)
    widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(columns)]
    right = {2, 3, 4, 5, 6}
    fmt = lambda r: "  ".join(v.rjust(w) if i in right else v.ljust(w) for i, (v, w) in enumerate(zip(r, widths)))  # noqa: E731
    return "\n".join([header, "", fmt(columns), fmt(["-" * w for w in widths]), *map(fmt, rows)])


def cores() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 0)


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
