"""Bank scale on DuckDB: ~100M events, whole `finlens query` processes with and without the exact rollups.

    python bench/scale.py                       # build (once) and time; figures for bench/README.md
    python bench/scale.py --copies 2 --reps 1   # a quick look (~20M events)
    python bench/scale.py --markdown            # the table as Markdown

Data: the 10M-event demo (``generate_demo(users=204000, days=120, seed=7)``, the file
``bench/run.py`` caches under /tmp/finlens-bench/, generated here when absent) replicated
``--copies`` times with every user, distinct and event id suffixed by the copy number, sorted
by time (as a bank's events arrive), into /tmp/finlens-scale/. The rollups are then built
the way a loader does (``finish_load``), and that time is recorded.

Questions: the last 30 days, each one whole ``finlens query`` process (imports, catalog,
connecting, compiling, running, printing JSON), ``--reps`` times with ``FINLENS_ROLLUPS=on``
and ``off`` alternately; the first run of each is "cold" (fresh process and DuckDB buffer
cache; the OS file cache is warm). The two answers must be equal (exactness at scale). Also
measured: compile time per question in-process (target < 10 ms) and the CLI fixed cost
(``finlens --help``, ``finlens list metrics``). Peak memory is each process's max RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SEED = Path("/tmp/finlens-bench/demo-204000u-120d-s7-2026-10-31.duckdb")
OUT = Path("/tmp/finlens-scale")
END = date(2026, 10, 31)
START = END - timedelta(days=29)
FINLENS = [str(Path(sys.executable).parent / "finlens")]

QUESTIONS = [
    ("overview's 6 tiles", ["uv", "new_users", "registrations", "bind_card_users", "invest_users", "invest_amount"]),
    ("3 metrics by day", ["uv", "new_users", "registrations", "--grain", "day"]),
    ("sessions, bounce rate, duration", ["sessions", "bounce_rate", "avg_session_duration"]),
    ("sessions by day and platform", ["sessions", "bounce_rate", "--grain", "day", "--by", "platform"]),
    ("new users by day and channel", ["new_users", "--grain", "day", "--by", "channel"]),
    ("bind_card_funnel", ["bind_card_funnel"]),
    ("invest_funnel --by platform", ["invest_funnel", "--by", "platform"]),
    ("bind_card_retention", ["bind_card_retention"]),
]


def seed_file() -> Path:
    if SEED.exists():
        return SEED
    from connectors import connect
    from ingest.demo import generate_demo

    SEED.parent.mkdir(parents=True, exist_ok=True)
    with connect(f"duckdb:///{SEED}", read_only=False) as warehouse:
        generate_demo(warehouse, users=204000, days=120, seed=7, end=END)
    return SEED


def build(copies: int) -> tuple[Path, dict]:
    """The replicated warehouse (built once per ``copies``) and how long its parts took."""
    import duckdb

    from connectors import connect
    from ingest.loads import finish_load

    target = OUT / f"scale-x{copies}.duckdb"
    note = target.with_suffix(".json")
    if target.exists() and note.exists():
        facts = json.loads(note.read_text())
        from ingest import rollups

        started = time.perf_counter()
        with connect(f"duckdb:///{target}", read_only=False) as warehouse:
            rollups.refresh(warehouse)  # builds a rollup this finlens has and the file lacks (else nothing)
        facts["refresh_s"] = round(time.perf_counter() - started, 1)
        return target, facts
    OUT.mkdir(parents=True, exist_ok=True)
    target.unlink(missing_ok=True)
    seed = seed_file()
    started = time.perf_counter()
    con = duckdb.connect(str(target), config={"memory_limit": "8GB"})  # sorting 100M rows: spill, leave room
    con.execute(f"ATTACH '{seed}' AS seed (READ_ONLY)")
    suffix = "|| '.' || CAST(k AS VARCHAR)"
    copy = (
        f"SELECT * REPLACE (event_id {suffix} AS event_id, user_id {suffix} AS user_id, "
        f"distinct_id {suffix} AS distinct_id) FROM seed.events, range({copies}) AS r(k)"
    )
    con.execute(f"CREATE TABLE events AS {copy} LIMIT 0")
    first, last = con.execute("SELECT min(event_time)::DATE, max(event_time)::DATE FROM seed.events").fetchone()
    day = first
    while day <= last:  # one day at a time: time order without sorting 100M rows at once (which spilled for 20 min)
        following = day + timedelta(days=1)
        con.execute(
            f"INSERT INTO events {copy} WHERE event_time >= TIMESTAMP '{day}' AND event_time < TIMESTAMP '{following}' "
            "ORDER BY event_time"
        )
        day = following
    con.execute(f"INSERT INTO events {copy} WHERE event_time IS NULL")
    con.execute(
        f"CREATE TABLE users AS SELECT * REPLACE (user_id {suffix} AS user_id) FROM seed.users, range({copies}) AS r(k)"
    )
    events = con.execute("SELECT count(*) FROM events").fetchone()[0]
    users = con.execute("SELECT count(*) FROM users").fetchone()[0]
    con.close()
    replicated = time.perf_counter() - started
    started = time.perf_counter()
    with connect(f"duckdb:///{target}", read_only=False) as warehouse:
        warehouse.execute("SET memory_limit = '8GB'")  # spill rather than crowd a shared 24 GB machine
        finish_load(warehouse, "bench", events)  # no rollup state yet: builds every rollup whole
    facts = {
        "events": events,
        "users": users,
        "replicate_s": round(replicated, 1),
        "rollups_s": round(time.perf_counter() - started, 1),
        "bytes": target.stat().st_size,
    }
    note.write_text(json.dumps(facts, indent=2))
    return target, facts


def run_process(argv: list[str], env: dict[str, str]) -> tuple[float, int, str]:
    """(seconds, peak RSS in MB, stdout) of one whole process."""
    started = time.perf_counter()
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=ROOT)
    out, err = process.communicate()
    seconds = time.perf_counter() - started
    if process.returncode:
        raise SystemExit(f"{' '.join(argv)} failed: {err.decode()[-500:]}")
    peak = _peak_mb(process.pid)
    return seconds, peak, out.decode()


def _peak_mb(_pid: int) -> int:
    import resource

    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024  # max over the children so far


def time_questions(url: str, reps: int) -> list[dict]:
    rows = []
    for label, args in QUESTIONS:
        argv = [
            *FINLENS,
            "query",
            *args,
            "--from",
            str(START),
            "--to",
            str(END),
            "--warehouse",
            url,
            "--format",
            "json",
        ]
        times: dict[str, list[float]] = {"on": [], "off": []}
        answers: dict[str, str] = {}
        for rep in range(reps):
            for mode in ("on", "off") if rep % 2 == 0 else ("off", "on"):
                env = {**os.environ, "FINLENS_ROLLUPS": mode}
                seconds, _, out = run_process(argv, env)
                times[mode].append(seconds)
                answers[mode] = out
        same = _same(answers["on"], answers["off"])
        rows.append(
            {
                "question": label,
                "rollups_cold": round(times["on"][0], 2),
                "rollups_median": round(statistics.median(times["on"]), 2),
                "events_cold": round(times["off"][0], 2),
                "events_median": round(statistics.median(times["off"]), 2),
                "same": same,
            }
        )
        print(rows[-1], flush=True)
    return rows


def _same(a: str, b: str) -> bool:
    left, right = json.loads(a), json.loads(b)
    return json.dumps(left, sort_keys=True) == json.dumps(right, sort_keys=True) or _close(left, right)


def _close(a, b) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and isinstance(b, float):
        return abs(a - b) <= 1e-9 * max(1.0, abs(a))
    return a == b


def compile_times(url: str) -> list[tuple[str, float]]:
    """Median in-process compile time per question (catalog loaded, rollups looked up once)."""
    from connectors import connect
    from semantic import load_catalog
    from semantic.compiler.compile import compile_query
    from semantic.compiler.rollup_state import with_current_rollups

    with connect(url) as warehouse:
        catalog = with_current_rollups(load_catalog(), warehouse)
    out = []
    for label, query in _queries():
        samples = []
        for _ in range(50):
            started = time.perf_counter()
            compile_query(catalog, query, "duckdb")
            samples.append((time.perf_counter() - started) * 1000)
        out.append((label, round(statistics.median(samples), 2)))
    return out


def query_times(url: str, reps: int) -> list[dict]:
    """In one process: each question's SQL run with and without rollups, interleaved; medians (seconds)."""
    from dataclasses import replace

    from connectors import connect
    from semantic import load_catalog
    from semantic.compiler.compile import compile_query
    from semantic.compiler.rollup_state import current_rollups

    out = []
    with connect(url) as warehouse:
        base = load_catalog()
        modes = {
            "on": replace(base, rollups=current_rollups(base, warehouse)),
            "off": replace(base, rollups=frozenset()),
        }
        for label, query in _queries():
            sql = {mode: compile_query(catalog, query, "duckdb").sql for mode, catalog in modes.items()}
            times: dict[str, list[float]] = {"on": [], "off": []}
            for rep in range(reps + 1):
                for mode in ("on", "off") if rep % 2 else ("off", "on"):
                    started = time.perf_counter()
                    warehouse.query(sql[mode])
                    if rep:  # the first round warms the buffer cache
                        times[mode].append(time.perf_counter() - started)
            read = [name for name in modes["on"].rollups or () if name in sql["on"]]
            row = {"question": label, "rollups_s": round(statistics.median(times["on"]), 3)}
            row.update(events_s=round(statistics.median(times["off"]), 3), reads=",".join(sorted(read)) or "events")
            out.append(row)
            print(row, flush=True)
    return out


def _queries():
    from semantic import Query

    for label, args in QUESTIONS:
        metrics = tuple(a for a in args if not a.startswith("--") and a not in ("day", "platform", "channel"))
        grain = "day" if "--grain" in args else None
        by = tuple(args[i + 1] for i, a in enumerate(args) if a == "--by")
        yield label, Query(metrics=metrics, dimensions=by, grain=grain, start=START, end=END)


def fixed_cost(url: str, reps: int) -> dict[str, float]:
    costs = {}
    for name, argv in (
        ("finlens --help", [*FINLENS, "--help"]),
        ("finlens list metrics", [*FINLENS, "list", "metrics"]),
    ):
        costs[name] = round(statistics.median(run_process(argv, dict(os.environ))[0] for _ in range(max(reps, 3))), 2)
    return costs


class _Undo(Exception):
    """Raised to roll the measured load back, so the bench file stays as built."""


def incremental_load(
    url: str, events: int = 20000, *, whole_users: bool = False, days_back: int = 0
) -> dict[str, float]:
    """One load of ``events`` events (copies of one day's, new ids): seconds to append and to refresh the rollups.

    The copied day is the last one (``days_back`` 0: what a live collector appends) or ``days_back`` days
    earlier (late events). ``whole_users`` refreshes as before span refreshes existed: every rollup row
    of every touched user, from all their events. The load runs in a transaction that is rolled back.
    """
    from connectors import connect
    from ingest.loads import appended
    from ingest.rollups import note_users, refresh

    day = END - timedelta(days=days_back)
    with connect(url, read_only=False) as warehouse:
        rows = warehouse.query_arrow(
            f"SELECT * REPLACE (event_id || '.late' AS event_id) FROM (SELECT * FROM events "
            f"WHERE event_time >= TIMESTAMP '{day}' AND event_time < TIMESTAMP '{day + timedelta(days=1)}') "
            f"USING SAMPLE {events} ROWS"
        )
        users = {u for u in rows.column("user_id").to_pylist() if u is not None}
        facts: dict[str, float] = {"events": rows.num_rows, "users": len(users)}
        try:
            with warehouse.transaction():
                started = time.perf_counter()
                warehouse.append("events", rows)
                appended(warehouse, "events", rows)
                if whole_users:
                    note_users(warehouse, users)
                facts["append_s"] = round(time.perf_counter() - started, 2)
                started = time.perf_counter()
                refresh(warehouse)
                facts["refresh_s"] = round(time.perf_counter() - started, 2)
                raise _Undo
        except _Undo:
            pass
    return facts


def incremental_loads(url: str) -> list[dict]:
    """Live-sized and late loads, each refreshed by spans and by whole users, interleaved."""
    results = []
    for events, days_back in ((1000, 0), (20000, 0), (1000, 60)):
        for whole in (False, True):
            facts = incremental_load(url, events, whole_users=whole, days_back=days_back)
            results.append({"mode": "whole users" if whole else "spans", "days_back": days_back, **facts})
            print("load (rolled back):", results[-1], flush=True)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=10, help="how many times the 10M demo is replicated")
    parser.add_argument("--reps", type=int, default=3, help="runs per question and mode")
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--loads-only", action="store_true", help="only the incremental loads' refresh times")
    args = parser.parse_args()
    target, facts = build(args.copies)
    print("data:", facts, flush=True)
    url = f"duckdb:///{target}"
    if args.loads_only:
        incremental_loads(url)
        return 0
    in_process = query_times(url, args.reps)
    rows = time_questions(url, args.reps)
    compiles = compile_times(url)
    costs = fixed_cost(url, args.reps)
    incremental_loads(url)
    print("compile ms:", compiles)
    print("fixed cost s:", costs)
    print("peak RSS of any finlens process (MB):", _peak_mb(0))
    if args.markdown:
        print("\n| question | rollups cold s | rollups median s | events cold s | events median s | same |")
        print("|---|--:|--:|--:|--:|---|")
        for row in rows:
            print(
                f"| {row['question']} | {row['rollups_cold']} | {row['rollups_median']} | {row['events_cold']} | "
                f"{row['events_median']} | {'yes' if row['same'] else 'DIFFERS'} |"
            )
        print("\n| question | reads | SQL with rollups s | SQL on events s |")
        print("|---|---|--:|--:|")
        for row in in_process:
            print(f"| {row['question']} | {row['reads']} | {row['rollups_s']} | {row['events_s']} |")
    return 0 if all(r["same"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
