"""GET /api/v1/me/export: what is in the zip, background jobs, retries, access."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from kith.clock import FixedClock
from kith.config import Settings
from kith.privacy import export
from kith.privacy.models import ExportJob
from kith.storage.engine import Database
from tests.conftest import World
from tests.privacy.helpers import ACTIVITY, SUBJECT, SUBJECT_NAME, Everything, build_everything


def unzip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        return {
            name.split("/", 1)[1]: archive.read(name)
            for name in archive.namelist()
            if name.startswith(f"kith-{SUBJECT}/")
        }


@pytest.fixture
def everything(
    client: TestClient, world: World, clock: FixedClock, settings: Settings
) -> Everything:
    return build_everything(client, world, clock, settings)


def test_the_archive_holds_everything_in_open_formats(
    client: TestClient, everything: Everything
) -> None:
    r = client.get("/api/v1/me/export", headers=everything.subject.headers)
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/zip"
    assert f'filename="kith-{SUBJECT}-' in r.headers["content-disposition"]
    files = unzip(r.content)
    readme = files["README.txt"].decode()
    for name in files:
        if name != "README.txt":
            assert f"\n{name}\n" in readme, f"{name} is not explained in the README"
    data = {n: json.loads(b) for n, b in files.items() if n.endswith((".json", ".geojson"))}

    account = data["account.json"]
    assert (account["username"], account["display_name"]) == (SUBJECT, SUBJECT_NAME)
    assert "password" not in files["account.json"].decode()
    assert all(set(s) == {"created_at", "expires_at"} for s in account["sessions"])
    friends = data["friends.json"]
    assert {(f["username"], f["circle"]) for f in friends["friends"]} == {
        ("fayetta", "close"),
        ("gustavo", "climbers"),
    }
    assert [r["to"]["username"] for r in friends["requests_sent"]] == ["patrizia"]
    assert [r["from"]["username"] for r in friends["requests_received"]] == ["quillon"]
    assert [b["username"] for b in friends["blocked"]] == ["bobbinet"]
    circles = {c["name"]: c["members"] for c in data["circles.json"]}
    assert circles["climbers"] == ["gustavo"]

    sharing = data["sharing.json"]
    assert {(c["circle"], c["precision"]) for c in sharing["circles"]} >= {
        ("close", "block"),
        ("climbers", "city"),
    }
    assert [(f["friend"]["username"], f["precision"]) for f in sharing["friends"]] == [
        ("gustavo", "precise")
    ]
    assert sharing["settings"]["timezone"] == "Europe/Lisbon"
    assert data["location.json"]["cell"] in everything.subject_cells()
    assert [i["activity"] for i in data["intents.json"]] == [ACTIVITY]
    assert sorted(data["intents.json"][0]["audience"]) == ["climbers", "close"]
    kinds = {(a["kind"], a["about"]["username"]) for a in data["alerts.json"]["alerts"]}
    assert ("in", "fayetta") in kinds
    assert [m["with"]["username"] for m in data["meetups.json"]] == ["fayetta"]
    ledger = data["ledger.json"]
    assert {(e["who"], e["what"]) for e in ledger} >= {("Fayetta", "location")}
    consent = {c["purpose"]: c["setting"] for c in data["consent.json"]}
    assert consent == {
        "share_location": True,
        "help_friends_plan": "friends",
        "rank_my_feed": True,
        "keep_history": True,
    }

    history = data["location_history.geojson"]
    assert history["type"] == "FeatureCollection"
    assert len(history["features"]) == len(everything.positions)
    for feature, (lat, lon) in zip(history["features"], everything.positions, strict=True):
        ring = feature["geometry"]["coordinates"][0]
        assert feature["geometry"]["type"] == "Polygon"
        assert ring[0] == ring[-1]  # closed
        lons, lats = [p[0] for p in ring], [p[1] for p in ring]
        # GeoJSON is lon, lat: the recorded point lies inside the hexagon's box.
        assert min(lons) <= lon <= max(lons)
        assert min(lats) <= lat <= max(lats)
        assert feature["properties"]["cell"] in everything.subject_cells()

    ics = files["meetups.ics"].decode()
    assert ics.startswith("BEGIN:VCALENDAR\r\n")
    assert ics.endswith("END:VCALENDAR\r\n")
    assert ics.count("BEGIN:VEVENT") == 1
    assert "SUMMARY:Climbing with Fayetta" in ics

    # The same, prepared in the background: progress, then the same bytes on every retry.
    h = everything.subject.headers
    r = client.post("/api/v1/me/export/jobs", headers=h)
    assert r.status_code == 202
    job = r.json()
    assert r.headers["location"] == f"/api/v1/me/export/jobs/{job['id']}"
    status = client.get(r.headers["location"], headers=h).json()
    # TestClient runs background tasks before returning, so the job is already done.
    assert status["state"] == "done"
    assert status["steps_done"] == status["steps_total"] >= 3
    first = client.get(status["download_url"], headers=h)
    again = client.get(status["download_url"], headers=h)
    assert first.status_code == again.status_code == 200
    assert first.content == again.content
    assert status["size_bytes"] == len(first.content)
    assert unzip(first.content).keys() == files.keys()


def test_jobs_for_large_accounts_retries_dead_workers_and_other_people(
    client: TestClient,
    everything: Everything,
    settings: Settings,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # In this order: the first two use the job the subject already has.
    retries_while_running_return_the_same_job(client, everything, settings, clock)
    nobody_reads_anyone_elses_export(client, everything)
    tables_no_exporter_claims_are_still_exported(client, everything)
    # The size limit is a seam, not a mock: the same code path runs with a smaller limit.
    monkeypatch.setattr(export, "EXPORT_SYNC_MAX_ROWS", 5)
    r = client.get("/api/v1/me/export", headers=everything.subject.headers)
    assert r.status_code == 202
    assert int(r.headers["retry-after"]) >= 1
    status = client.get(r.headers["location"], headers=everything.subject.headers).json()
    assert status["state"] == "done"


def retries_while_running_return_the_same_job(
    client: TestClient, everything: Everything, settings: Settings, clock: FixedClock
) -> None:
    h = everything.subject.headers
    database = Database(settings)
    try:
        with database.session() as db:
            # A worker claimed this job, then its process died.
            db.execute(
                update(ExportJob)
                .where(ExportJob.id == everything.export_job_id)
                .values(state="running", heartbeat_at=clock.now(), archive=None)
            )
            db.commit()
        r = client.post("/api/v1/me/export/jobs", headers=h)
        assert (r.status_code, r.json()["id"], r.json()["state"]) == (
            202,
            everything.export_job_id,
            "running",
        )
        clock.advance(export.HEARTBEAT_STALE + timedelta(seconds=1))
        r = client.post("/api/v1/me/export/jobs", headers=h)
        assert r.json()["id"] == everything.export_job_id
        done = client.get(f"/api/v1/me/export/jobs/{everything.export_job_id}", headers=h)
        assert done.json()["state"] == "done"
    finally:
        database.dispose()


def nobody_reads_anyone_elses_export(client: TestClient, everything: Everything) -> None:
    job_id = everything.export_job_id
    for who in (everything.friend, everything.blocked):
        assert client.get(f"/api/v1/me/export/jobs/{job_id}", headers=who.headers).status_code == (
            404
        )
        r = client.get(f"/api/v1/me/export/jobs/{job_id}/archive", headers=who.headers)
        assert r.status_code == 404
        own = unzip_any(client.get("/api/v1/me/export", headers=who.headers).content)
        assert SUBJECT_NAME not in json.dumps(own.get("account.json", ""))
        assert json.loads(own["account.json"])["username"] == who.username
    assert client.get(f"/api/v1/me/export/jobs/{job_id}").status_code == 401
    assert client.get("/api/v1/me/export").status_code == 401


def unzip_any(data: bytes) -> dict[str, Any]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name.split("/", 1)[1]: archive.read(name).decode() for name in archive.namelist()}


def tables_no_exporter_claims_are_still_exported(
    client: TestClient, everything: Everything
) -> None:
    """Every table with a users column is covered: by an exporter, or by the fallback."""
    covered = {t for e in export.exporters() for t in e.tables}
    leftovers = export.unclaimed_tables(covered)
    files = unzip(client.get("/api/v1/me/export", headers=everything.subject.headers).content)
    for table in leftovers:
        assert f"other/{table.name}.json" in files
        rows = json.loads(files[f"other/{table.name}.json"])
        assert isinstance(rows, list)
        assert all(not any(w in k for w in export.SECRET_WORDS) for r in rows for k in r)
