"""The alerts' own history in SQLite: every evaluation, incidents per alert and ``by`` value, deliveries, chart images.

The warehouse is read-only to finlens, so this small file is where alerts remember what they
said (``FINLENS_ALERTS_DB``, default ``data/alerts.sqlite``). SQLite lets the scheduler and the
app's "check now" write to it at the same time; every statement is parameterised.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from finlens_common.errors import FinlensError
from semantic.analyses.alert_eval import Evaluation

SCHEMA = """
CREATE TABLE IF NOT EXISTS evaluations (
    id INTEGER PRIMARY KEY, alert TEXT NOT NULL, key TEXT NOT NULL, period TEXT NOT NULL, grain TEXT NOT NULL,
    evaluated_at TEXT NOT NULL, value REAL, baseline REAL, low REAL, high REAL, threshold REAL, volume REAL,
    fired INTEGER NOT NULL, status TEXT NOT NULL, reason TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS evaluations_by_alert ON evaluations (alert, key, period);
CREATE TABLE IF NOT EXISTS key_state (
    alert TEXT NOT NULL, key TEXT NOT NULL, last_period TEXT NOT NULL, last_message_end TEXT,
    PRIMARY KEY (alert, key));
CREATE TABLE IF NOT EXISTS incidents (
    id INTEGER PRIMARY KEY, alert TEXT NOT NULL, key TEXT NOT NULL, status TEXT NOT NULL,
    opened_period TEXT NOT NULL, last_fired_period TEXT NOT NULL, closed_period TEXT,
    hold_until TEXT, first_value REAL, last_value REAL);
CREATE INDEX IF NOT EXISTS incidents_open ON incidents (alert, key, status);
CREATE TABLE IF NOT EXISTS deliveries (
    id INTEGER PRIMARY KEY, incident_id INTEGER, subscription TEXT, kind TEXT NOT NULL, channel TEXT NOT NULL,
    period TEXT, status TEXT NOT NULL, attempts INTEGER NOT NULL, error TEXT, at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS images (sha TEXT PRIMARY KEY, png BLOB NOT NULL, created_at TEXT NOT NULL);
"""


@dataclass(frozen=True)
class Incident:
    """One stretch of firing periods of one alert and ``by`` value."""

    id: int
    alert: str
    key: str
    status: str
    opened_period: str
    last_fired_period: str
    closed_period: str | None
    hold_until: str | None
    first_value: float | None
    last_value: float | None


class Store:
    """One SQLite file; safe to share between threads (one connection per call, a lock for writes)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._connect() as db:
                db.executescript(SCHEMA)
        except (OSError, sqlite3.Error) as err:
            raise FinlensError(
                f"alerts store {self.path}: {err}; check FINLENS_ALERTS_DB and the folder's permissions"
            ) from None

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30)
        db.row_factory = sqlite3.Row
        try:
            with db:
                yield db
        finally:
            db.close()

    def _rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        with self._connect() as db:
            return [dict(row) for row in db.execute(sql, params).fetchall()]

    def _write(self, sql: str, params: tuple[Any, ...] = ()) -> int:
        with self._lock, self._connect() as db:
            return int(db.execute(sql, params).lastrowid or 0)

    # evaluations
    def add_evaluations(self, evaluations: list[Evaluation], at: datetime) -> None:
        rows = [
            (
                e.alert,
                e.key,
                e.period.bucket,
                e.period.grain,
                at.isoformat(sep=" ", timespec="seconds"),
                e.outcome.value,
                e.outcome.baseline,
                e.outcome.low,
                e.outcome.high,
                e.outcome.threshold,
                e.outcome.volume,
                int(e.fired),
                e.outcome.status,
                e.outcome.reason,
            )
            for e in evaluations
        ]
        with self._lock, self._connect() as db:
            db.executemany(
                "INSERT INTO evaluations (alert, key, period, grain, evaluated_at, value, baseline, low, high, threshold,"
                " volume, fired, status, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )

    def latest_evaluations(self, alert: str | None = None, limit: int = 500) -> list[dict[str, Any]]:
        """The last evaluation of each alert and key's latest period, newest period first."""
        where = "WHERE alert = ?" if alert else ""
        return self._rows(
            "SELECT e.* FROM evaluations e JOIN (SELECT alert, key, MAX(period) AS period FROM evaluations "
            f"{where} GROUP BY alert, key) latest USING (alert, key, period) WHERE e.id = (SELECT MAX(x.id) "
            "FROM evaluations x WHERE x.alert = e.alert AND x.key = e.key AND x.period = e.period) "
            "ORDER BY e.period DESC, e.alert, e.key LIMIT ?",
            ((alert,) if alert else ()) + (limit,),
        )

    def evaluation_history(self, alert: str, key: str, limit: int = 2000) -> list[dict[str, Any]]:
        """The last evaluation of each period of one alert and key, oldest first."""
        return self._rows(
            "SELECT * FROM evaluations WHERE id IN (SELECT MAX(id) FROM evaluations WHERE alert = ? AND key = ? "
            "GROUP BY period) ORDER BY period DESC LIMIT ?",
            (alert, key, limit),
        )[::-1]

    # per-key state and incidents
    def key_state(self, alert: str, key: str) -> dict[str, Any] | None:
        rows = self._rows("SELECT * FROM key_state WHERE alert = ? AND key = ?", (alert, key))
        return rows[0] if rows else None

    def set_last_period(self, alert: str, key: str, period: str) -> None:
        self._write(
            "INSERT INTO key_state (alert, key, last_period) VALUES (?, ?, ?) "
            "ON CONFLICT (alert, key) DO UPDATE SET last_period = excluded.last_period",
            (alert, key, period),
        )

    def set_last_message(self, alert: str, key: str, end: str) -> None:
        self._write("UPDATE key_state SET last_message_end = ? WHERE alert = ? AND key = ?", (end, alert, key))

    def open_incident(self, alert: str, key: str) -> Incident | None:
        rows = self._rows(
            "SELECT * FROM incidents WHERE alert = ? AND key = ? AND status = 'open' ORDER BY id DESC LIMIT 1",
            (alert, key),
        )
        return Incident(**rows[0]) if rows else None

    def incident(self, incident_id: int) -> Incident:
        return Incident(**self._rows("SELECT * FROM incidents WHERE id = ?", (incident_id,))[0])

    def create_incident(self, alert: str, key: str, period: str, value: float | None, hold_until: str | None) -> int:
        return self._write(
            "INSERT INTO incidents (alert, key, status, opened_period, last_fired_period, hold_until, first_value,"
            " last_value) VALUES (?, ?, 'open', ?, ?, ?, ?, ?)",
            (alert, key, period, period, hold_until, value, value),
        )

    def still_firing(self, incident_id: int, period: str, value: float | None) -> None:
        self._write(
            "UPDATE incidents SET last_fired_period = ?, last_value = ? WHERE id = ?", (period, value, incident_id)
        )

    def close_incident(self, incident_id: int, period: str, value: float | None) -> None:
        self._write(
            "UPDATE incidents SET status = 'closed', closed_period = ?, last_value = ? WHERE id = ?",
            (period, value, incident_id),
        )

    def incidents(self, alert: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
        where = "WHERE alert = ?" if alert else ""
        return self._rows(
            f"SELECT * FROM incidents {where} ORDER BY id DESC LIMIT ?", ((alert,) if alert else ()) + (limit,)
        )

    # deliveries
    def add_delivery(
        self,
        *,
        kind: str,
        channel: str,
        status: str,
        attempts: int,
        at: datetime,
        incident_id: int | None = None,
        subscription: str | None = None,
        period: str | None = None,
        error: str | None = None,
    ) -> None:
        self._write(
            "INSERT INTO deliveries (incident_id, subscription, kind, channel, period, status, attempts, error, at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                incident_id,
                subscription,
                kind,
                channel,
                period,
                status,
                attempts,
                error,
                at.isoformat(sep=" ", timespec="seconds"),
            ),
        )

    def sent_channels(self, incident_id: int, kind: str) -> set[str]:
        rows = self._rows(
            "SELECT DISTINCT channel FROM deliveries WHERE incident_id = ? AND kind = ? AND status = 'sent'",
            (incident_id, kind),
        )
        return {row["channel"] for row in rows}

    def deliveries(self, limit: int = 200) -> list[dict[str, Any]]:
        return self._rows("SELECT * FROM deliveries ORDER BY id DESC LIMIT ?", (limit,))

    # chart images, served by `finlens alerts serve --http` for chat apps that take only image URLs
    def put_image(self, png: bytes) -> str:
        sha = hashlib.sha256(png).hexdigest()
        self._write("INSERT OR IGNORE INTO images (sha, png, created_at) VALUES (?, ?, datetime('now'))", (sha, png))
        return sha

    def image(self, sha: str) -> bytes | None:
        rows = self._rows("SELECT png FROM images WHERE sha = ?", (sha,))
        return bytes(rows[0]["png"]) if rows else None
