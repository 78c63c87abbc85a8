"""Synthetic candidates with known answers, shared by the feed tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kith.feed.rankers.base import Post
from kith.feed.topics import TopicSpace
from tests.web.conftest import Pages

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
SPACE = TopicSpace(("friends", "science", "sports", "surfing"))


def post(
    item_id: int,
    *,
    author: int | None = None,
    topics: tuple[str, ...] = ("friends",),
    hours_ago: float = 1.0,
    in_network: bool = True,
    relevance: float = 0.5,
    **engagement: float,
) -> Post:
    return Post(
        item_id=item_id,
        author_id=item_id if author is None else author,
        topics=topics,
        created_at=NOW - timedelta(hours=hours_ago),
        in_network=in_network,
        relevance=relevance,
        engagement=engagement or {"fav": 0.1, "good_click": 0.1},
    )


@pytest.fixture
def space() -> TopicSpace:
    return SPACE


@pytest.fixture
def pages(app: FastAPI, client: TestClient) -> Pages:
    """Browser-like visitors on the running app (the web shell's helper)."""
    return Pages(app)
