"""Exact positions, held in memory only and forgotten after a few minutes.

The database never sees an exact point. ``LivePositions`` keeps each user's last
exact fix for :data:`LIVE_TTL`, for two uses: the implausible-jump check and
``precise`` shares (time-limited grants that show the point itself). After the TTL
the point is gone and a precise viewer falls back to the stored block cell.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

LIVE_TTL = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class Fix:
    lat: float
    lon: float
    accuracy_m: float
    recorded_at: datetime
    received_at: datetime


class LivePositions:
    def __init__(self, ttl: timedelta = LIVE_TTL) -> None:
        self._ttl = ttl
        self._fixes: dict[int, Fix] = {}
        self._lock = threading.Lock()

    def put(self, user_id: int, fix: Fix) -> None:
        with self._lock:
            self._fixes[user_id] = fix
            self._evict(fix.received_at)

    def get(self, user_id: int, *, now: datetime) -> Fix | None:
        with self._lock:
            fix = self._fixes.get(user_id)
            if fix is None:
                return None
            if now - fix.received_at > self._ttl:
                del self._fixes[user_id]
                return None
            return fix

    def forget(self, user_id: int) -> None:
        with self._lock:
            self._fixes.pop(user_id, None)

    def _evict(self, now: datetime) -> None:
        stale = [uid for uid, f in self._fixes.items() if now - f.received_at > self._ttl]
        for uid in stale:
            del self._fixes[uid]
