""" "Who's up for it?" in real chromium: pick an activity, see ranked friends with reasons,
send a one-click invite, and the friend sees it in their inbox and answers.

Ana and Ben are set up through the API of the live server (accounts, friendship, Ben
keeps Ana close, both share their block and checked in at tennis at the same spot just
now); the browser does the rest. Skips with a reason when chromium or Playwright is
missing (the fixtures are the web shell's, from tests/web/conftest.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import PASSWORD
from tests.web.conftest import browser, live_server  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser

WAIT_MS = 15_000  # generous; a test that waits this long has failed
SPOT = {"lat": 40.7851, "lon": -73.9683}


@pytest.fixture(scope="module", autouse=True)
def no_trained_model(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    # The page must work (and say so) without a trained model: point at none.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KITH_PARTNERS_MODEL", str(tmp_path_factory.mktemp("m") / "none.json"))
        yield


def _api_person(client: httpx.Client, username: str, name: str) -> dict[str, str]:
    r = client.post(
        "/api/v1/accounts",
        json={"username": username, "password": PASSWORD, "display_name": name},
    )
    assert r.status_code == 201, r.text
    r = client.post("/api/v1/sessions", json={"username": username, "password": PASSWORD})
    assert r.status_code == 201, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def _tennis_friends(base: str) -> None:
    with httpx.Client(base_url=base, timeout=30) as client:
        ana = _api_person(client, "ana", "Ana Lima")
        ben = _api_person(client, "ben", "Ben Okafor")
        r = client.post("/api/v1/friend-requests", json={"username": "ben"}, headers=ana)
        assert r.status_code == 201, r.text
        r = client.post(f"/api/v1/friend-requests/{r.json()['id']}/accept", headers=ben)
        assert r.status_code == 200, r.text
        r = client.put("/api/v1/friends/ana/circle", json={"circle": "close"}, headers=ben)
        assert r.status_code == 200, r.text
        for who in (ana, ben):
            r = client.put(
                "/api/v1/sharing/circles/close", json={"precision": "block"}, headers=who
            )
            assert r.status_code == 200, r.text
            r = client.post(
                "/api/v1/me/check-ins", json={"activity": "tennis", **SPOT}, headers=who
            )
            assert r.status_code == 201, r.text
            assert r.json()["precision"] == "block"


def _page(chromium: Any, problems: list[str]) -> Any:
    context = chromium.new_context(viewport={"width": 1100, "height": 900})
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    return page


def _log_in(page: Any, base: str, username: str) -> None:
    from playwright.sync_api import expect

    page.goto(base + "/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Friends", exact=True)).to_be_visible()


def test_pick_an_activity_see_reasons_and_invite(
    browser: Any,  # noqa: F811
    live_server: str,  # noqa: F811
) -> None:
    from playwright.sync_api import expect

    _tennis_friends(live_server)
    problems: list[str] = []
    ana = _page(browser, problems)
    _log_in(ana, live_server, "ana")
    ana.get_by_role("link", name=re.compile(r"^Who's up\?")).click()
    expect(ana.get_by_role("heading", name="Who's up for it?")).to_be_visible()
    ana.get_by_label("Activity").select_option("tennis")
    ana.get_by_role("button", name="Find friends").click()

    ranked = ana.get_by_role("list", name="Friends, most likely first")
    ben_row = ranked.locator('[data-username="ben"]')
    expect(ben_row).to_contain_text("Ben Okafor")
    expect(ben_row.locator(".reasons")).to_contain_text("Ben Okafor has been out with you once")
    # No trained model on this server: the page says the baseline ranked.
    expect(ana.get_by_role("note")).to_contain_text("co-attendance baseline")

    ana.get_by_role("button", name="Invite Ben Okafor").click()
    expect(ana.get_by_role("status")).to_have_text("Invite sent to ben.")

    ben = _page(browser, problems)
    _log_in(ben, live_server, "ben")
    nav = ben.get_by_role("link", name=re.compile(r"^Who's up\?"))
    expect(nav).to_contain_text("1")  # one invite waiting for an answer
    ben.goto(live_server + "/partners/invites")
    invite = ben.locator("[data-invite]").first
    expect(invite).to_contain_text("Tennis with Ana Lima")
    ben.get_by_role("button", name="Yes to tennis with Ana Lima").click()
    expect(ben.get_by_role("status")).to_have_text("You answered yes.")
    expect(ben.locator("[data-invite]").first).to_contain_text("Your answer: yes")

    ana.goto(live_server + "/partners/invites")
    expect(ana.locator("[data-invite]").first).to_contain_text("Going: Ben Okafor")
    assert problems == []
