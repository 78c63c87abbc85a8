"""Waking alert streams when a user's inbox changes.

The inbox in the database is the source of truth: an event only says "look again",
so a lost event costs a short delay, never an alert. In one process, waiters are
woken directly; with ``KITH_REDIS_URL`` set, events also go through Redis pub/sub
so every server process wakes its own streams.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

log = logging.getLogger(__name__)
CHANNEL = "kith:inbox"


class InboxEvents:
    def __init__(self, redis_url: str | None = None) -> None:
        self._waiters: dict[int, set[tuple[asyncio.AbstractEventLoop, asyncio.Event]]] = (
            defaultdict(set)
        )
        self._lock = threading.Lock()
        self._redis_url = redis_url
        self._redis: Any = None
        self._listener: asyncio.Task[None] | None = None

    # --- publishing (from request threads, after the commit) ---------------------------

    def publish(self, user_ids: Iterable[int]) -> None:
        ids = sorted(set(user_ids))
        if not ids:
            return
        if self._redis_url:
            try:
                self._sync_redis().publish(CHANNEL, ",".join(map(str, ids)))
                return  # our own listener wakes local waiters too
            except Exception:  # Redis down: still wake this process's streams
                log.warning("redis publish failed; waking local streams only", exc_info=True)
        self.wake_local(ids)

    def wake_local(self, user_ids: Iterable[int]) -> None:
        with self._lock:
            targets = [w for uid in user_ids for w in self._waiters.get(uid, ())]
        for loop, event in targets:
            with contextlib.suppress(RuntimeError):  # loop already closed
                loop.call_soon_threadsafe(event.set)

    def wake_all_local(self) -> None:
        with self._lock:
            ids = list(self._waiters)
        self.wake_local(ids)

    # --- waiting (in the streaming endpoint) -------------------------------------------

    def subscribe(self, user_id: int) -> asyncio.Event:
        event = asyncio.Event()
        with self._lock:
            self._waiters[user_id].add((asyncio.get_running_loop(), event))
        return event

    def unsubscribe(self, user_id: int, event: asyncio.Event) -> None:
        with self._lock:
            waiters = self._waiters.get(user_id)
            if waiters is None:
                return
            waiters.difference_update({w for w in waiters if w[1] is event})
            if not waiters:
                del self._waiters[user_id]

    # --- Redis fan-in ------------------------------------------------------------------

    def _sync_redis(self) -> Any:
        if self._redis is None:
            import redis

            self._redis = redis.Redis.from_url(self._redis_url or "", socket_timeout=2)
        return self._redis

    async def start(self) -> None:
        if self._redis_url and self._listener is None:
            self._listener = asyncio.create_task(self._listen())

    async def stop(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._listener
            self._listener = None

    async def _listen(self) -> None:
        import redis.asyncio as aioredis

        while True:
            try:
                client = aioredis.Redis.from_url(self._redis_url or "")
                async with client.pubsub() as pubsub:
                    await pubsub.subscribe(CHANNEL)
                    # Whatever was published while we were not subscribed is unknown:
                    # every local stream looks at its inbox once.
                    self.wake_all_local()
                    async for message in pubsub.listen():
                        if message.get("type") != "message":
                            continue
                        data = message["data"]
                        text = data.decode() if isinstance(data, bytes) else str(data)
                        self.wake_local(int(x) for x in text.split(",") if x.isdigit())
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("redis subscription lost; retrying", exc_info=True)
                await asyncio.sleep(1.0)
