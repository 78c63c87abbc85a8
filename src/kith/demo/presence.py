"""Bring the demo world to life: sharing, positions and intents from real check-ins.

Run on every ``kith demo``, because presence is about *now*: each demo user shares
their neighbourhood with close friends and their city with friends, stands at the
venue they checked in at most often, and about a third of them are up for the
activity they did most (inferred from venue names), starting now. Matching runs as
it would for real people, so the inboxes fill with real alerts.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from kith.accounts.models import User
from kith.demo.sample import Sample, SampleCheckIn
from kith.errors import KithError
from kith.partners.activities import Activity, infer_activity
from kith.presence.actions import (
    do_create_intent,
    do_set_circle_grant,
    do_update_alert_settings,
    do_update_location,
)
from kith.presence.geo import Precision
from kith.presence.live import LivePositions
from kith.presence.models import Intent

# Places are evidence for plans: a park means a walk, a bar drinks, a restaurant lunch.
PLAN_FOR_PLACE = {
    Activity.PARK: "walk",
    Activity.BAR: "drinks",
    Activity.RESTAURANT: "lunch",
}
INTENT_EVERY = 3  # one user in three is up for something
OPEN_EVERY = 4  # one in four is open to hang out


@dataclass
class PresenceSummary:
    positioned: int = 0
    intents: int = 0


def _favourite(checkins: list[SampleCheckIn]) -> tuple[SampleCheckIn, str | None]:
    """The user's most visited venue and the plan their most common activity suggests."""
    by_venue = Counter(c.venue_id for c in checkins)
    venue_id, _ = by_venue.most_common(1)[0]
    spot = next(c for c in checkins if c.venue_id == venue_id)
    activities = Counter(a for c in checkins if (a := infer_activity(c.venue_name)) is not None)
    if not activities:
        return spot, None
    activity, _ = activities.most_common(1)[0]
    return spot, PLAN_FOR_PLACE.get(activity, activity.value)


def seed_presence(
    db: Session, sample: Sample, accounts: dict[int, User], *, now: datetime
) -> PresenceSummary:
    live = LivePositions()  # the seeding process's own memory; the server keeps its own
    summary = PresenceSummary()
    checkins: dict[int, list[SampleCheckIn]] = defaultdict(list)
    for checkin in sample.checkins:
        checkins[checkin.gowalla_id].append(checkin)
    ids = [u.id for u in accounts.values()]
    db.execute(delete(Intent).where(Intent.user_id.in_(ids)))  # yesterday's plans are over
    db.commit()
    for person in sample.users:
        user = accounts.get(person.gowalla_id)
        mine = checkins.get(person.gowalla_id)
        if user is None or not mine:
            continue
        spot, plan = _favourite(mine)
        try:
            do_set_circle_grant(db, user, "close", Precision.NEIGHBOURHOOD, None, now=now)
            do_set_circle_grant(db, user, "friends", Precision.CITY, None, now=now)
            if person.rank % OPEN_EVERY == 0:
                do_update_alert_settings(
                    db, user, open_to_hang_out=True, now=now, live=live, timezone="America/New_York"
                )
            do_update_location(
                db,
                live,
                user,
                lat=spot.lat,
                lon=spot.lon,
                accuracy_m=20.0,
                recorded_at=now,
                now=now,
            )
            summary.positioned += 1
            if plan is not None and person.rank % INTENT_EVERY == 1:
                do_create_intent(
                    db,
                    user,
                    live,
                    activity=plan,
                    starts_at=now,
                    ends_at=now + timedelta(hours=3),
                    radius_m=3000,
                    audience=["close", "friends"],
                    now=now,
                )
                summary.intents += 1
        except KithError:
            db.rollback()  # a demo user changed something by hand: leave them be
    return summary
