"""The shipped sample and the pure circle rules, on the real sample and on hand-made data."""

from __future__ import annotations

import csv
import gzip
import importlib.util
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kith.accounts.rules import is_valid_username, username_key
from kith.demo import Sample, SampleCheckIn, SampleFriendship, SampleUser, load_sample
from kith.demo.circles import co_checkins, plan_circles
from kith.demo.sample import DATA_DIR

REPO = Path(__file__).resolve().parents[2]
# The Gowalla data sit beside the repository in CI (../shared); KITH_GOWALLA_NYC overrides.
GOWALLA = Path(
    os.environ.get("KITH_GOWALLA_NYC", str(REPO / ".." / "shared" / "data" / "gowalla_nyc"))
)
T0 = datetime(2010, 5, 1, 18, 0, tzinfo=UTC)


def test_shipped_sample_is_consistent_and_small() -> None:
    sample = load_sample()
    assert len(sample.users) == 150
    assert [u.rank for u in sample.users] == list(range(1, 151))
    ids = {u.gowalla_id for u in sample.users}
    assert len(ids) == 150
    assert all(is_valid_username(u.username) for u in sample.users)
    assert len({username_key(u.username) for u in sample.users}) == 150
    assert all(u.display_name.strip() for u in sample.users)
    assert len(set(sample.friendships)) == len(sample.friendships) > 150
    assert all(f.a < f.b and {f.a, f.b} <= ids for f in sample.friendships)
    assert {c.gowalla_id for c in sample.checkins} == ids
    for checkin in sample.checkins:
        assert checkin.at.utcoffset() == timedelta(0)
        venue = sample.venues.get(checkin.venue_id)
        assert checkin.venue_name == (venue.name if venue else None)
    assert sum(c.venue_name is not None for c in sample.checkins) > len(sample.checkins) / 2
    size = sum(p.stat().st_size for p in DATA_DIR.iterdir())
    assert size < 1_000_000


@pytest.mark.parametrize("n", [2, 20, 60, 150])
def test_top_is_the_induced_prefix(n: int) -> None:
    sample = load_sample()
    top = sample.top(n)
    ids = {u.gowalla_id for u in sample.users[:n]}
    assert [u.gowalla_id for u in top.users] == [u.gowalla_id for u in sample.users[:n]]
    assert top.friendships == tuple(f for f in sample.friendships if {f.a, f.b} <= ids)
    assert {c.gowalla_id for c in top.checkins} == ids
    assert set(top.venues) <= {c.venue_id for c in top.checkins}
    # Well connected: everyone in the prefix has a friend in it.
    befriended = {f.a for f in top.friendships} | {f.b for f in top.friendships}
    assert befriended == ids


def test_prefixes_are_denser_than_the_whole() -> None:
    sample = load_sample()
    mean_degree = {n: 2 * len(sample.top(n).friendships) / n for n in (60, 150)}
    assert mean_degree[60] > mean_degree[150] > 4


def _write(path: Path, header: list[str], rows: list[list[object]]) -> None:
    with gzip.open(path, "wt", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def test_loader_reads_the_four_files(tmp_path: Path) -> None:
    _write(
        tmp_path / "users.csv.gz",
        ["rank", "gowalla_id", "username", "display_name"],
        [[2, 7, "ben12", "Ben K."], [1, 9, "ana30", 'Ana, "the" first']],
    )
    _write(tmp_path / "friendships.csv.gz", ["gowalla_id_a", "gowalla_id_b"], [[9, 7]])
    _write(
        tmp_path / "checkins.csv.gz",
        ["gowalla_id", "time_utc", "lat", "lon", "venue_id"],
        [
            [9, "2010-05-01T19:00:00Z", 40.7, -73.9, 5],
            [9, "2010-05-01T18:00:00Z", 40.71, -73.91, 6],
        ],
    )
    _write(
        tmp_path / "venues.csv.gz", ["venue_id", "name", "lat", "lon"], [[5, "Café, Inc.", 1, 2]]
    )

    sample = load_sample(tmp_path)

    assert sample.users == (
        SampleUser(1, 9, "ana30", 'Ana, "the" first'),
        SampleUser(2, 7, "ben12", "Ben K."),
    )
    assert sample.friendships == (SampleFriendship(7, 9),)
    assert sample.checkins == (
        SampleCheckIn(9, T0, 40.71, -73.91, 6, None),
        SampleCheckIn(9, T0 + timedelta(hours=1), 40.7, -73.9, 5, "Café, Inc."),
    )
    assert sample.user(7).username == "ben12"
    with pytest.raises(KeyError):
        sample.user(8)


def _at(user: int, venue: int, minutes: float) -> SampleCheckIn:
    return SampleCheckIn(user, T0 + timedelta(minutes=minutes), 40.7, -73.9, venue, None)


@pytest.mark.parametrize(
    ("checkins", "expected"),
    [
        ([_at(1, 5, 0), _at(2, 5, 30)], {(1, 2): 1}),
        ([_at(2, 5, 0), _at(1, 5, 60)], {(1, 2): 1}),  # the window is inclusive
        ([_at(1, 5, 0), _at(2, 5, 61)], {}),
        ([_at(1, 5, 0), _at(2, 6, 10)], {}),  # different venues
        ([_at(1, 5, 0), _at(3, 5, 10)], {}),  # 1 and 3 are not friends
        ([_at(1, 5, 0), _at(1, 5, 10)], {}),  # one person twice
        ([_at(1, 5, 0), _at(2, 5, 10), _at(2, 5, 20), _at(1, 7, 0)], {(1, 2): 2}),
    ],
)
def test_co_checkins(checkins: list[SampleCheckIn], expected: dict[tuple[int, int], int]) -> None:
    assert dict(co_checkins(checkins, {(1, 2)})) == expected


def test_plan_circles_close_friends_and_acquaintances() -> None:
    # User 1 met 2..8 (user k met 1 k times at venue 100 + k) and never shared a venue with 9.
    users = tuple(SampleUser(k, k, f"user{k}", f"User {k}") for k in range(1, 10))
    friendships = tuple(SampleFriendship(1, k) for k in range(2, 10))
    checkins = [_at(9, 99, 0)]
    for k in range(2, 9):
        for i in range(k):
            checkins += [_at(1, 100 + k, 120 * i), _at(k, 100 + k, 120 * i + 5)]
    sample = Sample(users, friendships, tuple(checkins), {})

    plan = plan_circles(sample, close_max=5)

    assert {f for (o, f), c in plan.items() if o == 1 and c == "close"} == {4, 5, 6, 7, 8}
    assert plan[(1, 2)] == plan[(1, 3)] == "friends"
    assert plan[(1, 9)] == plan[(9, 1)] == "acquaintances"
    # Each of 2..8 met user 1 and nobody else, so 1 is their close friend.
    assert all(plan[(k, 1)] == "close" for k in range(2, 9))
    assert len(plan) == 2 * len(friendships)


def test_plan_circles_on_the_real_sample_uses_every_circle() -> None:
    sample = load_sample().top(60)
    plan = plan_circles(sample)
    assert len(plan) == 2 * len(sample.friendships)
    counts = {c: list(plan.values()).count(c) for c in ("close", "friends", "acquaintances")}
    assert counts["friends"] > counts["close"] > 0
    assert counts["acquaintances"] > 0


@pytest.mark.skipif(
    not (GOWALLA / "checkins.parquet").exists(), reason=f"no Gowalla data at {GOWALLA}"
)
@pytest.mark.skipif(importlib.util.find_spec("pyarrow") is None, reason="pyarrow not installed")
def test_script_regenerates_the_shipped_sample_byte_for_byte(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            str(REPO / "scripts" / "make_demo_sample.py"),
            "--source",
            str(GOWALLA),
            "--target",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    for name in ("users.csv.gz", "friendships.csv.gz", "checkins.csv.gz", "venues.csv.gz"):
        assert (tmp_path / name).read_bytes() == (DATA_DIR / name).read_bytes(), name
