"""Pure alert policy: daily budget, quiet hours, per-pair cooldown and hysteresis."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

# A pair is alerted about at most once per cooldown for each kind.
NEARBY_COOLDOWN = timedelta(hours=3)
INTENT_COOLDOWN = timedelta(minutes=30)
DEFAULT_DAILY_BUDGET = 3
MAX_DAILY_BUDGET = 50


@dataclass(frozen=True, slots=True)
class Preferences:
    daily_budget: int = DEFAULT_DAILY_BUDGET
    quiet_start: time | None = None
    quiet_end: time | None = None
    timezone: str = "UTC"


def local_day_start(now: datetime, timezone: str) -> datetime:
    """Start of the recipient's local day, as an aware datetime."""
    local = now.astimezone(ZoneInfo(timezone))
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def in_quiet_hours(prefs: Preferences, now: datetime) -> bool:
    if prefs.quiet_start is None or prefs.quiet_end is None:
        return False
    if prefs.quiet_start == prefs.quiet_end:
        return False
    t = now.astimezone(ZoneInfo(prefs.timezone)).time()
    if prefs.quiet_start < prefs.quiet_end:
        return prefs.quiet_start <= t < prefs.quiet_end
    return t >= prefs.quiet_start or t < prefs.quiet_end  # spans midnight


@dataclass(frozen=True, slots=True)
class Decision:
    deliver: bool
    reason: str


def may_alert(prefs: Preferences, *, sent_today: int, now: datetime) -> Decision:
    if in_quiet_hours(prefs, now):
        return Decision(False, "quiet hours")
    if sent_today >= prefs.daily_budget:
        return Decision(False, "daily alert budget used")
    return Decision(True, "ok")


def cooled_down(last_alert_at: datetime | None, cooldown: timedelta, now: datetime) -> bool:
    return last_alert_at is None or now - last_alert_at >= cooldown
