"""Exact positions, held in memory only and forgotten after a few minutes.

The database never sees an exact point. ``LivePositions`` keeps each user's last
exact fix for :data:`LIVE_TTL`, for two uses: the implausible-jump check and
``precise`` shares (time-limited grants that show the point itself). After the TTL
the point is gone and a precise viewer falls back to the stored block cell.

One server process keeps the fixes in its own memory. Several processes share them
through Redis (:class:`RedisLivePositions`, chosen when ``KITH_REDIS_URL`` is set), each
key set to expire with the fix, so a ``precise`` viewer sees the point whichever process
serves them. That Redis must not persist to disk (kith's own runs with ``--save ""
--appendonly no``): the point is to keep exact positions out of storage.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

log = logging.getLogger(__name__)
LIVE_TTL = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class Fix:
    lat: float
    lon: float
    accuracy_m: float
    recorded_at: datetime
    received_at: datetime


class LivePositions:
    """This process's memory: fixes in order of arrival, the stale ones dropped from the
    front as new ones come in (constant time per update, whatever the number of users)."""

    def __init__(self, ttl: timedelta = LIVE_TTL) -> None:
        self._ttl = ttl
        self._fixes: OrderedDict[int, Fix] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def ttl(self) -> timedelta:
        return self._ttl

    def put(self, user_id: int, fix: Fix) -> None:
        with self._lock:
            self._fixes.pop(user_id, None)
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
        while self._fixes:
            uid, oldest = next(iter(self._fixes.items()))
            if now - oldest.received_at <= self._ttl:
                return
            del self._fixes[uid]


KEY = "kith:live:{}"


class RedisLivePositions(LivePositions):
    """Fixes shared by every server process through Redis, each key expiring with its fix.

    When Redis cannot be reached the fix is kept in this process only (the superclass), so
    a location update never fails for it; precise viewers elsewhere then see the cell."""

    def __init__(self, url: str, ttl: timedelta = LIVE_TTL) -> None:
        super().__init__(ttl)
        self._url = url
        self._client: Any = None

    def _redis(self) -> Any:
        if self._client is None:
            import redis

            self._client = redis.Redis.from_url(self._url, socket_timeout=2)
        return self._client

    def put(self, user_id: int, fix: Fix) -> None:
        value = json.dumps(
            [
                fix.lat,
                fix.lon,
                fix.accuracy_m,
                fix.recorded_at.isoformat(),
                fix.received_at.isoformat(),
            ]
        )
        try:
            self._redis().set(KEY.format(user_id), value, px=int(self.ttl.total_seconds() * 1000))
        except Exception:
            log.warning("redis unavailable: keeping the fix in this process", exc_info=True)
            super().put(user_id, fix)
            return
        super().forget(user_id)

    def get(self, user_id: int, *, now: datetime) -> Fix | None:
        try:
            raw = self._redis().get(KEY.format(user_id))
        except Exception:
            log.warning("redis unavailable: reading this process's fixes", exc_info=True)
            return super().get(user_id, now=now)
        if raw is None:
            return super().get(user_id, now=now)
        lat, lon, accuracy, recorded, received = json.loads(raw)
        fix = Fix(
            lat, lon, accuracy, datetime.fromisoformat(recorded), datetime.fromisoformat(received)
        )
        if now - fix.received_at > self.ttl:
            return None
        return fix

    def forget(self, user_id: int) -> None:
        super().forget(user_id)
        try:
            self._redis().delete(KEY.format(user_id))
        except Exception:
            log.warning("redis unavailable: could not forget a shared fix", exc_info=True)
