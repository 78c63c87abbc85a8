"""The Gowalla replay: activity inference, the in-memory engine against the server, and a
tiny check-in set with a known answer, through the pure API and through the CLI."""

from __future__ import annotations

import csv
import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from kith.cli.main import app as cli
from kith.clock import FixedClock
from kith.presence.replay import (
    AlertEngine,
    Protocol,
    friend_index,
    infer_activity,
    load_gowalla,
    replay,
)
from tests.conftest import World
from tests.presence.helpers import BASE, alerts, intent, offset, put_location, share


@pytest.mark.parametrize(
    ("name", "activity"),
    [
        ("Starbucks", "coffee"),
        ("Think Coffee", "coffee"),
        ("Stumptown Coffee Roasters", "coffee"),
        ("Heartland Brewery", "drinks"),
        ("Momofuku Noodle Bar", "drinks"),  # "bar" first: a place for drinks too
        ("Shake Shack", "lunch"),
        ("Lombardi's Pizza", "lunch"),
        ("Bryant Park", "walk"),
        ("The High Line", "walk"),
        ("Central Park Tennis Center", "tennis"),
        ("Equinox", "gym"),
        ("New York Sports Club", "gym"),
        ("The New York Public Library", "study"),
        ("Madison Square Garden", None),
        ("Park Avenue Plaza", None),
        ("JFK Terminal 5", None),
        ("Grand Central Terminal", None),
        ("Ace Hotel", None),
        ("Home", None),
        ("", None),
        (None, None),
    ],
)
def test_activity_from_venue_name(name: str | None, activity: str | None) -> None:
    assert infer_activity(name) == activity


def test_engine_alerts_as_the_server_does(
    client: TestClient, world: World, clock: FixedClock
) -> None:
    """The same story through the API and through the in-memory engine gives the same
    alerts: who, about whom, what kind, which activity (budget and cooldown included)."""
    ana, ben, cat = world.person("ana"), world.person("ben"), world.person("cat")
    world.befriend(ana, ben, a_puts_b_in="close", b_puts_a_in="close")
    world.befriend(ana, cat, b_puts_a_in="close")  # one-sided: ana keeps cat in "friends"
    for who in (ana, ben, cat):
        share(client, who, "close", "neighbourhood")
    # Morning, so that the story stays within one day of the daily budget.
    clock.set((clock.now() + timedelta(days=1)).replace(hour=9, minute=0))
    engine = AlertEngine(
        friend_index(3, {(0, 1), (0, 2)}, {(0, 1), (1, 0), (2, 0)}), timezone="UTC"
    )
    index = {"ana": 0, "ben": 1, "cat": 2}
    seen: list[tuple[str, str, str, str | None]] = []
    names = {v: k for k, v in index.items()}

    def move(who: str, east_m: float) -> None:
        lat, lon = offset(*BASE, east_m=east_m)
        person = {"ana": ana, "ben": ben, "cat": cat}[who]
        assert put_location(client, person, lat, lon).status_code == 204
        for a in engine.update_location(index[who], lat, lon, clock.now()):
            seen.append((names[a.recipient], names[a.other], a.kind, a.activity))

    def want(who: str, activity: str, hours: float = 2.0) -> None:
        person = {"ana": ana, "ben": ben, "cat": cat}[who]
        intent(client, person, activity, clock.now(), hours=hours)
        now = clock.now()
        engine.add_intent(index[who], activity, now, now + timedelta(hours=hours), 2000, now=now)
        found = engine.match(index[who], now)
        seen.extend((names[a.recipient], names[a.other], a.kind, a.activity) for a in found)

    move("ana", 0)
    move("ben", 300)
    move("cat", 200)
    want("ana", "coffee")
    want("cat", "coffee")  # ana shares nothing with "friends": no match
    want("ben", "coffee")  # match: both alerted
    want("ben", "lunch")
    want("ana", "anything")  # matches both of ben's, but the pair's cooldown holds
    for _ in range(3):  # each cooldown lets one more through, until the daily budget
        clock.advance(timedelta(minutes=31))
        move("ben", 250)
        want("ben", "drinks")
    move("ana", 20_000)  # far away: nothing more

    from_api = Counter(
        (who, a["from"]["username"], a["kind"], a["activity"])
        for who, person in (("ana", ana), ("ben", ben), ("cat", cat))
        for a in alerts(client, person)
    )
    assert from_api == Counter(seen)
    assert from_api == {
        ("ana", "ben", "intent", "coffee"): 2,  # coffee-coffee, then anything-coffee
        ("ben", "ana", "intent", "coffee"): 2,
        ("ana", "ben", "intent", "lunch"): 1,  # then the daily budget of 3 is spent
        ("ben", "ana", "intent", "lunch"): 1,
    }


# A tiny world around Union Square: ana (1) is friends with ben (2), cat (3) and dan (4).
# Before the split, ana met ben and cat at the office, so both are her close friends; dan
# never met her, so he stays in "friends", with whom kith shares nothing by default.
SPLIT = datetime(2010, 3, 1, tzinfo=UTC)
VENUES = {
    10: ("Think Coffee", BASE),
    11: ("Joe Coffee", offset(*BASE, east_m=300)),  # the same neighbourhood cell
    12: ("Acme Office", offset(*BASE, north_m=100)),
    13: ("Blue Bottle Coffee", offset(*BASE, north_m=-200)),
}
CHECKINS = [
    (1, "2010-02-01T12:00:00Z", 12),
    (2, "2010-02-01T12:20:00Z", 12),
    (1, "2010-02-02T12:00:00Z", 12),
    (3, "2010-02-02T12:10:00Z", 12),
    # The planted meetup: ana and ben at Think Coffee half an hour apart. Their inferred
    # intents are posted an hour ahead, so ben's at 11:30 matches ana's: announced.
    (1, "2010-04-01T12:00:00Z", 10),
    (2, "2010-04-01T12:30:00Z", 10),
    # An alert without a meetup: cat's intent (from 15:50) overlaps ana's (until 16:00)
    # in the same neighbourhood, but they check in 1 h 50 apart.
    (1, "2010-04-02T15:00:00Z", 10),
    (3, "2010-04-02T16:50:00Z", 11),
    # A meetup kith cannot announce: dan is not close, so nobody shares with him.
    (1, "2010-04-03T10:00:00Z", 13),
    (4, "2010-04-03T10:20:00Z", 13),
]
FRIENDSHIPS = [(1, 2), (1, 3), (1, 4)]
EXPECTED = {
    "meetups": 2,
    "meetups_announced": 1,
    "alerts": 4,
    "alerts_without_meetup": 2,
    "close_links": 4,
}


@pytest.fixture
def tiny(tmp_path: Path) -> tuple[Path, Path, Path]:
    paths = (tmp_path / "checkins.csv", tmp_path / "friendships.csv", tmp_path / "venues.csv")
    with paths[0].open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["user_id", "checkin_time_utc", "lat", "lon", "venue_id"])
        for user, at, venue in CHECKINS:
            w.writerow([user, at, *VENUES[venue][1], venue])
    with paths[1].open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["user_id", "friend_id"])
        for a, b in FRIENDSHIPS:
            w.writerows([(a, b), (b, a)])
    with paths[2].open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["venue_id", "name", "lat", "lon"])
        for venue, (name, (lat, lon)) in VENUES.items():
            w.writerow([venue, name, lat, lon])
    return paths


def test_replay_counts_the_planted_meetups_and_alerts(tiny: tuple[Path, Path, Path]) -> None:
    report = replay(load_gowalla(*tiny), Protocol(split=SPLIT))
    numbers = report.as_dict()
    assert {k: numbers[k] for k in EXPECTED} == EXPECTED
    assert numbers["intents"] == {"coffee": 6}
    at = {(a.recipient, a.other): a.at for a in report.alert_events}
    # Dense ids follow the sorted Gowalla ids: ana 0, ben 1, cat 2.
    assert at[(0, 1)] == at[(1, 0)] == datetime(2010, 4, 1, 11, 30, tzinfo=UTC)
    assert at[(0, 2)] == datetime(2010, 4, 2, 15, 50, tzinfo=UTC)


def test_replay_with_every_friend_close_announces_more(tiny: tuple[Path, Path, Path]) -> None:
    numbers = replay(load_gowalla(*tiny), Protocol(split=SPLIT, close="all")).as_dict()
    assert numbers["meetups_announced"] == 2  # dan's meetup too
    assert numbers["alerts"] == 6


def test_cli_replays_the_given_files(tiny: tuple[Path, Path, Path]) -> None:
    checkins, friendships, venues = tiny
    args = ["replay", "gowalla", "--checkins", str(checkins), "--friendships", str(friendships)]
    result = CliRunner().invoke(cli, [*args, "--venues", str(venues), "--json"])
    assert result.exit_code == 0, result.output
    numbers = json.loads(result.stdout)
    assert {k: numbers[k] for k in EXPECTED} == EXPECTED

    result = CliRunner().invoke(cli, [*args, "--venues", str(venues)])
    assert result.exit_code == 0, result.output
    assert "meetups announced" in result.stdout


def test_cli_refuses_missing_files_readably(tmp_path: Path) -> None:
    missing = tmp_path / "nope.csv"
    result = CliRunner().invoke(
        cli,
        ["replay", "gowalla", "--checkins", str(missing), "--friendships", str(missing)],
    )
    assert result.exit_code == 2
    assert "no such file" in result.output
    assert "Traceback" not in result.output
