"""Free/busy from an iCalendar (.ics) file: busy intervals only, never titles. Pure.

    busy = parse_busy(text, tz=ZoneInfo("Europe/Paris"))   # [(start, end), ...] in UTC

Reads each ``VEVENT``'s ``DTSTART`` and ``DTEND`` in the forms calendars export:
UTC date-times (``20260308T100000Z``), date-times with a ``TZID`` parameter, and
all-day dates (``VALUE=DATE``, ``20260308``; the end date is exclusive, as RFC 5545
says, and days are taken in the user's own time zone ``tz``). Events marked
``TRANSP:TRANSPARENT`` ("show as free") or ``STATUS:CANCELLED`` are not busy. Anything
else that does not parse is refused with :class:`~kith.errors.InvalidInput` naming the
line, rather than guessed: a wrong free/busy would rank a friend wrongly.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from kith.errors import InvalidInput

# An export of a year of a busy calendar is a few thousand events; more is not a calendar.
MAX_EVENTS = 5_000
# ... and well under a megabyte; a larger file is refused unread (the server's
# KITH_MAX_BODY_BYTES, 64 KB by default, may refuse it sooner).
MAX_FILE_BYTES = 2_000_000
# One event longer than this is a holiday or a mistake, not "busy then".
MAX_EVENT = timedelta(days=31)

Interval = tuple[datetime, datetime]


def _unfold(text: str) -> list[str]:
    """Content lines, with RFC 5545 folding (a line starting with a space) undone."""
    lines: list[str] = []
    for raw in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if raw[:1] in (" ", "\t") and lines:
            lines[-1] += raw[1:]
        elif raw.strip():
            lines.append(raw)
    return lines


def _when(params: list[str], value: str, tz: ZoneInfo, where: str) -> tuple[datetime, bool]:
    """A DTSTART/DTEND value as an aware datetime, and whether it was a plain date."""
    named = dict(p.split("=", 1) for p in params if "=" in p)
    value = value.strip()
    try:
        if named.get("VALUE", "").upper() == "DATE" or (len(value) == 8 and value.isdigit()):
            day = date(int(value[0:4]), int(value[4:6]), int(value[6:8]))
            return datetime.combine(day, time(0), tzinfo=tz), True
        if len(value) == 16 and value.endswith("Z"):
            moment = datetime.strptime(value, "%Y%m%dT%H%M%SZ")  # noqa: DTZ007 - UTC, set below
            return moment.replace(tzinfo=UTC), False
        if "TZID" in named and len(value) == 15:
            zone = ZoneInfo(named["TZID"].strip('"'))
            return datetime.strptime(value, "%Y%m%dT%H%M%S").replace(tzinfo=zone), False
    except (ValueError, ZoneInfoNotFoundError):
        pass
    raise InvalidInput(
        f"{where}: expected a UTC time (20260308T100000Z), a TZID time or a date "
        f"(VALUE=DATE:20260308), got {value[:40]!r}",
        field="ics",
    )


def parse_busy(text: str, *, tz: ZoneInfo) -> list[Interval]:
    """Busy intervals (UTC, start < end), in file order; ``InvalidInput`` if malformed."""
    lines = _unfold(text)
    if not lines or lines[0].strip().upper() != "BEGIN:VCALENDAR":
        raise InvalidInput(
            "not an iCalendar file (it must start with BEGIN:VCALENDAR)", field="ics"
        )
    busy: list[Interval] = []
    event: dict[str, tuple[list[str], str]] | None = None
    for number, line in enumerate(lines, start=1):
        name_part, sep, value = line.partition(":")
        if not sep:
            raise InvalidInput(f"line {number}: not a 'NAME:value' line", field="ics")
        name, *params = name_part.split(";")
        name = name.strip().upper()
        if name == "BEGIN" and value.strip().upper() == "VEVENT":
            event = {}
        elif name == "END" and value.strip().upper() == "VEVENT":
            if event is None:
                raise InvalidInput(f"line {number}: END:VEVENT without BEGIN", field="ics")
            interval = _interval(event, tz, f"line {number}")
            if interval is not None:
                busy.append(interval)
                if len(busy) > MAX_EVENTS:
                    raise InvalidInput(f"at most {MAX_EVENTS} events per import", field="ics")
            event = None
        elif event is not None:
            event[name] = (params, value)
    if event is not None:
        raise InvalidInput("a VEVENT is not closed (END:VEVENT missing)", field="ics")
    return busy


def _interval(event: dict[str, tuple[list[str], str]], tz: ZoneInfo, where: str) -> Interval | None:
    if event.get("TRANSP", ([], ""))[1].strip().upper() == "TRANSPARENT":
        return None  # "show as free"
    if event.get("STATUS", ([], ""))[1].strip().upper() == "CANCELLED":
        return None
    if "DTSTART" not in event:
        raise InvalidInput(f"{where}: an event without DTSTART", field="ics")
    start, all_day = _when(*event["DTSTART"], tz, where)
    if "DTEND" in event:
        end, _ = _when(*event["DTEND"], tz, where)
    elif all_day:
        end = start + timedelta(days=1)  # RFC 5545: a date without an end is that day
    else:
        return None  # an instant (a reminder) takes no time
    if end < start:
        raise InvalidInput(f"{where}: the event ends before it starts", field="ics")
    if end == start:
        return None
    if end - start > MAX_EVENT:
        raise InvalidInput(f"{where}: an event longer than 31 days", field="ics")
    return start.astimezone(UTC), end.astimezone(UTC)


def busy_share(intervals: list[Interval], start: datetime, end: datetime) -> float:
    """The share of ``[start, end)`` covered by the union of ``intervals``."""
    clipped = sorted((max(s, start), min(e, end)) for s, e in intervals if s < end and e > start)
    covered = timedelta(0)
    current: Interval | None = None
    for s, e in clipped:
        if current is not None and s <= current[1]:
            current = (current[0], max(current[1], e))
            continue
        if current is not None:
            covered += current[1] - current[0]
        current = (s, e)
    if current is not None:
        covered += current[1] - current[0]
    return covered / (end - start) if end > start else 0.0
