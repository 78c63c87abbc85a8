"""Pure matching between two friends, from the cells each granted the other.

The caller walks the friend graph (never a global radius scan) and builds one
:class:`Party` per side, already filtered by access: the cell that side grants the
other (None when sharing is off, expired or in ghost mode) and only the intents
whose audience includes the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from kith.presence.activities import compatible, shared_activity
from kith.presence.geo import Separation, separation

# "Friend nearby": fire at or under ENTER, re-arm only beyond EXIT (hysteresis, so
# walking back and forth across a cell edge cannot fire again). EXIT > ENTER.
NEARBY_ENTER_M = 1_500.0
NEARBY_EXIT_M = 3_000.0


@dataclass(frozen=True, slots=True)
class IntentView:
    id: int
    activity: str
    starts_at: datetime
    ends_at: datetime
    radius_m: int


@dataclass(frozen=True, slots=True)
class Party:
    user_id: int
    cell: str | None
    intents: tuple[IntentView, ...] = ()
    open_to_hang_out: bool = False
    # This side keeps the other in its ``close`` circle.
    holds_other_close: bool = False


@dataclass(frozen=True, slots=True)
class IntentMatch:
    a_intent: IntentView
    b_intent: IntentView
    activity: str
    starts_at: datetime
    ends_at: datetime
    separation: Separation


def windows_overlap(
    a: IntentView, b: IntentView, now: datetime
) -> tuple[datetime, datetime] | None:
    start = max(a.starts_at, b.starts_at)
    end = min(a.ends_at, b.ends_at)
    if start >= end or end <= now:
        return None
    return start, end


def match_intents(a: Party, b: Party, now: datetime) -> list[IntentMatch]:
    """Every pair of live intents that match in activity, time and both radii."""
    if a.cell is None or b.cell is None or not a.intents or not b.intents:
        return []
    sep = separation(a.cell, b.cell)
    matches = []
    for ia in a.intents:
        for ib in b.intents:
            if not compatible(ia.activity, ib.activity):
                continue
            window = windows_overlap(ia, ib, now)
            if window is None:
                continue
            if sep.distance_m > ia.radius_m or sep.distance_m > ib.radius_m:
                continue
            matches.append(
                IntentMatch(
                    ia, ib, shared_activity(ia.activity, ib.activity), window[0], window[1], sep
                )
            )
    return matches


@dataclass(frozen=True, slots=True)
class NearbyCheck:
    """Whether two close friends open to hang out are near, and the separation used."""

    eligible: bool
    separation: Separation | None

    @property
    def within_enter(self) -> bool:
        return self.separation is not None and self.separation.distance_m <= NEARBY_ENTER_M

    @property
    def beyond_exit(self) -> bool:
        return self.separation is None or self.separation.distance_m > NEARBY_EXIT_M


def check_nearby(a: Party, b: Party) -> NearbyCheck:
    eligible = (
        a.open_to_hang_out
        and b.open_to_hang_out
        and a.holds_other_close
        and b.holds_other_close
        and a.cell is not None
        and b.cell is not None
    )
    if not eligible or a.cell is None or b.cell is None:
        return NearbyCheck(False, None)
    return NearbyCheck(True, separation(a.cell, b.cell))
