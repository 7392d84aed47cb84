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
from ingest.rollups import note_users
from ingest.schema import EVENTS_TABLE, IDENTITY_TABLE, IMPORT_TABLES, arrow_schema
from ingest.staging import drop_stage, literal_chunks, stage

STAGE_TABLE = "sensors_identity_stage"


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
        now = datetime.now().replace(microsecond=0)
        rows = pa.Table.from_pydict(
            {"distinct_id": list(self.new), "user_id": list(self.new.values()), "bound_at": [now] * len(self.new)},
            schema=arrow_schema(IDENTITY_TABLE),
        )
        self.warehouse.append(IDENTITY_TABLE, rows)
        changed = self._reattribute(rows) if self.warehouse.dialect != "clickhouse" else self._reattribute_clickhouse()
        if changed:  # the events moved from each bound id to its login id: both users' rollup rows change
            note_users(self.warehouse, {*self.new, *self.new.values()})
        self.new = {}
        return changed

    def _reattribute(self, rows: pa.Table) -> int:
        """One ``UPDATE events ... FROM`` a staged table of the new bindings (DuckDB, PostgreSQL)."""
        dialect = self.warehouse.dialect
        columns = [(name, kind) for name, kind, _ in IMPORT_TABLES[IDENTITY_TABLE]]
        stage(self.warehouse, STAGE_TABLE, columns, rows)
        moved = exp.and_(
            exp.column("distinct_id", table=EVENTS_TABLE).eq(exp.column("distinct_id", table="m")),
            exp.NullSafeEQ(
                this=exp.column("user_id", table=EVENTS_TABLE), expression=exp.column("user_id", table="m")
            ).not_(),
        )
        count = (
            exp.select(exp.Count(this=exp.Star()))
            .from_(exp.to_table(EVENTS_TABLE))
            .join(exp.to_table(STAGE_TABLE, alias="m"), on=moved.args["this"].copy())
            .where(moved.args["expression"].copy())
        )
        update = exp.Update(
            this=exp.to_table(EVENTS_TABLE),
            expressions=[exp.EQ(this=exp.column("user_id"), expression=exp.column("user_id", table="m"))],
            from_=exp.From(this=exp.to_table(STAGE_TABLE, alias="m")),
            where=exp.Where(this=moved),
        )
        try:
            changed = int(self.warehouse.query(count.sql(dialect=dialect)).rows[0][0])
            if changed:
                self.warehouse.execute(update.sql(dialect=dialect))
        finally:
            drop_stage(self.warehouse, STAGE_TABLE)
        return changed

    def _reattribute_clickhouse(self) -> int:
        """``ALTER TABLE events UPDATE user_id = transform(distinct_id, ids, logins, user_id)``, ids as literals."""
        ids = list(self.new)
        changed = 0
        for chunk in literal_chunks(ids):
            logins = [exp.convert(self.new[str(v.this)]) for v in chunk]
            target = exp.Anonymous(
                this="transform",
                expressions=[
                    exp.column("distinct_id"),
                    exp.Array(expressions=chunk),
                    exp.Array(expressions=logins),
                    exp.column("user_id"),
                ],
            )
            moved = exp.and_(
                exp.column("distinct_id").isin(*[v.copy() for v in chunk]),
                exp.NullSafeEQ(this=exp.column("user_id"), expression=target.copy()).not_(),
            )
            count = exp.select(exp.Count(this=exp.Star())).from_(EVENTS_TABLE).where(moved)
            found = int(self.warehouse.query(count.sql(dialect="clickhouse")).rows[0][0])
            if found:
                where = exp.column("distinct_id").isin(*[v.copy() for v in chunk]).sql(dialect="clickhouse")
                self.warehouse.execute(
                    f"ALTER TABLE {EVENTS_TABLE} UPDATE user_id = {target.sql(dialect='clickhouse')} "
                    f"WHERE {where} SETTINGS mutations_sync = 2"
                )
            changed += found
        return changed
