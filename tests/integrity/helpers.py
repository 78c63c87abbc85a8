"""A small kith world with one coordinated group, built through the public API.

Three accounts ("bots") post the same text with the same link within seconds of each
other, four times; three ordinary people post their own things at the same moments
(so the baseline has accounts that merely posted at the same time). ``fan`` is a
friend of the first bot and sees its posts in the feed; ``mod`` moderates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from fastapi import FastAPI

from kith.clock import FixedClock
from kith.integrity.actions import ScanConfig, ScanResult, do_grant_moderator, do_scan_posts
from tests.conftest import Person, World

BOTS = ("bot_a", "bot_b", "bot_c")
PEOPLE = ("pia", "raj", "sol")
BURSTS = 4
CAMPAIGN_TEXT = "The election was stolen, share before they delete this! #{n}"
CAMPAIGN_LINK = "https://stolen.example/{n}"


@dataclass
class Scene:
    world: World
    app: FastAPI
    clock: FixedClock
    mod: Person
    fan: Person
    bots: list[Person]
    people: list[Person]
    bot_posts: dict[str, list[int]]

    def scan(self, **overrides: object) -> ScanResult:
        with self.app.state.kith.database.session() as db:
            return do_scan_posts(db, ScanConfig(**overrides), now=self.clock.now())  # type: ignore[arg-type]

    def post(self, who: Person, text: str, link: str | None = None) -> int:
        body: dict[str, object] = {"text": text}
        if link:
            body["link"] = link
        r = self.world.client.post("/api/v1/posts", json=body, headers=who.headers)
        assert r.status_code == 201, r.text
        post_id: int = r.json()["id"]
        return post_id

    def burst(self, n: int) -> None:
        """One coordinated burst: each bot 3 s after the previous, ordinary posts between."""
        for i, bot in enumerate(self.bots):
            self.bot_posts[bot.username].append(
                self.post(bot, CAMPAIGN_TEXT.format(n=n), CAMPAIGN_LINK.format(n=n))
            )
            self.post(self.people[i], f"{self.people[i].username} thinks about lunch number {n}")
            self.clock.advance(timedelta(seconds=3))


def build_scene(world: World, app: FastAPI, clock: FixedClock) -> Scene:
    mod = world.person("mod", "Mo Derator")
    fan = world.person("fan", "Fan Friend")
    bots = [world.person(name) for name in BOTS]
    people = [world.person(name) for name in PEOPLE]
    world.befriend(bots[0], fan)
    with app.state.kith.database.session() as db:
        do_grant_moderator(db, "mod", now=clock.now())
    scene = Scene(world, app, clock, mod, fan, bots, people, {name: [] for name in BOTS})
    for n in range(BURSTS):
        scene.burst(n)
        clock.advance(timedelta(hours=2))
    return scene
