"""Demo history: the sample's real Gowalla check-ins as each demo user's "I'm at ...".

Without a history every suggestion in the demo would be a tie with no reason to give.
Each check-in whose venue name says what people do there becomes a check-in event,
moved forward by a whole number of four-week periods into the last four weeks: the day
of the week and the hour stay (the weekly routine is the signal), friends who were at a
venue together still are, and everything is inside the default 30-day retention.

Call :func:`seed_history` from the demo seeding; users who already have check-ins keep
them, so running ``kith demo`` again adds nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from kith.accounts.models import User
from kith.demo.sample import Sample
from kith.partners.actions import touch_history
from kith.partners.activities import infer_activity
from kith.partners.tables import CHECKIN, PartnerEvent
from kith.presence.access import grant_book
from kith.presence.geo import FINEST_STORED, Precision, cell_at, coarser

PERIOD = timedelta(days=28)


def seed_history(db: Session, sample: Sample, accounts: dict[int, User], *, now: datetime) -> int:
    """Add the demo users' check-in history; returns how many check-ins were added."""
    ids = [u.id for u in accounts.values()]
    seeded = set(
        db.scalars(
            select(PartnerEvent.user_id)
            .where(PartnerEvent.user_id.in_(ids), PartnerEvent.source == CHECKIN)
            .distinct()
        )
    )
    # Places as precisely as each user shares with anyone, never finer than a block
    # (as kith.partners.actions.shared_cell does for a live check-in).
    precision: dict[int, Precision] = {}
    events: list[PartnerEvent] = []
    for checkin in sample.checkins:
        user = accounts.get(checkin.gowalla_id)
        activity = infer_activity(checkin.venue_name)
        if user is None or user.id in seeded or activity is None:
            continue
        if user.id not in precision:
            finest = grant_book(db, user.id, now=now).finest()
            precision[user.id] = (
                Precision.OFF if finest is Precision.OFF else coarser(finest, FINEST_STORED)
            )
        at = checkin.at + ((now - checkin.at) // PERIOD) * PERIOD
        shared = precision[user.id]
        events.append(
            PartnerEvent(
                user_id=user.id,
                activity=activity.value,
                cell=None if shared is Precision.OFF else cell_at(checkin.lat, checkin.lon, shared),
                at=at.replace(second=0, microsecond=0),
                source=CHECKIN,
                source_id=None,
                created_at=now,
            )
        )
    db.add_all(events)
    touch_history(db, {e.user_id for e in events})
    db.commit()
    return len(events)
