"""The "Your data" pages, driven the way a browser does (cookies, CSRF tokens)."""

from __future__ import annotations

import io
import zipfile

from fastapi.testclient import TestClient

from tests.conftest import PASSWORD
from tests.presence.helpers import BASE
from tests.web.conftest import Pages, Visitor, flash


def befriend(ana: Visitor, ben: Visitor) -> None:
    r = ana.client.post(
        "/api/v1/friend-requests",
        json={"username": "ben"},
        headers={"Authorization": f"Bearer {ana.token}"},
    )
    assert r.status_code == 201
    r = ben.client.post(
        f"/api/v1/friend-requests/{r.json()['id']}/accept",
        headers={"Authorization": f"Bearer {ben.token}"},
    )
    assert r.status_code == 200


def test_ledger_page_says_who_saw_what(pages: Pages, client: TestClient) -> None:
    ana, ben = pages.member("ana"), pages.member("ben")
    page = ana.get("/data")
    assert page.status_code == 200
    assert "Nobody used your data this week." in page.text
    befriend(ana, ben)
    r = ana.submit(
        "/data/consent", {"purpose": "share_location", "on": "true"}, from_page="/data/consent"
    )
    assert flash(r) == ("ok", "Share my location with my circles: on.")
    bearer = {"Authorization": f"Bearer {ana.token}"}
    assert (
        client.put(
            "/api/v1/me/location", json={"lat": BASE[0], "lon": BASE[1]}, headers=bearer
        ).status_code
        == 204
    )
    ben_bearer = {"Authorization": f"Bearer {ben.token}"}
    for _ in range(2):
        assert client.get("/api/v1/friends/ana/location", headers=ben_bearer).status_code == 404
    # Ana's "on" shares her city with close friends; Ben is in "friends": nothing yet.
    client.put(
        "/api/v1/sharing/circles/friends", json={"precision": "neighbourhood"}, headers=bearer
    )
    here = {"lat": BASE[0], "lon": BASE[1]}
    assert client.put("/api/v1/me/location", json=here, headers=bearer).status_code == 204
    for _ in range(3):
        assert client.get("/api/v1/friends/ana/location", headers=ben_bearer).status_code == 200
    page = ana.get("/data")
    assert "Ben saw your neighbourhood 3 times this week." in page.text
    assert page.text.count("shown to a friend") == 3
    assert "Ben" not in ben.get("/data").text.split("Every use")[1]
    filtered = ana.get("/data", params={"what": "intent"})
    assert "Nothing recorded that matches." in filtered.text
    assert ana.get("/data", params={"cursor": "garbage"}).status_code == 200  # message, no 500


def test_consent_switches_turn_on_and_off(pages: Pages) -> None:
    ana = pages.member("ana")
    page = ana.get("/data/consent")
    assert page.text.count('data-on="false"') == 3
    assert 'data-purpose="help_friends_plan" data-helps="close"' in page.text
    r = ana.submit("/data/consent", {"purpose": "keep_history", "on": "true"})
    assert flash(r) == ("ok", "Keep my own location history: on.")
    assert 'data-purpose="keep_history" data-on="true"' in r.text
    r = ana.submit("/data/consent", {"purpose": "keep_history", "on": "false"})
    assert 'data-purpose="keep_history" data-on="false"' in r.text
    r = ana.submit("/data/consent", {"purpose": "everything", "on": "true"})
    assert flash(r) == ("error", "That is not one of the switches.")


def test_whom_my_history_helps_is_one_setting_on_both_pages(pages: Pages) -> None:
    ana = pages.member("ana")
    r = ana.submit(
        "/data/consent",
        {"purpose": "help_friends_plan", "helps": "nobody"},
        from_page="/data/consent",
    )
    assert flash(r) == ("ok", "Let my history help friends plan with me: nobody.")
    assert 'data-purpose="help_friends_plan" data-helps="nobody"' in r.text
    assert '<option value="nobody" selected>' in ana.get("/partners").text
    r = ana.submit("/partners/settings", {"history_helps": "friends"}, from_page="/partners")
    assert flash(r) == ("ok", "Your history now helps: all my friends.")
    assert 'data-helps="friends"' in ana.get("/data/consent").text
    r = ana.submit(
        "/data/consent",
        {"purpose": "help_friends_plan", "helps": "everyone"},
        from_page="/data/consent",
    )
    assert flash(r) == ("error", "Choose one of: nobody, close, friends.")
    assert 'data-helps="friends"' in r.text


def test_export_button_prepares_a_download(pages: Pages) -> None:
    ana = pages.member("ana")
    assert "You have not asked for an export yet." in ana.get("/data/export").text
    no = ana.get("/data/export/download")
    assert flash(no) == ("error", "There is no finished export yet.")
    r = ana.submit("/data/export", {}, from_page="/data/export")
    assert flash(r) == ("ok", "Your export is being prepared.")
    assert "Download the zip" in r.text
    status = ana.get("/data/export/status")
    assert "is ready" in status.text
    zipped = ana.client.get("/data/export/download")
    assert zipped.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(zipped.content)) as archive:
        assert "kith-ana/README.txt" in archive.namelist()


def test_delete_needs_the_password_then_deletes_everything(pages: Pages) -> None:
    ana = pages.member("ana")
    wrong = ana.submit("/data/delete", {"password": "not it"}, from_page="/data/delete")
    assert wrong.status_code == 401
    assert "Wrong username or password." in wrong.text
    assert ana.api("/api/v1/me").status_code == 200
    token = ana.token
    done = ana.submit("/data/delete", {"password": PASSWORD}, from_page="/data/delete")
    assert done.url.path == "/login"
    assert flash(done) == ("ok", "Your account and everything kith held about you are deleted.")
    assert "kith_session" not in ana.client.cookies
    r = ana.client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401
    assert pages.visitor().login("ana").url.path == "/login"  # no such account any more


def test_pages_need_a_login_and_forms_need_the_token(pages: Pages) -> None:
    visitor = pages.visitor()
    for path in ("/data", "/data/consent", "/data/export", "/data/delete"):
        r = visitor.get(path)
        assert r.url.path == "/login"
    ana = pages.member("ana")
    forged = ana.client.post("/data/delete", data={"password": PASSWORD})
    assert forged.status_code == 403
    assert ana.api("/api/v1/me").status_code == 200
