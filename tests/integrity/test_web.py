"""The moderation and notices pages, driven like a browser (cookies, CSRF tokens)."""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from kith.clock import FixedClock
from tests.conftest import World
from tests.integrity.helpers import CAMPAIGN_TEXT, Scene, build_scene
from tests.web.conftest import Pages, Visitor, flash


@pytest.fixture
def scene(world: World, app: FastAPI, clock: FixedClock) -> Scene:
    built = build_scene(world, app, clock)
    built.scan()
    return built


def _visitor(app: FastAPI, username: str) -> Visitor:
    visitor = Pages(app).visitor()
    response = visitor.login(username)
    assert response.status_code == 200, response.text
    return visitor


def test_queue_case_page_and_decision(scene: Scene, app: FastAPI) -> None:
    mod = _visitor(app, "mod")
    queue = mod.get("/moderation")
    assert queue.status_code == 200
    case_ids = [c.case.case_key for c in _rows(scene)]
    for case_id in case_ids:
        assert f'href="/moderation/cases/{case_id}"' in queue.text
    case_id = next(c for c in case_ids if c.startswith("co_tweet"))
    page = mod.get(f"/moderation/cases/{case_id}")
    assert page.status_code == 200
    assert CAMPAIGN_TEXT.format(n=0) in page.text.replace("&#39;", "'")
    assert page.text.count("<tr>") == 1 + 12  # header + every evidence pair

    done = mod.submit(
        f"/moderation/cases/{case_id}/decision",
        {"action": "label", "label": "Coordinated campaign", "reason": "same text, 3 s apart"},
    )
    assert done.url.path == f"/moderation/cases/{case_id}"
    assert flash(done) == (
        "ok",
        "Decision recorded: label “Coordinated campaign”. The people affected have been told.",
    )
    assert "labelled: Coordinated campaign" in done.text
    assert "same text, 3 s apart" in done.text

    refused = mod.submit(
        f"/moderation/cases/{case_id}/decision", {"action": "label", "reason": "x"}
    )
    assert flash(refused) == ("error", "A label decision needs the label text.")
    nonsense = mod.submit(f"/moderation/cases/{case_id}/decision", {"action": "ban", "reason": "x"})
    assert flash(nonsense) == ("error", "Choose a decision.")


def _rows(scene: Scene) -> list:  # type: ignore[type-arg]
    from kith.accounts.access import find_user
    from kith.integrity.queries import list_cases

    with scene.app.state.kith.database.session() as db:
        mod = find_user(db, "mod")
        assert mod is not None
        return list_cases(db, mod)


def test_non_moderators_get_the_not_found_page(scene: Scene, app: FastAPI) -> None:
    case_id = _rows(scene)[0].case.case_key
    mod = _visitor(app, "mod")
    missing = mod.get("/moderation/cases/co_tweet-w60-000000000000")
    assert missing.status_code == 404
    fan = _visitor(app, "fan")
    for path in ("/moderation", f"/moderation/cases/{case_id}"):
        page = fan.get(path)
        assert page.status_code == 404
        assert "Not found" in page.text
    fan.get("/notices")  # a page with a CSRF field, to post from
    posted = fan.submit(
        f"/moderation/cases/{case_id}/decision", {"action": "dismiss", "reason": "x"}
    )
    assert posted.status_code == 404
    assert _rows(scene)[0].case.status == "open"


def test_notice_and_appeal_pages(scene: Scene, app: FastAPI) -> None:
    mod = _visitor(app, "mod")
    case_id = next(c.case.case_key for c in _rows(scene) if c.case.network == "co_link")
    mod.get(f"/moderation/cases/{case_id}")
    mod.submit(f"/moderation/cases/{case_id}/decision", {"action": "suppress", "reason": "wave"})

    bot = _visitor(app, "bot_c")
    page = bot.get("/notices")
    assert "Your posts are kept out of feeds" in page.text
    assert "4 of your posts matched what 2 other accounts posted within 60 seconds" in page.text
    notice_id = next(n.notice.id for n in _notices(scene, "bot_c"))
    assert _nav(scene, "bot_c") == (False, 1)  # the Notices badge
    sent = bot.submit(f"/notices/{notice_id}/appeal", {"text": "I run a news page."})
    assert flash(sent) == ("ok", "Your appeal was sent; a moderator will look at the case again.")
    assert "You appealed on" in sent.text
    twice = bot.submit(f"/notices/{notice_id}/appeal", {"text": "again"}, from_page="/notices")
    assert flash(twice) == ("error", "You already appealed this decision.")
    assert "I run a news page." in mod.get(f"/moderation/cases/{case_id}").text
    assert "1 appeal" in mod.get("/moderation").text
    assert _nav(scene, "bot_c") == (False, 0)
    assert _nav(scene, "mod") == (True, 0)

    fan = _visitor(app, "fan")
    assert "No notices" in fan.get("/notices").text
    stolen = fan.submit(f"/notices/{notice_id}/appeal", {"text": "x"}, from_page="/notices")
    assert flash(stolen) == ("error", "No such notice.")
    huge = fan.submit("/notices/99999999999/appeal", {"text": "x"}, from_page="/notices")
    assert huge.status_code == 400


def _nav(scene: Scene, username: str) -> tuple[bool, int]:
    """(sees "Moderation", the "Notices" badge) in the nav for ``username``."""
    from kith.accounts.access import find_user
    from kith.web.routes.moderation import unanswered_count, visible_to

    with scene.app.state.kith.database.session() as db:
        user = find_user(db, username)
        assert user is not None
        return visible_to(db, user), unanswered_count(db, user)


def _notices(scene: Scene, username: str) -> list:  # type: ignore[type-arg]
    from kith.accounts.access import find_user
    from kith.integrity.queries import list_notices

    with scene.app.state.kith.database.session() as db:
        user = find_user(db, username)
        assert user is not None
        return list_notices(db, user)


def test_forms_without_the_csrf_token_are_refused(scene: Scene, app: FastAPI) -> None:
    mod = _visitor(app, "mod")
    case_id = _rows(scene)[0].case.case_key
    r = mod.client.post(
        f"/moderation/cases/{case_id}/decision", data={"action": "dismiss", "reason": "x"}
    )
    assert r.status_code == 403
    assert _rows(scene)[0].case.status == "open"
