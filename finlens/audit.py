"""The audit trail: who asked what, when, and what they took away; append-only, tamper-evident, kept across restarts.

It lives in a SQLite file (``FINLENS_AUDIT``, default ``data/audit.sqlite``), not in the warehouse: the app and the
CLI reach the warehouse read-only, a bank's warehouse team may not let them write there, and SQLite in WAL mode
lets several app processes and CLI runs append at once, each in one short transaction. Rows are only ever added
(triggers refuse updates and deletes), and each row carries a SHA-256 over its content and the previous row's hash,
so removing or editing a row in the file breaks the chain that ``finlens audit --verify`` checks. Pruning
(``finlens audit --prune-before DAY``) is the one way rows leave: it records what it removed, and the chain is then
checked from the oldest row kept.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from finlens_common import settings
from finlens_common.errors import FinlensError

GENESIS = "0" * 64
SCHEMA = """
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL, identity TEXT NOT NULL, role TEXT NOT NULL, source TEXT NOT NULL, action TEXT NOT NULL,
    sql_hash TEXT, rows INTEGER, detail TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_at ON audit (at);
CREATE INDEX IF NOT EXISTS audit_identity ON audit (identity);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only; prune with finlens audit --prune-before'); END;
"""


class AuditError(FinlensError):
    """The audit trail cannot be written or read, or its chain is broken."""

    exit_code = 3


@dataclass(frozen=True)
class Entry:
    """One thing someone did: a question asked, an export, a user's events looked up, a sign-in."""

    identity: str
    role: str
    source: str  # "app:overview", "cli:query"
    action: str  # "query", "export", "sequence", "sign-in", "denied", "pruned"
    sql_hash: str | None = None
    rows: int | None = None
    detail: str = ""
    at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))


def sql_hash(sql: str) -> str:
    """The SHA-256 of a compiled statement: the trail says which SQL ran without holding its text."""
    return hashlib.sha256(sql.encode()).hexdigest()


def cli_identity() -> str:
    """Who runs a CLI command when no ``--as`` says otherwise: the operating-system account."""
    try:
        return f"os:{getpass.getuser()}"
    except (KeyError, OSError):
        return "os:unknown"


def _chain(prev_hash: str, entry: Entry) -> str:
    body = json.dumps(asdict(entry), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256((prev_hash + body).encode()).hexdigest()


@contextmanager
def _connection(path: Path | None = None) -> Iterator[sqlite3.Connection]:
    target = path or settings.audit_path()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(target, timeout=30, isolation_level=None)) as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(SCHEMA)
            yield conn
    except sqlite3.Error as err:
        raise AuditError(f"audit trail {target}: {err}") from None


def record(entry: Entry, path: Path | None = None) -> None:
    """Append ``entry`` to the trail, chained to the last row, in one transaction."""
    with _connection(path) as conn:
        conn.execute("BEGIN IMMEDIATE")
        try:
            last = conn.execute("SELECT hash FROM audit ORDER BY id DESC LIMIT 1").fetchone()
            prev = last[0] if last else GENESIS
            values = asdict(entry)
            conn.execute(
                "INSERT INTO audit (at, identity, role, source, action, sql_hash, rows, detail, prev_hash, hash) "
                "VALUES (:at, :identity, :role, :source, :action, :sql_hash, :rows, :detail, :prev, :hash)",
                {**values, "prev": prev, "hash": _chain(prev, entry)},
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise


def entries(*, since: date | None = None, who: str | None = None, path: Path | None = None) -> list[dict[str, object]]:
    """The trail's rows, oldest first, from ``since`` (a day, UTC) and for ``who`` (an identity), if given."""
    clauses, values = [], []
    if since is not None:
        clauses.append("at >= ?")
        values.append(since.isoformat())
    if who is not None:
        clauses.append("identity = ?")
        values.append(who)
    where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
    with _connection(path) as conn:
        conn.row_factory = sqlite3.Row
        rows = conn.execute(f"SELECT * FROM audit{where} ORDER BY id", values).fetchall()  # noqa: S608 - fixed text
    return [dict(r) for r in rows]


def verify(path: Path | None = None) -> int:
    """Check every row's hash and link, from the oldest row kept; returns the number of rows.

    Raises:
        AuditError: the first row whose content or link does not match, by id.
    """
    rows = entries(path=path)
    previous = rows[0]["prev_hash"] if rows else GENESIS
    for row in rows:
        entry = Entry(
            identity=str(row["identity"]),
            role=str(row["role"]),
            source=str(row["source"]),
            action=str(row["action"]),
            sql_hash=None if row["sql_hash"] is None else str(row["sql_hash"]),
            rows=None if row["rows"] is None else int(str(row["rows"])),
            detail=str(row["detail"]),
            at=str(row["at"]),
        )
        if row["prev_hash"] != previous or row["hash"] != _chain(str(previous), entry):
            raise AuditError(f"audit trail: row {row['id']} was changed or a row before it was removed")
        previous = row["hash"]
    return len(rows)


def prune(before: date, identity: str, path: Path | None = None) -> int:
    """Remove rows older than ``before`` (UTC day) and record that it was done; returns how many were removed."""
    with _connection(path) as conn:
        conn.execute("BEGIN IMMEDIATE")
        try:
            (count,) = conn.execute("SELECT COUNT(*) FROM audit WHERE at < ?", (before.isoformat(),)).fetchone()
            conn.execute("DROP TRIGGER audit_no_delete")
            conn.execute("DELETE FROM audit WHERE at < ?", (before.isoformat(),))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    record(
        Entry(
            identity=identity,
            role="admin",
            source="cli:audit",
            action="pruned",
            rows=count,
            detail=f"rows before {before.isoformat()}",
        ),
        path,
    )
    return count
