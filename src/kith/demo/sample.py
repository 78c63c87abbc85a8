"""The real-data sample behind the demo world, read with the standard library only.

The sample (src/kith/demo/data/, cut by scripts/make_demo_sample.py from the Gowalla New
York data; attribution and terms in data/README.md) holds about 150 pseudonymised users of
one dense Manhattan community, the friendships among them and their check-ins with venue
names. Users come ranked: every prefix of the ranking is well connected, so
:meth:`Sample.top` gives the N best-connected users with their friendships and check-ins.

The demo runs with kith's core dependencies only, so this module uses ``csv`` and ``gzip``,
never pyarrow or polars.
"""

from __future__ import annotations

import csv
import gzip
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True, slots=True)
class SampleUser:
    rank: int  # 1 = best connected
    gowalla_id: int  # the SNAP Gowalla user id, for tracing back to the public data
    username: str
    display_name: str


@dataclass(frozen=True, slots=True, order=True)
class SampleFriendship:
    """An undirected friendship between two Gowalla ids, ``a < b``."""

    a: int
    b: int


@dataclass(frozen=True, slots=True)
class SampleVenue:
    venue_id: int
    name: str
    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class SampleCheckIn:
    gowalla_id: int
    at: datetime  # aware, UTC
    lat: float
    lon: float
    venue_id: int
    venue_name: str | None  # None for the venues the source list does not name


@dataclass(frozen=True, slots=True)
class Sample:
    users: tuple[SampleUser, ...]  # by rank
    friendships: tuple[SampleFriendship, ...]  # sorted by (a, b)
    checkins: tuple[SampleCheckIn, ...]  # sorted by (gowalla_id, at, venue_id)
    venues: dict[int, SampleVenue]

    def top(self, n: int) -> Sample:
        """The ``n`` best-connected users with the friendships among them and their check-ins."""
        if n < 1:
            raise ValueError("n must be at least 1")
        users = self.users[:n]
        ids = {u.gowalla_id for u in users}
        checkins = tuple(c for c in self.checkins if c.gowalla_id in ids)
        venue_ids = {c.venue_id for c in checkins}
        return Sample(
            users=users,
            friendships=tuple(f for f in self.friendships if f.a in ids and f.b in ids),
            checkins=checkins,
            venues={k: v for k, v in self.venues.items() if k in venue_ids},
        )

    def user(self, gowalla_id: int) -> SampleUser:
        for user in self.users:
            if user.gowalla_id == gowalla_id:
                return user
        raise KeyError(gowalla_id)


def _rows(path: Path) -> Iterator[dict[str, str]]:
    with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
        yield from csv.DictReader(handle)


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def load_sample(data_dir: Path | None = None) -> Sample:
    """Read the shipped sample (or the same four files from ``data_dir``)."""
    folder = data_dir or DATA_DIR
    users = tuple(
        sorted(
            (
                SampleUser(
                    rank=int(row["rank"]),
                    gowalla_id=int(row["gowalla_id"]),
                    username=row["username"],
                    display_name=row["display_name"],
                )
                for row in _rows(folder / "users.csv.gz")
            ),
            key=lambda u: u.rank,
        )
    )
    pairs = (
        sorted((int(row["gowalla_id_a"]), int(row["gowalla_id_b"])))
        for row in _rows(folder / "friendships.csv.gz")
    )
    friendships = tuple(sorted(SampleFriendship(a, b) for a, b in pairs))
    venues = {
        int(row["venue_id"]): SampleVenue(
            venue_id=int(row["venue_id"]),
            name=row["name"],
            lat=float(row["lat"]),
            lon=float(row["lon"]),
        )
        for row in _rows(folder / "venues.csv.gz")
    }
    checkins = []
    for row in _rows(folder / "checkins.csv.gz"):
        venue = venues.get(int(row["venue_id"]))
        checkins.append(
            SampleCheckIn(
                gowalla_id=int(row["gowalla_id"]),
                at=_utc(row["time_utc"]),
                lat=float(row["lat"]),
                lon=float(row["lon"]),
                venue_id=int(row["venue_id"]),
                venue_name=venue.name if venue is not None else None,
            )
        )
    checkins.sort(key=lambda c: (c.gowalla_id, c.at, c.venue_id))
    return Sample(users=users, friendships=friendships, checkins=tuple(checkins), venues=venues)
