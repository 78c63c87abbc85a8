"""Cut the demo sample shipped in src/kith/demo/data/ from the Gowalla New York data.

    .venv/bin/python scripts/make_demo_sample.py [--source DIR] [--users 150]

Reads ../shared/data/gowalla_nyc (Parquet; see its README for schema and terms) and writes
users.csv.gz, friendships.csv.gz, checkins.csv.gz and venues.csv.gz. The output is a pure
function of the input: the same source gives byte-identical files (gzip without timestamps,
every row order fixed, every tie broken by id).

How the users are chosen (documented again in src/kith/demo/data/README.md):

1. Candidates: users with at least ``MIN_CHECKINS`` check-ins whose median check-in position
   lies in a box around Manhattan (``MANHATTAN_BOX``) and whose friendships were observed.
2. Ties: a friendship weighs 1, plus ``MET_WEIGHT`` when the two friends have a
   co-check-in (same venue within one hour, ``kith.demo.circles.co_checkins``), so the
   group keeps friends who meet, which the demo's circles and presence features show off.
3. Peeling: repeatedly drop the candidate with the lowest weighted degree among the
   remaining candidates (ties: fewer check-ins, then lower id) until ``--users`` remain.
   What is left is a dense community; the friendships among them are the induced subgraph.
4. Rank: start from the remaining user with the highest weighted degree in the group; then
   repeatedly take the user with the highest weighted degree towards those already ranked
   (ties: weighted degree in the group, then lower id). Every prefix of this order is
   itself well connected, so the demo's ``--users N`` takes the first N.

Pseudonyms: each Gowalla id gets a deterministic display name ("Maya R.") and username
("maya17") from fixed lists, drawn with SHA-256 of the id; the id stays in the files so
every row can be traced back to the public data set.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import io
import sys
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kith.demo.circles import co_checkins, pair
from kith.demo.sample import SampleCheckIn

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = ROOT / ".." / "shared" / "data" / "gowalla_nyc"
TARGET = ROOT / "src" / "kith" / "demo" / "data"

MIN_CHECKINS = 10
# (south, north, west, east): Manhattan plus the waterfront edges of Brooklyn and Queens.
MANHATTAN_BOX = (40.70, 40.88, -74.02, -73.91)
# A friendship with a co-check-in counts 1 + MET_WEIGHT when choosing the group.
MET_WEIGHT = 3
# Positions are rounded to 6 decimals (about 0.1 m): far finer than a phone's GPS fix.
COORD_DECIMALS = 6

FIRST_NAMES = (
    "Aaliyah", "Aaron", "Abdul", "Ada", "Adele", "Aisha", "Alba", "Alejandro", "Amara", "Amir",
    "Ana", "Andre", "Anika", "Anton", "Arjun", "Astrid", "Aziz", "Beatriz", "Ben", "Bianca",
    "Bo", "Camila", "Carlos", "Chen", "Chloe", "Dario", "Dev", "Diego", "Dina", "Elena",
    "Eli", "Emeka", "Emma", "Esther", "Ezra", "Farah", "Felix", "Femi", "Fiona", "Gabriel",
    "Grace", "Hana", "Hugo", "Ibrahim", "Ines", "Ingrid", "Isaac", "Ivy", "Jada", "Jamal",
    "Jin", "Joao", "Jonah", "Julia", "Kai", "Kamala", "Kenji", "Kofi", "Lars", "Layla",
    "Leila", "Leo", "Lina", "Lucia", "Luis", "Maya", "Mei", "Mila", "Milo", "Nadia",
    "Naomi", "Nia", "Nico", "Nina", "Noah", "Nora", "Olga", "Omar", "Oscar", "Pablo",
    "Priya", "Quinn", "Rafael", "Rana", "Ravi", "Rosa", "Ruth", "Sami", "Sara", "Sven",
    "Tariq", "Tess", "Theo", "Uma", "Vera", "Wei", "Yara", "Yusuf", "Zara", "Zoe",
)  # fmt: skip
INITIALS = "ABCDEFGHIJKLMNOPRSTVWYZ"


def read_parquet(path: Path) -> list[dict[str, Any]]:
    import pyarrow.parquet as pq

    rows: list[dict[str, Any]] = pq.read_table(path).to_pylist()
    return rows


def in_box(lat: float, lon: float) -> bool:
    south, north, west, east = MANHATTAN_BOX
    return south < lat < north and west < lon < east


def choose_users(
    users: dict[int, dict[str, Any]],
    weights: dict[int, dict[int, int]],
    size: int,
) -> list[int]:
    """The ``size`` users of the dense Manhattan community, best connected first.

    ``weights[u][v]`` is the weight of the friendship u-v (both directions present).
    """
    group = {
        uid
        for uid, row in users.items()
        if row["n_checkins"] >= MIN_CHECKINS
        and row["friendships_observed"]
        and in_box(row["median_lat"], row["median_lon"])
    }
    if len(group) < size:
        raise SystemExit(f"only {len(group)} candidates; cannot pick {size}")
    degree = {u: sum(w for v, w in weights[u].items() if v in group) for u in group}
    while len(group) > size:
        weakest = min(group, key=lambda u: (degree[u], users[u]["n_checkins"], u))
        group.remove(weakest)
        for other, weight in weights[weakest].items():
            if other in group:
                degree[other] -= weight
    first = max(group, key=lambda u: (degree[u], -u))
    order = [first]
    links = dict.fromkeys(group - {first}, 0)
    while links:
        for other, weight in weights[order[-1]].items():
            if other in links:
                links[other] += weight
        best = max(links, key=lambda u: (links[u], degree[u], -u))
        order.append(best)
        del links[best]
    return order


def _draw(uid: int, salt: int, modulus: int) -> int:
    digest = hashlib.sha256(f"kith-demo:{uid}:{salt}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % modulus


def pseudonyms(ids: Sequence[int]) -> dict[int, tuple[str, str]]:
    """Gowalla id -> (username, display name), deterministic and unique."""
    taken: set[str] = set()
    names: dict[int, tuple[str, str]] = {}
    for uid in ids:
        salt = 0
        while True:
            first = FIRST_NAMES[_draw(uid, salt, len(FIRST_NAMES))]
            initial = INITIALS[_draw(uid, salt + 1000, len(INITIALS))]
            username = f"{first.lower()}{_draw(uid, salt + 2000, 90) + 10}"
            if username not in taken:
                break
            salt += 1
        taken.add(username)
        names[uid] = (username, f"{first} {initial}.")
    return names


def write_csv_gz(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]) -> int:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    raw = buffer.getvalue().encode("utf-8")
    out = io.BytesIO()
    # No file name and mtime 0 in the gzip header: reruns give byte-identical files.
    with gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0, compresslevel=9) as gz:
        gz.write(raw)
    path.write_bytes(out.getvalue())
    return path.stat().st_size


def iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--target", type=Path, default=TARGET)
    parser.add_argument("--users", type=int, default=150)
    args = parser.parse_args(argv)
    source: Path = args.source
    if not (source / "checkins.parquet").exists():
        print(f"no Gowalla data at {source}", file=sys.stderr)
        return 2

    users = {row["user_id"]: row for row in read_parquet(source / "users.parquet")}
    friends: dict[int, set[int]] = defaultdict(set)
    for row in read_parquet(source / "friendships.parquet"):
        friends[row["user_id"]].add(row["friend_id"])
    all_checkins = read_parquet(source / "checkins.parquet")
    met = co_checkins(
        (
            SampleCheckIn(
                r["user_id"], r["checkin_time_utc"], r["lat"], r["lon"], r["venue_id"], None
            )
            for r in all_checkins
        ),
        {pair(a, b) for a, theirs in friends.items() for b in theirs},
    )
    weights = {
        a: {b: 1 + MET_WEIGHT * (met[pair(a, b)] > 0) for b in theirs}
        for a, theirs in friends.items()
    }
    order = choose_users(users, defaultdict(dict, weights), args.users)
    chosen = set(order)
    names = pseudonyms(order)

    checkins = sorted(
        (row for row in all_checkins if row["user_id"] in chosen),
        key=lambda r: (r["user_id"], r["checkin_time_utc"], r["venue_id"], r["lat"], r["lon"]),
    )
    venue_ids = {row["venue_id"] for row in checkins}
    venues = sorted(
        (row for row in read_parquet(source / "venues.parquet") if row["venue_id"] in venue_ids),
        key=lambda r: r["venue_id"],
    )
    pairs = sorted({(min(a, b), max(a, b)) for a in chosen for b in friends[a] & chosen})

    target: Path = args.target
    target.mkdir(parents=True, exist_ok=True)
    sizes = {
        "users.csv.gz": write_csv_gz(
            target / "users.csv.gz",
            ("rank", "gowalla_id", "username", "display_name"),
            ((i + 1, uid, *names[uid]) for i, uid in enumerate(order)),
        ),
        "friendships.csv.gz": write_csv_gz(
            target / "friendships.csv.gz", ("gowalla_id_a", "gowalla_id_b"), pairs
        ),
        "checkins.csv.gz": write_csv_gz(
            target / "checkins.csv.gz",
            ("gowalla_id", "time_utc", "lat", "lon", "venue_id"),
            (
                (
                    r["user_id"],
                    iso(r["checkin_time_utc"]),
                    round(r["lat"], COORD_DECIMALS),
                    round(r["lon"], COORD_DECIMALS),
                    r["venue_id"],
                )
                for r in checkins
            ),
        ),
        "venues.csv.gz": write_csv_gz(
            target / "venues.csv.gz",
            ("venue_id", "name", "lat", "lon"),
            (
                (
                    r["venue_id"],
                    r["name"],
                    round(r["lat"], COORD_DECIMALS),
                    round(r["lon"], COORD_DECIMALS),
                )
                for r in venues
            ),
        ),
    }
    named_ids = {v["venue_id"] for v in venues}
    named = sum(1 for r in checkins if r["venue_id"] in named_ids)
    print(
        f"{len(order)} users, {len(pairs)} friendships, {len(checkins)} check-ins "
        f"({named} at named venues), {len(venues)} venues -> {target}"
    )
    for name, size in sizes.items():
        print(f"  {name:20} {size / 1024:7.1f} KiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
