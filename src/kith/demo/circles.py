"""Which circle each demo user puts each friend in, read off real check-ins (pure, no I/O).

Two friends who checked in at the same venue within an hour of each other were very
likely there together (see the Gowalla README: such co-location is strongly social). So:

* ``close``: the friends a user met most often this way, at most ``CLOSE_MAX``;
* ``acquaintances``: friends with no venue at all in common with the user and at most
  ``ACQUAINTANCE_MAX_MUTUAL`` mutual friends among the seeded users: the weakest ties
  the data shows (about one friendship side in seven);
* ``friends``: everyone else (kith's default circle).

Circles are one-sided, like in kith: Ana may keep Ben close while Ben keeps Ana in
``friends``, because Ben met others more often.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import timedelta

from kith.demo.sample import Sample, SampleCheckIn
from kith.types import ACQUAINTANCES_CIRCLE, CLOSE_CIRCLE, DEFAULT_CIRCLE

CO_CHECKIN_WINDOW = timedelta(hours=1)
CLOSE_MAX = 5
ACQUAINTANCE_MAX_MUTUAL = 2

Pair = tuple[int, int]  # two Gowalla ids, smaller first


def pair(a: int, b: int) -> Pair:
    return (a, b) if a < b else (b, a)


def co_checkins(
    checkins: Iterable[SampleCheckIn],
    friendships: set[Pair],
    *,
    window: timedelta = CO_CHECKIN_WINDOW,
) -> Counter[Pair]:
    """Per pair of friends: how many pairs of their check-ins share a venue within ``window``."""
    by_venue: dict[int, list[SampleCheckIn]] = defaultdict(list)
    for checkin in checkins:
        by_venue[checkin.venue_id].append(checkin)
    counts: Counter[Pair] = Counter()
    for visits in by_venue.values():
        visits.sort(key=lambda c: c.at)
        for i, first in enumerate(visits):
            for second in visits[i + 1 :]:
                if second.at - first.at > window:
                    break
                if first.gowalla_id == second.gowalla_id:
                    continue
                key = pair(first.gowalla_id, second.gowalla_id)
                if key in friendships:
                    counts[key] += 1
    return counts


def plan_circles(sample: Sample, *, close_max: int = CLOSE_MAX) -> dict[tuple[int, int], str]:
    """``(owner, friend) -> circle name`` for both sides of every friendship in ``sample``."""
    friendships = {(f.a, f.b) for f in sample.friendships}
    met = co_checkins(sample.checkins, friendships)
    rank = {u.gowalla_id: u.rank for u in sample.users}
    friends: dict[int, set[int]] = defaultdict(set)
    for a, b in friendships:
        friends[a].add(b)
        friends[b].add(a)
    venues: dict[int, set[int]] = defaultdict(set)
    for checkin in sample.checkins:
        venues[checkin.gowalla_id].add(checkin.venue_id)

    plan: dict[tuple[int, int], str] = {}
    for owner, theirs in friends.items():
        met_most = sorted(
            (f for f in theirs if met[pair(owner, f)] > 0),
            key=lambda f: (-met[pair(owner, f)], rank[f]),
        )[:close_max]
        for friend in theirs:
            if friend in met_most:
                plan[(owner, friend)] = CLOSE_CIRCLE
            elif not venues[owner] & venues[friend] and (
                len(theirs & friends[friend]) <= ACQUAINTANCE_MAX_MUTUAL
            ):
                plan[(owner, friend)] = ACQUAINTANCES_CIRCLE
            else:
                plan[(owner, friend)] = DEFAULT_CIRCLE
    return plan
