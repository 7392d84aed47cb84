"""Profile records (``profile_set``, ``_set_once``, ``_increment``, ``_append``, ``_unset``, ``_delete``) → ``users``.

Profile properties named like a ``users`` column (or the Sensors presets ``$province``,
``$city``, ``$signup_time``, ``$utm_source``) fill that column; the others (counters,
lists, tags) are kept per user in ``user_properties`` as one JSON object. Operations
are replayed in log order on the stored row, so set-once and increment behave as in
Sensors across files. Pending operations are flushed in batches: one read and one
rewrite of the touched users per flush, so memory does not grow with the log.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
from sqlglot import exp

from connectors.base import Warehouse
from ingest.schema import PROFILE_LOG_TABLE, USER_PROPERTIES_TABLE, USERS_COLUMNS, USERS_TABLE, arrow_schema
from ingest.sensors_identity import IdentityMap
from ingest.sensors_read import Reject, json_type
from ingest.staging import drop_stage, literal_chunks, stage

ALIASES = {"$province": "province", "$city": "city", "$signup_time": "register_time", "$utm_source": "register_channel"}
_TYPES = {name: sql_type for name, sql_type, _ in USERS_COLUMNS if name != "user_id"}
STAGE_TABLE = "sensors_users_stage"
SDK_FLAGS = frozenset({"$is_login_id", "$lib", "$lib_version", "$lib_method"})  # about the record, not the user
FLUSH_OPERATIONS = 50_000

Profile = tuple[str, str, int, dict[str, Any], str]  # (type, distinct_id, ms, properties, record key)


def check_profile(kind: str, props: dict[str, Any]) -> None:
    """Raise Reject when a profile record's values do not fit their columns or its operation."""
    for key, value in props.items():
        if key in SDK_FLAGS:
            continue
        column = ALIASES.get(key, key)
        sql_type = _TYPES.get(column)
        if kind == "profile_increment" and (not isinstance(value, (int, float)) or isinstance(value, bool)):
            raise Reject(f"profile_increment of {key!r} needs a number, got {json_type(value)}")
        if kind == "profile_append" and not isinstance(value, list):
            raise Reject(f"profile_append of {key!r} needs an array, got {json_type(value)}")
        if sql_type is None or kind in ("profile_unset", "profile_delete") or value is None:
            continue
        if kind in ("profile_increment", "profile_append"):
            raise Reject(f"{kind} cannot change the users column {column!r}")
        if sql_type == "BOOLEAN" and not isinstance(value, bool):
            raise Reject(f"profile property {key!r} (users.{column}) must be true or false, got {json_type(value)}")
        if sql_type == "VARCHAR" and not isinstance(value, str):
            raise Reject(f"profile property {key!r} (users.{column}) must be a string, got {json_type(value)}")
        if sql_type == "TIMESTAMP" and _timestamp(value, "UTC") is None:
            raise Reject(f"profile property {key!r} (users.{column}) must be epoch ms or 'YYYY-MM-DD HH:MM:SS'")


def _timestamp(value: Any, time_zone: str) -> datetime | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return datetime.fromtimestamp(value / 1000, ZoneInfo(time_zone)).replace(tzinfo=None)
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return None


def apply(
    row: dict[str, Any] | None, extra: dict[str, Any], kind: str, props: dict[str, Any], time_zone: str
) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """One operation on a user's (columns, extra properties); a deleted user is (None, {}).

    An increment onto a stored non-number, or an append onto a stored non-list, leaves that value
    unchanged (the Sensors server refuses such an operation too); the record stays in ``profile_log``.
    """
    if kind == "profile_delete":
        return None, {}
    row = dict(row) if row is not None else {name: None for name in _TYPES}
    extra = dict(extra)
    for key, value in props.items():
        if key in SDK_FLAGS:
            continue
        column = ALIASES.get(key, key)
        target, name = (row, column) if column in _TYPES else (extra, key)
        if _TYPES.get(column) == "TIMESTAMP" and value is not None and kind != "profile_unset":
            value = _timestamp(value, time_zone)
        if kind == "profile_set":
            target[name] = value
        elif kind == "profile_set_once":
            if target.get(name) is None:
                target[name] = value
        elif kind == "profile_unset":
            target[name] = None
            if target is extra:
                extra.pop(name, None)
        elif kind == "profile_increment":
            current = target.get(name) or 0
            if isinstance(current, (int, float)) and not isinstance(current, bool):
                target[name] = (
                    current + value
                )  # a stored text or list is left as it is, as the Sensors server refuses it
        elif kind == "profile_append":
            current = target.get(name) or []
            if isinstance(current, list):
                target[name] = list(current) + [v for v in value if v not in current]
    return row, extra


class ProfileWriter:
    """Queues profile records and writes them to ``users`` / ``user_properties`` in batches."""

    def __init__(self, warehouse: Warehouse, identities: IdentityMap, time_zone: str):
        self.warehouse, self.identities, self.time_zone = warehouse, identities, time_zone
        self.pending: list[Profile] = []
        self.records = 0
        self.users: set[str] = set()

    def add(self, profiles: list[Profile]) -> None:
        self.pending.extend(profiles)
        self.records += len(profiles)
        if len(self.pending) >= FLUSH_OPERATIONS:
            self.flush()

    def flush(self) -> None:
        """Replay the queued operations on the stored rows of the users they touch, in log order."""
        if not self.pending:
            return
        ops = self._unapplied(sorted(self.pending, key=lambda op: op[2]))  # log order across files is time order
        self.pending = []
        if not ops:
            return
        touched = sorted({self.identities.resolve_one(op[1]) for op in ops})
        self.users.update(touched)
        rows, extras = self._read(touched)
        for kind, distinct_id, _, props, _ in ops:
            user = self.identities.resolve_one(distinct_id)
            rows[user], extras[user] = apply(rows.get(user), extras.get(user, {}), kind, props, self.time_zone)
        self._rewrite(touched, rows, extras)

    def _unapplied(self, ops: list[Profile]) -> list[Profile]:
        """``ops`` without records applied by an earlier run, or twice in this batch; logs the rest as applied."""
        dialect = self.warehouse.dialect
        stage(self.warehouse, STAGE_TABLE, [("user_id", "VARCHAR")], pa.table({"user_id": [op[4] for op in ops]}))
        done = (
            exp.select("record_id")
            .from_(PROFILE_LOG_TABLE)
            .where(exp.column("record_id").isin(query=exp.select("user_id").from_(STAGE_TABLE)))
        )
        seen = {key for (key,) in self.warehouse.query(done.sql(dialect=dialect)).rows}
        fresh = []
        for op in ops:
            if op[4] not in seen:
                seen.add(op[4])
                fresh.append(op)
        if fresh:
            self.warehouse.append(
                PROFILE_LOG_TABLE,
                pa.table(
                    {
                        "record_id": pa.array([op[4] for op in fresh], pa.string()),
                        "distinct_id": pa.array([op[1] for op in fresh], pa.string()),
                    }
                ),
            )
        return fresh

    def _stage(self, ids: list[str]) -> exp.Select:
        stage(self.warehouse, STAGE_TABLE, [("user_id", "VARCHAR")], pa.table({"user_id": pa.array(ids, pa.string())}))
        return exp.select("user_id").from_(STAGE_TABLE)

    def _read(self, ids: list[str]) -> tuple[dict[str, dict[str, Any] | None], dict[str, dict[str, Any]]]:
        dialect = self.warehouse.dialect
        staged = self._stage(ids)
        users = self.warehouse.query(
            exp.select("*").from_(USERS_TABLE).where(exp.column("user_id").isin(query=staged)).sql(dialect=dialect)
        )
        rows: dict[str, dict[str, Any] | None] = {}
        for record in users.records():
            rows[record.pop("user_id")] = record
        extra = self.warehouse.query(
            exp.select("user_id", "properties")
            .from_(USER_PROPERTIES_TABLE)
            .where(exp.column("user_id").isin(query=staged.copy()))
            .sql(dialect=dialect)
        )
        extras = {user: json.loads(text) for user, text in extra.rows}
        return rows, extras

    def _rewrite(
        self, ids: list[str], rows: dict[str, dict[str, Any] | None], extras: dict[str, dict[str, Any]]
    ) -> None:
        dialect = self.warehouse.dialect
        staged = exp.select("user_id").from_(STAGE_TABLE)
        for table in (USERS_TABLE, USER_PROPERTIES_TABLE):
            if dialect == "clickhouse":  # a mutation cannot read the session's temporary table
                for chunk in literal_chunks(ids):
                    self.warehouse.execute(
                        exp.delete(table, where=exp.column("user_id").isin(*chunk)).sql(dialect=dialect)
                    )
                continue
            delete = exp.delete(table, where=exp.column("user_id").isin(query=staged.copy()))
            self.warehouse.execute(delete.sql(dialect=dialect))
        kept = [(user, row) for user in ids if (row := rows.get(user)) is not None]
        if kept:
            self.warehouse.append(
                USERS_TABLE,
                pa.Table.from_pylist(
                    [{"user_id": user, **row} for user, row in kept], schema=arrow_schema(USERS_TABLE)
                ),
            )
        extra = [
            {"user_id": user, "properties": json.dumps(extras[user], ensure_ascii=False, sort_keys=True)}
            for user in ids
            if extras.get(user) and rows.get(user) is not None
        ]
        if extra:
            self.warehouse.append(
                USER_PROPERTIES_TABLE, pa.Table.from_pylist(extra, schema=arrow_schema(USER_PROPERTIES_TABLE))
            )
        drop_stage(self.warehouse, STAGE_TABLE)
