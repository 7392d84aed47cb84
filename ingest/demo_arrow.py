"""Turning one batch's rows into Arrow tables shaped like ``ingest.schema``.

The simulation writes compact rows (codes and per-person indices); every
column that follows from the person or the time (ids, platform, device,
place, app version, UTM, business line) is filled in here with vectorised
lookups. Two effects are added here because they depend only on a page view
and its time: app errors (by app version) and crawler page views.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ingest import demo_world as w
from ingest.demo_plan import Plan, Window, devices
from ingest.demo_sim import Simulator
from ingest.schema import EVENTS_TABLE, USERS_TABLE, arrow_schema

CRAWLER_SHARE = 0.003  # of all events: crawler page views, NULL user_id
CRAWLERS_PER_BATCH = 2
CRAWLER_PAGES = (
    w.PG["home"],
    w.PG["product_list"],
    w.PG["product_detail"],
    w.PG["forex_market"],
    w.PG["stock_market"],
    w.PG["mall_home"],
    w.PG["register"],
)
NEVER = np.iinfo(np.int64).max
_STR = pa.string()


def _take(values, index: np.ndarray) -> pa.Array:
    """``values[index]`` as Arrow strings, NULL where the index is negative."""
    return pc.take(
        pa.array(values, type=values.type if isinstance(values, pa.Array) else _STR), pa.array(index, mask=index < 0)
    )


def _lookup(names, index: np.ndarray) -> pa.Array:
    return _take(pa.array(list(names), type=_STR), index)


def events_table(sim: Simulator, plan: Plan, window: Window, rng: np.random.Generator, batch: int) -> pa.Table:
    """The batch's events: the simulated rows, plus app errors and crawler views, sorted by time."""
    rows = sim.rows
    n = len(plan)
    cols = list(zip(*rows)) if rows else [()] * 11
    count = len(rows)
    person = np.fromiter(cols[0], np.int64, count)
    t = np.fromiter(cols[1], np.int64, count)
    event = np.fromiter(cols[2], np.int64, count)
    page = np.fromiter(cols[3], np.int64, count)
    element = np.fromiter(cols[4], np.int64, count)
    product = np.fromiter(cols[5], np.int64, count)
    amount = np.array(cols[6], dtype=np.float64)
    duration = np.array(cols[7], dtype=np.float64)
    success = np.fromiter(cols[8], np.int8, count)
    fail = list(cols[9])
    props = list(cols[10])

    # App version at each event: the newest release the person had installed by then.
    platform = np.append(plan.platform, [w.WEB] * CRAWLERS_PER_BATCH)
    releases = window.releases()
    on_app = np.isin(platform[person], w.APP_PLATFORMS)
    installed = np.searchsorted(releases, plan.arrival[np.minimum(person, n - 1)], side="right")
    upgraded = np.searchsorted(releases, t - plan.lag[np.minimum(person, n - 1)], side="right")
    version = np.where(on_app, np.maximum(installed, upgraded) - 1, -1)

    # App errors: each app page view may fail, far more often on the buggy release.
    views = np.flatnonzero((event == w.EV["$AppViewScreen"]) & (version >= 0))
    hit = views[rng.random(len(views)) < np.array(w.ERROR_RATE)[version[views]]]
    bug = version[hit] == w.APP_VERSIONS.index("5.2.0")
    codes = np.where(bug & (rng.random(len(hit)) < 0.7), -1, rng.integers(0, len(w.ERROR_CODES), len(hit)))
    error_props = [f'{{"error_code":"{w.BUG_ERROR_CODE if c < 0 else w.ERROR_CODES[c]}"}}' for c in codes.tolist()]

    # Crawlers: page views on Web at any hour, no user behind them.
    crawl = int(round((count + len(hit)) * CRAWLER_SHARE / (1 - CRAWLER_SHARE)))
    crawl_person = n + rng.integers(0, CRAWLERS_PER_BATCH, crawl)
    agents = rng.integers(0, len(w.CRAWLER_AGENTS), CRAWLERS_PER_BATCH)
    crawl_props = [f'{{"user_agent":"{w.CRAWLER_AGENTS[agents[k - n]]}"}}' for k in crawl_person.tolist()]

    person = np.concatenate([person, person[hit], crawl_person])
    t = np.concatenate([t, t[hit] + 1, rng.integers(0, window.seconds, crawl)])
    event = np.concatenate([event, np.full(len(hit), w.EV["app_error"]), np.full(crawl, w.EV["$pageview"])])
    page = np.concatenate([page, page[hit], np.array(CRAWLER_PAGES)[rng.integers(0, len(CRAWLER_PAGES), crawl)]])
    element = np.concatenate([element, np.full(len(hit) + crawl, -1)])
    product = np.concatenate(
        [
            product,
            product[hit],
            np.where(page[-crawl:] == w.PG["product_detail"], rng.integers(0, len(w.PRODUCTS), crawl), -1)
            if crawl
            else np.empty(0, np.int64),
        ]
    )
    amount = np.concatenate([amount, np.full(len(hit) + crawl, np.nan)])
    duration = np.concatenate([duration, np.full(len(hit), np.nan), rng.integers(0, 3, crawl).astype(np.float64)])
    success = np.concatenate([success, np.full(len(hit) + crawl, -1, np.int8)])
    version = np.concatenate([version, version[hit], np.full(crawl, -1)])
    fail += [None] * (len(hit) + crawl)
    props += error_props + crawl_props

    keep = (t >= 0) & (t < window.seconds)
    order = np.flatnonzero(keep)[np.argsort(t[keep], kind="stable")]
    person, t, event, page, element, product = (a[order] for a in (person, t, event, page, element, product))
    amount, duration, success, version = amount[order], duration[order], success[order], version[order]
    order_arrow = pa.array(order)

    people = people_columns(sim, plan)
    registered_now = t >= people["reg_t"][person]
    distinct = pc.if_else(pa.array(registered_now), _take(people["user_id"], person), _take(people["anon"], person))
    utm_rows = np.where(t <= people["utm_until"][person], person, -1)
    line_of_page = np.array([w.BUSINESS_LINES.index(w.page_business_line(p)) for p in w.PAGES])
    line_of_event = np.array([w.BUSINESS_LINES.index(w.event_business_line(e)) for e in w.EVENTS])
    by_page = np.isin(event, [w.EV[e] for e in ("$AppViewScreen", "$pageview", "$AppClick", "$WebClick")])
    line = np.where(by_page, line_of_page[np.maximum(page, 0)], line_of_event[event])

    ids = pa.array([f"{batch:06x}{k:010x}" for k in range(len(t))], type=_STR)
    columns = {
        "event_id": ids,
        "event_time": pa.array((t + window.start_epoch) * 1_000_000, type=pa.timestamp("us")),
        "event": _lookup(w.EVENTS, event),
        "user_id": _take(people["user_id"], person),
        "distinct_id": distinct,
        "business_line": _lookup(w.BUSINESS_LINES, line),
        "platform": _lookup(w.PLATFORMS, platform[person]),
        "app_version": _lookup(w.APP_VERSIONS, version),
        "device_model": _take(people["device"], person),
        "province": _take(people["province"], person),
        "city": _take(people["city"], person),
        "page": _lookup(w.PAGES, page),
        "element": _lookup(w.ELEMENTS, element),
        **{
            f"utm_{k}": _take(people[f"utm_{k}"], utm_rows) for k in ("source", "medium", "campaign", "content", "term")
        },
        # one channel per person, the first touch (before the window for people registered earlier): both touches
        "first_utm_source": _take(people["utm_source"], person),
        "latest_utm_source": _take(people["utm_source"], person),
        "product_type": _lookup([p[1] for p in w.PRODUCTS], product),
        "product_id": _lookup([p[0] for p in w.PRODUCTS], product),
        "amount": pa.array(amount, from_pandas=True),
        "is_success": pa.array(success == 1, mask=success < 0),
        "fail_reason": pc.take(pa.array(fail, type=_STR), order_arrow),
        "duration": pa.array(duration, from_pandas=True),
        "properties": pc.take(pa.array(props, type=_STR), order_arrow),
    }
    return pa.Table.from_pydict(columns, schema=arrow_schema(EVENTS_TABLE))


def people_columns(sim: Simulator, plan: Plan) -> dict:
    """Per-person values (the batch's people, then its crawlers) that every event of theirs carries."""
    k = CRAWLERS_PER_BATCH
    channels = w.CHANNELS
    reg_t = np.array([NEVER if r is None else r for r in sim.reg_t], dtype=np.int64)
    reg_t = np.where(plan.base, -1, reg_t)
    first_end = np.array(sim.first_end, dtype=np.int64)
    utm_until = np.where(plan.base, -1, np.maximum(first_end, np.where(reg_t == NEVER, -1, reg_t)))
    registered = plan.base | (reg_t != NEVER)
    user_id = [u if reg else a for u, a, reg in zip(plan.uid, plan.anon, registered.tolist())]
    crawler_ids = [f"spider-{plan.first_index:x}-{j}" for j in range(k)]
    cities = np.array(plan.city)
    models = devices()
    out = {
        "reg_t": np.append(reg_t, [NEVER] * k),
        "utm_until": np.append(utm_until, [-1] * k),
        "user_id": pa.array(user_id + [None] * k, type=_STR),
        "anon": pa.array(plan.anon + crawler_ids, type=_STR),
        "device": pa.array([models[d] for d in plan.device.tolist()] + [None] * k, type=_STR),
        "province": pa.array([w.CITIES[c][0] for c in cities.tolist()] + [None] * k, type=_STR),
        "city": pa.array([w.CITIES[c][1] for c in cities.tolist()] + [None] * k, type=_STR),
        "registered": registered,
    }
    for j, key in enumerate(("source", "medium", "campaign", "content", "term")):
        out[f"utm_{key}"] = pa.array([channels[c][j] for c in plan.channel.tolist()] + [None] * k, type=_STR)
    return out


def users_table(sim: Simulator, plan: Plan, window: Window) -> pa.Table:
    """One row per person in the batch (crawlers have no user id and no row)."""
    n = len(plan)
    people = people_columns(sim, plan)
    registered = people["registered"]
    reg_t = np.where(plan.base, -plan.register_before, people["reg_t"][:n])
    reg_time = np.where(registered, (reg_t + window.start_epoch) * 1_000_000, 0)
    who = np.where(registered, np.arange(n), -1)
    real = np.where(plan.realname, np.arange(n), -1)
    columns = {
        "user_id": people["user_id"].slice(0, n),
        "register_time": pa.array(reg_time, type=pa.timestamp("us"), mask=~registered),
        "register_channel": people["utm_source"].slice(0, n),
        "register_platform": _lookup(w.PLATFORMS, plan.platform),
        "province": people["province"].slice(0, n),
        "city": people["city"].slice(0, n),
        "gender": _lookup(w.GENDERS, np.where(who >= 0, plan.gender, -1)),
        "age_group": _lookup(w.AGE_GROUPS, np.where(who >= 0, plan.age, -1)),
        "is_real_name": pa.array(plan.realname.astype(bool)),
        "risk_level": _lookup(w.RISK_LEVELS, np.where(real >= 0, plan.risk, -1)),
        "campaign_group": _lookup((None, "push", "holdout"), np.where(plan.campaign > 0, plan.campaign, -1)),
    }
    return pa.Table.from_pydict(columns, schema=arrow_schema(USERS_TABLE))
