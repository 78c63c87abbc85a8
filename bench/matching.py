"""Matching benchmark: kith's friend-graph matcher against PostGIS and Redis, same run.

Usage:  .venv/bin/python bench/matching.py [--quick] [--users N] [--updates N] [--no-e2e]

What is measured, on the same update stream for every design:

* **kith**: :class:`kith.presence.replay.AlertEngine`, the in-memory mirror of
  ``kith.presence.matcher.run_matching``: per update it stores the cell (H3, the finest
  granted precision, at most block), walks the updater's friend list (compressed numpy
  rows), builds both sides' ``Party`` from the cells each grants the other (``geo.coarsen``),
  calls the pure ``match_intents`` and ``check_nearby``, and applies the pure alert policy
  (dedupe, budget, cooldown, hysteresis). Not included: the SQL the server runs around it
  (friend links, grant books, presences, intents and pair states are read per update by the
  server; here they are in memory) and the HTTP layer; the end-to-end section measures those.
* **PostGIS**: one round trip per update: the position upsert plus
  ``ST_DWithin(geography)`` joined to a friendships table (GiST index on positions, primary
  key on friendships), radius = the larger of the updater's live intent radii and the
  "friend nearby" distance; the app then checks grants, intents and hang-out flags (held in
  memory, like kith's) on the friends returned, using exact distances.
* **Redis**: one pipelined round trip per update: ``GEOADD`` plus ``GEOSEARCH ... WITHDIST``
  over everyone, filtered to the updater's friends in the app, then the same checks.

Both peers are friends-filtered and see the same positions (exact points; kith sees cells).
"agreement" compares the (update, friend) pairs each design found matching before any
alert policy: kith matches on granted cells by design, so it differs near cell edges.

The synthetic population: users in 30 cities with Zipf sizes and Clark's negative
exponential urban density (1,000 users/km^2 at the centre); lognormal friend counts
(mean about 100, Chung-Lu wiring, 85 % within the city), 8 % of friendships close;
grant profiles mixed; 10 % of users hold a live intent, 20 % are open to hang out; the
stream is 85 % location moves (about 300 m) and 15 % new intents. The peers' friendships
table holds only the friend lists of users who update (the rows their queries read).

End-to-end: a real ``kith serve`` on a temporary SQLite (or PostgreSQL) database, 200
concurrent clients over loopback: alert delivery latency (from sending the PUT that
creates a match to the SSE event arriving on /api/v1/alerts/stream, both sides) and HTTP
ingest throughput of PUT /api/v1/me/location.

Progress and tables go to stderr; the last line of stdout is the JSON result.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from kith.presence.activities import VOCABULARY, compatible
from kith.presence.geo import Precision
from kith.presence.matching import NEARBY_ENTER_M, IntentView, windows_overlap
from kith.presence.replay import (
    CLOSE_AUDIENCE,
    OTHERS_AUDIENCE,
    AlertEngine,
    FriendIndex,
    Protocol,
    Sharing,
    close_friends,
    find_meetups,
    friend_index,
    load_gowalla,
    replay_updates,
)

REPO = Path(__file__).resolve().parents[1]
GOWALLA = Path(
    os.environ.get("KITH_GOWALLA_DIR", str(REPO / ".." / "shared" / "data" / "gowalla_nyc"))
)
PG_ADMIN = os.environ.get("KITH_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("KITH_BENCH_REDIS", "redis://127.0.0.1:6379/0")
console = Console(stderr=True)


def progress() -> Progress:
    return Progress(
        TextColumn("{task.description:<34}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
    )


# --- workloads ---------------------------------------------------------------------------


@dataclass
class Update:
    user: int
    at: datetime
    lat: float
    lon: float
    activity: str | None = None  # a new intent (from ``at`` to ``ends_at``) when set
    ends_at: datetime | None = None
    radius_m: int = 2000
    audience: int = CLOSE_AUDIENCE


@dataclass
class Workload:
    name: str
    friends: FriendIndex
    sharing: tuple[Sharing, ...]
    sharing_of: bytes
    lat: np.ndarray  # NaN: no position yet
    lon: np.ndarray
    start: datetime
    intents: list[tuple[int, str, datetime, datetime, int, int]]
    open: np.ndarray
    updates: list[Update]
    presence_ttl: timedelta | None = None
    describe: dict[str, Any] = field(default_factory=dict)


# Real places for the cities; sizes follow Zipf's law for city sizes.
CITIES = (
    (40.7484, -73.9857),
    (34.0522, -118.2437),
    (41.8781, -87.6298),
    (51.5074, -0.1278),
    (48.8566, 2.3522),
    (52.5200, 13.4050),
    (40.4168, -3.7038),
    (41.9028, 12.4964),
    (35.6762, 139.6503),
    (37.5665, 126.9780),
    (19.4326, -99.1332),
    (-23.5505, -46.6333),
    (-34.6037, -58.3816),
    (28.6139, 77.2090),
    (19.0760, 72.8777),
    (1.3521, 103.8198),
    (-33.8688, 151.2093),
    (43.6532, -79.3832),
    (37.7749, -122.4194),
    (47.6062, -122.3321),
    (38.7223, -9.1393),
    (52.3676, 4.9041),
    (59.3293, 18.0686),
    (55.7558, 37.6173),
    (30.0444, 31.2357),
    (-1.2921, 36.8219),
    (6.5244, 3.3792),
    (41.0082, 28.9784),
    (25.2048, 55.2708),
    (13.7563, 100.5018),
)
CENTRE_DENSITY_PER_KM2 = 1_000.0  # kith users at a city centre (a few % of residents)
MEAN_FRIENDS = 100.0
SAME_CITY = 0.85
CLOSE_SHARE = 0.08
GRANT_PROFILES = (  # (share, close, everyone else)
    (0.5, Sharing(Precision.NEIGHBOURHOOD, Precision.OFF)),
    (0.2, Sharing(Precision.BLOCK, Precision.CITY)),
    (0.2, Sharing(Precision.NEIGHBOURHOOD, Precision.CITY)),
    (0.1, Sharing(Precision.CITY, Precision.OFF)),
)
ACTIVITY_WEIGHTS = np.array([8, 6, 6, 5, 3, 3, 1, 1, 2, 4], dtype=float)  # VOCABULARY order
RADII = np.array([1000, 2000, 2000, 5000])
KM_PER_DEG = 111.32


def synthetic(users: int, updates: int, seed: int) -> Workload:
    rng = np.random.default_rng(seed)
    start = datetime(2026, 5, 16, 11, 0, tzinfo=UTC)
    with progress() as bar:
        task = bar.add_task("synthetic population", total=5)
        # Cities and positions: Zipf sizes, Clark's exponential density around each centre.
        sizes = 1.0 / np.arange(1, len(CITIES) + 1)
        city = np.sort(rng.choice(len(CITIES), size=users, p=sizes / sizes.sum()))
        counts = np.bincount(city, minlength=len(CITIES))
        scale_km = np.sqrt(counts / (2 * math.pi * CENTRE_DENSITY_PER_KM2))
        r = rng.gamma(2.0, scale_km[city])  # radial law of a 2-D exponential density
        theta = rng.uniform(0, 2 * math.pi, users)
        centre = np.array(CITIES)
        lat = centre[city, 0] + r * np.sin(theta) / KM_PER_DEG
        lon = centre[city, 1] + r * np.cos(theta) / (
            KM_PER_DEG * np.cos(np.radians(centre[city, 0]))
        )
        bar.advance(task)

        # Friendships: Chung-Lu with lognormal weights (skewed degrees, mean ~100).
        weight = np.minimum(rng.lognormal(math.log(MEAN_FRIENDS) - 0.5, 1.0, users), 5000.0)
        cum = np.cumsum(weight)
        city_lo = np.concatenate([[0.0], cum[np.cumsum(counts)[:-1] - 1]])
        city_hi = cum[np.cumsum(counts) - 1]
        edges = int(users * MEAN_FRIENDS / 2 * 1.04)  # a few are lost to duplicates
        src = np.searchsorted(cum, rng.uniform(0, cum[-1], edges), side="right")
        src = np.minimum(src, users - 1)
        local = rng.uniform(size=edges) < SAME_CITY
        c = city[src]
        draw = np.where(
            local,
            city_lo[c] + rng.uniform(size=edges) * (city_hi[c] - city_lo[c]),
            rng.uniform(0, cum[-1], edges),
        )
        dst = np.minimum(np.searchsorted(cum, draw, side="right"), users - 1)
        del draw, local, c
        keep = src != dst
        a, b = np.minimum(src[keep], dst[keep]), np.maximum(src[keep], dst[keep])
        key = np.unique(a.astype(np.int64) * users + b)
        del src, dst, a, b, keep
        bar.advance(task)
        a, b = (key // users).astype(np.int32), (key % users).astype(np.int32)
        close_pair = rng.uniform(size=key.shape[0]) < CLOSE_SHARE
        del key
        source = np.concatenate([a, b])
        target = np.concatenate([b, a])
        held = np.concatenate([close_pair, close_pair])
        del a, b, close_pair
        order = np.argsort(source, kind="stable")
        indices, close = target[order], held[order]
        degree = np.bincount(source, minlength=users)
        del source, target, held, order
        indptr = np.zeros(users + 1, dtype=np.int64)
        np.cumsum(degree, out=indptr[1:])
        friends = FriendIndex(indptr, indices, close, close)  # close is mutual here
        bar.advance(task)

        shares = np.array([s for s, _ in GRANT_PROFILES])
        sharing_of = rng.choice(len(GRANT_PROFILES), size=users, p=shares).astype(np.uint8)
        open_ = rng.uniform(size=users) < 0.2
        activities = rng.choice(
            len(VOCABULARY), size=users, p=ACTIVITY_WEIGHTS / ACTIVITY_WEIGHTS.sum()
        )
        intents = []
        for u in np.flatnonzero(rng.uniform(size=users) < 0.10).tolist():
            begun = start - timedelta(minutes=int(rng.integers(0, 60)))
            intents.append(
                (
                    u,
                    VOCABULARY[int(activities[u])],
                    begun,
                    begun + timedelta(hours=2),
                    int(rng.choice(RADII)),
                    CLOSE_AUDIENCE if rng.uniform() < 0.7 else CLOSE_AUDIENCE | OTHERS_AUDIENCE,
                )
            )
        bar.advance(task)

        stream: list[Update] = []
        who = rng.integers(0, users, updates)
        is_intent = rng.uniform(size=updates) < 0.15
        step = rng.normal(0, 0.3, (updates, 2)) / KM_PER_DEG  # ~300 m moves
        cur_lat, cur_lon = lat.copy(), lon.copy()
        span = timedelta(minutes=10)
        for i in range(updates):
            u = int(who[i])
            at = start + span * (i / updates)
            cur_lat[u] += step[i, 0]
            cur_lon[u] += step[i, 1] / math.cos(math.radians(cur_lat[u]))
            upd = Update(u, at, float(cur_lat[u]), float(cur_lon[u]))
            if is_intent[i]:
                upd.activity = VOCABULARY[
                    int(rng.choice(len(VOCABULARY), p=ACTIVITY_WEIGHTS / ACTIVITY_WEIGHTS.sum()))
                ]
                upd.ends_at = at + timedelta(hours=2)
                upd.radius_m = int(rng.choice(RADII))
                upd.audience = (
                    CLOSE_AUDIENCE if rng.uniform() < 0.7 else CLOSE_AUDIENCE | OTHERS_AUDIENCE
                )
            stream.append(upd)
        bar.advance(task)
    deg = np.diff(indptr)
    return Workload(
        name="synthetic",
        friends=friends,
        sharing=tuple(s for _, s in GRANT_PROFILES),
        sharing_of=sharing_of.tobytes(),
        lat=lat,
        lon=lon,
        start=start,
        intents=intents,
        open=open_,
        updates=stream,
        describe={
            "users": users,
            "friendships": int(indptr[-1] // 2),
            "friends_mean": round(float(deg.mean()), 1),
            "friends_median": int(np.median(deg)),
            "friends_p99": int(np.percentile(deg, 99)),
            "friends_max": int(deg.max()),
            "cities": len(CITIES),
            "largest_city_users": int(counts.max()),
            "centre_density_per_km2": CENTRE_DENSITY_PER_KM2,
            "live_intents": len(intents),
            "open_to_hang_out": int(open_.sum()),
            "updates": updates,
            "intent_updates": int(is_intent.sum()),
        },
    )


def gowalla(limit: int | None) -> Workload | None:
    if not (GOWALLA / "checkins.parquet").is_file():
        console.print(f"[yellow]Gowalla data not found at {GOWALLA}: skipping that replay[/yellow]")
        return None
    protocol = Protocol()
    data = load_gowalla(
        GOWALLA / "checkins.parquet", GOWALLA / "friendships.parquet", GOWALLA / "venues.parquet"
    )
    meetups = find_meetups(
        data.checkins,
        data.friendships,
        window=protocol.meetup_window,
        distance_m=protocol.meetup_distance_m,
        episode_gap=protocol.episode_gap,
    )
    history = [m for m in meetups if protocol.split is None or m.at < protocol.split]
    close = close_friends(history, data.friendships, top=protocol.close_top)
    updates = replay_updates(data, protocol, since=protocol.split)
    if limit is not None:
        updates = updates[:limit]
    n = len(data.user_ids)
    stream = [
        Update(u.user, u.at, u.lat, u.lon, u.activity, u.ends_at, protocol.radius_m)
        for u in updates
    ]
    nan = np.full(n, np.nan)
    return Workload(
        name="gowalla_nyc",
        friends=friend_index(n, data.friendships, close),
        sharing=(protocol.sharing,),
        sharing_of=bytes(n),
        lat=nan,
        lon=nan.copy(),
        start=stream[0].at,
        intents=[],
        open=np.zeros(n, dtype=bool),
        updates=stream,
        presence_ttl=protocol.presence_ttl,
        describe={
            "users": n,
            "friendships": len(data.friendships),
            "close_links": len(close),
            "updates": len(stream),
            "intent_updates": sum(1 for u in stream if u.activity),
            "protocol": "kith replay gowalla defaults (docs/presence-benchmark.md)",
        },
    )


# --- the designs -------------------------------------------------------------------------


class Design:
    name = ""

    def apply(self, update: Update) -> set[int]:
        """Apply one update; the friends it matches (before any alert policy)."""
        raise NotImplementedError

    def close(self) -> None:
        pass


class Kith(Design):
    name = "kith"

    def __init__(self, w: Workload) -> None:
        self.engine = AlertEngine(
            w.friends,
            sharing=w.sharing,
            sharing_of=w.sharing_of,
            presence_ttl=w.presence_ttl,
            record_matches=True,
        )
        with progress() as bar:
            task = bar.add_task("kith: load cells", total=len(w.lat))
            for u in range(len(w.lat)):
                if not math.isnan(w.lat[u]):
                    self.engine.place(u, float(w.lat[u]), float(w.lon[u]), w.start)
                if u % 10_000 == 0:
                    bar.update(task, completed=u)
            bar.update(task, completed=len(w.lat))
        for user, activity, s, e, radius, audience in w.intents:
            self.engine.add_intent(user, activity, s, e, radius, audience=audience, now=w.start)
        for u in np.flatnonzero(w.open).tolist():
            self.engine.set_open(u, True)

    def apply(self, update: Update) -> set[int]:
        e = self.engine
        assert e.matched is not None
        e.matched.clear()
        if update.activity is None or update.ends_at is None:
            e.update_location(update.user, update.lat, update.lon, update.at)
        else:
            e.place(update.user, update.lat, update.lon, update.at)
            e.add_intent(
                update.user,
                update.activity,
                update.at,
                update.ends_at,
                update.radius_m,
                audience=update.audience,
                now=update.at,
            )
            e.match(update.user, update.at)
        return {f for _, f in e.matched}


class AppSide:
    """What a peer design keeps in its app: intents, hang-out flags, grants, friend lists;
    and the checks it runs on the friends its spatial query returns (exact distances)."""

    def __init__(self, w: Workload) -> None:
        self.w = w
        self.intents: dict[int, list[tuple[IntentView, int]]] = {}
        for i, (user, activity, s, e, radius, audience) in enumerate(w.intents):
            self.intents.setdefault(user, []).append(
                (IntentView(i, activity, s, e, radius), audience)
            )
        self.next_id = len(w.intents)

    def note(self, update: Update) -> None:
        if update.activity is not None and update.ends_at is not None:
            live = [(v, a) for v, a in self.intents.get(update.user, ()) if v.ends_at > update.at]
            live.append(
                (
                    IntentView(
                        self.next_id, update.activity, update.at, update.ends_at, update.radius_m
                    ),
                    update.audience,
                )
            )
            self.next_id += 1
            self.intents[update.user] = live

    def radius(self, update: Update) -> float:
        radii = [v.radius_m for v, _ in self.intents.get(update.user, ()) if v.ends_at > update.at]
        return float(max([NEARBY_ENTER_M, *radii]))

    def links(self, user: int) -> dict[int, tuple[bool, bool]]:
        friends, mine, theirs = self.w.friends.links(user)
        return dict(zip(friends, zip(mine, theirs, strict=True), strict=True))

    def matches(
        self,
        update: Update,
        found: Sequence[tuple[int, float]],
        links: dict[int, tuple[bool, bool]],
    ) -> set[int]:
        u, now, w = update.user, update.at, self.w
        out = set()
        for f, distance in found:
            if f == u or f not in links:
                continue
            mine, theirs = links[f]
            if w.sharing[w.sharing_of[u]].for_friend(close=mine) is Precision.OFF:
                continue
            if w.sharing[w.sharing_of[f]].for_friend(close=theirs) is Precision.OFF:
                continue
            if mine and theirs and w.open[u] and w.open[f] and distance <= NEARBY_ENTER_M:
                out.add(f)
                continue
            seen_by_f = CLOSE_AUDIENCE if mine else OTHERS_AUDIENCE
            seen_by_u = CLOSE_AUDIENCE if theirs else OTHERS_AUDIENCE
            for a, aud_a in self.intents.get(u, ()):
                if not aud_a & seen_by_f or a.ends_at <= now:
                    continue
                for b, aud_b in self.intents.get(f, ()):
                    if (
                        aud_b & seen_by_u
                        and compatible(a.activity, b.activity)
                        and windows_overlap(a, b, now) is not None
                        and distance <= min(a.radius_m, b.radius_m)
                    ):
                        out.add(f)
        return out


class Redis(Design):
    name = "redis"

    def __init__(self, w: Workload) -> None:
        import redis

        self.client = redis.Redis.from_url(REDIS_URL)
        self.client.ping()
        self.key = f"kithbench:{uuid.uuid4().hex[:8]}:geo"
        self.app = AppSide(w)
        placed = np.flatnonzero(~np.isnan(w.lat))
        with progress() as bar:
            task = bar.add_task("redis: GEOADD positions", total=len(placed))
            for lo in range(0, len(placed), 20_000):
                chunk = placed[lo : lo + 20_000]
                flat: list[Any] = []
                for u in chunk.tolist():
                    flat += [float(w.lon[u]), float(w.lat[u]), u]
                self.client.geoadd(self.key, flat)
                bar.advance(task, len(chunk))

    def apply(self, update: Update) -> set[int]:
        self.app.note(update)
        pipe = self.client.pipeline(transaction=False)
        pipe.geoadd(self.key, [update.lon, update.lat, update.user])
        pipe.geosearch(
            self.key,
            longitude=update.lon,
            latitude=update.lat,
            radius=self.app.radius(update),
            unit="m",
            withdist=True,
        )
        _, found = pipe.execute()
        links = self.app.links(update.user)
        # The friend filter, as the app would do it: everyone in the radius came back.
        return self.app.matches(update, [(int(m), d) for m, d in found if int(m) in links], links)

    def close(self) -> None:
        self.client.delete(self.key)
        self.client.close()


def ensure_postgis(admin: Any) -> str | None:
    """None when PostGIS is available, else why not (installing it when we are root)."""
    row = admin.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'").fetchone()
    if row:
        return None
    if os.geteuid() != 0:
        return "PostGIS is not installed (run as root to let the benchmark apt-get it)"
    console.print("[yellow]PostGIS missing: apt-get install -y postgresql-15-postgis-3[/yellow]")
    done = subprocess.run(
        ["apt-get", "install", "-y", "-q", "postgresql-15-postgis-3"],
        capture_output=True,
        text=True,
        env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
    )
    if done.returncode != 0:
        return f"apt-get install postgresql-15-postgis-3 failed: {done.stderr.strip()[-300:]}"
    row = admin.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'").fetchone()
    return None if row else "PostGIS still unavailable after installing"


POSTGIS_QUERY = """
WITH here AS (SELECT ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)::geography AS g),
moved AS (
    INSERT INTO positions (user_id, geog) SELECT %(user)s, g FROM here
    ON CONFLICT (user_id) DO UPDATE SET geog = EXCLUDED.geog
)
SELECT p.user_id, ST_Distance(p.geog, here.g)
FROM friendships f JOIN positions p ON p.user_id = f.friend_id, here
WHERE f.user_id = %(user)s AND ST_DWithin(p.geog, here.g, %(radius)s)
"""


class PostGIS(Design):
    name = "postgis"

    def __init__(self, w: Workload, updaters: Sequence[int]) -> None:
        import psycopg

        self.admin_url = PG_ADMIN
        with psycopg.connect(self.admin_url, autocommit=True) as admin:
            reason = ensure_postgis(admin)
            if reason:
                raise RuntimeError(reason)
            self.db = f"kith_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
            admin.execute(f'CREATE DATABASE "{self.db}"')
        base = PG_ADMIN.rsplit("/", 1)[0]
        self.conn = psycopg.connect(f"{base}/{self.db}", autocommit=True)
        c = self.conn
        c.execute("CREATE EXTENSION postgis")
        c.execute(
            "CREATE TABLE positions (user_id int PRIMARY KEY, geog geography(Point, 4326) NOT NULL)"
        )
        c.execute(
            "CREATE TABLE friendships"
            " (user_id int, friend_id int, PRIMARY KEY (user_id, friend_id))"
        )
        self.app = AppSide(w)
        placed = np.flatnonzero(~np.isnan(w.lat)).tolist()
        self.placed = set(placed)
        self.analyzed_at = len(placed)
        with progress() as bar:
            task = bar.add_task("postgis: COPY positions", total=len(placed))
            with c.cursor() as cur, cur.copy("COPY positions (user_id, geog) FROM STDIN") as copy:
                for i, u in enumerate(placed):
                    copy.write_row((u, f"SRID=4326;POINT({w.lon[u]:.7f} {w.lat[u]:.7f})"))
                    if i % 20_000 == 0:
                        bar.update(task, completed=i)
            bar.update(task, completed=len(placed))
            users = sorted(set(updaters))
            task = bar.add_task("postgis: COPY friendships", total=len(users))
            with (
                c.cursor() as cur,
                cur.copy("COPY friendships (user_id, friend_id) FROM STDIN") as copy,
            ):
                for i, u in enumerate(users):
                    lo, hi = int(w.friends.indptr[u]), int(w.friends.indptr[u + 1])
                    for f in w.friends.indices[lo:hi].tolist():
                        copy.write_row((u, f))
                    if i % 2000 == 0:
                        bar.update(task, completed=i)
            bar.update(task, completed=len(users))
        with console.status("postgis: GiST index, ANALYZE"):
            c.execute("CREATE INDEX positions_geog ON positions USING gist (geog)")
            c.execute("ANALYZE")
        self.plan = "\n".join(
            r[0]
            for r in c.execute(
                "EXPLAIN " + POSTGIS_QUERY,
                {
                    "lon": -73.98,
                    "lat": 40.75,
                    "user": updaters[0] if updaters else 0,
                    "radius": 2000,
                },
            ).fetchall()
        )

    def apply(self, update: Update) -> set[int]:
        self.app.note(update)
        if update.user not in self.placed:
            # Autovacuum's job, done on time: when the table has grown by half, refresh the
            # planner's statistics (an empty table at ANALYZE time means sequential scans).
            self.placed.add(update.user)
            if len(self.placed) >= max(50, 1.5 * self.analyzed_at):
                self.conn.execute("ANALYZE positions")
                self.analyzed_at = len(self.placed)
        found = self.conn.execute(
            POSTGIS_QUERY,
            {
                "lon": update.lon,
                "lat": update.lat,
                "user": update.user,
                "radius": self.app.radius(update),
            },
            prepare=True,
        ).fetchall()
        return self.app.matches(update, found, self.app.links(update.user))

    def close(self) -> None:
        import psycopg

        self.conn.close()
        with psycopg.connect(self.admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{self.db}" WITH (FORCE)')


# --- measuring ---------------------------------------------------------------------------


def summarise(latencies_ns: np.ndarray, total_s: float) -> dict[str, float]:
    return {
        "updates_per_s": round(len(latencies_ns) / total_s, 1),
        "p50_ms": round(float(np.percentile(latencies_ns, 50)) / 1e6, 4),
        "p99_ms": round(float(np.percentile(latencies_ns, 99)) / 1e6, 4),
        "mean_ms": round(float(latencies_ns.mean()) / 1e6, 4),
    }


def run(design: Design, updates: Sequence[Update]) -> tuple[dict[str, float], list[set[int]]]:
    latencies = np.empty(len(updates), dtype=np.int64)
    found: list[set[int]] = []
    clock = time.perf_counter_ns
    with progress() as bar:
        task = bar.add_task(f"{design.name}: replay updates", total=len(updates))
        began = clock()
        for i, update in enumerate(updates):
            t0 = clock()
            found.append(design.apply(update))
            latencies[i] = clock() - t0
            if i % 500 == 0:
                bar.update(task, completed=i)
        total = (clock() - began) / 1e9
        bar.update(task, completed=len(updates))
    return summarise(latencies, total), found


def agreement(a: list[set[int]], b: list[set[int]]) -> dict[str, float | int]:
    pa = {(i, f) for i, s in enumerate(a) for f in s}
    pb = {(i, f) for i, s in enumerate(b) for f in s}
    union = pa | pb
    return {
        "kith_matches": len(pa),
        "peer_matches": len(pb),
        "both": len(pa & pb),
        "jaccard": round(len(pa & pb) / len(union), 4) if union else 1.0,
    }


def bench_workload(w: Workload, *, skip: set[str]) -> dict[str, Any]:
    console.rule(f"[bold]{w.name}[/bold]: {w.describe}")
    result: dict[str, Any] = {"workload": w.describe}
    kith = Kith(w)
    result["kith"], kith_found = run(kith, w.updates)
    peers: list[tuple[str, Callable[[], Design]]] = [
        ("postgis", lambda: PostGIS(w, [u.user for u in w.updates])),
        ("redis", lambda: Redis(w)),
    ]
    for name, build in peers:
        if name in skip:
            result[name] = {"skipped": "--no-" + name}
            continue
        try:
            design = build()
        except Exception as exc:  # a missing server or extension skips that peer only
            console.print(f"[yellow]{name} skipped: {exc}[/yellow]")
            result[name] = {"skipped": str(exc)}
            continue
        try:
            result[name], found = run(design, w.updates)
            result[name]["agreement_with_kith"] = agreement(kith_found, found)
            if isinstance(design, PostGIS):
                result[name]["plan"] = design.plan
        finally:
            design.close()
    ratios: dict[str, float] = {}
    peer_rates = {}
    for name in ("postgis", "redis"):
        rate = result[name].get("updates_per_s")
        if rate:
            ratios[f"vs_{name}"] = round(result["kith"]["updates_per_s"] / rate, 2)
            peer_rates[name] = rate
    if peer_rates:
        fastest = max(peer_rates, key=lambda k: peer_rates[k])
        ratios["vs_faster_peer"] = ratios[f"vs_{fastest}"]
        ratios["faster_peer"] = fastest  # type: ignore[assignment]
    result["ratios"] = ratios
    table = Table(title=f"{w.name}: {len(w.updates)} updates")
    for col in ("design", "updates/s", "p50 ms", "p99 ms", "agreement (jaccard)"):
        table.add_column(col, justify="right")
    for name in ("kith", "postgis", "redis"):
        r = result[name]
        if "skipped" in r:
            table.add_row(name, "skipped", "", "", r["skipped"][:40])
            continue
        agree = r.get("agreement_with_kith", {}).get("jaccard", "")
        table.add_row(
            name,
            f"{r['updates_per_s']:,.0f}",
            f"{r['p50_ms']:.3f}",
            f"{r['p99_ms']:.3f}",
            str(agree),
        )
    console.print(table)
    console.print(f"ratios: {ratios}")
    return result


# --- end to end --------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """CPU time of a process and its children (uvicorn's workers), from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(stat.parent.name) == pid or int(fields[1]) == pid:
                total += (int(fields[11]) + int(fields[12])) / tick
    return total


@contextlib.contextmanager
def kith_server(database: str, workers: int = 1) -> Iterator[tuple[str, str, int]]:
    """A real ``kith serve`` subprocess on a fresh database; yields (base url, db url, pid)."""
    import psycopg

    tmp = Path(tempfile.mkdtemp(prefix="kith-bench-"))
    pg_name = None
    if database == "postgres":
        pg_name = f"kith_bench_e2e_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{pg_name}"')
        url = (
            PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
            + f"/{pg_name}"
        )
    else:
        url = f"sqlite:///{tmp / 'kith.db'}"
    port = free_port()
    env = {
        **os.environ,
        "KITH_DATABASE_URL": url,
        "KITH_PASSWORD_HASHING": "fast",  # sign-up speed is not what is measured here
        "KITH_ENV": "development",
    }
    env.pop("KITH_REDIS_URL", None)
    if workers > 1:  # several processes share live alerts through Redis, as in production
        env["KITH_REDIS_URL"] = REDIS_URL
    kith = Path(sys.executable).with_name("kith")
    log = (tmp / "server.log").open("w")
    proc = subprocess.Popen(
        [str(kith), "serve", "--port", str(port), "--workers", str(workers)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    console.print(f"kith serve pid {proc.pid} on {base} ({url})")
    try:
        import httpx

        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"kith serve exited: {(tmp / 'server.log').read_text()[-800:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base}/api/v1/health", timeout=1).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("kith serve did not start within 90 s")
            time.sleep(0.3)
        try:
            yield base, url, proc.pid
        except Exception:
            log.flush()
            kept = Path(tempfile.gettempdir()) / f"kith-bench-server-{os.getpid()}.log"
            kept.write_text((tmp / "server.log").read_text())
            console.print(f"[red]the server failed; its log is kept at {kept}[/red]")
            raise
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        log.close()
        if pg_name:
            with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
        for p in sorted(tmp.rglob("*"), reverse=True):
            p.unlink() if p.is_file() else p.rmdir()
        tmp.rmdir()


RING_CENTRE = (40.75, -73.98)
SPOT_SPACING_KM = 5.0


def spot(k: int, n: int) -> tuple[float, float]:
    """Spots on a ring, ``SPOT_SPACING_KM`` apart: one hop per round stays plausible."""
    radius_km = SPOT_SPACING_KM * n / (2 * math.pi)
    angle = 2 * math.pi * (k % n) / n
    lat = RING_CENTRE[0] + radius_km * math.sin(angle) / KM_PER_DEG
    lon = RING_CENTRE[1] + radius_km * math.cos(angle) / (
        KM_PER_DEG * math.cos(math.radians(RING_CENTRE[0]))
    )
    return lat, lon


def pct(values: Sequence[float], q: float) -> float | None:
    return round(float(np.percentile(np.array(values), q)), 2) if values else None


async def e2e_async(
    base: str,
    clients: int,
    rounds: int,
    ingest_each: int,
    paces: Sequence[float],
    background: float = 0.0,
    server_pid: int | None = None,
) -> dict[str, Any]:
    import httpx

    half = clients // 2
    # Idle connections are dropped before uvicorn's 5 s keep-alive timeout closes them, so
    # a request never goes out on a connection the server is closing.
    limits = httpx.Limits(
        max_connections=clients * 2 + 50,
        max_keepalive_connections=clients * 2 + 50,
        keepalive_expiry=2.0,
    )
    timeout = httpx.Timeout(60.0, read=None)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=timeout) as http:
        gate = asyncio.Semaphore(8)  # setup is not measured: keep it gentle

        async def call(
            method: str, path: str, token: str | None = None, **kw: Any
        ) -> httpx.Response:
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            async with gate:
                r = await http.request(method, path, headers=headers, **kw)
            if r.status_code >= 400:
                raise RuntimeError(f"{method} {path}: {r.status_code} {r.text[:200]}")
            return r

        tokens: list[str] = [""] * clients
        names = [f"bench{i:03d}" for i in range(clients)]
        with progress() as bar:
            task = bar.add_task("e2e: sign up users", total=clients)

            async def sign_up(i: int) -> None:
                body = {
                    "username": names[i],
                    "password": "bench password 1",
                    "display_name": names[i],
                }
                await call("POST", "/api/v1/accounts", json=body)
                r = await call(
                    "POST",
                    "/api/v1/sessions",
                    json={"username": names[i], "password": body["password"]},
                )
                tokens[i] = r.json()["token"]
                bar.advance(task)

            await asyncio.gather(*(sign_up(i) for i in range(clients)))
            # A_k (k < half) meets B_j (j = k - r) in round r: one close friendship per round.
            total_rounds = rounds * len(paces)
            pairs = [(k, half + (k - r) % half) for r in range(total_rounds) for k in range(half)]
            task = bar.add_task("e2e: close friendships", total=len(pairs))

            async def befriend(a: int, b: int) -> None:
                r = await call(
                    "POST", "/api/v1/friend-requests", tokens[a], json={"username": names[b]}
                )
                await call("POST", f"/api/v1/friend-requests/{r.json()['id']}/accept", tokens[b])
                await call(
                    "PUT", f"/api/v1/friends/{names[b]}/circle", tokens[a], json={"circle": "close"}
                )
                await call(
                    "PUT", f"/api/v1/friends/{names[a]}/circle", tokens[b], json={"circle": "close"}
                )
                bar.advance(task)

            await asyncio.gather(*(befriend(a, b) for a, b in pairs))
            t0 = datetime.now(UTC) - timedelta(minutes=60)
            task = bar.add_task("e2e: grants, settings, places", total=clients)

            async def prepare(i: int) -> None:
                await call(
                    "PUT",
                    "/api/v1/sharing/circles/close",
                    tokens[i],
                    json={"precision": "neighbourhood"},
                )
                await call("PUT", "/api/v1/me/alert-settings", tokens[i], json={"daily_budget": 50})
                where = spot(i, half) if i < half else spot(i - half - 1, half)  # B_j one hop early
                lat, lon = where
                await call(
                    "PUT",
                    "/api/v1/me/location",
                    tokens[i],
                    json={"lat": lat, "lon": lon, "recorded_at": t0.isoformat()},
                )
                bar.advance(task)

            await asyncio.gather(*(prepare(i) for i in range(clients)))

        # Every client holds an alert stream open for the whole measurement.
        arrivals: dict[tuple[int, str], float] = {}
        connected = 0
        all_connected = asyncio.Event()

        async def listen(i: int) -> None:
            nonlocal connected
            headers = {"Authorization": f"Bearer {tokens[i]}"}
            url = "/api/v1/alerts/stream?max_seconds=600"
            with contextlib.suppress(httpx.HTTPError):  # the server went away: stream over
                async with http.stream("GET", url, headers=headers) as r:
                    first = True
                    async for line in r.aiter_lines():
                        if first:
                            first = False
                            connected += 1
                            if connected == clients:
                                all_connected.set()
                        if line.startswith("data: "):
                            alert = json.loads(line[6:])
                            key = (i, alert.get("activity") or "")
                            arrivals.setdefault(key, time.perf_counter())

        listeners = [asyncio.create_task(listen(i)) for i in range(clients)]
        await asyncio.wait_for(all_connected.wait(), 60)
        failed_puts: list[int] = []
        by_pace: list[dict[str, Any]] = []

        async def move(
            who: int,
            k: int,
            delay: float,
            recorded: str,
            sent: dict[int, float],
            put_ms: list[float],
        ) -> None:
            """The timed PUT: ``who`` arrives at spot ``k``, where a match waits."""
            await asyncio.sleep(delay)
            lat, lon = spot(k, half)
            headers = {"Authorization": f"Bearer {tokens[who]}"}
            sent[k] = time.perf_counter()
            try:
                resp = await http.put(
                    "/api/v1/me/location",
                    headers=headers,
                    json={"lat": lat, "lon": lon, "recorded_at": recorded},
                )
                ok = resp.status_code == 204
                put_ms.append((time.perf_counter() - sent[k]) * 1000)
            except httpx.HTTPError:
                ok = False
            if not ok:
                failed_puts.append(k)  # its alerts will be counted missing

        # Background: while alerts are measured, the clients who stay put keep reporting
        # where they are (a few metres of GPS jitter), as phones do, ``background`` PUTs a
        # second in all. They run matching too; they never alert (nobody new is near).
        background_ms: list[float] = []
        background_errors = 0
        quiet = asyncio.Event()

        async def report(i: int, n: int) -> None:
            nonlocal background_errors
            lat, lon = spot(i, half)
            body = {"lat": lat + (n % 3) * 0.00003, "lon": lon}
            headers = {"Authorization": f"Bearer {tokens[i]}"}
            t = time.perf_counter()
            try:
                r = await http.put("/api/v1/me/location", json=body, headers=headers)
                background_errors += r.status_code != 204
            except httpx.HTTPError:
                background_errors += 1
            background_ms.append((time.perf_counter() - t) * 1000)

        async def keep_reporting() -> None:
            if background <= 0:
                return
            pending: set[asyncio.Task[None]] = set()
            n = 0
            next_at = time.perf_counter()
            while not quiet.is_set():
                task = asyncio.create_task(report(n % half, n // half))
                pending.add(task)
                task.add_done_callback(pending.discard)
                n += 1
                next_at += 1.0 / background
                await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
            await asyncio.gather(*pending, return_exceptions=True)

        # Both sides share the machine: how much of a core each took during the rounds.
        rounds_began = time.perf_counter()
        client_cpu = time.process_time()
        server_cpu = cpu_seconds(server_pid) if server_pid else 0.0
        reporter = asyncio.create_task(keep_reporting())
        schedule = [pace for pace in paces for _ in range(rounds)]
        with progress() as bar:
            task = bar.add_task("e2e: alert rounds", total=len(schedule) * half)
            for r, pace in enumerate(schedule):
                activity = {k: f"bench r{r} a{k}" for k in range(half)}
                partner = {k: half + (k - r) % half for k in range(half)}

                async def post(i: int, what: str) -> None:
                    now = datetime.now(UTC)
                    await call(
                        "POST",
                        "/api/v1/intents",
                        tokens[i],
                        json={
                            "activity": what,
                            "starts_at": now.isoformat(),
                            "ends_at": (now + timedelta(hours=2)).isoformat(),
                            "radius_m": 2000,
                            "audience": ["close"],
                        },
                    )

                await asyncio.gather(
                    *(post(k, activity[k]) for k in range(half)),
                    *(post(partner[k], activity[k]) for k in range(half)),
                )
                await asyncio.sleep(1.0)  # let the intents' own work settle
                sent: dict[int, float] = {}
                put_ms: list[float] = []
                recorded = (t0 + timedelta(minutes=2 * (r + 1))).isoformat()

                await asyncio.gather(
                    *(move(partner[k], k, k / pace, recorded, sent, put_ms) for k in range(half))
                )
                bar.advance(task, half)
                deadline = time.perf_counter() + 10
                want = [(i, activity[k], k) for k in range(half) for i in (k, partner[k])]
                while time.perf_counter() < deadline and any(
                    (i, a) not in arrivals for i, a, _ in want
                ):
                    await asyncio.sleep(0.05)
                latencies = [
                    (arrivals[(i, a)] - sent[k]) * 1000 for i, a, k in want if (i, a) in arrivals
                ]
                by_pace.append(
                    {
                        "pace": pace,
                        "latencies": latencies,
                        "put_ms": put_ms,
                        "missing": len(want) - len(latencies),
                    }
                )

        quiet.set()
        await reporter
        rounds_took = time.perf_counter() - rounds_began
        cores = {
            "client": round((time.process_time() - client_cpu) / rounds_took, 2),
            "server": round((cpu_seconds(server_pid) - server_cpu) / rounds_took, 2)
            if server_pid
            else None,
        }

        # Ingest: every client sends location updates as fast as the server takes them.
        lat_ms: list[float] = []
        errors = 0
        with progress() as bar:
            task = bar.add_task("e2e: ingest PUT /me/location", total=clients * ingest_each)

            async def ingest(i: int) -> None:
                nonlocal errors
                k = i if i < half else (i - half + total_rounds - 1) % half
                lat, lon = spot(k, half)
                for n in range(ingest_each):
                    body = {"lat": lat + (n % 5) * 0.0001, "lon": lon}
                    t = time.perf_counter()
                    try:
                        r = await http.put(
                            "/api/v1/me/location",
                            json=body,
                            headers={"Authorization": f"Bearer {tokens[i]}"},
                        )
                        errors += r.status_code != 204
                    except httpx.HTTPError:
                        errors += 1
                    lat_ms.append((time.perf_counter() - t) * 1000)
                    bar.advance(task)

            began = time.perf_counter()
            await asyncio.gather(*(ingest(i) for i in range(clients)))
            took = time.perf_counter() - began
        for t in listeners:
            t.cancel()
        await asyncio.gather(*listeners, return_exceptions=True)
    curve = []
    for pace in paces:
        runs = [run for run in by_pace if run["pace"] == pace]
        latencies = [x for run in runs for x in run["latencies"]]
        curve.append(
            {
                "matching_puts_per_s": pace,
                "rounds": len(runs),
                "alerts_expected": len(runs) * clients,
                "alerts_missing": sum(run["missing"] for run in runs),
                "p50_ms": pct(latencies, 50),
                "p99_ms": pct(latencies, 99),
                "max_ms": round(max(latencies), 2) if latencies else None,
                # The triggering PUT's own response time: delivery cannot beat it by much.
                "put_p50_ms": pct([x for run in runs for x in run["put_ms"]], 50),
                "put_p99_ms": pct([x for run in runs for x in run["put_ms"]], 99),
            }
        )
    under_aim = [c["matching_puts_per_s"] for c in curve if (c["p99_ms"] or 1e9) < 100]
    return {
        "clients": clients,
        "alert_delivery": curve,
        "matching_puts_failed": len(failed_puts),
        "fastest_pace_with_p99_under_100ms": max(under_aim) if under_aim else None,
        "cores_used_during_rounds": cores,
        "background": {
            "puts_per_s": background,
            "requests": len(background_ms),
            "errors": background_errors,
            "p50_ms": pct(background_ms, 50),
            "p99_ms": pct(background_ms, 99),
        },
        "ingest": {
            "requests": len(lat_ms),
            "errors": errors,
            "updates_per_s": round(len(lat_ms) / took, 1),
            "p50_ms": pct(lat_ms, 50),
            "p99_ms": pct(lat_ms, 99),
        },
    }


def end_to_end(
    database: str,
    clients: int,
    rounds: int,
    ingest_each: int,
    paces: Sequence[float],
    workers: int = 1,
    background: float = 0.0,
) -> dict[str, Any]:
    console.rule(
        f"[bold]end to end[/bold]: kith serve ({workers} process(es)) on {database}, "
        f"{clients} clients"
    )
    with kith_server(database, workers) as (base, _url, pid):
        result = asyncio.run(
            e2e_async(base, clients, rounds, ingest_each, paces, background, server_pid=pid)
        )
    result["database"] = database
    result["workers"] = workers
    console.print(result)
    return result


# --- main --------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small population, under a minute")
    parser.add_argument(
        "--users", type=int, help="synthetic users (default 1,000,000; quick 20,000)"
    )
    parser.add_argument(
        "--updates", type=int, help="updates per workload (default 50,000; quick 3,000)"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-postgis", action="store_true")
    parser.add_argument("--no-redis", action="store_true")
    parser.add_argument("--no-gowalla", action="store_true")
    parser.add_argument("--no-e2e", action="store_true")
    parser.add_argument(
        "--e2e-only", action="store_true", help="only the end-to-end measurement (no matching)"
    )
    parser.add_argument("--e2e-rounds", type=int, help="alert rounds per pace (default 3; quick 1)")
    parser.add_argument("--e2e-db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--e2e-clients", type=int, default=200)
    parser.add_argument(
        "--e2e-workers", type=int, default=1, help="kith serve processes (>1 uses Redis)"
    )
    parser.add_argument(
        "--e2e-paces",
        type=lambda text: [float(x) for x in text.split(",")],
        default=[10.0, 25.0, 50.0, 100.0],
        help="matching PUTs per second to measure alert delivery at (comma-separated)",
    )
    parser.add_argument(
        "--e2e-background",
        type=float,
        default=20.0,
        help="location PUTs per second from clients staying put, during the alert rounds "
        "(20: the volume of 200 phones reporting every 10 s)",
    )
    args = parser.parse_args()
    users = args.users or (20_000 if args.quick else 1_000_000)
    updates = args.updates or (3_000 if args.quick else 50_000)
    skip = {name for name in ("postgis", "redis") if getattr(args, f"no_{name}")}
    began = time.perf_counter()
    result: dict[str, Any] = {"quick": args.quick}
    if not args.e2e_only:
        result["synthetic"] = bench_workload(synthetic(users, updates, args.seed), skip=skip)
    if not args.no_gowalla and not args.e2e_only:
        w = gowalla(updates)
        if w is not None:
            result["gowalla_nyc"] = bench_workload(w, skip=skip)
    if not args.no_e2e:
        rounds, ingest_each = (1, 5) if args.quick else (3, 25)
        rounds = args.e2e_rounds or rounds
        try:
            result["e2e"] = end_to_end(
                args.e2e_db,
                args.e2e_clients,
                rounds,
                ingest_each,
                paces=args.e2e_paces,
                workers=args.e2e_workers,
                background=args.e2e_background,
            )
        except Exception as exc:
            console.print_exception(max_frames=5)
            result["e2e"] = {"skipped": repr(exc)}
    result["seconds"] = round(time.perf_counter() - began, 1)
    result["not_included"] = (
        "kith matching excludes the SQL the server runs per update (friend links, grant books, "
        "presences, intents, pair states) and HTTP; the e2e section includes them. Peers get "
        "the app-side checks (grants, intents) from memory, as kith does."
    )
    print(json.dumps(result, default=str))


if __name__ == "__main__":
    main()
