"""Location-privacy attacks, end to end through the API.

Every "nearby" feature ever shipped has been turned into an exact location by
spoofed-GPS trilateration (Polakis et al., "Where's Wally?", CCS 2015). Here five
attacker friends of each victim set whatever positions they like and query every
surface (location, nearby labels and order, intents, alerts) 10,000 times in all;
they must not locate the victims better than someone simply told the victims'
cells. These tests run on SQLite only: they attack the policy, not the storage.
"""

from __future__ import annotations

import math
import random
import statistics
from collections import defaultdict
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import h3
import pytest
from fastapi.testclient import TestClient

from kith.clock import FixedClock
from kith.config import Settings
from kith.storage.migrate import upgrade
from tests.conftest import Person, World
from tests.presence.helpers import offset, put_location, share

VICTIMS = 20
ATTACKERS = 5
TOTAL_QUERIES = int(__import__("os").environ.get("KITH_ATTACK_QUERIES", "10000"))
# Manhattan, roughly: victims are placed at random inside this box.
BOX = ((40.70, 40.80), (-74.01, -73.94))
# Distance intervals (metres) an attacker reads into each label.
LABEL_INTERVALS: dict[str, tuple[float, float]] = {
    "same neighbourhood": (0.0, 1500.0),
    "under 1 km": (0.0, 1000.0),
    "about 2 km": (1000.0, 2000.0),
    "about 3 km": (2000.0, 3000.0),
    "about 5 km": (3000.0, 5000.0),
    "about 10 km": (5000.0, 10000.0),
    "about 20 km": (10000.0, 20000.0),
}


@pytest.fixture(scope="module")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    path: Path = tmp_path_factory.mktemp("attack") / "kith.db"
    url = f"sqlite:///{path}"
    upgrade(Settings(database_url=url, env="test"))
    return url


def haversine(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6_371_008.8 * math.asin(min(1.0, math.sqrt(h)))


def candidates(cell: str) -> list[tuple[float, float]]:
    """Points ~60 m apart covering the victim's granted cell."""
    return [h3.cell_to_latlng(c) for c in h3.cell_to_children(cell, 11)]


def estimate(
    cands: list[tuple[float, float]], observations: list[tuple[tuple[float, float], float, float]]
) -> tuple[float, float]:
    """Trilaterate: the centroid of the candidates consistent with most observations."""
    np = pytest.importorskip("numpy")
    x = np.radians(np.array(cands))
    obs = np.array([(a[0], a[1], lo, hi) for a, lo, hi in observations])
    a = np.radians(obs[:, :2])
    dlat = x[:, None, 0] - a[None, :, 0]
    dlon = x[:, None, 1] - a[None, :, 1]
    h = (
        np.sin(dlat / 2) ** 2
        + np.cos(x[:, None, 0]) * np.cos(a[None, :, 0]) * np.sin(dlon / 2) ** 2
    )
    dist = 2 * 6_371_008.8 * np.arcsin(np.minimum(1.0, np.sqrt(h)))
    scores = ((dist >= obs[None, :, 2]) & (dist <= obs[None, :, 3])).sum(axis=1)
    chosen = np.degrees(x[scores == scores.max()])
    return float(chosen[:, 0].mean()), float(chosen[:, 1].mean())


class Counter:
    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.queries = 0

    def get(self, who: Person, path: str) -> Any:
        self.queries += 1
        r = self.client.get(path, headers=who.headers)
        assert r.status_code in (200, 404), r.text
        return r.json()


def test_trilateration_does_not_beat_being_told_the_cell(
    client: TestClient, world: World, clock: FixedClock
) -> None:
    rng = random.Random(20261121)
    victims = [world.person(f"victim{i}") for i in range(VICTIMS)]
    attackers = [world.person(f"attacker{i}") for i in range(ATTACKERS)]
    truth: dict[str, tuple[float, float]] = {}
    for victim in victims:
        for attacker in attackers:
            world.befriend(victim, attacker, a_puts_b_in="close", b_puts_a_in="close")
        share(client, victim, "close", "neighbourhood")
        point = (rng.uniform(*BOX[0]), rng.uniform(*BOX[1]))
        truth[victim.username] = point
        assert put_location(client, victim, *point).status_code == 204
    for attacker in attackers:
        share(client, attacker, "close", "precise")
        client.put("/api/v1/me/alert-settings", json={"daily_budget": 50}, headers=attacker.headers)

    def post_victim_intents() -> None:
        for victim in victims:
            client.post(
                "/api/v1/intents",
                headers=victim.headers,
                json={
                    "activity": "anything",
                    "ends_at": (clock.now() + timedelta(hours=20)).isoformat(),
                    "radius_m": 50_000,
                    "audience": ["close"],
                },
            )

    post_victim_intents()
    q = Counter(client)
    told: dict[str, str] = {}
    observations: dict[str, list[tuple[tuple[float, float], float, float]]] = defaultdict(list)
    positions = {a.username: (rng.uniform(*BOX[0]), rng.uniform(*BOX[1])) for a in attackers}
    seen_alerts: dict[str, int] = defaultdict(int)
    rounds = 0
    while q.queries < TOTAL_QUERIES:
        rounds += 1
        clock.advance(timedelta(minutes=1))
        if rounds % 600 == 0:
            post_victim_intents()
        for attacker in attackers:
            here = positions[attacker.username]
            step = offset(*here, north_m=rng.uniform(-2500, 2500), east_m=rng.uniform(-2500, 2500))
            lat = min(max(step[0], BOX[0][0] - 0.02), BOX[0][1] + 0.02)
            lon = min(max(step[1], BOX[1][0] - 0.02), BOX[1][1] + 0.02)
            if put_location(client, attacker, lat, lon).status_code == 204:
                positions[attacker.username] = here = (lat, lon)
            q.queries += 1
            for friend in q.get(attacker, "/api/v1/nearby"):
                interval = LABEL_INTERVALS.get(friend["label"])
                if interval:
                    observations[friend["username"]].append((here, *interval))
            for entry in q.get(attacker, "/api/v1/intents")["friends"]:
                interval = LABEL_INTERVALS.get(entry["label"] or "")
                if interval:
                    observations[entry["user"]["username"]].append((here, *interval))
            victim = victims[rounds % VICTIMS]
            seen = q.get(attacker, f"/api/v1/friends/{victim.username}/location")
            told[victim.username] = seen["cell"]
            if rounds % 31 == 0:  # past the per-pair cooldown: probe with a radius
                radius = rng.choice([500, 1000, 2000, 4000])
                client.post(
                    "/api/v1/intents",
                    headers=attacker.headers,
                    json={
                        "activity": "anything",
                        "radius_m": radius,
                        "audience": ["close"],
                        "ends_at": (clock.now() + timedelta(minutes=30)).isoformat(),
                    },
                )
                q.queries += 1
                after = seen_alerts[attacker.username]
                for alert in q.get(attacker, f"/api/v1/alerts?after={after}&limit=200"):
                    seen_alerts[attacker.username] = max(after, alert["id"])
                    observations[alert["from"]["username"]].append((here, 0.0, float(radius)))

    assert q.queries >= TOTAL_QUERIES
    told_errors, attack_errors = [], []
    for victim in victims:
        cell = told[victim.username]
        assert h3.get_resolution(cell) == 7  # nothing finer than neighbourhood, ever
        real = truth[victim.username]
        told_errors.append(haversine(real, h3.cell_to_latlng(cell)))
        guess = estimate(candidates(cell), observations[victim.username])
        attack_errors.append(haversine(real, guess))
        assert observations[victim.username], "the attackers observed every victim"
    median_told = statistics.median(told_errors)
    median_attack = statistics.median(attack_errors)
    assert median_attack >= 0.9 * median_told, (median_attack, median_told)


def test_repeated_queries_within_a_cell_are_identical(
    client: TestClient, world: World, clock: FixedClock
) -> None:
    victim, attacker = world.person("victim"), world.person("attacker")
    world.befriend(victim, attacker, a_puts_b_in="close", b_puts_a_in="close")
    share(client, victim, "close", "neighbourhood")
    share(client, attacker, "close", "precise")
    put_location(client, victim, 40.7420, -73.9870)
    client.post(
        "/api/v1/intents",
        headers=victim.headers,
        json={
            "activity": "coffee",
            "ends_at": (clock.now() + timedelta(hours=3)).isoformat(),
            "radius_m": 5000,
            "audience": ["close"],
        },
    )
    home = h3.latlng_to_cell(40.7300, -73.9950, 7)
    answers = set()
    for child in list(h3.cell_to_children(home, 10))[:25]:
        clock.advance(timedelta(minutes=1))
        assert put_location(client, attacker, *h3.cell_to_latlng(child)).status_code == 204
        nearby = client.get("/api/v1/nearby", headers=attacker.headers).json()
        location = client.get("/api/v1/friends/victim/location", headers=attacker.headers).json()
        intents = client.get("/api/v1/intents", headers=attacker.headers).json()["friends"]
        answers.add(
            (
                str(nearby),
                location["cell"],
                str(location["center"]),
                location["label"],
                str([(i["activity"], i["label"]) for i in intents]),
            )
        )
    assert len(answers) == 1


FORBIDDEN_KEYS = {
    "accuracy",
    "accuracy_m",
    "acc",
    "speed",
    "bearing",
    "heading",
    "course",
    "distance",
    "distance_m",
    "vel",
    "cog",
    "alt",
}


def walk_keys(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, inner in value.items():
            yield key
            yield from walk_keys(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from walk_keys(inner)


def test_no_response_carries_finer_data_than_granted(
    client: TestClient, world: World, clock: FixedClock
) -> None:
    victim, friend = world.person("victim"), world.person("friend")
    world.befriend(victim, friend, a_puts_b_in="close", b_puts_a_in="close")
    share(client, victim, "close", "city")
    share(client, friend, "close", "block")
    put_location(
        client,
        victim,
        40.7420,
        -73.9870,
        accuracy_m=5,
        recorded_at=(clock.now() - timedelta(seconds=37)).isoformat(),
    )
    put_location(client, friend, 40.7500, -73.9800)
    client.post(
        "/api/v1/intents",
        headers=victim.headers,
        json={
            "activity": "lunch",
            "ends_at": (clock.now() + timedelta(hours=2)).isoformat(),
            "radius_m": 20000,
            "audience": ["close"],
        },
    )
    client.post(
        "/api/v1/intents",
        headers=friend.headers,
        json={
            "activity": "lunch",
            "ends_at": (clock.now() + timedelta(hours=2)).isoformat(),
            "radius_m": 20000,
            "audience": ["close"],
        },
    )
    bodies = [
        client.get(path, headers=friend.headers).json()
        for path in (
            "/api/v1/friends/victim/location",
            "/api/v1/nearby",
            "/api/v1/intents",
            "/api/v1/alerts",
        )
    ]
    for body in bodies:
        assert not FORBIDDEN_KEYS & set(walk_keys(body))
    location = bodies[0]
    assert h3.get_resolution(location["cell"]) == 5
    assert location["as_of"][14:19] in {f"{m:02d}:00" for m in range(0, 60, 5)}
    assert bodies[3][0]["label"] == "same city"
    assert bodies[1][0]["label"] == "same city"


def test_outsiders_learn_nothing_on_any_surface(
    client: TestClient, world: World, clock: FixedClock
) -> None:
    victim = world.person("victim")
    stranger, blocked, lapsed = (world.person(n) for n in ("stranger", "blocked", "lapsed"))
    world.befriend(victim, blocked, a_puts_b_in="close", b_puts_a_in="close")
    world.befriend(victim, lapsed, a_puts_b_in="close", b_puts_a_in="close")
    share(client, victim, "close", "off")
    client.put(
        "/api/v1/sharing/friends/lapsed",
        headers=victim.headers,
        json={
            "precision": "precise",
            "expires_at": (clock.now() + timedelta(minutes=10)).isoformat(),
        },
    )
    put_location(client, victim, 40.7420, -73.9870)
    client.post(
        "/api/v1/intents",
        headers=victim.headers,
        json={
            "activity": "walk",
            "ends_at": (clock.now() + timedelta(hours=3)).isoformat(),
            "radius_m": 5000,
            "audience": ["acquaintances"],
        },
    )
    world.block(victim, blocked)
    clock.advance(timedelta(minutes=11))  # the precise grant lapses
    views = []
    for outsider in (stranger, blocked, lapsed):
        put_location(client, outsider, 40.7425, -73.9875)
        views.append(
            (
                client.get("/api/v1/friends/victim/location", headers=outsider.headers).text,
                client.get("/api/v1/nearby", headers=outsider.headers).json(),
                client.get("/api/v1/intents", headers=outsider.headers).json()["friends"],
                client.get("/api/v1/alerts", headers=outsider.headers).json(),
            )
        )
    assert views[0] == views[1] == views[2]
    assert views[0][1:] == ([], [], [])
