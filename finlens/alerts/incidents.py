"""From verdicts to messages: one message when an incident opens, one when it recovers, nothing in between.

Per alert and ``by`` value, periods are taken in order:

- a **fired** period opens an incident (or continues the open one). Opening announces it on every
  channel of ``notify``, unless the key's last message was less than ``cooldown`` before this
  period's end: then the incident is held, and announced by the first fired period after the
  cool-down if it is still open. Channels whose announcement failed are tried again on the
  next evaluation, so nothing is lost and nothing is said twice;
- an **ok** period closes the open incident and sends one recovery message to the channels that
  heard the announcement (a held incident closes silently);
- a period without a verdict (too little volume, no value, no baseline) changes nothing: an
  incident is not over because its traffic went quiet.

Times are the periods' ends, not the clock, so a re-run or a backfill with ``--at`` decides the
same. A period older than the key's last processed one is stored but changes nothing; the same
period again only retries failed announcements.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from finlens.alerts.store import Store
from semantic.analyses.alert_eval import Evaluation
from semantic.catalog.alert_specs import Alert

FIRED = "fired"
RESOLVED = "resolved"


@dataclass(frozen=True)
class Notice:
    """A message to send: ``kind`` fired or resolved, about ``evaluation``, to ``channels``."""

    kind: str
    alert: Alert
    evaluation: Evaluation
    incident_id: int
    opened_period: str
    channels: tuple[str, ...]


def _end(evaluation: Evaluation) -> str:
    return evaluation.period.end.isoformat(sep=" ")


def plan(store: Store, alert: Alert, evaluation: Evaluation) -> list[Notice]:
    """Update ``evaluation``'s incident and return the messages it calls for (none, an announcement or a recovery)."""
    key, period = evaluation.key, evaluation.period.bucket
    state = store.key_state(alert.name, key)
    last = state["last_period"] if state else None
    if last is not None and period < last:
        return []
    incident = store.open_incident(alert.name, key)
    if last == period:  # evaluated again: only what failed before is tried again
        return _pending(store, alert, evaluation, incident) if incident and evaluation.fired else []
    store.set_last_period(alert.name, key, period)
    if evaluation.fired:
        if incident is not None:
            store.still_firing(incident.id, period, evaluation.outcome.value)
            return _pending(store, alert, evaluation, store.incident(incident.id))
        hold = None
        last_message = state["last_message_end"] if state else None
        if last_message is not None:
            until = datetime.fromisoformat(last_message) + timedelta(seconds=alert.cooldown_seconds)
            if evaluation.period.end < until:
                hold = until.isoformat(sep=" ")
        incident_id = store.create_incident(alert.name, key, period, evaluation.outcome.value, hold)
        return _pending(store, alert, evaluation, store.incident(incident_id))
    if evaluation.outcome.status == "ok" and incident is not None:
        store.close_incident(incident.id, period, evaluation.outcome.value)
        heard = tuple(c for c in alert.notify if c in store.sent_channels(incident.id, FIRED))
        if heard:
            return [Notice(RESOLVED, alert, evaluation, incident.id, incident.opened_period, heard)]
    return []


def _pending(store: Store, alert: Alert, evaluation: Evaluation, incident) -> list[Notice]:
    """The announcement for the channels that have not had it, unless the incident is held by the cool-down."""
    if incident.hold_until is not None and evaluation.period.end < datetime.fromisoformat(incident.hold_until):
        return []
    sent = store.sent_channels(incident.id, FIRED)
    channels = tuple(c for c in alert.notify if c not in sent)
    if not channels:
        return []
    return [Notice(FIRED, alert, evaluation, incident.id, incident.opened_period, channels)]


def delivered(store: Store, notice: Notice) -> None:
    """Remember that ``notice`` reached at least one channel: the cool-down counts from here."""
    store.set_last_message(notice.alert.name, notice.evaluation.key, _end(notice.evaluation))
