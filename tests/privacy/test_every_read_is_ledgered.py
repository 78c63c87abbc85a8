"""Walk every API read as a friend of someone who shares everything, and check that each
read that shows that person's data left an entry in their ledger.

The routes come from the OpenAPI spec, so a route added later is walked too. A read
"shows the subject's data" when the answer holds an object about the subject (their
username in it, or in an object it holds) carrying place or plan fields, or, for a
non-JSON answer, their name next to their activity.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from kith.accounts.models import User
from kith.clock import FixedClock
from kith.config import Settings
from kith.privacy.models import LedgerEntry
from kith.storage.engine import make_engine
from tests.conftest import Person, World
from tests.privacy.helpers import ACTIVITY, SUBJECT, SUBJECT_NAME, Everything, build_everything

# Fields that say where someone is or what they plan.
PERSONAL_FIELDS = frozenset({"label", "precision", "cell", "center", "activity"})

# Reads that mention the subject next to such fields without using the subject's data.
NOT_THE_SUBJECTS_DATA = {
    "/api/v1/sharing": "the viewer's own grants: how precisely *she* shares with the subject",
    "/api/v1/meetups": "a meetup is a record both people agreed to; each reads their own copy",
    "/api/v1/meetups/{meetup_id}.ics": "the same meetup, as a calendar file",
    "/api/v1/invites": "invites the subject sent to the viewer: messages addressed to her",
    "/api/v1/invites/{invite_id}": "one such invite",
}

# Reads that show the subject's data without a ledger entry today. Each is a bug owned by
# another capability and reported; the test fails when one is fixed, so the entry goes.
KNOWN_GAPS: dict[str, str] = {}


def _about_subject(obj: dict[str, Any]) -> bool:
    for value in obj.values():
        if value == SUBJECT:
            return True
        if isinstance(value, dict) and value.get("username") == SUBJECT:
            return True
    return False


def reveals(payload: Any, *, about: bool = False) -> bool:
    """Whether a decoded JSON answer holds the subject's place or plans; ``about`` when
    the whole answer concerns the subject (the path names them)."""
    if isinstance(payload, list):
        return any(reveals(item, about=about) for item in payload)
    if not isinstance(payload, dict):
        return False
    if (about or _about_subject(payload)) and any(
        payload.get(key) not in (None, "", []) for key in PERSONAL_FIELDS
    ):
        return True
    return any(reveals(value, about=about) for value in payload.values())


def answer_reveals(response: Any, *, about: bool) -> bool:
    kind = response.headers.get("content-type", "")
    if "json" in kind:
        return reveals(response.json(), about=about)
    if kind.startswith("text/event-stream"):
        events = [
            json.loads(line[len("data: ") :])
            for line in response.text.splitlines()
            if line.startswith("data: ")
        ]
        return reveals(events)
    if kind.startswith("text/"):
        return SUBJECT_NAME in response.text and ACTIVITY in response.text.lower()
    return False


def fill(path: str, everything: Everything) -> str:
    values = {
        "username": SUBJECT,
        "meetup_id": str(everything.meetup_id),
        "alert_id": str(everything.friend_alert_id),
        "code": "not-found",
        "circle": "close",
        "name": "close",
    }
    parts = []
    for piece in path.split("/"):
        if "{" in piece:
            start, end = piece.index("{"), piece.index("}")
            param = piece[start + 1 : end]
            # Unknown ids get 1 and unknown names the subject: still walked, never skipped.
            default = "1" if param.endswith("id") else SUBJECT
            piece = piece[:start] + values.get(param, default) + piece[end + 1 :]
        parts.append(piece)
    return "/".join(parts)


def query_for(operation: dict[str, Any]) -> dict[str, str]:
    query = {}
    for param in operation.get("parameters", []):
        if param["in"] != "query":
            continue
        if param["name"] == "max_seconds":
            query["max_seconds"] = "0.2"  # the alert stream: end quickly
        elif param.get("required"):
            schema = param.get("schema", {})
            query[param["name"]] = "1" if schema.get("type") == "integer" else SUBJECT[:4]
    return query


def ledger_count(engine: Engine, viewer: str) -> int:
    with engine.connect() as conn:
        viewer_id = conn.scalar(select(User.id).where(User.username == viewer))
        subject_id = conn.scalar(select(User.id).where(User.username == SUBJECT))
        return int(
            conn.scalar(
                select(func.count())
                .select_from(LedgerEntry)
                .where(LedgerEntry.subject_id == subject_id, LedgerEntry.actor_id == viewer_id)
            )
            or 0
        )


def walk(
    app: FastAPI, client: TestClient, engine: Engine, everything: Everything, viewer: Person
) -> tuple[set[str], set[str]]:
    """(routes whose answer showed the subject's data, those of them with no ledger entry)."""
    spec = app.openapi()
    revealing: set[str] = set()
    unledgered: set[str] = set()
    for path, operations in sorted(spec["paths"].items()):
        operation = operations.get("get")
        if operation is None:
            continue
        before = ledger_count(engine, viewer.username)
        response = client.get(
            fill(path, everything), params=query_for(operation), headers=viewer.headers
        )
        assert response.status_code < 500, (path, response.text)
        if not answer_reveals(response, about="{username}" in path):
            continue
        revealing.add(path)
        if ledger_count(engine, viewer.username) == before:
            unledgered.add(path)
    return revealing, unledgered


def test_every_read_of_a_friends_data_is_in_their_ledger(
    app: FastAPI, client: TestClient, world: World, clock: FixedClock, settings: Settings
) -> None:
    everything = build_everything(client, world, clock, settings)
    engine = make_engine(settings.database_url)
    try:
        revealing, unledgered = walk(app, client, engine, everything, everything.friend)
        # Someone the subject blocked is shown nothing of theirs, anywhere.
        assert walk(app, client, engine, everything, everything.blocked) == (set(), set())
    finally:
        engine.dispose()
    # The detector works: these certainly show the subject's place or plans.
    assert {"/api/v1/friends/{username}/location", "/api/v1/nearby", "/api/v1/intents"} <= (
        revealing
    )
    missing = unledgered - NOT_THE_SUBJECTS_DATA.keys() - KNOWN_GAPS.keys()
    assert not missing, f"reads with no ledger entry for the subject: {sorted(missing)}"
    fixed = KNOWN_GAPS.keys() - unledgered
    assert not fixed, f"now ledgered (remove from KNOWN_GAPS): {sorted(fixed)}"
