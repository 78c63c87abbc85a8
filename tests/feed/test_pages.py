"""The feed's web pages, driven like a browser would (cookies, CSRF tokens from the page)."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx

from kith.clock import FixedClock
from tests.web.conftest import Pages, Visitor, flash


def _api(visitor: Visitor, method: str, path: str, **kw: object) -> httpx.Response:
    headers = {"Authorization": f"Bearer {visitor.token}"}
    response: httpx.Response = visitor.client.request(method, path, headers=headers, **kw)  # type: ignore[arg-type]
    return response


def _friends(a: Visitor, b: Visitor, b_name: str) -> None:
    r = _api(a, "POST", "/api/v1/friend-requests", json={"username": b_name})
    assert r.status_code == 201, r.text
    r = _api(b, "POST", f"/api/v1/friend-requests/{r.json()['id']}/accept")
    assert r.status_code == 200, r.text


def _post_ids(page: httpx.Response) -> list[int]:
    return [int(i) for i in re.findall(r'data-post-id="(\d+)"', page.text)]


def test_post_read_explain_tune_and_stop(pages: Pages, clock: FixedClock) -> None:
    ana, ben = pages.member("ana", "Ana Lima"), pages.member("ben", "Ben Okafor")
    _friends(ana, ben, "ben")
    r = ben.submit(
        "/feed/posts",
        {"text": "Storm warning: heavy snow tonight.", "audience:friends": "1"},
        from_page="/feed",
    )
    assert flash(r) == ("ok", "Posted (weather, inferred from the text).")
    r = ben.submit("/feed/posts", {"text": "   "}, from_page="/feed")
    assert flash(r) == ("error", "Text must not be empty.")

    page = ana.get("/feed")
    assert page.status_code == 200
    [post_id] = _post_ids(page)
    assert "Why am I seeing this?" in page.text
    assert "From Ben Okafor, one of your friends." in page.text
    assert "You're all caught up" in page.text

    # "Never weather" from the Tune menu: the post and every later weather post are gone.
    r = ana.submit(
        "/feed/feedback",
        {
            "post_id": str(post_id),
            "feedback": "never",
            "about": "topic",
            "topic": "weather",
            "back": "/feed",
        },
    )
    assert flash(r) == (
        "ok",
        "This post will not come back, and your feed shows never topic weather.",
    )
    _api(ben, "POST", "/api/v1/posts", json={"text": "More snow and cold wind tomorrow."})
    clock.advance(timedelta(seconds=5))
    assert _post_ids(ana.get("/feed")) == []
    goals = ana.get("/feed/goals")
    assert 'data-rule="never weather"' in goals.text


def test_goals_form_scales_sliders_and_refuses_nonsense(pages: Pages) -> None:
    ana = pages.member("ana")
    r = ana.submit(
        "/feed/goals",
        {"mix:news": "30", "mix:sports": "10", "daily_budget_minutes": "25", "ranker": "aligned"},
        from_page="/feed/goals",
    )
    assert flash(r) == ("ok", "Goals saved; your next page follows them.")
    goals = _api(ana, "GET", "/api/v1/me/goals").json()
    assert goals["target_mix"] == {"news": 0.75, "sports": 0.25}
    assert goals["daily_budget_minutes"] == 25
    for bad, message in [
        ({"mix:news": "0"}, "Move at least one slider above zero."),
        ({"mix:news": "10", "daily_budget_minutes": "0"}, "The daily budget must be between"),
        ({"mix:news": "10", "daily_budget_minutes": "1440"}, "The daily budget must be between"),
        ({"mix:news": "10", "ranker": "als"}, "Unknown ranker 'als'"),
    ]:
        form = {"daily_budget_minutes": "30", "ranker": "aligned", **bad}
        r = ana.submit("/feed/goals", form, from_page="/feed/goals")
        level, text = flash(r) or ("", "")
        assert level == "error"
        assert text.startswith(message), text
    assert _api(ana, "GET", "/api/v1/me/goals").json() == goals


def test_profile_and_simulator_pages(pages: Pages) -> None:
    ana = pages.member("ana")
    page = ana.get("/feed/profile")
    assert "Not learning from your activity" in page.text
    r = ana.submit("/feed/profile", {"topic": "music", "weight": "40"}, from_page="/feed/profile")
    assert flash(r) == ("ok", "Music set to 40%. Your next page uses it.")
    assert 'data-topic="music"' in r.text
    r = ana.submit("/feed/profile", {"topic": "music", "weight": "140"}, from_page="/feed/profile")
    assert flash(r) == ("error", "A share is a whole percentage, 0 to 100.")

    report = ana.get("/feed/simulator")
    assert report.status_code == 200
    assert 'src="/feed/simulator/simulation.png"' in report.text
    png = ana.get("/feed/simulator/simulation.png")
    assert png.status_code == 200
    assert png.headers["content-type"] == "image/png"
    assert png.content.startswith(b"\x89PNG")
    assert ana.get("/feed/simulator/secrets.png").status_code == 404
    assert pages.visitor().get("/feed/simulator/simulation.png").url.path == "/login"
