"""Time the marketing questions (segments, member lists, intent, lifecycle, RFM, channels, distributions, experiments).

Each question is one statement (two for the intent, lifecycle-thresholds and RFM summaries) compiled by
the semantic layer; the table gives the median wall time of ``--reps`` runs after one untimed warm-up,
with results fetched in full, and the compile time where it is separate. Run on the benchmark warehouse
of ``bench/run.py`` (10.16M events, generated once under /tmp/finlens-bench/):

    python bench/marketing.py                 # the 10M-event file, generated when missing (~90 s)
    python bench/marketing.py --db data/finlens.duckdb
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.run import DEFAULT_DAYS, DEFAULT_END, DEFAULT_SEED, DEFAULT_USERS, ensure_data  # noqa: E402
from connectors import connect  # noqa: E402
from semantic import load_catalog  # noqa: E402
from semantic.analyses.channel_quality import channel_quality, load_channel_spec  # noqa: E402
from semantic.analyses.distributions import load_distributions  # noqa: E402
from semantic.analyses.distributions_run import distribution
from semantic.analyses.experiment_run import run_experiment  # noqa: E402
from semantic.analyses.experiments import load_experiments  # noqa: E402
from semantic.analyses.intent import load_intent  # noqa: E402
from semantic.analyses.intent_sql import intent_summary  # noqa: E402
from semantic.analyses.lifecycle import load_lifecycle  # noqa: E402
from semantic.analyses.lifecycle_sql import rfm_summary  # noqa: E402
from semantic.analyses.lifecycle_summary import lifecycle_summary
from semantic.analyses.segments import segment_count, segment_members  # noqa: E402
from semantic.compiler.span import time_span  # noqa: E402
from semantic.drill.members import member_ids, member_list  # noqa: E402


def timed(run: Callable[[], object], reps: int) -> tuple[float, object]:
    result = run()  # warm-up, and the answer shown
    times = []
    for _ in range(reps):
        began = time.perf_counter()
        run()
        times.append(time.perf_counter() - began)
    return statistics.median(times), result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--db", type=Path, help="DuckDB file (default: bench/run.py's 10M-event file, generated when missing)"
    )
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args(argv)
    db = args.db
    if db is None:
        options = argparse.Namespace(
            users=DEFAULT_USERS, days=DEFAULT_DAYS, seed=DEFAULT_SEED, end=DEFAULT_END, regenerate=False
        )
        db = Path("/tmp/finlens-bench") / f"demo-{DEFAULT_USERS}u-{DEFAULT_DAYS}d-s{DEFAULT_SEED}-{DEFAULT_END}.duckdb"
        ensure_data(db, options)
    catalog = load_catalog()
    rows: list[tuple[str, float, str]] = []
    with connect(f"duckdb:///{db.resolve().as_posix()}") as warehouse:
        first, as_of = time_span(catalog, warehouse)
        events = warehouse.query("SELECT COUNT(*) FROM events").rows[0][0]
        print(
            f"{db}: {events:,} events, {first} to {as_of}; as of {as_of}; median of {args.reps} runs", file=sys.stderr
        )

        def add(name: str, run: Callable[[], object], describe: Callable[[object], str]) -> None:
            seconds, result = timed(run, args.reps)
            rows.append((name, seconds, describe(result)))
            print(f"  {name}: {seconds * 1000:.0f} ms", file=sys.stderr)

        for name in catalog.segments:
            add(
                f"segment count: {name}",
                lambda n=name: segment_count(catalog, n, as_of, warehouse),
                lambda r: f"{r:,} users",
            )
        members = segment_members(catalog, "card_no_invest_30d", as_of)
        add(
            "member list (page of 50): card_no_invest_30d",
            lambda: member_list(catalog, members, as_of, warehouse),
            lambda r: f"total {r.total:,}",
        )
        add("member ids (CSV): card_no_invest_30d", lambda: member_ids(members, warehouse), lambda r: f"{len(r):,} ids")
        intent = load_intent(catalog)
        add(
            "intent tiers and preferences (2 statements)",
            lambda: intent_summary(catalog, intent, as_of, warehouse),
            lambda r: f"{r.ranked_users:,} ranked",
        )
        lifecycle = load_lifecycle(catalog)
        add(
            "lifecycle stages",
            lambda: lifecycle_summary(catalog, lifecycle, as_of, warehouse),
            lambda r: f"{r.total:,} users",
        )
        add(
            "RFM groups and thresholds (2 statements)",
            lambda: rfm_summary(catalog, lifecycle, as_of, warehouse),
            lambda r: f"{r.total:,} investors",
        )
        add(
            "segment: intent strong AND prefers bond",
            lambda: segment_count(catalog, _built(catalog), as_of, warehouse),
            lambda r: f"{r:,} users",
        )
        spec = load_channel_spec(catalog)
        add(
            "channel quality (whole range)",
            lambda: channel_quality(catalog, spec, warehouse, start=first, end=as_of),
            lambda r: f"{len(r.rows)} channels",
        )
        distributions = load_distributions(catalog)
        for name in distributions:
            add(
                f"distribution: {name} (whole range)",
                lambda d=name: distribution(catalog, distributions, d, warehouse, start=first, end=as_of),
                lambda r: f"{len(r.rows)} rows",
            )
        for name, experiment in load_experiments(catalog).items():
            add(
                f"experiment: {name}",
                lambda e=experiment: run_experiment(catalog, e, warehouse),
                lambda r: f"{len(r.variants)} variants",
            )
    print("| question | median | answer |\n|---|---:|---|")
    for name, seconds, answer in rows:
        print(f"| {name} | {seconds * 1000:,.0f} ms | {answer} |")
    return 0


def _built(catalog):
    from semantic.analyses.segments import parse_segment_text

    return parse_segment_text(catalog, "all: [{intent: strong}, {prefers: bond}]")


if __name__ == "__main__":
    raise SystemExit(main())
