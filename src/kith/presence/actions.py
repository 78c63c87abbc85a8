"""Every state change of presence: grants, ghost mode, settings, location, intents, answers.

Each ``do_*`` commits once. Those that can create alerts return the ids of users
whose inbox changed; the edge wakes their streams after the commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from kith.accounts.access import access_circle, access_friend, is_blocked_either_way
from kith.accounts.models import User
from kith.errors import Conflict, InvalidInput, NotFound
from kith.presence.access import grant_book
from kith.presence.activities import normalise_activity
from kith.presence.geo import (
    FINEST_STORED,
    Precision,
    cell_at,
    cell_radius_m,
    center,
    check_coordinates,
    coarsen,
    coarser,
    implied_speed_kmh,
    precision_of,
    rank,
)
from kith.presence.live import Fix, LivePositions
from kith.presence.matcher import IN, INTENT, NEARBY, deliver, preferences, run_matching
from kith.presence.models import (
    Alert,
    Intent,
    IntentAudience,
    LocationHistory,
    Meetup,
    Presence,
    PresenceSettings,
    SharingGrant,
)
from kith.presence.policy import MAX_DAILY_BUDGET

# Limits, each with its reason.
PRECISE_DEFAULT = timedelta(hours=1)
PRECISE_MAX = timedelta(hours=24)  # precise sharing is only ever time-limited
GHOST_MAX = timedelta(days=30)
FUTURE_TOLERANCE = timedelta(minutes=5)  # clock skew between a phone and the server
OLDEST_UPDATE = timedelta(days=2)  # OwnTracks may send queued fixes after a while offline
MAX_SPEED_KMH = 300.0
INTENT_MAX_DURATION = timedelta(hours=24)
INTENT_MAX_AHEAD = timedelta(days=14)
RADIUS_MIN_M = 100
RADIUS_MAX_M = 50_000
HISTORY_CELL = Precision.BLOCK  # the user's own trail is kept at block precision
HISTORY_DAYS_MAX = 365


def ensure_settings(db: Session, user_id: int) -> PresenceSettings:
    settings = db.get(PresenceSettings, user_id)
    if settings is None:
        settings = PresenceSettings(
            user_id=user_id,
            ghost_indefinite=False,
            open_to_hang_out=False,
            daily_budget=3,
            timezone="UTC",
            keep_history=False,
            history_days=30,
        )
        db.add(settings)
        db.flush()
    return settings


def _minimise_stored(db: Session, user: User, now: datetime) -> None:
    """Keep the stored cell no finer than the finest live grant (or drop it)."""
    stored = db.get(Presence, user.id)
    if stored is None:
        return
    finest = grant_book(db, user.id, now=now).finest()
    if finest is Precision.OFF:
        db.delete(stored)
        return
    keep = coarser(finest, FINEST_STORED)
    if rank(precision_of(stored.cell)) > rank(keep):
        stored.cell = coarsen(stored.cell, keep)


def _check_grant(
    precision: Precision, expires_at: datetime | None, now: datetime
) -> datetime | None:
    if expires_at is not None and expires_at <= now:
        raise InvalidInput("expires_at must be in the future", field="expires_at")
    if precision is Precision.PRECISE:
        expires_at = expires_at or now + PRECISE_DEFAULT
        if expires_at - now > PRECISE_MAX:
            raise InvalidInput("precise sharing lasts at most 24 hours", field="expires_at")
    return expires_at


def _upsert_grant(
    db: Session,
    owner: User,
    *,
    circle_id: int | None,
    friend_id: int | None,
    precision: Precision,
    expires_at: datetime | None,
    now: datetime,
) -> SharingGrant:
    expires_at = _check_grant(precision, expires_at, now)
    target = (
        SharingGrant.circle_id == circle_id
        if circle_id is not None
        else SharingGrant.friend_id == friend_id
    )
    grant = db.scalar(select(SharingGrant).where(SharingGrant.owner_id == owner.id, target))
    if grant is None:
        grant = SharingGrant(
            owner_id=owner.id,
            circle_id=circle_id,
            friend_id=friend_id,
            precision=precision.value,
            expires_at=expires_at,
            updated_at=now,
        )
        db.add(grant)
    grant.precision, grant.expires_at, grant.updated_at = precision.value, expires_at, now
    db.flush()
    _minimise_stored(db, owner, now)
    db.commit()
    return grant


def do_set_circle_grant(
    db: Session,
    owner: User,
    circle_name: str,
    precision: Precision,
    expires_at: datetime | None,
    *,
    now: datetime,
) -> SharingGrant:
    circle = access_circle(db, owner, circle_name)
    return _upsert_grant(
        db,
        owner,
        circle_id=circle.id,
        friend_id=None,
        precision=precision,
        expires_at=expires_at,
        now=now,
    )


def do_set_friend_grant(
    db: Session,
    owner: User,
    username: str,
    precision: Precision,
    expires_at: datetime | None,
    *,
    now: datetime,
) -> SharingGrant:
    """Override the circle's grant for one friend (``off`` hides from just them)."""
    friend, _ = access_friend(db, owner, username)
    return _upsert_grant(
        db,
        owner,
        circle_id=None,
        friend_id=friend.id,
        precision=precision,
        expires_at=expires_at,
        now=now,
    )


def do_clear_friend_grant(db: Session, owner: User, username: str, *, now: datetime) -> None:
    """Remove a per-friend override: the friend's circle grant applies again."""
    friend, _ = access_friend(db, owner, username)
    db.execute(
        delete(SharingGrant).where(
            SharingGrant.owner_id == owner.id, SharingGrant.friend_id == friend.id
        )
    )
    db.flush()
    _minimise_stored(db, owner, now)
    db.commit()


def do_set_ghost(
    db: Session, user: User, until: datetime | None, live: LivePositions, *, now: datetime
) -> PresenceSettings:
    """Hide from everyone until ``until``, or until turned off when ``until`` is None."""
    if until is not None and until <= now:
        raise InvalidInput("ghost mode must end in the future", field="until")
    if until is not None and until - now > GHOST_MAX:
        raise InvalidInput(
            "for longer than 30 days, use ghost mode until turned off", field="until"
        )
    settings = ensure_settings(db, user.id)
    settings.ghost_until = until
    settings.ghost_indefinite = until is None
    # Nothing about a ghost's position stays behind for anyone to read.
    db.execute(delete(Presence).where(Presence.user_id == user.id))
    live.forget(user.id)
    db.commit()
    return settings


def do_clear_ghost(db: Session, user: User) -> PresenceSettings:
    settings = ensure_settings(db, user.id)
    settings.ghost_until = None
    settings.ghost_indefinite = False
    db.commit()
    return settings


def _parse_hhmm(value: str, field: str) -> time:
    try:
        parsed = time.fromisoformat(value)
    except ValueError as exc:
        raise InvalidInput(f"{field} must be a time like 22:00", field=field) from exc
    return parsed.replace(second=0, microsecond=0, tzinfo=None)


def do_update_alert_settings(
    db: Session,
    user: User,
    *,
    daily_budget: int | None = None,
    quiet_hours: tuple[str, str] | bool | None = False,
    open_to_hang_out: bool | None = None,
    timezone: str | None = None,
    now: datetime,
    live: LivePositions,
) -> tuple[PresenceSettings, set[int]]:
    """Change alert preferences; ``quiet_hours=False`` leaves them, None clears them."""
    settings = ensure_settings(db, user.id)
    if daily_budget is not None:
        if not 0 <= daily_budget <= MAX_DAILY_BUDGET:
            raise InvalidInput(f"daily_budget is 0 to {MAX_DAILY_BUDGET}", field="daily_budget")
        settings.daily_budget = daily_budget
    if quiet_hours is None:
        settings.quiet_start = settings.quiet_end = None
    elif quiet_hours is not False:
        assert isinstance(quiet_hours, tuple)
        start = _parse_hhmm(quiet_hours[0], "quiet_hours.start")
        end = _parse_hhmm(quiet_hours[1], "quiet_hours.end")
        settings.quiet_start, settings.quiet_end = start.strftime("%H:%M"), end.strftime("%H:%M")
    if timezone is not None:
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise InvalidInput(
                "timezone must be an IANA name like Europe/Lisbon", field="timezone"
            ) from exc
        settings.timezone = timezone
    notified: set[int] = set()
    if open_to_hang_out is not None:
        settings.open_to_hang_out = open_to_hang_out
        db.flush()
        if open_to_hang_out:
            notified = run_matching(db, user.id, live, now=now)
    db.commit()
    return settings, notified


def do_set_history(db: Session, user: User, *, keep: bool, days: int | None) -> PresenceSettings:
    settings = ensure_settings(db, user.id)
    if days is not None:
        if not 1 <= days <= HISTORY_DAYS_MAX:
            raise InvalidInput(f"history is kept 1 to {HISTORY_DAYS_MAX} days", field="days")
        settings.history_days = days
    settings.keep_history = keep
    if not keep:
        db.execute(delete(LocationHistory).where(LocationHistory.user_id == user.id))
    db.commit()
    return settings


def _check_plausible(
    live: LivePositions,
    user: User,
    lat: float,
    lon: float,
    accuracy_m: float,
    recorded_at: datetime,
    stored: Presence | None,
    now: datetime,
) -> None:
    check_coordinates(lat, lon)
    if recorded_at > now + FUTURE_TOLERANCE:
        raise InvalidInput(
            "recorded_at is in the future", field="recorded_at", code="implausible-location"
        )
    if recorded_at < now - OLDEST_UPDATE:
        raise InvalidInput(
            "recorded_at is too old to be a current position",
            field="recorded_at",
            code="implausible-location",
        )
    previous = live.get(user.id, now=now)
    if previous is not None:
        seconds = abs((recorded_at - previous.recorded_at).total_seconds())
        slack = max(100.0, accuracy_m, previous.accuracy_m)
        origin = (previous.lat, previous.lon)
    else:
        if stored is None:
            return
        seconds = abs((recorded_at - stored.recorded_at).total_seconds()) + 60
        slack = max(100.0, accuracy_m) + 2 * cell_radius_m(stored.cell)
        origin = center(stored.cell)
    if implied_speed_kmh(origin, (lat, lon), seconds, slack_m=slack) > MAX_SPEED_KMH:
        raise InvalidInput(
            f"a jump faster than {int(MAX_SPEED_KMH)} km/h is not plausible",
            field="lat",
            code="implausible-location",
        )


@dataclass(frozen=True, slots=True)
class LocationOutcome:
    stored_cell: str | None
    notified: set[int]


def do_update_location(
    db: Session,
    live: LivePositions,
    user: User,
    *,
    lat: float,
    lon: float,
    accuracy_m: float | None,
    recorded_at: datetime | None,
    now: datetime,
) -> LocationOutcome:
    """Take a position: keep the exact point in memory, persist only the granted cell."""
    recorded_at = recorded_at or now
    accuracy = float(accuracy_m) if accuracy_m is not None else 0.0
    if not 0.0 <= accuracy <= 100_000.0:
        raise InvalidInput("accuracy_m must be between 0 and 100000", field="accuracy_m")
    stored = db.get(Presence, user.id)
    _check_plausible(live, user, lat, lon, accuracy, recorded_at, stored, now)
    settings = ensure_settings(db, user.id)
    if stored is not None and recorded_at <= stored.recorded_at:
        # An older fix arriving late (OwnTracks queues offline): history only.
        _keep_history(db, settings, user.id, lat, lon, recorded_at)
        db.commit()
        return LocationOutcome(stored.cell, set())
    live.put(user.id, Fix(lat, lon, accuracy, recorded_at, now))
    _keep_history(db, settings, user.id, lat, lon, recorded_at)
    book = grant_book(db, user.id, now=now)
    finest = book.finest()
    if finest is Precision.OFF:  # shares with nobody, or ghost: store no position at all
        if stored is not None:
            db.delete(stored)
        db.commit()
        return LocationOutcome(None, set())
    cell = cell_at(lat, lon, coarser(finest, FINEST_STORED))
    minute = recorded_at.replace(second=0, microsecond=0)
    if stored is None:
        stored = Presence(user_id=user.id, cell=cell, recorded_at=minute)
        db.add(stored)
    else:
        stored.cell, stored.recorded_at = cell, minute
    db.flush()
    notified = run_matching(db, user.id, live, now=now)
    db.commit()
    return LocationOutcome(cell, notified)


def _keep_history(
    db: Session,
    settings: PresenceSettings,
    user_id: int,
    lat: float,
    lon: float,
    recorded_at: datetime,
) -> None:
    if settings.keep_history:
        db.add(
            LocationHistory(
                user_id=user_id,
                cell=cell_at(lat, lon, HISTORY_CELL),
                recorded_at=recorded_at.replace(second=0, microsecond=0),
            )
        )


def do_create_intent(
    db: Session,
    user: User,
    live: LivePositions,
    *,
    activity: str,
    starts_at: datetime | None,
    ends_at: datetime,
    radius_m: int,
    audience: Sequence[str],
    now: datetime,
) -> tuple[Intent, set[int]]:
    activity = normalise_activity(activity)
    starts_at = starts_at or now
    if ends_at <= starts_at:
        raise InvalidInput("ends_at must be after starts_at", field="ends_at")
    if ends_at <= now:
        raise InvalidInput("the intent is already over", field="ends_at")
    if ends_at - starts_at > INTENT_MAX_DURATION:
        raise InvalidInput("an intent lasts at most 24 hours", field="ends_at")
    if starts_at - now > INTENT_MAX_AHEAD:
        raise InvalidInput("intents start within the next 14 days", field="starts_at")
    if not RADIUS_MIN_M <= radius_m <= RADIUS_MAX_M:
        raise InvalidInput(f"radius_m is {RADIUS_MIN_M} to {RADIUS_MAX_M}", field="radius_m")
    if not audience:
        raise InvalidInput("choose at least one circle", field="audience")
    circles = {access_circle(db, user, name).id for name in audience}
    intent = Intent(
        user_id=user.id,
        activity=activity,
        starts_at=starts_at,
        ends_at=ends_at,
        radius_m=radius_m,
        created_at=now,
    )
    db.add(intent)
    db.flush()
    for circle_id in sorted(circles):
        db.add(IntentAudience(intent_id=intent.id, circle_id=circle_id))
    db.flush()
    notified = run_matching(db, user.id, live, now=now)
    db.commit()
    return intent, notified


def do_delete_intent(db: Session, user: User, intent_id: int) -> None:
    intent = db.get(Intent, intent_id)
    if intent is None or intent.user_id != user.id:
        raise NotFound("no such intent")
    db.delete(intent)
    db.commit()


def access_own_alert(db: Session, user: User, alert_id: int) -> Alert:
    alert = db.get(Alert, alert_id)
    if alert is None or alert.recipient_id != user.id:
        raise NotFound("no such alert")
    return alert


@dataclass(frozen=True, slots=True)
class Answer:
    alert: Alert
    meetup: Meetup | None
    notified: set[int]


def do_respond_alert(
    db: Session, user: User, alert_id: int, answer: str, live: LivePositions, *, now: datetime
) -> Answer:
    """Answer an alert. "in" makes a meetup and tells the other side; "not_now" is silent."""
    alert = access_own_alert(db, user, alert_id)
    if alert.kind not in (INTENT, NEARBY):
        raise InvalidInput("this alert needs no answer", field="answer")
    if alert.answer is not None:
        if alert.answer == answer:
            meetup = db.get(Meetup, alert.meetup_id) if alert.meetup_id else None
            return Answer(alert, meetup, set())
        raise Conflict("you already answered this alert", code="already-answered")
    if alert.expires_at <= now:
        raise Conflict("this alert has expired", code="alert-expired")
    if is_blocked_either_way(db, user.id, alert.other_id):
        raise NotFound("no such alert")
    alert.answer, alert.answered_at = answer, now
    if answer != "in":
        db.commit()  # "not now" is never shown to the other side
        return Answer(alert, None, set())
    low, high = sorted((user.id, alert.other_id))
    if alert.kind == INTENT:
        key = (
            f"intent:{min(alert.own_intent_id or 0, alert.other_intent_id or 0)}:"
            f"{max(alert.own_intent_id or 0, alert.other_intent_id or 0)}"
        )
    else:
        key = f"nearby:{low}:{high}:{alert.created_at.strftime('%Y%m%d%H')}"
    meetup = db.scalar(select(Meetup).where(Meetup.dedupe_key == key))
    if meetup is None:
        starts = alert.starts_at or now
        meetup = Meetup(
            user_a_id=low,
            user_b_id=high,
            activity=alert.activity or "hang out",
            starts_at=max(starts, now) if alert.kind == NEARBY else starts,
            ends_at=alert.ends_at or now + timedelta(hours=1),
            dedupe_key=key,
            created_at=now,
        )
        db.add(meetup)
        db.flush()
    alert.meetup_id = meetup.id
    delivered = deliver(
        db,
        preferences(db.get(PresenceSettings, alert.other_id)),
        recipient=alert.other_id,
        other=user.id,
        kind=IN,
        dedupe_key=f"in:{meetup.id}:{user.id}",
        now=now,
        expires_at=meetup.ends_at,
        activity=meetup.activity,
        starts_at=meetup.starts_at,
        ends_at=meetup.ends_at,
        meetup_id=meetup.id,
    )
    db.commit()
    return Answer(alert, meetup, {alert.other_id} if delivered else set())
