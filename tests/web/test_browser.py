"""Click through the web app in real chromium (Debian's package, headless).

Two people in two browser contexts (separate cookie jars): both sign up, one finds
the other and sends a request, the other accepts, and the first moves the friend
into ``close``. Skips with a reason when chromium or Playwright is missing.

Set ``KITH_SCREENSHOT_DIR`` to keep a screenshot of the friends page for a look.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

# Generous, but a test that waits this long has failed; it is not a timing assertion.
WAIT_MS = 15_000


def _watch_console(page: Any, problems: list[str]) -> None:
    """Collect script errors and CSP violations, which a broken page shows only here."""
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))


def _new_page(browser: Any, problems: list[str]) -> Any:
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    _watch_console(page, problems)
    return page


def _sign_up(page: Any, base: str, username: str, name: str) -> None:
    from playwright.sync_api import expect

    page.goto(base + "/signup")
    page.get_by_label("Username", exact=True).fill(username)
    page.get_by_label("Your name").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("heading", name="Friends", exact=True)).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text(f"Welcome to kith, {name}.")


def test_sign_up_befriend_and_move_to_close(browser: Any, live_server: str) -> None:
    from playwright.sync_api import expect

    problems: list[str] = []
    ana = _new_page(browser, problems)
    ben = _new_page(browser, problems)
    _sign_up(ana, live_server, "ana", "Ana Lima")
    _sign_up(ben, live_server, "ben", "Ben Okafor")
    assert ana.evaluate("typeof window.htmx") == "object"  # vendored htmx loaded

    # Ana finds Ben: results appear as she types (htmx), no page load.
    ana.get_by_label("Username or name").fill("ben")
    ana.get_by_role("button", name="Add friend Ben Okafor").click()
    expect(ana.get_by_role("status")).to_have_text("Friend request sent to ben.")
    expect(ana.locator('#people [data-username="ben"]')).to_contain_text("Request sent")

    # Ben sees a badge on Requests and accepts.
    ben.reload()
    requests_link = ben.get_by_role("link", name=re.compile(r"^Requests"))
    expect(requests_link).to_contain_text("1")
    requests_link.click()
    expect(ben.get_by_role("heading", name="Friend requests")).to_be_visible()
    ben.get_by_role("button", name="Accept Ana Lima").click()
    expect(ben.get_by_role("status")).to_have_text("You and Ana Lima are now friends.")

    # Ana moves Ben from friends to close; the page shows him there.
    ana.get_by_role("link", name="Friends", exact=True).click()
    expect(ana.locator('section[data-circle="friends"]')).to_contain_text("Ben Okafor")
    ana.get_by_label("Circle for Ben Okafor").select_option("close")
    ana.get_by_role("button", name="Move Ben Okafor").click()
    expect(ana.get_by_role("status")).to_have_text("Moved ben to close.")
    close = ana.locator('section[data-circle="close"]')
    expect(close).to_contain_text("Ben Okafor")
    expect(close.get_by_role("heading")).to_contain_text("Close friends 1")
    expect(ana.locator('section[data-circle="friends"]')).not_to_contain_text("Ben Okafor")
    assert ana.url == live_server + "/friends"

    shots = os.environ.get("KITH_SCREENSHOT_DIR")
    if shots:
        ana.screenshot(path=str(Path(shots) / "friends.png"), full_page=True)
    assert problems == []


def test_keyboard_only_log_in_with_visible_focus(browser: Any, live_server: str) -> None:
    from playwright.sync_api import expect

    problems: list[str] = []
    page = _new_page(browser, problems)
    _sign_up(page, live_server, "cid", "Cid")
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("status")).to_have_text("You are logged out.")

    page.goto(live_server + "/login")
    page.keyboard.press("Tab")
    focused = page.evaluate(
        "() => [document.activeElement.textContent.trim(),"
        " getComputedStyle(document.activeElement).outlineStyle]"
    )
    assert focused == ["Skip to content", "solid"]  # the first stop, and you can see it
    page.keyboard.press("Enter")  # skip the header
    for _ in range(10):  # tab until the username field; never rely on a fixed count
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "f-username":
            break
    page.keyboard.type("cid")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Friends", exact=True)).to_be_visible()
    expect(page.get_by_role("status")).to_have_text("Hello, Cid.")
    assert problems == []
