"""Benchmark: every page of the app in a real browser, cold and warm, and memory with many sessions.

    python bench/app_pages.py                       # the default demo and ~10M events (generated once)
    python bench/app_pages.py --data demo --reps 7  # one data set
    python bench/app_pages.py --markdown            # tables for bench/README.md

For each data set a headless ``streamlit run`` serves the app on a free loopback
port and Debian's Chromium (``/usr/bin/chromium``, Playwright) drives it:

* **cold**: the server has just started (empty caches); each page is opened by
  its URL in a new tab, in order, and timed from the navigation to the end of
  the script run (``data-test-script-state`` back to ``notRunning``). Earlier
  pages have warmed what they share (the sidebar's lookups), as in real use.
* **warm**: every page has been visited; in one tab, each page is reached by a
  click on its sidebar link, timed from the click until the run it started has
  finished (seen through a ``MutationObserver``: ``running`` then
  ``notRunning``). The median of ``--reps`` rounds is shown.
* **sessions**: after a restart, ``--sessions`` tabs open the overview at
  once; the time until the last one has rendered and the server's peak
  resident memory (``VmHWM``) are recorded.

Target: warm under 300 ms on every page. Data: the default demo (40,000 people,
180 days, ~2.8M events) and bench/run.py's 10M-event demo (204,000 people,
120 days), cached under /tmp/finlens-bench/. Timings are the browser's, so they
include the websocket round trip on loopback (not the charts' drawing after it).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from playwright import sync_api  # noqa: E402

from bench.run import ensure_data  # noqa: E402
from tests.browser_helpers import CHROMIUM, CHROMIUM_ARGS, running_app  # noqa: E402

TARGET_MS = 300
BENCH_DIR = Path("/tmp/finlens-bench")
DATA = {
    "demo": {"users": 40_000, "days": 180},
    "10m": {"users": 204_000, "days": 120},
}
PAGES = [
    ("overview", ""),
    ("board_platform", ""),
    ("board_life", ""),
    ("board_forex", ""),
    ("board_p2p", ""),
    ("board_stock", ""),
    ("explore", ""),
    ("events", ""),
    ("funnel", ""),
    ("retention", ""),
    ("interval", ""),
    ("ltv", ""),
    ("stickiness", ""),
    ("paths", ""),
    ("attribution", ""),
    ("channels", ""),
    ("breakdown", "?m=registrations&by=channel"),
    ("distributions", ""),
    ("data_quality", ""),
    ("alerts", ""),
    ("segments", ""),
    ("intent", ""),
    ("lifecycle", ""),
    ("experiments", ""),
    ("users", "?m=bind_card_users&sel=channel:invite"),
    ("sequence", "?user=u0000001"),
]
WATCH = """() => {
  const app = document.querySelector("[data-testid='stApp']");
  window.__runs = [];
  new MutationObserver(() => window.__runs.push([app.getAttribute('data-test-script-state'), performance.now()]))
    .observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
}"""
FINISHED = """(since) => {
  const runs = (window.__runs || []).filter(r => r[1] >= since);
  const started = runs.findIndex(r => r[0] === 'running');
  return started >= 0 && runs.slice(started).some(r => r[0] === 'notRunning');
}"""
STARTED = """(since) => (window.__runs || []).some(r => r[1] >= since && r[0] === 'running')"""
ENDED = """(since) => {
  const runs = (window.__runs || []).filter(r => r[1] >= since);
  const started = runs.findIndex(r => r[0] === 'running');
  return runs.slice(started).find(r => r[0] === 'notRunning')[1];
}"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", action="append", choices=sorted(DATA), help="data sets (default: all)")
    parser.add_argument("--reps", type=int, default=5, help="warm rounds over every page")
    parser.add_argument("--sessions", type=int, default=20, help="concurrent sessions for the memory figure")
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument(
        "--dir", type=Path, default=BENCH_DIR, help=f"where the data sets are kept (default {BENCH_DIR})"
    )
    parser.add_argument(
        "--db", type=Path, action="append", default=[], help="an existing DuckDB warehouse file (e.g. bench/scale.py's)"
    )
    parser.add_argument("--pages", help="comma-separated pages to time (default: every page)")
    args = parser.parse_args(argv)
    chosen = [p for p in PAGES if not args.pages or p[0] in args.pages.split(",")]
    results = []
    for db in args.db:
        warn_without_watermark(db)
        url = "duckdb:///" + str(db.resolve())
        progress(f"{db.name}")
        cold, warm = pages(url, args.reps, args.dir, chosen)
        crowd = sessions(url, args.sessions, args.dir) if args.sessions else {}
        results.append((db.stem, _facts(db), cold, warm, crowd))
    for name in args.data or ([] if args.db else list(DATA)):
        spec = DATA[name]
        db = args.dir / f"demo-{spec['users']}u-{spec['days']}d-s7-2026-10-31.duckdb"
        meta = ensure_data(
            db,
            argparse.Namespace(
                users=spec["users"], days=spec["days"], seed=7, end=date(2026, 10, 31), regenerate=False
            ),
        )
        warn_without_watermark(db)
        url = "duckdb:///" + str(db.resolve())
        progress(f"{name}: {meta.get('events', 0):,} events")
        cold, warm = pages(url, args.reps, args.dir, chosen)
        crowd = sessions(url, args.sessions, args.dir) if args.sessions else {}
        results.append((name, meta, cold, warm, crowd))
    print(render(results, args.markdown, args.sessions))
    slow = [(n, p) for n, _, _, warm, _ in results for p, times in warm.items() if statistics.median(times) > TARGET_MS]
    return 1 if slow else 0


@contextmanager
def browser(log: Path, url: str) -> Iterator[tuple[str, sync_api.Browser]]:
    with running_app(url, log) as base, sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield base, chromium
        finally:
            chromium.close()


def settle(tab: sync_api.Page) -> None:
    """Wait for the page's first run to end: the sidebar is drawn (the state reads ``notRunning`` before that too)."""
    tab.wait_for_selector("[data-testid='stApp']", timeout=600_000)
    tab.wait_for_selector("[data-testid='stSidebarNavLink']", timeout=600_000)
    tab.wait_for_function(
        "() => document.querySelector(\"[data-testid='stApp']\").getAttribute('data-test-script-state') === 'notRunning'",
        timeout=600_000,
    )


def pages(
    url: str, reps: int, folder: Path, chosen: list[tuple[str, str]] = PAGES
) -> tuple[dict[str, float], dict[str, list[float]]]:
    """Cold (ms per page, first visit after start) and warm (ms per round, sidebar clicks)."""
    cold: dict[str, float] = {}
    warm: dict[str, list[float]] = {page: [] for page, _ in chosen}
    with browser(folder / "app_pages.log", url) as (base, chromium):
        context = chromium.new_context(viewport={"width": 1500, "height": 1000})
        for page, query in chosen:
            tab = context.new_page()
            began = time.perf_counter()
            tab.goto(f"{base}/{page}{query}", timeout=600_000)
            settle(tab)
            cold[page] = (time.perf_counter() - began) * 1000
            progress(f"  cold {page}: {cold[page]:,.0f} ms")
            tab.close()
        tab = context.new_page()
        last, last_query = chosen[-1]  # a round starts on the overview: its link reruns nothing when already there
        tab.goto(f"{base}/{last}{last_query}", timeout=600_000)
        settle(tab)
        tab.evaluate(WATCH)
        for _ in range(reps):
            for page, query in chosen:
                warm[page].append(navigate(tab, page, query))
        progress("  warm: " + ", ".join(f"{p} {statistics.median(v):.0f}" for p, v in warm.items()))
    return cold, warm


def navigate(tab: sync_api.Page, page: str, query: str) -> float:
    """Milliseconds from a click on the page's sidebar link to the end of the run it started.

    A drill page (with parameters) is reached the way Back and Forward reach it: a history entry and a
    ``popstate``, which the app answers with a run of that page on those parameters.
    """
    since = tab.evaluate("performance.now()")
    if query:
        tab.evaluate(
            "(path) => { window.history.pushState({}, '', path); window.dispatchEvent(new PopStateEvent('popstate')); }",
            f"/{page}{query}",
        )
    else:
        path = "" if page == "overview" else page  # the default page's link is the app's root
        tab.locator(f"[data-testid='stSidebarNavLink'][href$='/{path}']").click()
    try:
        tab.wait_for_function(STARTED, arg=since, timeout=15_000)
    except sync_api.TimeoutError:
        # The run may have happened unseen: when its start and end reach the browser together (a fast warm run),
        # React can draw the page without ever showing the "running" state. Measured again, a run is seen.
        progress(f"  warm {page}: no run seen 15 s after the click; measuring again")
        return navigate(tab, page, query)
    tab.wait_for_function(FINISHED, arg=since, timeout=600_000)
    return tab.evaluate(ENDED, since) - since


def sessions(url: str, count: int, folder: Path) -> dict[str, float]:
    """``count`` tabs open the overview at once on a freshly started app: time to the last render, peak memory."""
    log = folder / "app_sessions.log"
    with browser(log, url) as (base, chromium):
        pid = server_pid(base)
        tabs = [chromium.new_context().new_page() for _ in range(count)]
        began = time.perf_counter()
        for tab in tabs:
            tab.goto(base, wait_until="commit", timeout=600_000)
        for tab in tabs:
            settle(tab)
        seconds = time.perf_counter() - began
        return {"seconds": seconds, "peak_mb": peak_rss_mb(pid)}


def server_pid(base: str) -> int:
    """The process listening on ``base``'s port (the ``streamlit run`` started for it)."""
    port = int(base.rsplit(":", 1)[1])
    inode = None
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].split(":")[1], 16) == port and fields[3] == "0A":
            inode = fields[9]
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if any(f"socket:[{inode}]" == str(fd.readlink()) for fd in (proc / "fd").iterdir()):
                return int(proc.name)
        except OSError:
            continue
    raise SystemExit(f"no process listens on port {port}")


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def render(results: list, markdown: bool, count: int) -> str:
    lines = []
    for name, meta, cold, warm, crowd in results:
        lines.append(f"\n{name}: {meta.get('events', 0):,} events, {meta.get('days')} days")
        lines.append("| page | cold (ms) | warm median (ms) | warm max (ms) | < 300 ms |")
        lines.append("|---|---:|---:|---:|---|")
        for page in warm:
            times = warm[page]
            ok = "yes" if statistics.median(times) <= TARGET_MS else "NO"
            lines.append(f"| {page} | {cold[page]:,.0f} | {statistics.median(times):,.0f} | {max(times):,.0f} | {ok} |")
        if crowd:
            lines.append(
                f"\n{count} sessions opening the overview at once on a fresh server: all rendered after "
                f"{crowd['seconds']:,.1f} s; peak server memory {crowd['peak_mb']:,.0f} MB"
            )
    text = "\n".join(lines)
    return text if markdown else text.replace("|---|---:|---:|---:|---|\n", "")


def _facts(db: Path) -> dict[str, int]:
    """Events and days of an existing warehouse file (read after the app has let it go)."""
    import duckdb

    with duckdb.connect(str(db), read_only=True) as con:
        events, days = con.execute("SELECT count(*), count(DISTINCT CAST(event_time AS DATE)) FROM events").fetchone()
    return {"events": events, "days": days}


def warn_without_watermark(db: Path) -> None:
    """A file no finlens loader wrote has no load watermark: the app then re-keys results every minute, so a
    "warm" visit after a minute boundary runs its queries again and the figures mean nothing."""
    import duckdb

    with duckdb.connect(str(db), read_only=True) as con:
        tables = {row[0] for row in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    if "ingest_loads" not in tables:
        progress(f"WARNING: {db} has no load watermark (ingest_loads): warm figures include re-runs; use a file")
        progress("written by `finlens demo` or `finlens import`")


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
