"""The presence pages (map, sharing, intents, alerts) end to end through HTTP, both backends.

Every change is made by posting the page's own form with its CSRF token, and checked
on the page that shows it and, where it matters, through the API. Bad input of every
form comes back as a readable message on the page, never as an error page or a 500.
"""

from __future__ import annotations

import html
import json
import re
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import h3
import httpx
import pytest
from fastapi.testclient import TestClient

from kith.api.app import create_app
from kith.clock import FixedClock
from kith.config import Settings
from kith.presence.geo import Precision, cell_at
from tests.web.conftest import Pages, Visitor, flash

PRESENCE_PAGES = ["/map", "/sharing", "/intents", "/alerts"]
# Union Square, and a point about 300 m away in the same neighbourhood cell.
ANA_AT = (40.7359, -73.9911)
BEN_AT = (40.7380, -73.9885)
LONDON = (51.5072, -0.1276)


# --- helpers ------------------------------------------------------------------------


def api(visitor: Visitor, method: str, path: str, **kw: Any) -> httpx.Response:
    """The API as this visitor: their session token works as a bearer token."""
    headers = {"Authorization": f"Bearer {visitor.token}"}
    response: httpx.Response = visitor.client.request(method, path, headers=headers, **kw)
    return response


def befriend(a: Visitor, b: Visitor, b_name: str, a_name: str, circle: str = "close") -> None:
    r = api(a, "POST", "/api/v1/friend-requests", json={"username": b_name})
    assert r.status_code == 201, r.text
    r = api(b, "POST", f"/api/v1/friend-requests/{r.json()['id']}/accept")
    assert r.status_code == 200, r.text
    for owner, friend in ((a, b_name), (b, a_name)):
        r = api(owner, "PUT", f"/api/v1/friends/{friend}/circle", json={"circle": circle})
        assert r.status_code == 200, r.text


def said(response: httpx.Response) -> tuple[str, str]:
    """The page's message, after a form post and its redirect."""
    assert response.status_code == 200, response.text
    message = flash(response)
    assert message is not None, "the page shows no message"
    return message


def share(visitor: Visitor, circle: str, precision: str, duration: str = "") -> httpx.Response:
    return visitor.submit(
        "/sharing/circle",
        {"circle": circle, "precision": precision, "duration": duration},
        from_page="/sharing",
    )


def im_at(visitor: Visitor, lat: float | str, lon: float | str) -> httpx.Response:
    return visitor.submit("/map/location", {"lat": str(lat), "lon": str(lon)}, from_page="/map")


def map_data(visitor: Visitor) -> dict[str, Any]:
    page = visitor.get("/map")
    assert page.status_code == 200
    match = re.search(r'<script type="application/json" id="map-data">(.*?)</script>', page.text)
    assert match, "the map page carries no map data"
    data: dict[str, Any] = json.loads(html.unescape(match.group(1)))
    return data


def intent_form(**overrides: str) -> dict[str, str]:
    form = {
        "activity": "coffee",
        "activity_other": "",
        "when": "now",
        "hours": "2",
        "starts_at": "",
        "ends_at": "",
        "radius_m": "2000",
        "audience:close": "on",
    }
    form.update(overrides)
    return form


def post_intent(visitor: Visitor, **overrides: str) -> httpx.Response:
    return visitor.submit("/intents", intent_form(**overrides), from_page="/intents")


def items(page_html: str, attribute: str) -> list[str]:
    return re.findall(rf'{attribute}="([^"]+)"', page_html)


@pytest.fixture(autouse=True)
def morning(clock: FixedClock) -> None:
    """Ten in the morning (UTC) today, so that times in a few hours are still today."""
    clock.set(clock.now().replace(hour=10, minute=0, second=0, microsecond=0))


@pytest.fixture
def pair(pages: Pages) -> tuple[Visitor, Visitor]:
    """Ana and Ben: close friends who share their neighbourhood and say where they are.

    Set up through the API; the forms that do the same are tested on their own.
    """
    ana, ben = pages.member("ana", "Ana Lima"), pages.member("ben", "Ben Okafor")
    befriend(ana, ben, "ben", "ana")
    for visitor, (lat, lon) in ((ana, ANA_AT), (ben, BEN_AT)):
        grant = {"precision": "neighbourhood"}
        assert api(visitor, "PUT", "/api/v1/sharing/circles/close", json=grant).status_code == 200
        where = {"lat": lat, "lon": lon}
        assert api(visitor, "PUT", "/api/v1/me/location", json=where).status_code == 204
    return ana, ben


# --- every page ---------------------------------------------------------------------


def test_presence_pages_send_strangers_to_login(pages: Pages) -> None:
    for path in PRESENCE_PAGES:
        r = pages.visitor().get(path, follow_redirects=False)
        assert r.status_code == 303
        assert r.headers["location"] == f"/login?next={path}"


def test_a_new_member_sees_every_page_with_nothing_shared(pages: Pages) -> None:
    ana = pages.member("ana")
    for path in PRESENCE_PAGES:
        r = ana.get(path)
        assert r.status_code == 200, path
        assert f'<a href="{path}" aria-current="page">' in r.text  # in the nav, and current
        assert "no-store" in r.headers["cache-control"]
    data = map_data(ana)
    assert data["me"] is None
    assert data["friends"] == []
    assert data["tiles"] == ""
    assert "You share your position with no one yet" in ana.get("/map").text
    sharing = ana.get("/sharing").text
    assert sharing.count("now: <span") == 3
    assert sharing.count('class="tag tag-off">Off</span>') == 3
    assert "You have no intents right now." in ana.get("/intents").text
    inbox = ana.get("/alerts").text
    assert 'id="alert-list" data-last-id="0"' in inbox
    assert "When you and a friend are both in" in inbox


def test_the_map_uses_the_tile_server_when_one_is_set(
    settings: Settings, clock: FixedClock
) -> None:
    tiles = "https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png"
    app = create_app(settings.model_copy(update={"tile_url": tiles}), clock=clock)
    try:
        with TestClient(app):
            data = map_data(Pages(app).member("ana"))
        assert data["tiles"] == tiles
        assert data["attribution"] == "© OpenStreetMap contributors"
    finally:
        app.state.kith.database.dispose()


def test_forms_without_the_csrf_token_are_refused(pages: Pages) -> None:
    ana = pages.member("ana")
    for action in ["/map/location", "/sharing/circle", "/intents", "/alerts/settings"]:
        r = ana.client.post(action, data={"lat": "1", "lon": "1"})
        assert r.status_code == 403, action
        assert "This form has expired" in r.text
    assert api(ana, "GET", "/api/v1/sharing").json()["circles"][0]["precision"] == "off"


# --- map and location -----------------------------------------------------------------


def test_friends_are_drawn_as_the_cells_they_grant(
    pages: Pages, pair: tuple[Visitor, Visitor]
) -> None:
    ana, _ben = pair
    carl = pages.member("carl")
    befriend(ana, carl, "carl", "ana", circle="friends")  # Carl shares nothing

    data = map_data(ana)
    [friend] = data["friends"]
    assert friend["username"] == "ben"
    assert friend["precision"] == "neighbourhood"
    assert friend["label"] == "same neighbourhood"
    ben_cell = cell_at(*BEN_AT, Precision.NEIGHBOURHOOD)
    expected = [[round(a, 6), round(b, 6)] for a, b in h3.cell_to_boundary(ben_cell)]
    assert friend["outline"] == expected
    # The page has what the API says Ben shares, and not a digit more of where he is.
    assert api(ana, "GET", "/api/v1/friends/ben/location").json()["cell"] == ben_cell
    # Nothing but the cell's outline and words: no point, no distance, no time.
    assert set(friend) == {"name", "username", "precision", "label", "outline"}
    page = ana.get("/map").text
    assert data["me"]["precision"] == "block"
    assert data["me"]["outline"] == [
        [round(a, 6), round(b, 6)]
        for a, b in h3.cell_to_boundary(cell_at(*ANA_AT, Precision.BLOCK))
    ]
    nearby = page.split('id="nearby"', 1)[1]
    assert items(nearby, "data-username") == ["ben"]
    assert "same neighbourhood" in nearby
    assert "Neighbourhood" in nearby

    # A jump across the ocean is refused, readably; Ana stays in New York.
    assert said(im_at(ana, *LONDON)) == (
        "error",
        "That position was refused: a jump faster than 300 km/h is not plausible.",
    )
    assert map_data(ana)["friends"][0]["label"] == "same neighbourhood"


BAD_POSITIONS = [
    ("", "-73.99", "Latitude must be a number, like 40.7359."),
    ("north", "-73.99", "Latitude must be a number, like 40.7359."),
    ("40.7", "", "Longitude must be a number, like -73.9911."),
    ("nan", "1", "Latitude must be a number, like 40.7359."),
    ("1e400", "1", "Latitude must be a number, like 40.7359."),
    ("9" * 40, "1", "Latitude must be a number, like 40.7359."),
    ("95", "0", "That position was refused: latitude must be between -90 and 90."),
    ("0", "-181", "That position was refused: longitude must be between -180 and 180."),
]


def test_malformed_or_impossible_positions_are_refused_readably(pages: Pages) -> None:
    ana = pages.member("ana")
    for lat, lon, message in BAD_POSITIONS:
        assert said(im_at(ana, lat, lon)) == ("error", message), (lat, lon)
    assert map_data(ana)["me"] is None


def test_a_position_shared_with_no_one_is_not_kept(pages: Pages, clock: FixedClock) -> None:
    ana = pages.member("ana")
    level, text = said(im_at(ana, *ANA_AT))
    assert level == "ok"
    assert text.startswith("Location taken, but you share it with no one")
    assert map_data(ana)["me"] is not None  # the point, held in memory for a few minutes
    clock.advance(timedelta(minutes=6))
    assert map_data(ana)["me"] is None  # then gone: nothing was stored
    # From the device, with its accuracy, once someone is granted something.
    share(ana, "close", "block")
    r = ana.submit(
        "/map/location", {"lat": "40.7359", "lon": "-73.9911", "accuracy_m": "25"}, from_page="/map"
    )
    assert said(r)[0] == "ok"
    r = ana.submit(
        "/map/location", {"lat": "40.7359", "lon": "-73.9911", "accuracy_m": "-3"}, from_page="/map"
    )
    assert said(r)[0] == "error"


# --- ghost mode -------------------------------------------------------------------------


def test_ghost_mode_hides_you_and_ends(pair: tuple[Visitor, Visitor], clock: FixedClock) -> None:
    ana, ben = pair
    r = ana.submit("/sharing/ghost", {"ghost": "3", "back": "/map"}, from_page="/map")
    assert r.url.path == "/map"
    level, text = said(r)
    until = (clock.now() + timedelta(hours=3)).strftime("%H:%M")
    assert (level, text) == ("ok", f"Ghost mode is on until {until}: no one sees where you are.")
    assert 'data-ghost="on"' in r.text
    assert map_data(ben)["friends"] == []
    sharing = api(ana, "GET", "/api/v1/sharing").json()
    assert sharing["ghost"] is True
    assert datetime.fromisoformat(sharing["ghost_until"]) == clock.now() + timedelta(hours=3)

    r = ana.submit("/sharing/ghost/off", {"back": "/sharing"}, from_page="/sharing")
    assert r.url.path == "/sharing"
    assert said(r)[0] == "ok"
    assert api(ana, "GET", "/api/v1/sharing").json()["ghost"] is False

    r = ana.submit("/sharing/ghost", {"ghost": "always", "back": "/sharing"}, from_page="/sharing")
    assert said(r)[1] == "Ghost mode is on until you turn it off: no one sees where you are."
    assert api(ana, "GET", "/api/v1/sharing").json() | {"circles": 0, "friends": 0} == {
        "circles": 0,
        "friends": 0,
        "ghost": True,
        "ghost_until": None,
    }


def test_ghost_mode_bad_input(pages: Pages) -> None:
    ana = pages.member("ana")
    r = ana.submit(
        "/sharing/ghost", {"ghost": "7", "back": "https://evil.example/"}, from_page="/sharing"
    )
    assert r.url.path == "/sharing"  # never sent off the site
    assert said(r) == ("error", "Choose how long to hide from the list.")
    assert api(ana, "GET", "/api/v1/sharing").json()["ghost"] is False


# --- sharing ----------------------------------------------------------------------------


GRANTS = [
    ("neighbourhood", "", None),
    ("city", "8", timedelta(hours=8)),
    ("precise", "", timedelta(hours=1)),  # precise always ends: one hour by default
    ("precise", "24", timedelta(hours=24)),
    ("off", "", None),
]


def test_circle_grants(pages: Pages, clock: FixedClock) -> None:
    ana = pages.member("ana")
    for precision, duration, lasts in GRANTS:
        level, text = said(share(ana, "close", precision, duration))
        assert level == "ok"
        assert text.startswith("People in “close” now see ")
        [close] = [
            c for c in api(ana, "GET", "/api/v1/sharing").json()["circles"] if c["name"] == "close"
        ]
        assert close["precision"] == precision
        expected = clock.now() + lasts if lasts else None
        given = datetime.fromisoformat(close["expires_at"]) if close["expires_at"] else None
        assert given == expected, (precision, duration)
        row = ana.get("/sharing").text.split('data-circle="close"', 1)[1].split("</li>", 1)[0]
        assert f'<option value="{precision}" selected>' in row
        if expected is not None:
            day = "tomorrow " if expected.date() > clock.now().date() else ""
            assert f"until {day}{expected.strftime('%H:%M')}" in row
            assert text.endswith(f"until {day}{expected.strftime('%H:%M')}.")


BAD_GRANTS = [
    (
        {"circle": "close", "precision": "exact", "duration": ""},
        "Choose a precision from the list.",
    ),
    (
        {"circle": "close", "precision": "city", "duration": "48"},
        "Choose how long from the list.",
    ),
    ({"circle": "climbers", "precision": "city", "duration": ""}, "No such circle."),
]


def test_circle_grant_bad_input(pages: Pages) -> None:
    ana = pages.member("ana")
    for form, message in BAD_GRANTS:
        r = ana.submit("/sharing/circle", form, from_page="/sharing")
        assert said(r) == ("error", message), form
    assert {c["precision"] for c in api(ana, "GET", "/api/v1/sharing").json()["circles"]} == {"off"}


def test_friend_overrides_set_and_remove(
    pair: tuple[Visitor, Visitor], pages: Pages, clock: FixedClock
) -> None:
    ana, ben = pair
    r = ana.submit(
        "/sharing/friend",
        {"username": "ben", "precision": "block", "duration": ""},
        from_page="/sharing",
    )
    assert said(r) == ("ok", "@ben now sees your block.")
    overrides = r.text.split('id="friends-title"', 1)[1]
    assert items(overrides.split("Set an override")[0], "data-username") == ["ben"]
    # The stored cell is never finer than the grants were: block shows from the next update.
    clock.advance(timedelta(minutes=1))
    im_at(ana, *ANA_AT)
    assert map_data(ben)["friends"][0]["precision"] == "block"

    r = ana.submit("/sharing/friend/remove", {"username": "ben"}, from_page="/sharing")
    assert said(r) == ("ok", "@ben now sees what their circle sees.")
    assert api(ana, "GET", "/api/v1/sharing").json()["friends"] == []
    assert map_data(ben)["friends"][0]["precision"] == "neighbourhood"

    pages.member("zed")  # exists, but is no friend of Ana's
    for username in ["zed", "nobody"]:
        r = ana.submit(
            "/sharing/friend",
            {"username": username, "precision": "city", "duration": ""},
            from_page="/sharing",
        )
        level, text = said(r)
        assert level == "error"
        assert "zed" not in text
    assert (
        said(ana.submit("/sharing/friend/remove", {"username": "zed"}, from_page="/sharing"))[0]
        == "error"
    )


# --- intents ----------------------------------------------------------------------------


def test_intents_post_list_and_delete(
    pages: Pages, pair: tuple[Visitor, Visitor], clock: FixedClock
) -> None:
    ana, ben = pair
    carl = pages.member("carl")
    befriend(ana, carl, "carl", "ana", circle="friends")

    r = post_intent(ana)
    until = (clock.now() + timedelta(hours=2)).strftime("%H:%M")
    assert said(r) == ("ok", f"Posted: up for coffee now until {until}.")
    mine = r.text.split('id="my-intents"', 1)[1].split("</ul>", 1)[0]
    assert "Up for coffee" in mine
    assert "within 2 km" in mine
    assert "Close friends" in mine
    [intent_id] = items(mine, "data-intent")

    theirs = ben.get("/intents").text.split('id="friend-intents"', 1)[1].split("</ul>", 1)[0]
    assert "Ana Lima is up for coffee" in theirs
    assert "same neighbourhood" in theirs
    assert 'id="friend-intents"' not in carl.get("/intents").text  # not in the audience

    r = ben.submit("/intents/delete", {"id": intent_id}, from_page="/intents")
    assert said(r) == ("error", "No such intent.")
    r = ana.submit("/intents/delete", {"id": intent_id}, from_page="/intents")
    assert said(r) == ("ok", "Intent deleted.")
    assert api(ana, "GET", "/api/v1/intents").json()["mine"] == []


def test_intents_later_read_in_the_viewers_time_zone(pages: Pages, clock: FixedClock) -> None:
    ana = pages.member("ana")
    ana.submit(
        "/alerts/settings",
        {"daily_budget": "3", "timezone": "Asia/Tokyo", "quiet_start": "", "quiet_end": ""},
        from_page="/alerts",
    )
    tokyo = ZoneInfo("Asia/Tokyo")
    start = (
        (clock.now() + timedelta(days=1))
        .astimezone(tokyo)
        .replace(hour=18, minute=30, second=0, microsecond=0)
    )
    r = post_intent(
        ana,
        activity="other",
        activity_other="Board  Games",
        when="later",
        starts_at=start.strftime("%Y-%m-%dT%H:%M"),
        ends_at=(start + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
        radius_m="500",
    )
    level, text = said(r)
    assert level == "ok"
    assert text.startswith("Posted: up for board games ")
    assert "18:30 to" in text
    assert "20:30" in text
    [intent] = api(ana, "GET", "/api/v1/intents").json()["mine"]
    assert datetime.fromisoformat(intent["starts_at"]) == start
    assert datetime.fromisoformat(intent["ends_at"]) == start + timedelta(hours=2)
    assert intent["radius_m"] == 500
    assert intent["activity"] == "board games"
    assert "within 500 m" in r.text


BAD_INTENTS = [
    (
        {"when": "later", "starts_at": "0001-01-01T00:00+05:00", "ends_at": "2030-01-01T10:00"},
        "The start is out of range.",
    ),
    ({"activity": "other"}, "Write what you are up for, or choose it from the list."),
    ({"activity": "hacking"}, "Choose an activity from the list."),
    ({"activity": "other", "activity_other": "x" * 41}, None),
    ({"when": ""}, "Choose now or a time."),
    ({"hours": "100"}, "Choose how long from the list."),
    ({"radius_m": "3"}, "Choose a distance from the list."),
    ({"audience:close": ""}, "Choose at least one circle."),
    (
        {"when": "later", "starts_at": "tomorrow", "ends_at": "2030-01-01T10:00"},
        "The start must be a date and time, like 2025-06-01T18:30.",
    ),
    (
        {"when": "later", "starts_at": "2030-01-01T10:00", "ends_at": ""},
        "The end must be a date and time, like 2025-06-01T18:30.",
    ),
    (
        {"when": "later", "starts_at": "2030-01-01T10:00", "ends_at": "2030-01-01T09:00"},
        "The end must be after the start.",
    ),
    (
        {"when": "later", "starts_at": "2020-01-01T10:00", "ends_at": "2020-01-01T12:00"},
        "The intent is already over.",
    ),
    (
        {"when": "later", "starts_at": "2099-01-01T10:00", "ends_at": "2099-01-02T12:00"},
        "An intent lasts at most 24 hours.",
    ),
]


def test_intent_bad_input(pages: Pages) -> None:
    ana = pages.member("ana")
    for overrides, message in BAD_INTENTS:
        level, text = said(post_intent(ana, **overrides))
        assert level == "error", overrides
        if message is not None:
            assert text == message
    assert api(ana, "GET", "/api/v1/intents").json()["mine"] == []


def test_deleting_nonsense_ids_says_no_such_intent(pages: Pages) -> None:
    ana = pages.member("ana")
    for value in ["", "abc", "0", "99999999999", "7"]:
        r = ana.submit("/intents/delete", {"id": value}, from_page="/intents")
        assert said(r) == ("error", "No such intent."), value


# --- alerts and meetups -----------------------------------------------------------------


def test_matching_intents_alert_both_and_im_in_makes_a_meetup(
    pages: Pages, pair: tuple[Visitor, Visitor]
) -> None:
    ana, ben = pair
    assert said(post_intent(ana))[1].endswith(".")
    assert said(post_intent(ben))[1].endswith("It matches a friend's plan: see Alerts.")

    inbox = ana.get("/alerts").text
    [alert_id] = items(inbox, "data-alert-id")
    assert "Ben Okafor is up for coffee too" in inbox
    assert "same neighbourhood" in inbox
    assert f'data-last-id="{alert_id}"' in inbox
    # The live fragment: what came after an id, and the meetups card out of band.
    fragment = ana.get("/alerts/new", params={"after": 0}).text
    assert items(fragment, "data-alert-id") == [alert_id]
    assert 'id="meetups" aria-labelledby="meetups-title" hx-swap-oob="true"' in fragment
    assert items(ana.get("/alerts/new", params={"after": alert_id}).text, "data-alert-id") == []

    r = ana.submit("/alerts/respond", {"id": alert_id, "answer": "in"}, from_page="/alerts")
    assert said(r) == ("ok", "You're in for coffee. The meetup is below, with a calendar file.")
    meetups = r.text.split('id="meetups"', 1)[1]
    assert "Coffee with Ben Okafor" in meetups
    [ics] = re.findall(r'href="(/alerts/meetups/\d+\.ics)"', meetups)
    assert "You're in" in r.text.split('id="alert-list"', 1)[1].split("</ul>", 1)[0]

    calendar = ana.get(ics)
    assert calendar.status_code == 200
    assert calendar.headers["content-type"].startswith("text/calendar")
    assert "attachment" in calendar.headers["content-disposition"]
    assert "SUMMARY:Coffee with Ben Okafor" in calendar.text

    # Ben sees Ana's "I'm in" and the same meetup, and can download it too.
    theirs = ben.get("/alerts").text
    assert "Ana Lima is in for coffee!" in theirs
    assert "Coffee with Ana Lima" in theirs
    assert "SUMMARY:Coffee with Ana Lima" in ben.get(ics).text
    # Someone else gets the same "not found" page as for a meetup that does not exist.
    carl = pages.member("carl")
    assert carl.get(ics).status_code == 404
    assert carl.get("/alerts/meetups/99999.ics").status_code == 404
    assert carl.get("/alerts/meetups/0.ics").status_code == 400
    assert carl.get("/alerts/new", params={"after": "x"}).status_code == 400
    assert "That request was not understood." in carl.get("/alerts/new?after=-1").text

    # An answer stands.
    r = ana.submit("/alerts/respond", {"id": alert_id, "answer": "not_now"}, from_page="/alerts")
    assert said(r) == ("error", "You already answered this alert.")


def test_not_now_is_silent_and_answers_are_checked(pair: tuple[Visitor, Visitor]) -> None:
    ana, ben = pair
    post_intent(ana)
    post_intent(ben)
    [alert_id] = items(ben.get("/alerts").text, "data-alert-id")
    before = items(ana.get("/alerts").text, "data-alert-id")
    # Ana cannot answer Ben's alert, and it reads as if it did not exist.
    r = ana.submit("/alerts/respond", {"id": alert_id, "answer": "in"}, from_page="/alerts")
    assert said(r) == ("error", "No such alert.")
    r = ben.submit("/alerts/respond", {"id": alert_id, "answer": "maybe"}, from_page="/alerts")
    assert said(r) == ("error", "Choose an answer from the list.")
    assert "I'm in" in ben.get("/alerts").text  # still unanswered
    r = ben.submit("/alerts/respond", {"id": alert_id, "answer": "not_now"}, from_page="/alerts")
    assert said(r) == ("ok", "Answered “not now”. No one is told.")
    assert "You said not now" in r.text
    assert items(ana.get("/alerts").text, "data-alert-id") == before
    assert "Coffee with" not in ana.get("/alerts").text


BAD_ANSWERS = [
    ({"id": "abc", "answer": "in"}, "No such alert."),
    ({"id": "12345", "answer": "in"}, "No such alert."),
    ({"answer": "in"}, "No such alert."),
]


def test_answer_bad_input(pages: Pages) -> None:
    ana = pages.member("ana")
    for form, message in BAD_ANSWERS:
        r = ana.submit("/alerts/respond", form, from_page="/alerts")
        assert said(r) == ("error", message), form


def test_alert_settings_saved(pages: Pages) -> None:
    ana = pages.member("ana")
    r = ana.submit(
        "/alerts/settings",
        {
            "daily_budget": "5",
            "quiet_start": "22:00",
            "quiet_end": "07:30",
            "timezone": "Europe/Lisbon",
            "open_to_hang_out": "on",
        },
        from_page="/alerts",
    )
    assert said(r) == ("ok", "Alert settings saved.")
    saved = api(ana, "GET", "/api/v1/me/alert-settings").json()
    assert saved["daily_budget"] == 5
    assert saved["quiet_hours"] == {"start": "22:00", "end": "07:30"}
    assert saved["timezone"] == "Europe/Lisbon"
    assert saved["open_to_hang_out"] is True
    assert 'value="22:00"' in r.text
    assert 'value="Europe/Lisbon"' in r.text
    assert 'name="open_to_hang_out" value="on" checked' in r.text
    # An unticked box and empty quiet hours turn both off.
    r = ana.submit(
        "/alerts/settings",
        {"daily_budget": "0", "quiet_start": "", "quiet_end": "", "timezone": "Europe/Lisbon"},
        from_page="/alerts",
    )
    assert said(r)[0] == "ok"
    saved = api(ana, "GET", "/api/v1/me/alert-settings").json()
    assert (saved["daily_budget"], saved["quiet_hours"], saved["open_to_hang_out"]) == (
        0,
        None,
        False,
    )


BAD_SETTINGS = [
    ({"daily_budget": "99"}, "The daily limit must be a whole number from 0 to 50."),
    ({"daily_budget": "-1"}, "The daily limit must be a whole number from 0 to 50."),
    ({"daily_budget": ""}, "The daily limit must be a whole number from 0 to 50."),
    (
        {"quiet_start": "22:00"},
        "Give quiet hours both a start and an end, or leave both empty.",
    ),
    ({"quiet_start": "25:00", "quiet_end": "07:00"}, "Quiet hours must be times like 22:00."),
    ({"quiet_start": "late", "quiet_end": "07:00"}, "Quiet hours must be times like 22:00."),
    ({"timezone": "Mars/Olympus"}, "Timezone must be an IANA name like Europe/Lisbon."),
    ({"timezone": "x" * 65}, "Timezone must be an IANA name like Europe/Lisbon."),
]


def test_alert_settings_bad_input(pages: Pages) -> None:
    ana = pages.member("ana")
    form = {"daily_budget": "3", "quiet_start": "", "quiet_end": "", "timezone": "UTC"}
    for overrides, message in BAD_SETTINGS:
        r = ana.submit("/alerts/settings", form | overrides, from_page="/alerts")
        assert said(r) == ("error", message), overrides
    saved = api(ana, "GET", "/api/v1/me/alert-settings").json()
    assert (saved["daily_budget"], saved["quiet_hours"], saved["timezone"]) == (3, None, "UTC")
