"""The web pages, end to end through HTTP, on SQLite and PostgreSQL.

Every state change is made by posting the page's own form (with its CSRF token) and
checked through the page that shows it, and where it matters through the API too.
"""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from kith.api.app import create_app
from kith.config import Settings
from kith.errors import NotFound
from tests.conftest import PASSWORD
from tests.web.conftest import Pages, Visitor, csrf_field, flash

MEMBER_PAGES = ["/friends", "/requests", "/circles", "/blocked"]


def set_cookies(response_headers: list[str], name: str) -> str:
    found = [h for h in response_headers if h.startswith(f"{name}=")]
    assert found, f"no Set-Cookie for {name}"
    return found[-1]


def circle_of(page_html: str, username: str) -> str | None:
    """The circle section a friend is listed in on /friends."""
    for circle, body in re.findall(
        r'<section class="card circle" data-circle="([^"]+)"(.*?)</section>', page_html, re.S
    ):
        if f'data-username="{username}"' in body:
            return str(circle)
    return None


def search(visitor: Visitor, q: str) -> list[str]:
    page = visitor.get("/friends", params={"q": q})
    assert page.status_code == 200
    people = page.text.split('id="people"', 1)[1].split("</section>", 1)[0]
    return re.findall(r'data-username="([^"]+)"', people)


# --- logged out ---------------------------------------------------------------------


def test_member_pages_send_strangers_to_login_and_back(pages: Pages) -> None:
    pages.member("ana")
    for path in MEMBER_PAGES:
        visitor = pages.visitor()
        r = visitor.get(path, follow_redirects=False)
        assert r.status_code == 303
        assert r.headers["location"] == f"/login?next={path}"
        r = visitor.get(r.headers["location"])
        assert r.status_code == 200
        assert f'name="next" value="{path}"' in r.text
        r = visitor.submit(
            "/login",
            {"username": "ana", "password": PASSWORD, "next": path},
            follow_redirects=False,
        )
        assert r.status_code == 303
        assert r.headers["location"] == path


def test_front_door_redirects_by_login_state(pages: Pages) -> None:
    stranger = pages.visitor()
    assert stranger.get("/", follow_redirects=False).headers["location"] == "/login"
    ana = pages.member("ana")
    assert ana.get("/", follow_redirects=False).headers["location"] == "/friends"
    # Logged in, the log-in and sign-up pages step aside.
    assert ana.get("/login", follow_redirects=False).headers["location"] == "/friends"
    assert ana.get("/signup", follow_redirects=False).headers["location"] == "/friends"


def test_login_never_redirects_off_site(pages: Pages) -> None:
    pages.member("ana")
    for target in ["//evil.example/", "https://evil.example/", "/\\evil", "/login", ""]:
        visitor = pages.visitor()
        r = visitor.submit(
            "/login",
            {"username": "ana", "password": PASSWORD, "next": target},
            from_page="/login",
            follow_redirects=False,
        )
        assert r.status_code == 303
        assert r.headers["location"] == "/friends", target


# --- sign-up, cookies, log-in, log-out ------------------------------------------------


def test_signup_logs_in_with_http_only_lax_cookies(pages: Pages) -> None:
    visitor = pages.visitor()
    form = visitor.get("/signup")
    before = visitor.client.cookies["kith_csrf"]
    assert csrf_field(form) == before  # double submit: the field repeats the cookie

    r = visitor.submit(
        "/signup",
        {"username": "Ana_1", "display_name": "Ana Lima", "password": PASSWORD},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert r.headers["location"] == "/friends"
    headers = r.headers.get_list("set-cookie")
    session = set_cookies(headers, "kith_session").lower()
    assert "httponly" in session
    assert "samesite=lax" in session
    assert "path=/" in session
    assert "secure" not in session  # cookie_secure is off in tests
    assert "expires=" in session  # lives as long as the server-side session
    csrf = set_cookies(headers, "kith_csrf").lower()
    assert "httponly" in csrf
    assert "samesite=lax" in csrf
    # A new session gets a new CSRF token.
    assert visitor.client.cookies["kith_csrf"] != before

    page = visitor.get("/friends")
    assert flash(page) == ("ok", "Welcome to kith, Ana Lima. Find the people you know below.")
    assert "Ana Lima" in page.text
    # The message is shown once.
    assert flash(visitor.get("/friends")) is None
    # The cookie holds a real session: the API accepts the same token.
    me = visitor.api("/api/v1/me")
    assert me.status_code == 200
    assert me.json()["username"] == "Ana_1"


def test_cookies_are_secure_when_configured(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"cookie_secure": True}))
    try:
        visitor = Visitor(app, base_url="https://testserver")  # Secure cookies need HTTPS
        r = visitor.submit(
            "/signup",
            {"username": "ana", "display_name": "", "password": PASSWORD},
            from_page="/signup",
            follow_redirects=False,
        )
        assert r.status_code == 303
        for name in ("kith_session", "kith_csrf", "kith_flash"):
            assert "secure" in set_cookies(r.headers.get_list("set-cookie"), name).lower()
    finally:
        app.state.kith.database.dispose()


def test_display_name_defaults_to_username(pages: Pages) -> None:
    visitor = pages.visitor()
    r = visitor.submit(
        "/signup",
        {"username": "ben", "display_name": "  ", "password": PASSWORD},
        from_page="/signup",
    )
    assert r.url.path == "/friends"
    assert visitor.api("/api/v1/me").json()["display_name"] == "ben"


# (username, password, status, message, the field marked invalid)
SIGNUP_ERRORS: list[tuple[str, str, int, str, str | None]] = [
    (
        "a!",
        PASSWORD,
        400,
        "Usernames are 3-30 characters: letters, digits and underscores.",
        "username",
    ),
    ("admin", PASSWORD, 400, "That username is reserved.", "username"),
    ("carla", "short", 400, "Passwords need at least 8 characters.", "password"),
    ("ANA", PASSWORD, 409, "That username is taken.", None),
]


def test_signup_errors_are_shown_on_the_form(pages: Pages) -> None:
    pages.member("ana")
    for username, password, status, message, field in SIGNUP_ERRORS:
        visitor = pages.visitor()
        r = visitor.submit(
            "/signup",
            {"username": username, "display_name": "Someone", "password": password},
            from_page="/signup",
        )
        assert r.status_code == status
        assert r.headers["content-type"].startswith("text/html")
        assert message in r.text
        assert 'role="alert"' in r.text
        # What was typed is kept, except the password.
        assert f'value="{username}"' in r.text
        assert 'value="Someone"' in r.text
        assert password not in r.text
        if field:
            assert re.search(rf'id="f-{field}"[^>]*aria-invalid="true"', r.text, re.S)
        assert "kith_session" not in visitor.client.cookies


def test_wrong_password_then_rate_limited(pages: Pages, settings: Settings) -> None:
    pages.member("ana")
    visitor = pages.visitor()
    r = visitor.login("ana", "wrong password")
    assert r.status_code == 401
    assert "Wrong username or password" in r.text
    for _ in range(settings.login_max_failures_per_account - 1):
        assert visitor.login("ana", "wrong password").status_code == 401
    # Now even the right password waits: the account is throttled.
    r = visitor.login("ana", PASSWORD)
    assert r.status_code == 429
    assert "Too many failed log-ins; wait a while and try again." in r.text
    assert int(r.headers["retry-after"]) == settings.login_window_seconds
    assert "kith_session" not in visitor.client.cookies


def test_logout_ends_the_session(pages: Pages) -> None:
    ana = pages.member("ana")
    token = ana.token
    r = ana.submit("/logout", {}, from_page="/friends", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/login"
    assert 'kith_session=""' in set_cookies(r.headers.get_list("set-cookie"), "kith_session")
    page = ana.get("/login")
    assert flash(page) == ("ok", "You are logged out.")
    assert ana.get("/friends", follow_redirects=False).status_code == 303
    # The server forgot the session, not just the browser.
    gone = ana.client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert gone.status_code == 401


def test_stale_session_cookie_counts_as_logged_out(pages: Pages) -> None:
    visitor = pages.visitor()
    visitor.client.cookies.set("kith_session", "kith_not-a-real-token")
    r = visitor.get("/login")
    assert r.status_code == 200
    assert "Log in" in r.text
    assert 'kith_session=""' in set_cookies(r.headers.get_list("set-cookie"), "kith_session")
    assert visitor.get("/friends", follow_redirects=False).status_code == 303


# --- CSRF -----------------------------------------------------------------------------


def _circles(visitor: Visitor) -> list[str]:
    return [c["name"] for c in visitor.api("/api/v1/circles").json()]


def test_posts_without_a_matching_csrf_token_are_refused(pages: Pages) -> None:
    ana = pages.member("ana")
    cookie = ana.client.cookies["kith_csrf"]
    attempts = [
        ({"name": "a"}, {}),  # no field
        ({"name": "b", "csrf_token": "x" * 43}, {}),  # wrong field
        ({"name": "c", "csrf_token": cookie + "é"}, {}),  # not even ASCII
        ({"name": "d"}, {"X-CSRF-Token": "y" * 43}),  # wrong header
    ]
    for data, headers in attempts:
        r = ana.client.post("/circles", data=data, headers=headers)
        assert r.status_code == 403
        assert r.headers["content-type"].startswith("text/html")
        assert "This form has expired" in r.text
    assert _circles(ana) == ["close", "friends", "acquaintances"]

    # The header works for htmx and fetch calls; the field for plain forms.
    assert ana.client.post("/circles", data={"name": "e"}, headers={"X-CSRF-Token": cookie})
    assert ana.client.post("/circles", data={"name": "f", "csrf_token": cookie})
    assert _circles(ana)[3:] == ["e", "f"]


def test_a_token_without_its_cookie_is_refused(pages: Pages) -> None:
    ana = pages.member("ana")
    token = ana.client.cookies["kith_csrf"]
    ana.client.cookies.delete("kith_csrf")
    r = ana.client.post("/circles", data={"name": "x", "csrf_token": token})
    assert r.status_code == 403
    assert "This form has expired" in r.text
    # The error page hands out a fresh token, so reloading the form works again.
    assert ana.client.cookies.get("kith_csrf")
    assert _circles(ana) == ["close", "friends", "acquaintances"]


def test_login_and_logout_forms_need_the_token_too(pages: Pages) -> None:
    ana = pages.member("ana")
    stranger = pages.visitor()
    stranger.get("/login")
    r = stranger.client.post("/login", data={"username": "ana", "password": PASSWORD})
    assert r.status_code == 403
    assert "kith_session" not in stranger.client.cookies
    r = ana.client.post("/logout", data={})
    assert r.status_code == 403
    assert ana.api("/api/v1/me").status_code == 200  # still logged in


# --- friends, requests, circles, blocks -------------------------------------------------


def test_befriend_and_move_through_the_pages(pages: Pages) -> None:
    ana = pages.member("ana", "Ana Lima")
    ben = pages.member("ben", "Ben Okafor")

    assert search(ana, "be") == ["ben"]
    r = ana.submit("/friends/request", {"username": "ben", "q": "be"})
    assert r.url.path == "/friends"
    assert r.url.params["q"] == "be"
    assert flash(r) == ("ok", "Friend request sent to ben.")
    assert "Request sent" in r.text

    page = ben.get("/requests")
    assert re.search(r'href="/requests"[^>]*>Requests <span class="badge">1<', page.text)
    incoming = page.text.split('data-list="incoming"', 1)[1].split("</section>", 1)[0]
    assert 'data-username="ana"' in incoming
    request_id = re.search(r'name="id" value="(\d+)"', incoming)
    assert request_id
    r = ben.submit("/requests/accept", {"id": request_id.group(1)})
    assert flash(r) == ("ok", "You and Ana Lima are now friends.")
    assert 'class="badge"' not in r.text

    assert circle_of(ana.get("/friends").text, "ben") == "friends"
    r = ana.submit("/friends/move", {"username": "ben", "circle": "close"})
    assert flash(r) == ("ok", "Moved ben to close.")
    assert circle_of(r.text, "ben") == "close"
    assert circle_of(ben.get("/friends").text, "ana") == "friends"  # Ben's side is his own
    assert ana.api("/api/v1/friends").json()[0]["circle"] == "close"

    r = ana.submit("/friends/remove", {"username": "ben"})
    assert flash(r) == ("ok", "You and ben are no longer friends.")
    assert circle_of(r.text, "ben") is None
    assert ben.api("/api/v1/friends").json() == []


def test_asking_back_befriends_and_requests_can_be_cancelled_or_declined(pages: Pages) -> None:
    ana = pages.member("ana")
    ben = pages.member("ben")
    cid = pages.member("cid")
    ana.submit("/friends/request", {"username": "ben"})
    # Ben finds Ana with an "Accept request" button, since she asked first.
    page = ben.get("/friends", params={"q": "ana"})
    assert "Accept request" in page.text
    r = ben.submit("/friends/request", {"username": "ana"})
    assert flash(r) == ("ok", "Ana had already asked you: you are now friends.")

    ana.submit("/friends/request", {"username": "cid"})
    page = ana.get("/requests")
    rid = re.search(r'action="/requests/cancel".*?name="id" value="(\d+)"', page.text, re.S)
    assert rid
    assert flash(ana.submit("/requests/cancel", {"id": rid.group(1)})) == (
        "ok",
        "Request cancelled.",
    )
    assert cid.api("/api/v1/friend-requests").json()["incoming"] == []

    cid.submit("/friends/request", {"username": "ana"})
    page = ana.get("/requests")
    rid = re.search(r'action="/requests/decline".*?name="id" value="(\d+)"', page.text, re.S)
    assert rid
    assert flash(ana.submit("/requests/decline", {"id": rid.group(1)})) == (
        "ok",
        "Request declined.",
    )
    assert ana.api("/api/v1/friends").json()[0]["username"] == "ben"
    assert len(ana.api("/api/v1/friends").json()) == 1


# (form action, fields, the message shown): each is refused and changes nothing.
DOMAIN_ERRORS: list[tuple[str, dict[str, str], str]] = [
    ("/friends/request", {"username": "nobody_here"}, "No such user."),
    ("/friends/request", {"username": "ana"}, "You cannot befriend yourself."),
    ("/friends/request", {"username": "ben"}, "You are already friends."),
    ("/friends/request", {"username": "<script>"}, "No such user."),
    ("/friends/move", {"username": "ben", "circle": "nope"}, "No such circle."),
    ("/friends/move", {"username": "cid", "circle": "close"}, "No such friend."),
    ("/friends/remove", {"username": "cid"}, "No such friend."),
    ("/requests/accept", {"id": "abc"}, "No such friend request."),
    ("/requests/accept", {"id": "99999999999999"}, "No such friend request."),
    ("/requests/decline", {"id": "-1"}, "No such friend request."),
    ("/requests/cancel", {}, "No such friend request."),
    ("/circles", {"name": ""}, "Circle must not be empty."),
    ("/circles", {"name": "x" * 41}, "Circle must be at most 40 characters."),
    ("/circles", {"name": "Close"}, "You already have a circle with that name."),
    ("/circles", {"name": "a\x00b"}, "Circle contains characters that are not allowed."),
    ("/circles/delete", {"name": "friends"}, "Built-in circles cannot be deleted."),
    ("/circles/delete", {"name": "nope"}, "No such circle."),
    ("/blocked", {"username": "ana"}, "You cannot block yourself."),
    ("/blocked/remove", {"username": "cid"}, "You have not blocked that user."),
]


def test_domain_errors_show_as_messages(pages: Pages) -> None:
    ana = pages.member("ana")
    ben = pages.member("ben")
    pages.member("cid")
    ana.submit("/friends/request", {"username": "ben"})
    ben.submit("/friends/request", {"username": "ana"})
    before = ana.api("/api/v1/friends").json(), ana.api("/api/v1/circles").json()

    for action, data, message in DOMAIN_ERRORS:
        r = ana.submit(action, data, from_page="/friends")
        assert r.status_code == 200, action
        assert r.headers["content-type"].startswith("text/html")
        assert flash(r) == ("error", message), (action, data)
        assert (ana.api("/api/v1/friends").json(), ana.api("/api/v1/circles").json()) == before


def test_search_text_too_long_is_explained(pages: Pages) -> None:
    ana = pages.member("ana")
    page = ana.get("/friends", params={"q": "b" * 61})
    assert page.status_code == 200
    assert "Search for at most 60 characters." in page.text


def test_custom_circles_can_be_made_used_and_deleted(pages: Pages) -> None:
    ana = pages.member("ana")
    ben = pages.member("ben")
    ana.submit("/friends/request", {"username": "ben"})
    ben.submit("/friends/request", {"username": "ana"})

    r = ana.submit("/circles", {"name": "Climbing crew"}, from_page="/circles")
    assert flash(r) == ("ok", "Circle “Climbing crew” created.")
    assert 'data-circle="Climbing crew"' in r.text
    r = ana.submit("/friends/move", {"username": "ben", "circle": "climbing crew"})
    assert circle_of(r.text, "ben") == "Climbing crew"
    r = ana.submit("/circles/delete", {"name": "Climbing crew"}, from_page="/circles")
    assert flash(r) == ("ok", "Circle “Climbing crew” deleted; its people are back in Friends.")
    assert 'data-circle="Climbing crew"' not in r.text
    assert circle_of(ana.get("/friends").text, "ben") == "friends"


def test_blocked_people_vanish_from_search_both_ways(pages: Pages) -> None:
    ana = pages.member("ana")
    ben = pages.member("ben")
    assert search(ben, "an") == ["ana"]
    ben.submit("/friends/request", {"username": "ana"})

    r = ana.submit("/blocked", {"username": "ben"}, from_page="/blocked")
    assert flash(r) == ("ok", "You blocked ben.")
    assert 'data-username="ben"' in r.text

    assert search(ben, "an") == []
    assert "No one found for “an”." in ben.get("/friends", params={"q": "an"}).text
    assert search(ana, "be") == []
    r = ben.submit("/friends/request", {"username": "ana"}, from_page="/friends")
    assert flash(r) == ("error", "No such user.")  # the blocker stays invisible
    assert ben.api("/api/v1/friend-requests").json()["outgoing"] == []  # the request ended

    r = ana.submit("/blocked/remove", {"username": "ben"}, from_page="/blocked")
    assert flash(r) == ("ok", "You unblocked ben.")
    assert search(ben, "an") == ["ana"]


def test_htmx_search_returns_only_the_results(pages: Pages) -> None:
    ana = pages.member("ana")
    pages.member("ben")
    r = ana.get("/friends/search", params={"q": "be"}, headers={"HX-Request": "true"})
    assert r.status_code == 200
    assert "<html" not in r.text
    assert 'data-username="ben"' in r.text
    assert csrf_field(r) == ana.client.cookies["kith_csrf"]  # its buttons are real forms
    # A plain browser asking for the fragment gets the whole page instead.
    r = ana.get("/friends/search", params={"q": "be"}, follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/friends?q=be"


# --- safety of the pages themselves -----------------------------------------------------


def test_user_text_is_escaped(pages: Pages) -> None:
    pages.member("mallory", "<script>alert(1)</script>")
    ana = pages.member("ana")
    page = ana.get("/friends", params={"q": "mal"})
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text


def test_pages_carry_security_headers(pages: Pages) -> None:
    ana = pages.member("ana")
    headers = ana.get("/friends").headers
    csp = headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert headers["cache-control"] == "no-store"
    assert headers["x-content-type-options"] == "nosniff"


def test_a_forged_flash_cookie_is_ignored(pages: Pages) -> None:
    ana = pages.member("ana")
    for value in ("garbage", "W10=", "WyJ4IiwgMV0="):  # not base64 JSON, [], ["x", 1]
        ana.client.cookies.set("kith_flash", value)
        page = ana.get("/friends")
        assert page.status_code == 200
        assert flash(page) is None


def test_unknown_pages_are_html_and_the_api_keeps_problem_json(client: TestClient) -> None:
    r = client.get("/no/such/page")
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("text/html")
    assert "Page not found" in r.text
    r = client.get("/api/v1/no-such-thing")
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"
    r = client.post("/api/v1/sessions", json={"username": "x", "password": "y" * 8})
    assert r.status_code == 401
    assert r.json()["type"].endswith("invalid-credentials")


def test_static_files_are_served(client: TestClient) -> None:
    css = client.get("/static/kith.css")
    assert css.status_code == 200
    assert ":focus-visible" in css.text
    htmx = client.get("/static/vendor/htmx.min.js")
    if htmx.status_code == 404:
        pytest.skip("vendored files missing: run python3 scripts/vendor.py")
    assert htmx.status_code == 200
    assert "htmx" in htmx.text[:2000]


def test_errors_escaping_a_page_become_html_pages(settings: Settings) -> None:
    """Whatever a page handler lets slip (domain error or bug) is a page, never JSON."""
    app = create_app(settings)

    def missing() -> None:
        raise NotFound("no such thing")

    def broken() -> None:
        raise RuntimeError("a bug")

    for prefix in ("/test-only", "/api/v1/test-only"):
        app.add_api_route(f"{prefix}/missing", missing)
        app.add_api_route(f"{prefix}/broken", broken)
    try:
        client = TestClient(app, raise_server_exceptions=False)
        r = client.get("/test-only/missing")
        assert r.status_code == 404
        assert r.headers["content-type"].startswith("text/html")
        assert "No such thing." in r.text
        r = client.get("/test-only/broken")
        assert r.status_code == 500
        assert r.headers["content-type"].startswith("text/html")
        assert "Something broke" in r.text
        assert "a bug" not in r.text
        # The API keeps its contract.
        r = client.get("/api/v1/test-only/missing")
        assert r.status_code == 404
        assert r.json()["type"] == "/api/v1/problems/not-found"
        r = client.get("/api/v1/test-only/broken")
        assert r.status_code == 500
        assert r.json()["type"] == "/api/v1/problems/internal-error"
    finally:
        app.state.kith.database.dispose()


def test_logging_in_again_ends_the_previous_session(pages: Pages) -> None:
    ana = pages.member("ana")
    first = ana.token
    ana.submit("/login", {"username": "ana", "password": PASSWORD}, from_page="/friends")
    assert ana.token != first
    assert ana.api("/api/v1/me").status_code == 200
    old = ana.client.get("/api/v1/me", headers={"Authorization": f"Bearer {first}"})
    assert old.status_code == 401
