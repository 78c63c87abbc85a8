"""The presence pages in real chromium: two close friends meet over coffee.

Ana and Ben (two browser contexts) are close friends sharing their neighbourhood.
Ana says where she is with "I'm at ...", Ben with the browser's geolocation. Ana
posts "up for coffee" and opens her inbox, Ben posts a matching intent, and Ana's
inbox shows the alert live, without a reload; she answers "I'm in" and the meetup
appears on both sides.

Set ``KITH_SCREENSHOT_DIR`` to keep screenshots of the four pages for a look.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.web.test_browser import WAIT_MS, _new_page, _sign_up

pytestmark = pytest.mark.browser

# Union Square, and a point about 300 m north-east: the same neighbourhood cell.
ANA_AT = ("40.73590", "-73.99110")
BEN_AT = ("40.73800", "-73.98850")


def _shot(page: Any, name: str) -> None:
    shots = os.environ.get("KITH_SCREENSHOT_DIR")
    if shots:
        # caret="initial": hiding the caret injects a <style>, which our CSP refuses.
        page.screenshot(path=str(Path(shots) / f"{name}.png"), full_page=True, caret="initial")


def _token(page: Any) -> str:
    """The session cookie: the API takes the same token as a bearer."""
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    return str(cookies["kith_session"])


def _close_friends(base: str, a: Any, b: Any) -> None:
    """Set-up through the API (the friends pages have their own browser test)."""
    ha = {"Authorization": f"Bearer {_token(a)}"}
    hb = {"Authorization": f"Bearer {_token(b)}"}
    with httpx.Client(base_url=base) as api:
        r = api.post("/api/v1/friend-requests", json={"username": "ben"}, headers=ha)
        assert r.status_code == 201, r.text
        r = api.post(f"/api/v1/friend-requests/{r.json()['id']}/accept", headers=hb)
        assert r.status_code == 200, r.text
        for headers, other in ((ha, "ben"), (hb, "ana")):
            r = api.put(
                f"/api/v1/friends/{other}/circle", json={"circle": "close"}, headers=headers
            )
            assert r.status_code == 200, r.text


def _share_neighbourhood(page: Any, base: str) -> None:
    from playwright.sync_api import expect

    page.goto(base + "/sharing")
    row = page.locator('li[data-circle="close"]')
    row.get_by_label("Precision for Close friends").select_option("neighbourhood")
    row.get_by_role("button", name="Save Close friends").click()
    expect(page.get_by_role("status")).to_have_text("People in “close” now see your neighbourhood.")
    expect(page.locator('li[data-circle="close"]')).to_contain_text("now: Neighbourhood")


def _im_at(page: Any, base: str, lat: str, lon: str) -> None:
    from playwright.sync_api import expect

    page.goto(base + "/map")
    page.get_by_label("Latitude").fill(lat)
    page.get_by_label("Longitude").fill(lon)
    page.get_by_role("button", name="I'm here").click()
    expect(page.get_by_role("status").first).to_have_text(
        "Location updated. Friends see it only as precisely as you share with them."
    )


def _up_for_coffee(page: Any, base: str) -> str:
    from playwright.sync_api import expect

    page.goto(base + "/intents")
    page.get_by_label("Activity").select_option("coffee")
    page.get_by_label("Now").check()
    page.get_by_label("Close friends").check()
    page.get_by_role("button", name="Post intent").click()
    status = page.get_by_role("status").first
    expect(status).to_contain_text("Posted: up for coffee now until")
    return str(status.text_content())


def test_matching_intents_alert_live_and_become_a_meetup(browser: Any, live_server: str) -> None:
    from playwright.sync_api import expect

    problems: list[str] = []
    ana = _new_page(browser, problems)
    ben = _new_page(browser, problems)
    _sign_up(ana, live_server, "ana", "Ana Lima")
    _sign_up(ben, live_server, "ben", "Ben Okafor")
    _close_friends(live_server, ana, ben)

    for page in (ana, ben):
        _share_neighbourhood(page, live_server)
    _shot(ana, "sharing")

    # A click on the map fills in "I'm at ..."; the typed position is what is saved.
    ana.goto(live_server + "/map")
    ana.locator(".map").click()
    expect(ana.get_by_label("Latitude")).not_to_have_value("")
    _im_at(ana, live_server, *ANA_AT)
    # Ben lets the browser tell kith where he is.
    ben.context.grant_permissions(["geolocation"], origin=live_server)
    ben.context.set_geolocation({"latitude": float(BEN_AT[0]), "longitude": float(BEN_AT[1])})
    ben.goto(live_server + "/map")
    ben.get_by_role("button", name="Use my current location").click()
    expect(ben.get_by_role("status").first).to_have_text(
        "Location updated. Friends see it only as precisely as you share with them."
    )
    # Each sees the other on the map, at neighbourhood precision, from cells only.
    ana.reload()
    friend = ana.locator('#nearby [data-username="ben"]')
    expect(friend).to_contain_text("same neighbourhood")
    expect(friend).to_contain_text("Neighbourhood")
    expect(ana.locator(".map path.cell-friend")).to_have_count(1)
    expect(ana.locator(".map path.cell-me")).to_have_count(1)
    _shot(ana, "map")

    assert "matches" not in _up_for_coffee(ana, live_server)
    _shot(ana, "intents")

    # Ana waits in her inbox; a marker on the window shows it is never reloaded.
    ana.goto(live_server + "/alerts")
    expect(ana.locator("#live-status")).to_have_text("Live: new alerts appear here as they happen.")
    ana.evaluate("window.kithMarker = 'still here'")
    expect(ana.locator("#alert-list li")).to_have_count(0)

    ben.goto(live_server + "/alerts")
    expect(ben.locator("#live-status")).to_contain_text("Live")
    ben.evaluate("window.kithMarker = 'still here'")
    assert "It matches a friend's plan" in _up_for_coffee(ben, live_server)

    alert = ana.locator('#alert-list li[data-username="ben"]')
    expect(alert).to_contain_text("Ben Okafor is up for coffee too", timeout=WAIT_MS)
    expect(alert).to_contain_text("same neighbourhood")
    assert ana.evaluate("window.kithMarker") == "still here"
    _shot(ana, "alerts-live")

    alert.get_by_role("button", name="I'm in with Ben Okafor").click()
    expect(ana.get_by_role("status").first).to_contain_text("You're in for coffee.")
    meetup = ana.locator('#meetups [data-username="ben"]')
    expect(meetup).to_contain_text("Coffee with Ben Okafor")
    expect(ana.locator('#alert-list li[data-username="ben"]')).to_contain_text("You're in")
    link = meetup.get_by_role("link", name="Add to calendar")
    assert link.get_attribute("href", timeout=WAIT_MS).endswith(".ics")
    _shot(ana, "alerts-answered")

    # Ben, whose inbox page was open all along (he posted from another page and came
    # back), gets Ana's "I'm in" and the meetup the same way.
    ben.goto(live_server + "/alerts")
    ben.evaluate("window.kithMarker = 'still here'")
    expect(ben.locator('#meetups [data-username="ana"]')).to_contain_text("Coffee with Ana Lima")
    expect(ben.locator('#alert-list li[data-username="ana"]').last).to_contain_text(
        "Ana Lima is in for coffee!"
    )

    # The calendar file downloads with the session cookie.
    with ana.expect_download() as download:
        link.click()
    assert download.value.suggested_filename.startswith("meetup-")
    assert "BEGIN:VEVENT" in Path(download.value.path()).read_text()
    assert problems == [], "\n".join(problems)
