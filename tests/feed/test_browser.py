"""In real chromium: set a goal with the sliders and see the next page of the feed change.

Ana posts 30 food and 30 sports posts; Ben moves the sliders to food only, and his page is
food; he moves them to sports only, and his next page is sports, while unseen food posts
are still there. He opens "Why am I seeing this?" and reads which goal a post serves.
Skips with a reason when chromium or Playwright is missing (fixtures from tests/web).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from kith.feed.topics import FEED_TOPICS
from tests.conftest import PASSWORD
from tests.web.conftest import browser, live_server  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser
WAIT_MS = 15_000


def _account(api: httpx.Client, username: str, name: str) -> dict[str, str]:
    body = {"username": username, "password": PASSWORD, "display_name": name}
    assert api.post("/api/v1/accounts", json=body).status_code == 201
    r = api.post("/api/v1/sessions", json={"username": username, "password": PASSWORD})
    return {"Authorization": f"Bearer {r.json()['token']}"}


def _seed(base: str) -> None:
    with httpx.Client(base_url=base, timeout=30) as api:
        ana, ben = _account(api, "ana", "Ana Lima"), _account(api, "ben", "Ben Okafor")
        r = api.post("/api/v1/friend-requests", json={"username": "ben"}, headers=ana)
        assert api.post(f"/api/v1/friend-requests/{r.json()['id']}/accept", headers=ben).is_success
        for i in range(30):
            for topic, text in (
                ("foodanddrink", "Tried a new soup recipe"),
                ("sports", "Match day"),
            ):
                body = {"text": f"{text} #{i}", "topics": [topic]}
                assert api.post("/api/v1/posts", json=body, headers=ana).status_code == 201


def _set_goal(page: Any, topic: str) -> None:
    from playwright.sync_api import expect

    page.get_by_role("link", name="Your goals").click()
    expect(page.get_by_role("heading", name="Your goals", level=1)).to_be_visible()
    for name in FEED_TOPICS:
        page.locator(f"#mix-{name}").fill("100" if name == topic else "0")
    # The page shows each slider's share of the whole as it moves (feed.js).
    expect(page.locator(f'[data-share-for="{topic}"]')).to_have_text("100%")
    page.get_by_role("button", name="Save goals").click()
    expect(page.get_by_role("status")).to_have_text("Goals saved; your next page follows them.")


def _topics(page: Any) -> list[str]:
    topics: list[str] = page.locator("article.post").evaluate_all(
        "posts => posts.map(p => p.dataset.topics)"
    )
    return topics


def test_setting_a_goal_changes_the_next_page(browser: Any, live_server: str) -> None:  # noqa: F811
    from playwright.sync_api import expect

    _seed(live_server)
    problems: list[str] = []
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))

    page.goto(live_server + "/login")
    page.get_by_label("Username").fill("ben")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Feed", exact=True).click()
    expect(page.get_by_role("heading", name="Feed", level=1)).to_be_visible()

    _set_goal(page, "foodanddrink")
    page.get_by_role("link", name="Feed", exact=True).first.click()
    expect(page.locator("article.post")).to_have_count(20)
    first = _topics(page)
    assert first.count("foodanddrink") >= 17, first

    # "Why am I seeing this?" opens in place and names the goal the post serves.
    post = page.locator("article.post").first
    why = post.locator("details.why")
    why.get_by_text("Why am I seeing this?").click()
    expect(why).to_have_attribute("open", "")
    expect(why).to_contain_text("Counts toward foodanddrink")
    expect(why).to_contain_text("you asked for it in your goals")

    next_page = page.get_by_role("link", name="Next page").get_attribute("href")
    _set_goal(page, "sports")
    page.goto(live_server + next_page)
    expect(page.locator("article.post")).to_have_count(20)
    second = _topics(page)
    assert second.count("sports") >= 17, second
    assert problems == []
