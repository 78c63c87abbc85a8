"""kith's own exporters: accounts, presence and privacy.

They live here because this capability owns "your data"; other capabilities register
theirs in ``kith/<capability>/export.py`` (see :mod:`kith.privacy.export`).
"""

from __future__ import annotations

import json
from typing import Any

import h3
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from kith.accounts import queries as account_queries
from kith.accounts.models import AuthSession, Circle, Friendship, User
from kith.presence.geo import center
from kith.presence.ics import event_ics
from kith.presence.models import (
    Alert,
    Intent,
    IntentAudience,
    LocationHistory,
    Meetup,
    PairState,
    Presence,
    PresenceSettings,
    SharingGrant,
)
from kith.privacy.consent import PURPOSES, Purpose, consent_state
from kith.privacy.export import ExportContext, ExportFile, exporter, json_file
from kith.privacy.models import ExportJob, LedgerEntry
from kith.privacy.queries import actor_label


def _names(db: Session, ids: set[int]) -> dict[int, User]:
    ids.discard(0)
    if not ids:
        return {}
    return {u.id: u for u in db.scalars(select(User).where(User.id.in_(ids)))}


def _person(user: User | None) -> dict[str, str] | None:
    return {"username": user.username, "display_name": user.display_name} if user else None


@exporter(
    "accounts",
    files={
        "account.json": "Your account: username, display name, when you joined, and your "
        "log-in sessions (when each started and ends; never the secret itself).",
        "friends.json": "Your friends and the circle you keep each in, friend requests "
        "you sent and received, and the people you blocked.",
        "circles.json": "Your circles and who is in each.",
    },
    tables=("users", "auth_sessions", "friendships", "friend_requests", "blocks", "circles"),
)
def export_accounts(db: Session, user: User, _ctx: ExportContext) -> list[ExportFile]:
    sessions = db.scalars(
        select(AuthSession).where(AuthSession.user_id == user.id).order_by(AuthSession.id)
    )
    account = {
        "username": user.username,
        "display_name": user.display_name,
        "created_at": user.created_at,
        "sessions": [{"created_at": s.created_at, "expires_at": s.expires_at} for s in sessions],
    }
    incoming, outgoing = account_queries.list_friend_requests(db, user)
    friends = {
        "friends": [
            {**_person(f.user), "circle": f.circle, "since": f.since}  # type: ignore[dict-item]
            for f in account_queries.list_friends(db, user)
        ],
        "requests_received": [{"from": _person(r.other), "at": r.created_at} for r in incoming],
        "requests_sent": [{"to": _person(r.other), "at": r.created_at} for r in outgoing],
        "blocked": [_person(u) for u in account_queries.list_blocked(db, user)],
    }
    members: dict[int, list[str]] = {}
    for circle_id, username in db.execute(
        select(Friendship.circle_id, User.username)
        .join(User, User.id == Friendship.friend_id)
        .where(Friendship.user_id == user.id)
        .order_by(User.username_key)
    ):
        members.setdefault(circle_id, []).append(username)
    circles = [
        {
            "name": c.name,
            "builtin": c.builtin,
            "created_at": c.created_at,
            "members": members.get(c.id, []),
        }
        for c in db.scalars(select(Circle).where(Circle.owner_id == user.id).order_by(Circle.id))
    ]
    return [
        json_file("account.json", account),
        json_file("friends.json", friends),
        json_file("circles.json", circles),
    ]


def _cell_feature(cell: str, properties: dict[str, Any]) -> dict[str, Any]:
    """A GeoJSON polygon for an H3 cell (lon/lat order, closed ring), centre in properties."""
    ring = [[lon, lat] for lat, lon in h3.cell_to_boundary(cell)]
    ring.append(ring[0])
    lat, lon = center(cell)
    return {
        "type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": [ring]},
        "properties": {"cell": cell, "center": [lon, lat], **properties},
    }


def _calendar(events: list[str]) -> str:
    """One iCalendar file holding the VEVENTs of several single-event calendars."""
    head: list[str] = []
    body: list[str] = []
    for text in events:
        lines = text.split("\r\n")
        start, end = lines.index("BEGIN:VEVENT"), lines.index("END:VEVENT")
        head = head or lines[:start]
        body.extend(lines[start : end + 1])
    if not head:
        head = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//kith//meetups//EN"]
    return "\r\n".join([*head, *body, "END:VCALENDAR"]) + "\r\n"


@exporter(
    "presence",
    files={
        "sharing.json": "Who you share your location with and how precisely, ghost mode, "
        "alert preferences and your history setting.",
        "location.json": "Your last stored position, as the cell your friends may see "
        "(kith keeps exact points in memory only, never on disk).",
        "location_history.geojson": "Your own location history (only if you turned it "
        "on): one hexagon per place and time, at block precision.",
        "intents.json": 'Your plans ("up for tennis from 6 to 8") and who could see them.',
        "alerts.json": "Alerts you received, how you answered, and when kith last alerted "
        "you about each friend.",
        "meetups.json": "Meetups you agreed on with friends.",
        "meetups.ics": "The same meetups as a calendar file.",
    },
    tables=(
        "sharing_grants",
        "presence_settings",
        "presences",
        "location_history",
        "intents",
        "intent_audience",
        "alerts",
        "alert_pair_states",
        "meetups",
    ),
)
def export_presence(db: Session, user: User, _ctx: ExportContext) -> list[ExportFile]:
    grants = list(db.scalars(select(SharingGrant).where(SharingGrant.owner_id == user.id)))
    circles = {c.id: c.name for c in db.scalars(select(Circle).where(Circle.owner_id == user.id))}
    settings = db.get(PresenceSettings, user.id)
    alerts = list(db.scalars(select(Alert).where(Alert.recipient_id == user.id).order_by(Alert.id)))
    pair_states = list(db.scalars(select(PairState).where(PairState.recipient_id == user.id)))
    meetups = list(
        db.scalars(
            select(Meetup)
            .where(or_(Meetup.user_a_id == user.id, Meetup.user_b_id == user.id))
            .order_by(Meetup.starts_at)
        )
    )
    people = _names(
        db,
        {g.friend_id or 0 for g in grants}
        | {a.other_id for a in alerts}
        | {p.other_id for p in pair_states}
        | {m.user_a_id for m in meetups}
        | {m.user_b_id for m in meetups},
    )
    sharing = {
        "circles": [
            {
                "circle": circles.get(g.circle_id),
                "precision": g.precision,
                "expires_at": g.expires_at,
            }
            for g in grants
            if g.circle_id is not None
        ],
        "friends": [
            {
                "friend": _person(people.get(g.friend_id)),
                "precision": g.precision,
                "expires_at": g.expires_at,
            }
            for g in grants
            if g.friend_id is not None
        ],
        "settings": None
        if settings is None
        else {
            "ghost_until": settings.ghost_until,
            "ghost_until_turned_off": settings.ghost_indefinite,
            "open_to_hang_out": settings.open_to_hang_out,
            "daily_alert_budget": settings.daily_budget,
            "quiet_hours": [settings.quiet_start, settings.quiet_end],
            "timezone": settings.timezone,
            "keep_history": settings.keep_history,
            "history_days": settings.history_days,
        },
    }
    stored = db.get(Presence, user.id)
    location = None
    if stored is not None:
        lat, lon = center(stored.cell)
        location = {
            "cell": stored.cell,
            "center": {"lat": lat, "lon": lon},
            "recorded_at": stored.recorded_at,
        }
    history = db.scalars(
        select(LocationHistory)
        .where(LocationHistory.user_id == user.id)
        .order_by(LocationHistory.recorded_at, LocationHistory.id)
    )
    geojson = {
        "type": "FeatureCollection",
        "features": [
            _cell_feature(h.cell, {"recorded_at": h.recorded_at.isoformat()}) for h in history
        ],
    }
    intents = list(db.scalars(select(Intent).where(Intent.user_id == user.id).order_by(Intent.id)))
    audience: dict[int, list[str]] = {}
    for intent_id, circle_id in db.execute(
        select(IntentAudience.intent_id, IntentAudience.circle_id).where(
            IntentAudience.intent_id.in_([i.id for i in intents])
        )
    ):
        audience.setdefault(intent_id, []).append(circles.get(circle_id, "?"))
    other = {
        m.id: people.get(m.user_b_id if m.user_a_id == user.id else m.user_a_id) for m in meetups
    }

    def with_whom(meetup: Meetup) -> str:
        person = other[meetup.id]
        return person.display_name if person is not None else "a deleted account"

    calendar = _calendar(
        [
            event_ics(
                uid=f"meetup-{m.id}@kith",
                summary=f"{m.activity.capitalize()} with {with_whom(m)}",
                description="Agreed on kith.",
                starts_at=m.starts_at,
                ends_at=m.ends_at,
                created_at=m.created_at,
            )
            for m in meetups
        ]
    )
    return [
        json_file("sharing.json", sharing),
        json_file("location.json", location),
        ExportFile("location_history.geojson", json.dumps(geojson, indent=1).encode()),
        json_file(
            "intents.json",
            [
                {
                    "activity": i.activity,
                    "starts_at": i.starts_at,
                    "ends_at": i.ends_at,
                    "radius_m": i.radius_m,
                    "audience": sorted(audience.get(i.id, [])),
                    "created_at": i.created_at,
                }
                for i in intents
            ],
        ),
        json_file(
            "alerts.json",
            {
                "alerts": [
                    {
                        "kind": a.kind,
                        "about": _person(people.get(a.other_id)),
                        "activity": a.activity,
                        "starts_at": a.starts_at,
                        "ends_at": a.ends_at,
                        "created_at": a.created_at,
                        "expires_at": a.expires_at,
                        "answer": a.answer,
                        "answered_at": a.answered_at,
                    }
                    for a in alerts
                ],
                "last_alerted": [
                    {
                        "about": _person(people.get(p.other_id)),
                        "kind": p.kind,
                        "at": p.last_alert_at,
                    }
                    for p in pair_states
                ],
            },
        ),
        json_file(
            "meetups.json",
            [
                {
                    "with": _person(other[m.id]),
                    "activity": m.activity,
                    "starts_at": m.starts_at,
                    "ends_at": m.ends_at,
                    "agreed_at": m.created_at,
                }
                for m in meetups
            ],
        ),
        ExportFile("meetups.ics", calendar.encode("utf-8")),
    ]


@exporter(
    "privacy",
    files={
        "ledger.json": "Your ledger: every time someone else, or a kith function, used "
        "your data: who, what, when and why.",
        "consent.json": "Your consent settings, each with what it means.",
        "exports.json": "When you asked for exports like this one.",
    },
    tables=("ledger_entries", "consents", "export_jobs"),
)
def export_privacy(db: Session, user: User, ctx: ExportContext) -> list[ExportFile]:
    entries = list(
        db.scalars(
            select(LedgerEntry)
            .where(LedgerEntry.subject_id == user.id)
            .order_by(LedgerEntry.at, LedgerEntry.id)
        )
    )
    actors = _names(db, {e.actor_id for e in entries if e.actor_id is not None})
    ledger = [
        {
            "at": e.at,
            "who": actor_label(e.actor_kind, actors.get(e.actor_id) if e.actor_id else None),
            "username": actors[e.actor_id].username if e.actor_id in actors else None,
            "what": e.what,
            "detail": e.detail,
            "purpose": e.purpose,
        }
        for e in entries
    ]
    state = consent_state(db, user, now=ctx.now)
    # "setting": on/off, or whom for help_friends_plan (nobody / close / friends).
    consent = [
        {"purpose": p.value, "setting": state[p], "means": PURPOSES[p].explain} for p in Purpose
    ]
    jobs = db.execute(
        select(ExportJob.created_at, ExportJob.state, ExportJob.finished_at)
        .where(ExportJob.user_id == user.id)
        .order_by(ExportJob.id)
    ).all()
    exports = [{"asked_at": c, "state": s, "finished_at": f} for c, s, f in jobs]
    return [
        json_file("ledger.json", ledger),
        json_file("consent.json", consent),
        json_file("exports.json", exports),
    ]
