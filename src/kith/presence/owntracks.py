"""OwnTracks HTTP mode: parse what the app sends, build what it expects back (pure).

The app POSTs one JSON message per request (``_type`` location, transition, lwt, ...)
with HTTP Basic auth, and shows the JSON array it gets back: here, one ``card`` and
one ``location`` per friend who shares with the user, at that friend's precision.
See https://owntracks.org/booklet/tech/http/ and /tech/json/.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kith.errors import InvalidInput
from kith.presence.geo import center


@dataclass(frozen=True, slots=True)
class OwnTracksFix:
    lat: float
    lon: float
    accuracy_m: float | None
    recorded_at: datetime | None


def _number(payload: dict[str, Any], key: str, *, required: bool) -> float | None:
    value = payload.get(key)
    if value is None:
        if required:
            raise InvalidInput(f"an OwnTracks location needs '{key}'", field=key)
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInput(f"'{key}' must be a number", field=key)
    return float(value)


def parse_message(payload: Any) -> OwnTracksFix | None:
    """A location fix, or None for message types kith does not use."""
    if not isinstance(payload, dict):
        raise InvalidInput("an OwnTracks message is a JSON object", field="_type")
    if payload.get("_type") != "location":
        return None  # transitions, waypoints, lwt ...: acknowledged, not stored
    lat = _number(payload, "lat", required=True)
    lon = _number(payload, "lon", required=True)
    tst = _number(payload, "tst", required=False)
    acc = _number(payload, "acc", required=False)
    assert lat is not None
    assert lon is not None
    recorded_at = None
    if tst is not None:
        if not 0 < tst < 32503680000:  # before year 3000
            raise InvalidInput("'tst' must be seconds since 1970", field="tst")
        recorded_at = datetime.fromtimestamp(tst, UTC)
    return OwnTracksFix(lat, lon, acc, recorded_at)


def tracker_id(username: str) -> str:
    return username[:2].upper()


def friend_messages(
    username: str, display_name: str, cell: str, as_of: datetime
) -> list[dict[str, Any]]:
    """A card and a location for one friend: the cell's centre, nothing finer."""
    lat, lon = center(cell)
    topic = f"owntracks/{username}/kith"
    tid = tracker_id(username)
    return [
        {"_type": "card", "name": display_name, "tid": tid, "topic": topic},
        {
            "_type": "location",
            "lat": round(lat, 6),
            "lon": round(lon, 6),
            "tst": int(as_of.timestamp()),
            "tid": tid,
            "topic": topic,
        },
    ]
