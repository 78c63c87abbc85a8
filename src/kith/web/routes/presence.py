"""What the presence pages (map, sharing, intents, alerts) share.

* :func:`presence_state`: the live positions and inbox events on the app state, which
  :class:`kith.web.deps.AppState` does not describe.
* :class:`Times`: times shown and read in the viewer's own time zone (their alert
  settings), because a form's ``datetime-local`` carries no zone.
* Reading numbers and choices from forms, raising :class:`~kith.errors.InvalidInput`
  with a sentence a person can act on, so ``page.attempt`` shows it on the next page.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from kith.errors import InvalidInput
from kith.presence import actions
from kith.presence.events import InboxEvents
from kith.presence.geo import Precision
from kith.presence.live import LivePositions
from kith.web.deps import Form, Member

T = TypeVar("T")

# Longest text a number field may hold; anything longer is not a coordinate or a count.
NUMBER_MAX_CHARS = 32

PRECISION_LABELS: dict[Precision, str] = {
    Precision.OFF: "Off",
    Precision.CITY: "City",
    Precision.NEIGHBOURHOOD: "Neighbourhood",
    Precision.BLOCK: "Block",
    Precision.PRECISE: "Precise",
}
PRECISION_HINTS: dict[Precision, str] = {
    Precision.OFF: "nothing",
    Precision.CITY: "an area of about 250 km²",
    Precision.NEIGHBOURHOOD: "an area of about 5 km²",
    Precision.BLOCK: "an area of about 0.7 km²",
    Precision.PRECISE: "your exact point, for a limited time",
}


class PresenceState(Protocol):
    """The parts of ``app.state.kith`` that presence pages use beyond ``AppState``."""

    @property
    def live(self) -> LivePositions: ...
    @property
    def events(self) -> InboxEvents: ...


def presence_state(page: Member) -> PresenceState:
    state: PresenceState = page.request.app.state.kith
    return state


@dataclass(frozen=True, slots=True)
class Times:
    """Times as the viewer reads them: in their zone, short when they are today."""

    zone: ZoneInfo
    now: datetime

    def local(self, value: datetime) -> datetime:
        return value.astimezone(self.zone)

    def clock(self, value: datetime) -> str:
        local, today = self.local(value), self.local(self.now).date()
        if local.date() == today:
            return local.strftime("%H:%M")
        if local.date() == today + timedelta(days=1):
            return local.strftime("tomorrow %H:%M")
        return local.strftime("%a %d %b, %H:%M")

    def span(self, start: datetime, end: datetime) -> str:
        if start <= self.now:
            return f"now until {self.clock(end)}"
        return f"{self.clock(start)} to {self.clock(end)}"

    def field(self, value: datetime) -> str:
        """The value of a ``datetime-local`` input."""
        return self.local(value).strftime("%Y-%m-%dT%H:%M")

    def parse(self, text: str, label: str, field: str) -> datetime:
        """A ``datetime-local`` value, read in the viewer's zone, as an aware time."""
        text = text.strip()
        try:
            if not text.isascii() or len(text) > NUMBER_MAX_CHARS:
                raise ValueError(text)
            value = datetime.fromisoformat(text)
        except ValueError:
            raise InvalidInput(
                f"{label} must be a date and time, like 2025-06-01T18:30", field=field
            ) from None
        if value.tzinfo is None:
            value = value.replace(tzinfo=self.zone)
        try:
            return value.astimezone(UTC)
        except OverflowError:  # the year 1 or 9999 moved across the date line
            raise InvalidInput(f"{label} is out of range", field=field) from None


def viewer_times(page: Member) -> Times:
    settings = actions.ensure_settings(page.db, page.user.id)
    try:
        zone = ZoneInfo(settings.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return Times(zone, page.now)


def read_float(form: Form, name: str, label: str, *, example: str) -> float:
    text = form.text(name).strip()
    try:
        if not text or len(text) > NUMBER_MAX_CHARS:
            raise ValueError(text)
        value = float(text)
    except ValueError:
        raise InvalidInput(f"{label} must be a number, like {example}", field=name) from None
    if not math.isfinite(value):
        raise InvalidInput(f"{label} must be a number, like {example}", field=name)
    return value


def read_int(form: Form, name: str, label: str, *, low: int, high: int) -> int:
    text = form.text(name).strip()
    if not text.isascii() or not text.isdigit() or len(text) > NUMBER_MAX_CHARS:
        raise InvalidInput(f"{label} must be a whole number from {low} to {high}", field=name)
    value = int(text)
    if not low <= value <= high:
        raise InvalidInput(f"{label} must be a whole number from {low} to {high}", field=name)
    return value


def read_choice(form: Form, name: str, choices: dict[str, T], what: str) -> T:
    """One of the values a select offered; anything else was not sent by our page."""
    value = form.text(name)
    if value not in choices:
        raise InvalidInput(f"choose {what} from the list", field=name)
    return choices[value]


PRECISIONS: dict[str, Precision] = {p.value: p for p in Precision}
