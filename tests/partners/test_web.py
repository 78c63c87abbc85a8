""" "Who's up?" page forms through the web app (TestClient): the calendar import.

The upload is a multipart form like any other page form: refused without the page's
CSRF token, and a bad file comes back as a readable message on the page, never a 500.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from kith.clock import FixedClock
from kith.config import Settings
from tests.partners.test_current import vcalendar
from tests.web.conftest import Pages, Visitor, csrf_field, flash


@pytest.fixture
def ana(pages: Pages, settings: Settings, tmp_path: Path) -> Visitor:
    # The real time: the browser's cookie jar lets a session expire by the real clock.
    settings.partners_model = tmp_path / "absent.json"
    return pages.member("ana")


@pytest.fixture
def busy_tomorrow(clock: FixedClock) -> bytes:
    tomorrow = clock.now() + timedelta(days=1)
    return vcalendar(
        f"DTSTART:{tomorrow:%Y%m%dT090000Z}\r\nDTEND:{tomorrow:%Y%m%dT110000Z}\r\n"
    ).encode()


@pytest.fixture
def imported(clock: FixedClock) -> tuple[str, str]:
    until = clock.now() + timedelta(days=30)  # the default history retention
    return ("ok", f"Calendar imported: 1 busy time ahead, kept until {until:%d %b %Y}.")


def upload(ana: Visitor, content: bytes, name: str = "work.ics") -> tuple[str, str] | None:
    r = ana.submit(
        "/partners/calendar",
        {},
        from_page="/partners",
        files={"ics": (name, content, "text/calendar")},
    )
    assert r.status_code == 200, r.text
    assert r.url.path == "/partners"
    return flash(r)


def test_the_page_imports_a_calendar_file(
    ana: Visitor, busy_tomorrow: bytes, imported: tuple[str, str]
) -> None:
    page = ana.get("/partners")
    assert 'enctype="multipart/form-data"' in page.text
    assert 'action="/partners/calendar"' in page.text
    assert upload(ana, busy_tomorrow) == imported


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"", "Choose an .ics file to import (it was empty or missing)."),
        (b"hello", "Not an iCalendar file (it must start with BEGIN:VCALENDAR)."),
        (b"\xff\xfe\x00B", "The calendar must be UTF-8 text."),
        (
            b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART:tomorrow\r\nEND:VEVENT\r\n"
            b"END:VCALENDAR\r\n",
            "Line 4: expected a UTC time (20260308T100000Z), a TZID time or a date "
            "(VALUE=DATE:20260308), got 'tomorrow'.",
        ),
    ],
)
def test_a_bad_file_gets_a_readable_message(ana: Visitor, content: bytes, says: str) -> None:
    assert upload(ana, content) == ("error", says)


def test_the_upload_needs_the_pages_csrf_token(
    ana: Visitor, busy_tomorrow: bytes, imported: tuple[str, str]
) -> None:
    page = ana.get("/partners")
    r = ana.client.post(
        "/partners/calendar",
        data={"csrf_token": "x" * 43},
        files={"ics": ("work.ics", busy_tomorrow, "text/calendar")},
    )
    assert r.status_code == 403
    r = ana.client.post(
        "/partners/calendar",
        data={"csrf_token": csrf_field(page)},
        files={"ics": ("work.ics", busy_tomorrow, "text/calendar")},
    )
    assert flash(r) == imported
