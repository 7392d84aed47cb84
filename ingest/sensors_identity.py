"""Identity: which login id an anonymous (or other) id belongs to, and re-attributing events.

Sensors SDKs state a binding three ways: a ``track_signup`` / ``$SignUp`` record
(``original_id`` → ``distinct_id``), a record with ``$is_login_id`` and its
``anonymous_id``, and ID-Mapping 3 ``identities`` with ``$identity_login_id``. The
first binding of an id wins, as in Sensors. Bindings persist in ``identity_map``, so a
later file's signup re-attributes events imported from an earlier file: one
``UPDATE`` per import run, joined to a staged table of the new bindings.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import pyarrow as pa
from sqlglot import exp

from connectors.base import Warehouse
from ingest.schema import EVENTS_TABLE, IDENTITY_TABLE, IMPORT_TABLES, arrow_schema

STAGE_TABLE = "sensors_identity_stage"


def create_stage_sql(stage: str, columns: list[tuple[str, str]], dialect: str, *, temporary: bool = False) -> str:
    """``CREATE OR REPLACE [TEMPORARY] TABLE stage (columns)``: a scratch table to join against, dropped after use.

    A temporary table is not written to the database file (nor its write-ahead log).
    """
    defs = [exp.ColumnDef(this=exp.to_identifier(name), kind=exp.DataType.build(kind)) for name, kind in columns]
    schema = exp.Schema(this=exp.to_table(stage), expressions=defs)
    properties = exp.Properties(expressions=[exp.TemporaryProperty()]) if temporary else None
    return exp.Create(this=schema, kind="TABLE", replace=True, properties=properties).sql(dialect=dialect)


class IdentityMap:
    """Other id → login id, loaded from the warehouse, grown by an import, saved at its end."""

    def __init__(self, warehouse: Warehouse):
        self.warehouse = warehouse
        self.known: dict[str, str] = {}
        self.new: dict[str, str] = {}
        sql = exp.select("distinct_id", "user_id").from_(IDENTITY_TABLE)
        for distinct_id, user_id in warehouse.query(sql.sql(dialect=warehouse.dialect)).rows:
            self.known.setdefault(distinct_id, user_id)

    def learn(self, pairs: Iterable[tuple[str, str]]) -> None:
        """Record (other id, login id) pairs; an id already bound, or a login id itself, keeps its binding."""
        for other, login in pairs:
            if other in self.known or other == login:
                continue
            login = self.known.get(login, login)  # a login id bound before resolves to its owner
            self.known[other] = login
            self.new[other] = login

    def resolve(self, distinct_ids: pa.Array) -> pa.Array:
        """The stitched ``user_id`` for each distinct_id: its login id when bound, else itself."""
        known = self.known
        if not known:
            return distinct_ids
        return pa.array([known.get(d, d) for d in distinct_ids.to_pylist()], pa.string())

    def resolve_one(self, distinct_id: str) -> str:
        return self.known.get(distinct_id, distinct_id)

    def save_and_reattribute(self) -> int:
        """Persist this run's bindings and move every earlier event of a newly bound id to its login id.

        Returns the number of events whose ``user_id`` changed.
        """
        if not self.new:
            return 0
        dialect = self.warehouse.dialect
        now = datetime.now().replace(microsecond=0)
        rows = pa.Table.from_pydict(
            {"distinct_id": list(self.new), "user_id": list(self.new.values()), "bound_at": [now] * len(self.new)},
            schema=arrow_schema(IDENTITY_TABLE),
        )
        self.warehouse.append(IDENTITY_TABLE, rows)
        columns = [(name, kind) for name, kind, _ in IMPORT_TABLES[IDENTITY_TABLE]]
        self.warehouse.execute(create_stage_sql(STAGE_TABLE, columns, dialect))
        self.warehouse.append(STAGE_TABLE, rows)
        events, stage = exp.to_table(EVENTS_TABLE), exp.to_table(STAGE_TABLE, alias="m")
        update = exp.Update(
            this=events,
            expressions=[exp.EQ(this=exp.column("user_id"), expression=exp.column("user_id", table="m"))],
            from_=exp.From(this=stage),
            where=exp.Where(
                this=exp.and_(
                    exp.column("distinct_id", table=EVENTS_TABLE).eq(exp.column("distinct_id", table="m")),
                    exp.NullSafeEQ(
                        this=exp.column("user_id", table=EVENTS_TABLE), expression=exp.column("user_id", table="m")
                    ).not_(),
                )
            ),
        )
        try:
            changed = self.warehouse.query(update.sql(dialect=dialect)).rows
        finally:
            self.warehouse.execute(
                exp.Drop(tables=[exp.to_table(STAGE_TABLE)], kind="TABLE", exists=True).sql(dialect=dialect)
            )
        self.new = {}
        return int(changed[0][0]) if changed and changed[0] else 0
