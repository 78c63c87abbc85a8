"""Plain-language sentences for the ledger page (pure: no I/O).

One :class:`Use` is a group of ledger entries with the same actor, kind of data,
detail and purpose over a period; :func:`sentence` says it the way a person would
("Ana saw your neighbourhood 3 times this week"). Unknown kinds still get an honest,
if plainer, sentence, so a capability that writes a new ``what`` is never hidden.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from kith.privacy.ledger import HISTORY, INTENT, LOCATION, PROFILE

# How each location precision reads after "your".
PLACE_NOUN = {
    "city": "city",
    "neighbourhood": "neighbourhood",
    "block": "block",
    "precise": "exact position",
}


@dataclass(frozen=True, slots=True)
class Use:
    actor: str  # "Ana", "a deleted account", "kith (suggestions)"
    actor_is_person: bool
    what: str
    detail: str
    purpose: str
    count: int
    last_at: datetime


def times(count: int) -> str:
    if count == 1:
        return "once"
    if count == 2:
        return "twice"
    return f"{count} times"


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def _weekday(at: datetime, timezone: str) -> str:
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return at.astimezone(zone).strftime("%A")


def sentence(use: Use, *, period: str = "this week", timezone: str = "UTC") -> str:
    """One sentence for one group of uses."""
    often = f"{times(use.count)} {period}"
    is_alert = use.purpose.endswith("alert")
    if use.what == LOCATION:
        if is_alert:
            text = f"{use.actor} was told you were nearby {often}"
        else:
            place = PLACE_NOUN.get(use.detail, "location")
            text = f"{use.actor} saw your {place} {often}"
    elif use.what == INTENT:
        if is_alert:
            text = f"your {use.detail} plans were matched with {use.actor}'s {often}"
        else:
            text = f"{use.actor} saw your {use.detail} plans {often}"
    elif use.what == HISTORY:
        when = f"on {_weekday(use.last_at, timezone)}" if use.count == 1 else often
        text = f"your {use.detail} history helped {use.actor} plan {when}"
    elif use.what == PROFILE:
        whose = f"{use.actor}'s feed" if use.actor_is_person else "your own feed"
        text = f"your {use.detail} helped rank {whose} {often}"
    else:
        text = f"{use.actor} used your {use.what} ({use.purpose}) {often}"
    return _capitalised(text)


def summarise(uses: list[Use], *, period: str = "this week", timezone: str = "UTC") -> list[str]:
    """Sentences, the most frequent uses first, then the most recent."""
    ordered = sorted(uses, key=lambda u: (-u.count, -u.last_at.timestamp(), u.actor))
    return [sentence(u, period=period, timezone=timezone) for u in ordered]
