"""What a request may cost before it is read: a rate per client, and how far the loader may fall behind.

The rate counts records (events and profile operations), per client address, over a
sliding one-second window (the ``limits`` library's sliding-window counter: two counters
per client, whatever the volume). The backlog is the bytes acknowledged but not yet in the
warehouse: past ``max_backlog_bytes`` the collector asks clients to come back later rather
than filling the disk while the warehouse is away. Both are answered 429 with Retry-After.
"""

from __future__ import annotations

import math
import time

from limits import RateLimitItemPerSecond
from limits.storage import MemoryStorage
from limits.strategies import SlidingWindowCounterRateLimiter


class Admission:
    def __init__(self, records_per_second: int, max_backlog_bytes: int):
        self.item = RateLimitItemPerSecond(records_per_second)
        self.limiter = SlidingWindowCounterRateLimiter(MemoryStorage())
        self.records_per_second = records_per_second
        self.max_backlog_bytes = max_backlog_bytes

    def refuse(self, client: str, records: int, backlog_bytes: int) -> tuple[str, int] | None:
        """Why ``client`` must wait and for how many seconds, or None to accept its ``records``."""
        if backlog_bytes > self.max_backlog_bytes:
            return (
                f"the collector is {backlog_bytes / 1e6:,.0f} MB behind the warehouse "
                f"(limit {self.max_backlog_bytes / 1e6:,.0f} MB); retry later",
                5,
            )
        # a batch larger than a second's allowance costs a whole second (the record bound, 413, caps its size)
        if self.limiter.hit(self.item, client, cost=min(max(records, 1), self.records_per_second)):
            return None
        stats = self.limiter.get_window_stats(self.item, client)
        wait = max(1, math.ceil(stats.reset_time - time.time()))
        return f"more than {self.records_per_second:,} records a second from {client}; retry in {wait} s", wait
