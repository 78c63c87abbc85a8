"""A plan: an activity and a time window, checked the same way for suggestions and invites.

Pure: no I/O. Each limit is named with its reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from kith.errors import InvalidInput
from kith.partners.activities import Activity, parse_activity

# A plan is for one outing: a window longer than a week is not a plan, it is a season.
MAX_WINDOW = timedelta(days=7)
# Further ahead than this, nobody's routine says anything useful (and it bounds invites).
MAX_AHEAD = timedelta(days=60)
# A window that started a little while ago is still "now" (clock skew, slow typing).
GRACE = timedelta(minutes=5)
# How many friends one suggestion lists; the API refuses more (an absurd limit is a bug).
MAX_LIMIT = 50
DEFAULT_LIMIT = 10


@dataclass(frozen=True, slots=True)
class Plan:
    activity: Activity
    starts_at: datetime
    ends_at: datetime


def check_plan(activity: str, starts_at: datetime, ends_at: datetime, *, now: datetime) -> Plan:
    """The plan, or ``InvalidInput`` naming the field that makes no sense."""
    wanted = parse_activity(activity)
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise InvalidInput("times need a time zone (e.g. 2026-06-07T09:00+02:00)")
    if ends_at <= starts_at:
        raise InvalidInput("ends_at must be after starts_at", field="ends_at")
    if ends_at - starts_at > MAX_WINDOW:
        raise InvalidInput("a plan lasts at most a week", field="ends_at")
    if ends_at <= now:
        raise InvalidInput("that time is in the past", field="ends_at")
    if starts_at - now > MAX_AHEAD:
        raise InvalidInput("plans start within the next 60 days", field="starts_at")
    # A window that is already running is asked about from now on.
    return Plan(wanted, max(starts_at, now - GRACE), ends_at)


def check_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit is 1 to {MAX_LIMIT}", field="limit")
    return limit
