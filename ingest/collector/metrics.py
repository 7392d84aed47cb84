"""The collector's Prometheus metrics (``GET /metrics``), in a registry of its own."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

ACK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1.0, 2.5, 5.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "finlens_collector_requests",
            "Requests answered, by endpoint and status",
            ["endpoint", "status"],
            registry=r,
        )
        self.accepted = Counter(
            "finlens_collector_records_accepted", "Records acknowledged (durable in the spool)", registry=r
        )
        self.duplicate_batches = Counter(
            "finlens_collector_duplicate_batches", "Retried batches acknowledged again without storing", registry=r
        )
        self.stored = Counter("finlens_collector_events_stored", "New events committed to the warehouse", registry=r)
        self.duplicates = Counter(
            "finlens_collector_events_duplicate", "Events skipped as already stored (retries, replays)", registry=r
        )
        self.rejected = Counter(
            "finlens_collector_records_rejected", "Records kept aside in import_rejects with their reason", registry=r
        )
        self.refused = Counter(
            "finlens_collector_requests_refused", "Requests refused whole, by reason", ["reason"], registry=r
        )
        self.queued_records = Gauge(
            "finlens_collector_queued_records", "Acknowledged records not yet in the warehouse", registry=r
        )
        self.queued_bytes = Gauge(
            "finlens_collector_queued_bytes", "Acknowledged bytes not yet in the warehouse", registry=r
        )
        self.lag = Gauge(
            "finlens_collector_lag_seconds",
            "Age of the oldest acknowledged record not yet in the warehouse (0 when none)",
            registry=r,
        )
        self.last_load = Gauge(
            "finlens_collector_last_load_timestamp_seconds", "When the last load committed (epoch)", registry=r
        )
        self.load_errors = Counter("finlens_collector_load_errors", "Loads that failed and will be retried", registry=r)
        self.ack_seconds = Histogram(
            "finlens_collector_ack_seconds", "From request received to acknowledgement", buckets=ACK_BUCKETS, registry=r
        )

    def text(self) -> bytes:
        return generate_latest(self.registry)
