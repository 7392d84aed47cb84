"""``metrics/alerts/*.yml`` and ``metrics/subscriptions/*.yml``: alerts, board subscriptions and their channels.

Either kind of file may declare ``channels:``; channel names are one namespace and every
``notify`` must name one. Secrets never live here: a channel names the environment variable
holding its webhook URL (``url_env``) or signing secret (``secret_env``), and a key that looks
like a secret itself (``url``, ``password``, ``token``...) is refused at its line.
"""

from __future__ import annotations

import re
from pathlib import Path

from finlens_common.errors import CatalogError, CatalogProblem
from semantic.catalog.alert_parser import parse_alert
from semantic.catalog.alert_specs import CHANNEL_TYPES, Alert, Channel, Notifications, Subscription
from semantic.catalog.boards import board_problems
from semantic.catalog.catalog import Catalog
from semantic.catalog.cron import CronProblem, cron_fields
from semantic.catalog.expression_guard import parse_user_filter
from semantic.catalog.expressions import SnippetError, did_you_mean
from semantic.catalog.fields import Fields, Problems
from semantic.catalog.loader import default_root, read_yaml_folder
from semantic.catalog.specs import Source
from semantic.catalog.yaml_lines import LineList, LineMap

CHANNEL_KEYS = ("type", "url_env", "secret_env", "to")
SECRET_KEYS = ("url", "webhook", "password", "secret", "token", "key", "smtp_password", "access_token")
SUBSCRIPTION_KEYS = ("name", "label", "board", "days", "compare", "filters", "where", "language", "schedule", "notify")
URL_CHANNELS = ("wecom", "dingtalk", "feishu", "slack", "webhook")
SIGNED_CHANNELS = ("dingtalk", "feishu", "webhook")
_ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]{0,100}$")
_EMAIL = re.compile(r"^[^@\s<>,;]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,}$")
DEFAULT_DIGEST_SCHEDULE = "0 8 * * *"


def notification_problems(
    catalog: Catalog, root: str | Path | None = None
) -> tuple[Notifications, list[CatalogProblem]]:
    """Every alert, subscription and channel under ``root`` and every problem found in them."""
    base = Path(root if root is not None else catalog.root or default_root())
    problems = Problems(catalog.allowed_functions)
    channels: dict[str, Channel] = {}
    alerts: dict[str, Alert] = {}
    subscriptions: dict[str, Subscription] = {}
    notifies: list[tuple[str, int, str, tuple[str, ...]]] = []
    boards, _ = board_problems(catalog, base)
    for folder, kind in (("alerts", "alerts"), ("subscriptions", "subscriptions")):
        for file, doc in read_yaml_folder(base / folder, base, problems):
            fields = Fields(doc, file, problems, f"{folder} file", (kind, "channels"))
            _channels(fields, file, problems, channels)
            items = fields.list_at(kind, required=not fields.has("channels"))
            for item, line in zip(items or [], items.item_lines if items else []):
                if not isinstance(item, LineMap):
                    problems.add(file, line, f"each entry under {kind!r} must be a mapping")
                    continue
                spec = (
                    parse_alert(catalog, file, item, problems)
                    if kind == "alerts"
                    else _subscription(catalog, boards, file, item, problems)
                )
                if spec is None:
                    continue
                known: dict = alerts if kind == "alerts" else subscriptions
                if spec.name in known:
                    problems.add(
                        file, item.line, f"duplicate {kind[:-1]} {spec.name!r} (first at {known[spec.name].source})"
                    )
                    continue
                known[spec.name] = spec
                notifies.append((file, item.line_of("notify"), f"{kind[:-1]} {spec.name!r}", spec.notify))
    for file, line, what, names in notifies:
        for name in names:
            if name not in channels:
                problems.add(file, line, f"{what}: notify: unknown channel {name!r}{did_you_mean(name, channels)}")
    return Notifications(alerts=alerts, subscriptions=subscriptions, channels=channels), problems.items


def load_notifications(catalog: Catalog, root: str | Path | None = None) -> Notifications:
    """The checked alerts, subscriptions and channels.

    Raises:
        CatalogError: every problem, each as ``file:line: message``.
    """
    notifications, problems = notification_problems(catalog, root)
    if problems:
        raise CatalogError(problems)
    return notifications


def _channels(fields: Fields, file: str, problems: Problems, channels: dict[str, Channel]) -> None:
    mapping = fields.mapping_at("channels", required=False)
    for name, body in (mapping or {}).items():
        line = mapping.line_of(str(name)) if mapping is not None else 1
        what = f"channel {name!r}"
        if not isinstance(name, str) or not re.match(r"^[a-z][a-z0-9_]{0,62}$", name):
            problems.add(file, line, f"{what}: a channel name is lower_snake_case")
            continue
        if not isinstance(body, LineMap):
            problems.add(file, line, f"{what}: must be a mapping such as {{type: wecom, url_env: FINLENS_WECOM_URL}}")
            continue
        secret = [k for k in body if str(k).lower() in SECRET_KEYS]
        for key in secret:
            problems.add(
                file,
                body.line_of(str(key)),
                f"{what}: {key!r} would put a secret in the repository; keep it in an environment variable "
                "(or Streamlit secrets) and name that variable with url_env or secret_env",
            )
        channel = _channel(Fields(body, file, problems, what, (*CHANNEL_KEYS, *secret)), name, what, body.line)
        if channel is None:
            continue
        if name in channels:
            problems.add(file, line, f"duplicate channel {name!r} (first at {channels[name].source})")
            continue
        channels[name] = channel


def _channel(fields: Fields, name: str, what: str, line: int) -> Channel | None:
    kind = fields.choice("type", CHANNEL_TYPES)
    url_env = fields.string("url_env", required=kind in URL_CHANNELS)
    secret_env = fields.string("secret_env", required=False)
    for key, value in (("url_env", url_env), ("secret_env", secret_env)):
        if value is not None and not _ENV_NAME.match(value):
            fields.error(key, f"{what}: {key} names an environment variable (UPPER_CASE), not {value[:40]!r}")
            return None
    if secret_env and kind not in SIGNED_CHANNELS:
        fields.error("secret_env", f"{what}: only {', '.join(SIGNED_CHANNELS)} channels sign their messages")
    if url_env and kind == "email":
        fields.error("url_env", f"{what}: e-mail goes through the SMTP server in the settings; give 'to' instead")
    to: tuple[str, ...] = ()
    if kind == "email":
        raw = fields.raw("to")
        addresses = [raw] if isinstance(raw, str) else list(raw) if isinstance(raw, LineList) else []
        bad = [a for a in addresses if not isinstance(a, str) or not _EMAIL.match(a)]
        if not addresses or bad:
            fields.error(
                "to" if fields.has("to") else None,
                f"{what}: 'to' must list e-mail addresses{f', not {bad[0]!r}' if bad else ''}",
            )
            return None
        to = tuple(addresses)
    elif fields.has("to"):
        fields.error("to", f"{what}: only e-mail channels take 'to'")
    if kind is None:
        return None
    return Channel(
        name=name, type=kind, url_env=url_env, secret_env=secret_env, to=to, source=Source(fields.file, line)
    )


def _subscription(catalog: Catalog, boards: dict, file: str, item: LineMap, problems: Problems) -> Subscription | None:
    fields = Fields(item, file, problems, "subscription", SUBSCRIPTION_KEYS)
    name = fields.name()
    what = f"subscription {name!r}"
    fields.what = what
    label = fields.label()
    board = fields.string("board")
    if board is not None and board not in boards:
        fields.error("board", f"{what}: unknown board {board!r}{did_you_mean(board, boards)}")
        board = None
    days = fields.integer("days", default=7, maximum=366)
    compare = fields.choice("compare", ("previous", "year"), default="previous")
    language = fields.choice("language", ("zh", "en"), default="") or None if fields.has("language") else None
    events = [d.name for d in catalog.dimensions_for("events")] if "events" in catalog.models else []
    filters = _filters(fields, events, what)
    where = fields.string("where", required=False)
    if where:
        try:
            parse_user_filter(where, events, f"{what}: where")
        except SnippetError as err:
            fields.error("where", str(err))
            where = None
    schedule = fields.string("schedule", required=False) or DEFAULT_DIGEST_SCHEDULE
    try:
        cron_fields(schedule)
    except CronProblem as err:
        fields.error("schedule", f"{what}: schedule: {err}")
    raw = fields.raw("notify")
    notify = [raw] if isinstance(raw, str) else list(raw) if isinstance(raw, LineList) else []
    if not notify or not all(isinstance(n, str) for n in notify):
        fields.error("notify" if fields.has("notify") else None, f"{what}: 'notify' must name one or more channels")
        return None
    if name is None or board is None or days is None or compare is None or filters is None:
        return None
    return Subscription(
        name=name,
        label=label,
        board=board,
        days=days,
        compare=compare,
        filters=filters,
        where=where or None,
        language=language,
        schedule=schedule,
        notify=tuple(dict.fromkeys(notify)),
        source=Source(file, item.line),
    )


def _filters(fields: Fields, usable: list[str], what: str) -> tuple[tuple[str, tuple[str, ...]], ...] | None:
    """``filters: {platform: [iOS, Android]}``: the sidebar's dimension choices."""
    mapping = fields.mapping_at("filters", required=False)
    if mapping is None:
        return ()
    chosen = []
    for name, values in mapping.items():
        line = mapping.line_of(str(name))
        if name not in usable:
            fields.problems.add(
                fields.file, line, f"{what}: filters: unknown dimension {name!r}{did_you_mean(str(name), usable)}"
            )
            return None
        items = [values] if isinstance(values, (str, int, float)) and not isinstance(values, bool) else values
        if not isinstance(items, list) or not items or not all(isinstance(v, (str, int, float)) for v in items):
            fields.problems.add(fields.file, line, f"{what}: filters: {name!r} takes a value or a list of values")
            return None
        chosen.append((str(name), tuple(str(v) for v in items)))
    return tuple(chosen)
