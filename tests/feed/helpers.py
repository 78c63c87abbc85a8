"""Acting on the feed through the HTTP API, for the feed's API and web tests."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import Person

FEED = "/api/v1/feed"


def post(
    client: TestClient,
    who: Person,
    text: str,
    *,
    topics: list[str] | None = None,
    audience: list[str] | None = None,
    link: str | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {"text": text}
    if topics is not None:
        body["topics"] = topics
    if audience is not None:
        body["audience"] = audience
    if link is not None:
        body["link"] = link
    r = client.post("/api/v1/posts", json=body, headers=who.headers)
    assert r.status_code == 201, r.text
    result: dict[str, Any] = r.json()
    return result


def feed(client: TestClient, who: Person, **params: str) -> dict[str, Any]:
    r = client.get(FEED, params=params, headers=who.headers)
    assert r.status_code == 200, r.text
    result: dict[str, Any] = r.json()
    return result


def ids(page: dict[str, Any]) -> list[int]:
    return [item["post"]["id"] for item in page["items"]]


def topics_of(page: dict[str, Any]) -> list[str]:
    return [t for item in page["items"] for t in item["post"]["topics"]]


def read_all(client: TestClient, who: Person, **params: str) -> list[dict[str, Any]]:
    """Every page of a kith feed until the caught-up card; returns the pages."""
    pages = [feed(client, who, **params)]
    while pages[-1]["next_cursor"]:
        assert len(pages) < 100, "the feed never stopped"
        pages.append(feed(client, who, cursor=pages[-1]["next_cursor"]))
    return pages


def set_goals(
    client: TestClient,
    who: Person,
    mix: dict[str, float],
    *,
    budget: int = 30,
    ranker: str = "aligned",
    rules: list[dict[str, Any]] | None = None,
) -> Any:
    body: dict[str, Any] = {"target_mix": mix, "daily_budget_minutes": budget, "ranker": ranker}
    if rules is not None:
        body["rules"] = rules
    return client.put("/api/v1/me/goals", json=body, headers=who.headers)


def feedback(client: TestClient, who: Person, post_id: int, kind: str, **extra: str) -> Any:
    return client.post(
        f"{FEED}/items/{post_id}/feedback", json={"feedback": kind, **extra}, headers=who.headers
    )
