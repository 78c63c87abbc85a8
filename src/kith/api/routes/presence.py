"""Location, sharing grants, ghost mode, nearby friends and intents."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Response

from kith.accounts.models import User
from kith.accounts.schemas import UserOut
from kith.api.deps import DB, CurrentUser, IdPath, Now, State
from kith.errors import NotFound
from kith.presence import actions, queries
from kith.presence.access import access_location
from kith.presence.geo import center, label, separation
from kith.presence.queries import GrantEntry, IntentEntry
from kith.presence.schemas import (
    AlertSettingsIn,
    AlertSettingsOut,
    GhostIn,
    GhostOut,
    GrantIn,
    GrantOut,
    HistoryIn,
    IntentIn,
    IntentOut,
    IntentsOut,
    LocationIn,
    LocationOut,
    NearbyOut,
    Point,
    QuietHours,
    SharingOut,
)

router = APIRouter(tags=["presence"])
AS_OF_ROUNDING_MINUTES = 5


def round_time(value: datetime) -> datetime:
    """Round down to 5 minutes: friends never learn finer timing."""
    return value.replace(
        minute=value.minute - value.minute % AS_OF_ROUNDING_MINUTES, second=0, microsecond=0
    )


@router.put("/me/location", status_code=204)
def update_location(
    body: LocationIn, user: CurrentUser, db: DB, state: State, now: Now
) -> Response:
    outcome = actions.do_update_location(
        db,
        state.live,
        user,
        lat=body.lat,
        lon=body.lon,
        accuracy_m=body.accuracy_m,
        recorded_at=body.recorded_at,
        now=now,
    )
    state.events.publish(outcome.notified)
    return Response(status_code=204)


@router.get("/friends/{username}/location")
def friend_location(
    username: str, user: CurrentUser, db: DB, state: State, now: Now
) -> LocationOut:
    seen = access_location(db, user, username, state.live, now=now)
    mine = queries.own_cell(db, user.id, state.live, now=now)
    where = label(separation(seen.cell, mine)) if mine else "shared with you"
    db.commit()  # the ledger entry written by access_location
    lat, lon = center(seen.cell)
    return LocationOut(
        precision=seen.precision,
        cell=seen.cell,
        center=Point(lat=lat, lon=lon),
        label=where,
        as_of=round_time(seen.recorded_at),
    )


@router.get("/nearby")
def nearby(user: CurrentUser, db: DB, state: State, now: Now) -> list[NearbyOut]:
    found = queries.nearby(db, user, state.live, now=now)
    db.commit()
    return [
        NearbyOut(
            username=f.user.username,
            display_name=f.user.display_name,
            precision=f.precision,
            label=f.label,
        )
        for f in found
    ]


def _grant(entry: GrantEntry) -> GrantOut:
    return GrantOut(
        name=entry.name,
        precision=entry.precision,
        expires_at=entry.expires_at,
        expired=entry.expired,
    )


def _sharing(db: DB, user: User, now: datetime) -> SharingOut:
    overview = queries.sharing_overview(db, user, now=now)
    return SharingOut(
        circles=[_grant(c) for c in overview.circles],
        friends=[_grant(f) for f in overview.friends],
        ghost=overview.ghost,
        ghost_until=overview.ghost_until,
    )


@router.get("/sharing")
def get_sharing(user: CurrentUser, db: DB, now: Now) -> SharingOut:
    return _sharing(db, user, now)


@router.put("/sharing/circles/{circle}")
def share_with_circle(
    circle: str, body: GrantIn, user: CurrentUser, db: DB, now: Now
) -> SharingOut:
    actions.do_set_circle_grant(db, user, circle, body.precision, body.expires_at, now=now)
    return _sharing(db, user, now)


@router.put("/sharing/friends/{username}")
def share_with_friend(
    username: str, body: GrantIn, user: CurrentUser, db: DB, now: Now
) -> SharingOut:
    actions.do_set_friend_grant(db, user, username, body.precision, body.expires_at, now=now)
    return _sharing(db, user, now)


@router.delete("/sharing/friends/{username}", status_code=204)
def clear_friend_sharing(username: str, user: CurrentUser, db: DB, now: Now) -> Response:
    actions.do_clear_friend_grant(db, user, username, now=now)
    return Response(status_code=204)


@router.put("/me/ghost")
def set_ghost(body: GhostIn, user: CurrentUser, db: DB, state: State, now: Now) -> GhostOut:
    settings = actions.do_set_ghost(db, user, body.until, state.live, now=now)
    return GhostOut(ghost=True, until=settings.ghost_until)


@router.delete("/me/ghost")
def clear_ghost(user: CurrentUser, db: DB) -> GhostOut:
    actions.do_clear_ghost(db, user)
    return GhostOut(ghost=False, until=None)


def _alert_settings(db: DB, user: User) -> AlertSettingsOut:
    s = actions.ensure_settings(db, user.id)
    quiet = (
        QuietHours(start=s.quiet_start, end=s.quiet_end) if s.quiet_start and s.quiet_end else None
    )
    return AlertSettingsOut(
        daily_budget=s.daily_budget,
        quiet_hours=quiet,
        open_to_hang_out=s.open_to_hang_out,
        timezone=s.timezone,
        keep_history=s.keep_history,
        history_days=s.history_days,
    )


@router.get("/me/alert-settings")
def get_alert_settings(user: CurrentUser, db: DB) -> AlertSettingsOut:
    out = _alert_settings(db, user)
    db.commit()
    return out


@router.put("/me/alert-settings")
def update_alert_settings(
    body: AlertSettingsIn, user: CurrentUser, db: DB, state: State, now: Now
) -> AlertSettingsOut:
    quiet: tuple[str, str] | bool | None = False
    if "quiet_hours" in body.model_fields_set:
        quiet = (body.quiet_hours.start, body.quiet_hours.end) if body.quiet_hours else None
    _, notified = actions.do_update_alert_settings(
        db,
        user,
        daily_budget=body.daily_budget,
        quiet_hours=quiet,
        open_to_hang_out=body.open_to_hang_out,
        timezone=body.timezone,
        now=now,
        live=state.live,
    )
    state.events.publish(notified)
    return _alert_settings(db, user)


@router.put("/me/history")
def set_history(body: HistoryIn, user: CurrentUser, db: DB) -> AlertSettingsOut:
    actions.do_set_history(db, user, keep=body.keep, days=body.days)
    return _alert_settings(db, user)


def _intent(e: IntentEntry) -> IntentOut:
    i = e.intent
    return IntentOut(
        id=i.id,
        user=UserOut.of(e.owner),
        activity=i.activity,
        starts_at=i.starts_at,
        ends_at=i.ends_at,
        radius_m=i.radius_m,
        audience=e.audience if e.audience else None,
        label=e.label,
    )


@router.post("/intents", status_code=201)
def create_intent(body: IntentIn, user: CurrentUser, db: DB, state: State, now: Now) -> IntentOut:
    intent, notified = actions.do_create_intent(
        db,
        user,
        state.live,
        activity=body.activity,
        starts_at=body.starts_at,
        ends_at=body.ends_at,
        radius_m=body.radius_m,
        audience=body.audience,
        now=now,
    )
    state.events.publish(notified)
    mine, _ = queries.list_intents(db, user, state.live, now=now)
    for entry in mine:
        if entry.intent.id == intent.id:
            return _intent(entry)
    raise NotFound("no such intent")  # pragma: no cover - created just above


@router.get("/intents")
def list_intents(user: CurrentUser, db: DB, state: State, now: Now) -> IntentsOut:
    mine, theirs = queries.list_intents(db, user, state.live, now=now)
    db.commit()
    return IntentsOut(mine=[_intent(e) for e in mine], friends=[_intent(e) for e in theirs])


@router.delete("/intents/{intent_id}", status_code=204)
def delete_intent(intent_id: IdPath, user: CurrentUser, db: DB) -> Response:
    actions.do_delete_intent(db, user, intent_id)
    return Response(status_code=204)
