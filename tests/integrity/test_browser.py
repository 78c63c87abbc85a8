"""In real chromium: a moderator opens a case, reads the evidence, labels it, and the
posts show the label in a friend's feed; one of the accounts reads the notice and
appeals, and the appeal shows in the queue.

Three accounts post the same text within seconds, four times (through the API, on a
server whose clock the test moves); ``kith integrity moderator add`` and ``kith
integrity scan`` run as the operator would. Skips with a reason when chromium or
Playwright is missing (fixtures from tests/web).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from kith.api.app import create_app
from kith.cli.main import app as cli
from kith.clock import FixedClock
from kith.config import Settings
from kith.storage.migrate import upgrade
from tests.conftest import PASSWORD
from tests.integrity.helpers import BOTS, BURSTS, CAMPAIGN_LINK, CAMPAIGN_TEXT, PEOPLE
from tests.web.conftest import _serve, browser  # noqa: F401  (fixture)

pytestmark = pytest.mark.browser
WAIT_MS = 15_000
LABEL = "Coordinated campaign"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, FixedClock]]:
    """A real uvicorn over a fresh SQLite file, with a clock the test moves."""
    url = f"sqlite:///{tmp_path_factory.mktemp('live') / 'kith.db'}"
    settings = Settings(env="test", password_hashing="fast", database_url=url)
    upgrade(settings)
    clock = FixedClock()
    app = create_app(settings, clock=clock)
    serving = _serve(app)
    base = next(serving)
    yield base, url, clock
    next(serving, None)  # runs _serve's finally: the server stops


def _account(api: httpx.Client, username: str) -> dict[str, str]:
    body = {"username": username, "password": PASSWORD, "display_name": username.title()}
    assert api.post("/api/v1/accounts", json=body).status_code == 201
    r = api.post("/api/v1/sessions", json={"username": username, "password": PASSWORD})
    return {"Authorization": f"Bearer {r.json()['token']}"}


def _seed(base: str, clock: FixedClock) -> None:
    with httpx.Client(base_url=base, timeout=30) as api:
        _account(api, "mod")
        fan = _account(api, "fan")
        bots = [_account(api, name) for name in BOTS]
        people = [_account(api, name) for name in PEOPLE]
        r = api.post("/api/v1/friend-requests", json={"username": "fan"}, headers=bots[0])
        assert api.post(f"/api/v1/friend-requests/{r.json()['id']}/accept", headers=fan).is_success
        for n in range(BURSTS):
            for bot, person, name in zip(bots, people, PEOPLE, strict=True):
                body = {"text": CAMPAIGN_TEXT.format(n=n), "link": CAMPAIGN_LINK.format(n=n)}
                assert api.post("/api/v1/posts", json=body, headers=bot).status_code == 201
                # Ordinary posts at the same moments, each their own: the baseline.
                body = {"text": f"{name} thinks about lunch number {n}"}
                assert api.post("/api/v1/posts", json=body, headers=person).status_code == 201
                clock.advance(timedelta(seconds=3))
            clock.advance(timedelta(hours=2))


def _operator(url: str, *args: str) -> str:
    result = CliRunner().invoke(cli, list(args), env={"KITH_DATABASE_URL": url})
    assert result.exit_code == 0, result.output
    return result.output


def _page(browser: Any, base: str, username: str, problems: list[str]) -> Any:  # noqa: F811
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1100, "height": 900})
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(base + "/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    return page


def test_moderator_labels_a_case_and_the_friend_sees_the_label(
    browser: Any,  # noqa: F811
    server: tuple[str, str, FixedClock],
    tmp_path: Path,
) -> None:
    from playwright.sync_api import expect

    base, url, clock = server
    _seed(base, clock)
    assert "mod is a moderator" in _operator(url, "integrity", "moderator", "add", "mod")
    assert "2 cases, 2 new" in _operator(url, "integrity", "scan")

    problems: list[str] = []
    mod = _page(browser, base, "mod", problems)
    mod.goto(base + "/moderation")
    expect(mod.get_by_role("heading", name="Review queue")).to_be_visible()
    mod.locator("[data-case^='co_tweet'] a").click()
    expect(mod.get_by_role("heading", name="Evidence")).to_be_visible()
    evidence = mod.locator("table.evidence tbody tr")
    expect(evidence).to_have_count(12)
    expect(evidence.first).to_contain_text(CAMPAIGN_TEXT.format(n=0))
    expect(evidence.first).to_contain_text("3 s")
    expect(mod.locator("ol.timeline li")).to_have_count(12)

    mod.get_by_label("Label the posts").check()
    mod.get_by_label("Label (for a label decision)").fill(LABEL)
    mod.get_by_label("Reason (kept in the log)").fill("Same text 3 s apart, four times.")
    mod.get_by_role("button", name="Record decision").click()
    expect(mod.get_by_role("status")).to_contain_text(f"Decision recorded: label “{LABEL}”")
    expect(mod.locator("ul.decisions")).to_contain_text("Same text 3 s apart, four times.")

    fan = _page(browser, base, "fan", problems)
    fan.goto(base + "/feed")
    posts = fan.locator("article.post")
    expect(posts).to_have_count(BURSTS)
    for i in range(BURSTS):
        expect(posts.nth(i).get_by_role("note")).to_have_text(f"Labelled on review: {LABEL}")

    bot = _page(browser, base, "bot_b", problems)
    bot.goto(base + "/notices")
    notice = bot.locator("section.notice")
    expect(notice).to_contain_text("Your posts were labelled")
    expect(notice).to_contain_text("4 of your posts matched what 2 other accounts posted")
    notice.get_by_label("Why is this wrong?").fill("We are friends at one rally.")
    notice.get_by_role("button", name="Appeal").click()
    expect(bot.get_by_role("status")).to_contain_text("Your appeal was sent")

    mod.goto(base + "/moderation")
    expect(mod.locator("[data-case^='co_tweet']")).to_contain_text("1 appeal")
    assert problems == []
