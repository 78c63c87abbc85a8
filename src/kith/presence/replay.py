"""Replaying presence through kith's real alert policy, in memory.

Two users of this module:

* ``kith replay gowalla`` replays real Gowalla check-ins as presence and inferred
  intents, and asks how many real friend meetups the default alert policy would have
  announced beforehand, and how many alerts would have fired without a meetup;
* ``bench/matching.py`` drives the same :class:`AlertEngine` over synthetic and real
  update streams to time kith's matcher against PostGIS and Redis.

:class:`AlertEngine` mirrors :mod:`kith.presence.matcher` with the database replaced by
arrays and dicts: for each update it walks the updating user's friend list, builds both
sides' :class:`~kith.presence.matching.Party` from the cells each grants the other
(:mod:`kith.presence.geo` coarsening), asks the pure matcher, and applies the pure policy
(:mod:`kith.presence.policy`: daily budget, per-pair cooldown, nearby hysteresis, one
alert per intent pair). Nothing here does I/O except :func:`load_gowalla`.

The replay protocol (documented with its numbers in docs/presence-benchmark.md):

* a check-in is a location update at its time and position;
* a check-in at a venue whose name says what people do there (:func:`infer_activity`)
  is also an intent "up for <activity>" posted ``lead`` before the check-in, lasting
  until ``after`` it, within the API's default radius, for the ``close`` circle, posted
  from the check-in's position (Gowalla has no position between check-ins; at
  neighbourhood precision an hour earlier is usually the same cell);
* a position is forgotten ``presence_ttl`` after its update: a check-in says where
  someone was, not where they are the next day, and a phone would have sent newer fixes;
* each user keeps in ``close`` their ``close_top`` friends they met most often in the
  history period (before ``split``), one-sided as in kith, and shares with ``close`` at
  neighbourhood precision and with everyone else nothing (kith's private default);
* a meetup is two friends checking in within ``meetup_window`` and
  ``meetup_distance_m`` of each other; check-in pairs of the same two friends less than
  ``episode_gap`` apart are one meetup, timed at the later check-in of its first pair;
* a meetup is *announced* when the pair got an alert in the ``announce_window`` strictly
  before it; an alert is *without a meetup* when the pair has no meetup within
  ``announce_window`` either side of it.
"""

from __future__ import annotations

import bisect
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kith.errors import InvalidInput
from kith.presence.geo import (
    FINEST_STORED,
    Precision,
    cell_at,
    coarsen,
    coarser,
    haversine_m,
    rank,
)
from kith.presence.matcher import INTENT, NEARBY
from kith.presence.matching import (
    IntentMatch,
    IntentView,
    NearbyCheck,
    Party,
    check_nearby,
    match_intents,
)
from kith.presence.policy import (
    INTENT_COOLDOWN,
    NEARBY_COOLDOWN,
    Preferences,
    cooled_down,
    local_day_start,
    may_alert,
)

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

# --- activities from venue names --------------------------------------------------------

# First match wins, so the specific comes before the generic: "Bar & Grill" is lunch only
# if no drinks word came first, "Tennis Center" is tennis even inside a park. Only venues
# that clearly say what people do there get an intent; offices, homes, airports, stations,
# shops, hotels and museums get none (people go there, but rarely "up for" it with friends).
ACTIVITY_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("tennis", re.compile(r"\btennis\b")),
    ("surfing", re.compile(r"\bsurf")),
    (
        "gym",
        re.compile(
            r"\b(gym|fitness|crossfit|yoga|pilates|equinox|ymca|sports club|health club|"
            r"athletic club|boxing|climbing|spin(ning)? studio|soulcycle)\b"
        ),
    ),
    ("run", re.compile(r"\b(reservoir|running track|track and field)\b")),
    (
        "coffee",
        re.compile(
            r"\b(coffee|caf[eé]|espresso|starbucks|dunkin|tea ?house|tea room|teahouse|bakery|"
            r"patisserie|donuts?|doughnuts?|stumptown|la colombe|pain quotidien|pret a manger)\b"
        ),
    ),
    (
        "drinks",
        re.compile(
            r"\b(bar|pub|tavern|saloon|lounge|brewery|beer|wine|cocktails?|taproom|"
            r"biergarten|speakeasy|night ?club|brewhouse|ale house)\b"
        ),
    ),
    (
        "lunch",
        re.compile(
            r"\b(restaurant|pizza|pizzeria|diner|deli|burgers?|sushi|grill|kitchen|bistro|"
            r"taqueria|tacos?|noodles?|ramen|bbq|barbecue|trattoria|cantina|steakhouse|"
            r"eatery|dumplings?|shake shack|chipotle|brasserie|ristorante|osteria|"
            r"cafeteria|food court|falafel|bagels?|sandwich(es)?|'wichcraft)\b"
        ),
    ),
    (
        "walk",
        re.compile(
            r"\b(park|gardens?|pier|promenade|high line|boardwalk|trail|waterfront|"
            r"esplanade|greenway|beach|botanical)\b"
        ),
    ),
    ("study", re.compile(r"\b(library|university|college|campus)\b")),
)
# Names that contain an activity word but are not that place.
NOT_AN_ACTIVITY = re.compile(
    r"\b(parking|park (ave|avenue|slope|row|place|plaza)|square garden|"
    r"airport|terminal|station|hotel)\b"
)


def infer_activity(name: str | None) -> str | None:
    """The activity a venue's name stands for, or None when it says nothing clear."""
    if not name:
        return None
    key = name.casefold()
    if NOT_AN_ACTIVITY.search(key):
        return None
    for activity, pattern in ACTIVITY_RULES:
        if pattern.search(key):
            return activity
    return None


# --- the friend graph, compactly ----------------------------------------------------------


@dataclass(frozen=True)
class FriendIndex:
    """Friendships as compressed rows: the friends of ``u`` are
    ``indices[indptr[u]:indptr[u + 1]]``; ``close`` says whether ``u`` keeps that friend in
    its ``close`` circle, ``close_back`` whether the friend keeps ``u`` there."""

    indptr: NDArray[np.int64]
    indices: NDArray[np.int32]
    close: NDArray[np.bool_]
    close_back: NDArray[np.bool_]

    @property
    def users(self) -> int:
        return int(self.indptr.shape[0]) - 1

    @classmethod
    def from_edges(
        cls,
        users: int,
        source: NDArray[Any],
        target: NDArray[Any],
        close: NDArray[np.bool_],
        *,
        symmetric_close: bool = False,
    ) -> FriendIndex:
        """From directed edges (each friendship in both directions). With
        ``symmetric_close`` the caller promises both directions agree, which saves the
        reverse lookup on very large graphs."""
        import numpy as np

        order = np.lexsort((target, source))
        src = np.asarray(source, dtype=np.int64)[order]
        dst = np.asarray(target, dtype=np.int32)[order]
        held = np.asarray(close, dtype=np.bool_)[order]
        counts = np.bincount(src, minlength=users)
        indptr = np.zeros(users + 1, dtype=np.int64)
        np.cumsum(counts, out=indptr[1:])
        if symmetric_close:
            back = held
        else:
            keys = src * users + dst
            reverse = dst.astype(np.int64) * users + src
            at = np.searchsorted(keys, reverse)
            at = np.minimum(at, keys.shape[0] - 1)
            found = keys[at] == reverse
            back = np.where(found, held[at], False)
        return cls(indptr, dst, held, back)

    def links(self, user: int) -> tuple[list[int], list[bool], list[bool]]:
        lo, hi = int(self.indptr[user]), int(self.indptr[user + 1])
        return (
            self.indices[lo:hi].tolist(),
            self.close[lo:hi].tolist(),
            self.close_back[lo:hi].tolist(),
        )


# --- the in-memory matcher ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Sharing:
    """What a user grants: one precision for ``close``, one for every other circle."""

    close: Precision = Precision.NEIGHBOURHOOD
    others: Precision = Precision.OFF

    def for_friend(self, *, close: bool) -> Precision:
        return self.close if close else self.others

    def finest(self) -> Precision:
        return self.close if rank(self.close) >= rank(self.others) else self.others


# Intent audiences as bits: the ``close`` circle, and every other circle.
CLOSE_AUDIENCE = 1
OTHERS_AUDIENCE = 2


@dataclass(frozen=True, slots=True)
class AlertEvent:
    at: datetime
    recipient: int
    other: int
    kind: str
    activity: str | None


@dataclass(slots=True)
class _PairState:
    armed: bool = True
    last_alert_at: datetime | None = None


class AlertEngine:
    """kith's matching and alert policy over an in-memory friend graph (see module doc).

    Users are dense integers ``0..n-1``. ``sharing`` lists the distinct grant profiles and
    ``sharing_of[u]`` picks one per user (one profile for everyone when omitted).
    """

    def __init__(
        self,
        friends: FriendIndex,
        *,
        sharing: Sequence[Sharing] = (Sharing(),),
        sharing_of: Sequence[int] | None = None,
        timezone: str = "UTC",
        daily_budget: int | None = None,
        presence_ttl: timedelta | None = None,
        record_matches: bool = False,
    ) -> None:
        n = friends.users
        self.friends = friends
        self._sharing = tuple(sharing)
        self._sharing_of: Sequence[int] = sharing_of if sharing_of is not None else bytes(n)
        self._prefs = (
            Preferences(timezone=timezone)
            if daily_budget is None
            else Preferences(daily_budget=daily_budget, timezone=timezone)
        )
        self._ttl = presence_ttl
        self._cells: list[str | None] = [None] * n
        self._fixed_at: list[datetime | None] = [None] * n
        self._open = bytearray(n)
        self._intents: dict[int, list[tuple[IntentView, int]]] = {}
        self._next_intent = 1
        self._dedupe: set[tuple[int, str]] = set()
        self._pairs: dict[tuple[int, int, str], _PairState] = {}
        self._budget_day: dict[int, tuple[datetime, int]] = {}
        # Nearby pair states that are disarmed; the only ones a far-apart pair must touch.
        self._disarmed: set[tuple[int, int]] = set()
        # Each user's Party per circle (close or not) and the instant it stops being valid
        # (an intent ends, the position expires). A Party depends on the owner and the
        # circle only, so one build serves every friend in that circle; the server rebuilds
        # it from SQL on every update instead.
        self._parties: dict[tuple[int, bool], tuple[Party, datetime | None]] = {}
        # (user, friend) for every pair :meth:`match` found matching, before the alert
        # policy; only when asked (the benchmark compares it across designs).
        self.matched: list[tuple[int, int]] | None = [] if record_matches else None

    # --- updates ---------------------------------------------------------------------

    def place(self, user: int, lat: float, lon: float, now: datetime) -> None:
        """Store a position as the server does (the finest granted cell, at most block)
        without matching: for loading an initial state."""
        self._forget_parties(user)
        finest = self._sharing[self._sharing_of[user]].finest()
        if finest is Precision.OFF:
            self._cells[user] = None
            return
        self._cells[user] = cell_at(lat, lon, coarser(finest, FINEST_STORED))
        self._fixed_at[user] = now

    def set_open(self, user: int, value: bool) -> None:
        self._forget_parties(user)
        self._open[user] = 1 if value else 0

    def add_intent(
        self,
        user: int,
        activity: str,
        starts_at: datetime,
        ends_at: datetime,
        radius_m: int,
        *,
        audience: int = CLOSE_AUDIENCE,
        now: datetime,
    ) -> IntentView:
        """Store an intent (expired ones are dropped); :meth:`match` then runs the matcher,
        as the server does after creating one."""
        self._forget_parties(user)
        view = IntentView(self._next_intent, activity, starts_at, ends_at, radius_m)
        self._next_intent += 1
        live = [(v, a) for v, a in self._intents.get(user, ()) if v.ends_at > now]
        live.append((view, audience))
        self._intents[user] = live
        return view

    def update_location(self, user: int, lat: float, lon: float, now: datetime) -> list[AlertEvent]:
        self.place(user, lat, lon, now)
        return self.match(user, now)

    # --- matching, as kith.presence.matcher.run_matching -------------------------------

    def match(self, user: int, now: datetime) -> list[AlertEvent]:
        friends, i_hold_close, they_hold_close = self.friends.links(user)
        alerts: list[AlertEvent] = []
        cells, disarmed, intents, open_ = self._cells, self._disarmed, self._intents, self._open
        # Matching needs a cell on both sides and, on both sides, an intent (to match
        # intents) or the hang-out flag (to be near): whoever has neither takes no part.
        active = cells[user] is not None and (user in intents or open_[user])
        for friend, mine, theirs in zip(friends, i_hold_close, they_hold_close, strict=True):
            takes_part = active and cells[friend] is not None
            takes_part = takes_part and (friend in intents or bool(open_[friend]))
            # When it does not, nothing can match and nobody is near; only a spent "friend
            # nearby" pair has something to do (re-arm). The common case skips.
            if not takes_part and (user, friend) not in disarmed and (friend, user) not in disarmed:
                continue
            me = self._party(user, mine, now)
            them = self._party(friend, theirs, now)
            matches = match_intents(me, them, now)
            for found in matches:
                alerts.extend(self._intent_alerts(me, them, found, now))
            check = check_nearby(me, them)
            alerts.extend(self._nearby_alerts(me, them, check, now))
            if self.matched is not None and (matches or check.within_enter):
                self.matched.append((user, friend))
        return alerts

    def _forget_parties(self, user: int) -> None:
        self._parties.pop((user, True), None)
        self._parties.pop((user, False), None)

    def _party(self, owner: int, holds_close: bool, now: datetime) -> Party:
        """``owner`` as seen by a friend it keeps in ``close`` (or not), as matcher._party."""
        cached = self._parties.get((owner, holds_close))
        if cached is not None and (cached[1] is None or now < cached[1]):
            return cached[0]
        precision = self._sharing[self._sharing_of[owner]].for_friend(close=holds_close)
        audience = CLOSE_AUDIENCE if holds_close else OTHERS_AUDIENCE
        intents = tuple(
            v for v, a in self._intents.get(owner, ()) if a & audience and v.ends_at > now
        )
        party = Party(
            user_id=owner,
            cell=self._visible_cell(owner, precision, now),
            intents=intents,
            open_to_hang_out=bool(self._open[owner]),
            holds_other_close=holds_close,
        )
        changes = [v.ends_at for v in intents]
        fixed = self._fixed_at[owner]
        if party.cell is not None and self._ttl is not None and fixed is not None:
            changes.append(fixed + self._ttl + timedelta(microseconds=1))
        self._parties[(owner, holds_close)] = (party, min(changes) if changes else None)
        return party

    def _visible_cell(self, owner: int, precision: Precision, now: datetime) -> str | None:
        """As kith.presence.access.visible_cell: never finer than stored or granted."""
        cell = self._cells[owner]
        if precision is Precision.OFF or cell is None:
            return None
        fixed = self._fixed_at[owner]
        if self._ttl is not None and fixed is not None and now - fixed > self._ttl:
            return None
        return coarsen(cell, precision)

    def _intent_alerts(
        self, me: Party, them: Party, found: IntentMatch, now: datetime
    ) -> list[AlertEvent]:
        low, high = sorted((found.a_intent.id, found.b_intent.id))
        key = f"intent:{low}:{high}"
        alerts = []
        for recipient, other in ((me.user_id, them.user_id), (them.user_id, me.user_id)):
            if self._deliver(recipient, other, INTENT, key, now, INTENT_COOLDOWN):
                alerts.append(AlertEvent(now, recipient, other, INTENT, found.activity))
        return alerts

    def _nearby_alerts(
        self, me: Party, them: Party, check: NearbyCheck, now: datetime
    ) -> list[AlertEvent]:
        alerts: list[AlertEvent] = []
        if check.beyond_exit and not (
            (me.user_id, them.user_id) in self._disarmed
            or (them.user_id, me.user_id) in self._disarmed
        ):
            return alerts  # nothing to re-arm, nothing to fire: the common case
        for recipient, other in ((me.user_id, them.user_id), (them.user_id, me.user_id)):
            state = self._pairs.get((recipient, other, NEARBY))
            if check.beyond_exit:
                if state is not None and not state.armed:
                    state.armed = True  # far enough apart again: the next approach may alert
                    self._disarmed.discard((recipient, other))
                continue
            if not check.within_enter or (state is not None and not state.armed):
                continue
            stamp = now.replace(second=0, microsecond=0).isoformat()
            key = f"nearby:{other}:{stamp}"
            if self._deliver(recipient, other, NEARBY, key, now, NEARBY_COOLDOWN):
                self._pairs[(recipient, other, NEARBY)].armed = False
                self._disarmed.add((recipient, other))
                alerts.append(AlertEvent(now, recipient, other, NEARBY, None))
        return alerts

    def _deliver(
        self,
        recipient: int,
        other: int,
        kind: str,
        key: str,
        now: datetime,
        cooldown: timedelta,
    ) -> bool:
        """As kith.presence.matcher.deliver: dedupe, budget, quiet hours, cooldown."""
        if (recipient, key) in self._dedupe:
            return False
        day = local_day_start(now, self._prefs.timezone)
        counted_day, sent = self._budget_day.get(recipient, (day, 0))
        sent = sent if counted_day == day else 0
        if not may_alert(self._prefs, sent_today=sent, now=now).deliver:
            return False
        state = self._pairs.setdefault((recipient, other, kind), _PairState())
        if not cooled_down(state.last_alert_at, cooldown, now):
            return False
        state.last_alert_at = now
        self._dedupe.add((recipient, key))
        self._budget_day[recipient] = (day, sent + 1)
        return True


# --- Gowalla input ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CheckIn:
    user: int  # dense index into ReplayInput.user_ids
    at: datetime
    lat: float
    lon: float
    venue: int


@dataclass(frozen=True)
class ReplayInput:
    user_ids: list[int]  # original ids, by dense index
    checkins: list[CheckIn]  # sorted by time
    friendships: set[tuple[int, int]]  # dense, smaller first
    venue_names: dict[int, str]


def _read_table(path: Path, columns: Sequence[str]) -> dict[str, list[Any]]:
    """Columns of a .parquet or .csv file as Python lists; timestamps as aware UTC."""
    import pyarrow as pa

    if not path.is_file():
        raise InvalidInput(f"no such file: {path}", field=str(path))
    try:
        if path.suffix == ".parquet":
            import pyarrow.parquet as pq

            table = pq.read_table(path)
        else:
            import pyarrow.csv as pacsv

            table = pacsv.read_csv(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InvalidInput(f"cannot read {path}: {exc}", field=str(path)) from exc
    missing = [c for c in columns if c not in table.column_names]
    if missing:
        raise InvalidInput(f"{path} lacks columns: {', '.join(missing)}", field=str(path))
    out: dict[str, list[Any]] = {}
    for name in columns:
        column = table.column(name)
        if pa.types.is_timestamp(column.type):
            per_second = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}
            scale = per_second[column.type.unit]
            out[name] = [
                datetime.fromtimestamp(v / scale, UTC) for v in column.cast(pa.int64()).to_pylist()
            ]
        else:
            out[name] = column.to_pylist()
    return out


def _parse_time(value: object) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    parsed = datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def load_gowalla(checkins: Path, friendships: Path, venues: Path) -> ReplayInput:
    """Read the Gowalla NYC tables (see shared/data/gowalla_nyc/README.md)."""
    ck = _read_table(checkins, ("user_id", "checkin_time_utc", "lat", "lon", "venue_id"))
    fr = _read_table(friendships, ("user_id", "friend_id"))
    ve = _read_table(venues, ("venue_id", "name"))
    ids = sorted(set(ck["user_id"]) | set(fr["user_id"]) | set(fr["friend_id"]))
    dense = {u: i for i, u in enumerate(ids)}
    try:
        rows = [
            CheckIn(dense[u], _parse_time(t), float(la), float(lo), int(v))
            for u, t, la, lo, v in zip(
                ck["user_id"],
                ck["checkin_time_utc"],
                ck["lat"],
                ck["lon"],
                ck["venue_id"],
                strict=True,
            )
        ]
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"bad check-in row in {checkins}: {exc}", field="checkins") from exc
    rows.sort(key=lambda c: (c.at, c.user))
    pairs = {
        (min(dense[a], dense[b]), max(dense[a], dense[b]))
        for a, b in zip(fr["user_id"], fr["friend_id"], strict=True)
        if a != b
    }
    names = {int(v): str(n) for v, n in zip(ve["venue_id"], ve["name"], strict=True) if n}
    return ReplayInput(ids, rows, pairs, names)


# --- meetups ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Meetup:
    a: int
    b: int  # a < b
    at: datetime  # the later check-in of the first qualifying pair


def _neighbours(pairs: Iterable[tuple[int, int]]) -> dict[int, set[int]]:
    out: dict[int, set[int]] = defaultdict(set)
    for a, b in pairs:
        out[a].add(b)
        out[b].add(a)
    return out


def find_meetups(
    checkins: Sequence[CheckIn],
    friendships: Iterable[tuple[int, int]],
    *,
    window: timedelta,
    distance_m: float,
    episode_gap: timedelta,
) -> list[Meetup]:
    """Friends checking in within ``window`` and ``distance_m``; see the module doc."""
    by_user: dict[int, list[CheckIn]] = defaultdict(list)
    for c in checkins:
        by_user[c.user].append(c)
    for cks in by_user.values():
        cks.sort(key=lambda c: c.at)
    times = {u: [c.at for c in cks] for u, cks in by_user.items()}
    hits: dict[tuple[int, int], list[datetime]] = defaultdict(list)
    for u, friends in _neighbours(friendships).items():
        for f in friends:
            if f < u or f not in by_user or u not in by_user:
                continue
            theirs, their_times = by_user[f], times[f]
            for c in by_user[u]:
                lo = bisect.bisect_left(their_times, c.at - window)
                hi = bisect.bisect_right(their_times, c.at + window)
                for d in theirs[lo:hi]:
                    if haversine_m((c.lat, c.lon), (d.lat, d.lon)) <= distance_m:
                        hits[(u, f)].append(max(c.at, d.at))
    meetups = []
    for (a, b), moments in hits.items():
        moments.sort()
        last: datetime | None = None
        for m in moments:
            if last is None or m - last > episode_gap:
                meetups.append(Meetup(a, b, m))
            last = m
    meetups.sort(key=lambda m: (m.at, m.a, m.b))
    return meetups


def close_friends(
    meetups: Iterable[Meetup], friendships: Iterable[tuple[int, int]], *, top: int
) -> set[tuple[int, int]]:
    """``(owner, friend)`` when ``friend`` is among the ``top`` friends ``owner`` met most.

    One-sided, as circles are in kith; ties go to the smaller id so runs are repeatable.
    """
    met: Counter[tuple[int, int]] = Counter((m.a, m.b) for m in meetups)
    held: set[tuple[int, int]] = set()
    for owner, friends in _neighbours(friendships).items():
        ranked = sorted(
            (f for f in friends if met[(min(owner, f), max(owner, f))] > 0),
            key=lambda f: (-met[(min(owner, f), max(owner, f))], f),
        )
        held.update((owner, f) for f in ranked[:top])
    return held


# --- the replay ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Protocol:
    """The replay's assumptions; defaults are kith's default settings (module doc)."""

    split: datetime | None = datetime(2010, 3, 1, tzinfo=UTC)
    close: str = "top"  # "top": met most in the history period; "all": every friend
    close_top: int = 5  # as the demo's circles (kith.demo.circles.CLOSE_MAX)
    sharing: Sharing = Sharing()
    lead: timedelta = timedelta(hours=1)
    after: timedelta = timedelta(hours=1)
    radius_m: int = 2000  # the API's default radius (kith.presence.schemas.IntentIn)
    presence_ttl: timedelta = timedelta(hours=2)
    open_to_hang_out: bool = False  # kith's default
    daily_budget: int | None = None  # None: kith's default
    timezone: str = "America/New_York"
    meetup_window: timedelta = timedelta(hours=1)
    meetup_distance_m: float = 1000.0
    episode_gap: timedelta = timedelta(hours=3)
    announce_window: timedelta = timedelta(hours=3)

    def __post_init__(self) -> None:
        if self.close not in ("top", "all"):
            raise InvalidInput('close must be "top" or "all"', field="close")


@dataclass(frozen=True, slots=True)
class Update:
    """One presence event of the replay, in time order."""

    at: datetime
    user: int
    lat: float
    lon: float
    activity: str | None = None  # an intent post (from ``at`` to ``ends_at``) when set
    ends_at: datetime | None = None


def replay_updates(
    data: ReplayInput, protocol: Protocol, *, since: datetime | None = None
) -> list[Update]:
    """The location and intent updates the protocol derives from the check-ins."""
    updates = []
    for c in data.checkins:
        if since is not None and c.at < since:
            continue
        updates.append(Update(c.at, c.user, c.lat, c.lon))
        activity = infer_activity(data.venue_names.get(c.venue))
        if activity is not None:
            posted = c.at - protocol.lead
            updates.append(Update(posted, c.user, c.lat, c.lon, activity, c.at + protocol.after))
    # Intents sort before a location update at the same moment (matches the server, where
    # the intent is already stored when the next fix arrives).
    updates.sort(key=lambda u: (u.at, u.activity is None, u.user))
    return updates


def apply_update(engine: AlertEngine, update: Update, radius_m: int) -> list[AlertEvent]:
    """Feed one update to the engine, as the API would: the position, then the intent."""
    if update.activity is None or update.ends_at is None:
        return engine.update_location(update.user, update.lat, update.lon, update.at)
    engine.place(update.user, update.lat, update.lon, update.at)
    engine.add_intent(
        update.user, update.activity, update.at, update.ends_at, radius_m, now=update.at
    )
    return engine.match(update.user, update.at)


@dataclass(frozen=True)
class ReplayReport:
    period_start: datetime | None
    period_end: datetime | None
    users: int
    checkins: int
    friendships: int
    close_links: int  # (owner, friend) pairs where owner keeps friend close
    intents: dict[str, int]
    meetups: int
    meetups_announced: int
    meetups_between_close: int  # both keep each other close
    meetups_between_close_announced: int
    alerts: int
    alerts_by_kind: dict[str, int]
    alerts_without_meetup: int
    alert_events: list[AlertEvent] = field(repr=False, default_factory=list)

    def as_dict(self) -> dict[str, object]:
        def share(part: int, whole: int) -> float | None:
            return round(part / whole, 4) if whole else None

        return {
            "period": {
                "start": self.period_start.isoformat() if self.period_start else None,
                "end": self.period_end.isoformat() if self.period_end else None,
            },
            "users": self.users,
            "checkins": self.checkins,
            "friendships": self.friendships,
            "close_links": self.close_links,
            "intents": dict(sorted(self.intents.items())),
            "meetups": self.meetups,
            "meetups_announced": self.meetups_announced,
            "meetups_announced_share": share(self.meetups_announced, self.meetups),
            "meetups_between_close": self.meetups_between_close,
            "meetups_between_close_announced": self.meetups_between_close_announced,
            "alerts": self.alerts,
            "alerts_by_kind": dict(sorted(self.alerts_by_kind.items())),
            "alerts_without_meetup": self.alerts_without_meetup,
            "alerts_without_meetup_share": share(self.alerts_without_meetup, self.alerts),
        }


def friend_index(
    users: int, friendships: Iterable[tuple[int, int]], close: set[tuple[int, int]] | None
) -> FriendIndex:
    """Both directions of each friendship; ``close=None`` keeps every friend close."""
    import numpy as np

    pairs = sorted(friendships)
    source = np.array([a for a, _ in pairs] + [b for _, b in pairs], dtype=np.int64)
    target = np.array([b for _, b in pairs] + [a for a, _ in pairs], dtype=np.int64)
    if close is None:
        held = np.ones(source.shape[0], dtype=np.bool_)
    else:
        held = np.array(
            [(int(s), int(t)) in close for s, t in zip(source, target, strict=True)],
            dtype=np.bool_,
        )
    return FriendIndex.from_edges(users, source, target, held)


def replay(
    data: ReplayInput,
    protocol: Protocol = Protocol(),
    *,
    progress: Callable[[int, int], None] | None = None,
) -> ReplayReport:
    """Run the protocol over ``data`` and count announced meetups and idle alerts."""
    meetups = find_meetups(
        data.checkins,
        data.friendships,
        window=protocol.meetup_window,
        distance_m=protocol.meetup_distance_m,
        episode_gap=protocol.episode_gap,
    )
    split = protocol.split
    history = [m for m in meetups if split is None or m.at < split]
    evaluated = [m for m in meetups if split is None or m.at >= split]
    close = (
        None
        if protocol.close == "all"
        else close_friends(history, data.friendships, top=protocol.close_top)
    )
    index = friend_index(len(data.user_ids), data.friendships, close)
    engine = AlertEngine(
        index,
        sharing=(protocol.sharing,),
        timezone=protocol.timezone,
        daily_budget=protocol.daily_budget,
        presence_ttl=protocol.presence_ttl,
    )
    if protocol.open_to_hang_out:
        for user in range(len(data.user_ids)):
            engine.set_open(user, True)
    updates = replay_updates(data, protocol, since=split)
    alerts: list[AlertEvent] = []
    step = max(1, len(updates) // 200)
    for done, update in enumerate(updates, 1):
        alerts.extend(apply_update(engine, update, protocol.radius_m))
        if progress is not None and (done % step == 0 or done == len(updates)):
            progress(done, len(updates))
    return _score(data, protocol, evaluated, close, updates, alerts)


def _score(
    data: ReplayInput,
    protocol: Protocol,
    meetups: list[Meetup],
    close: set[tuple[int, int]] | None,
    updates: list[Update],
    alerts: list[AlertEvent],
) -> ReplayReport:
    by_pair: dict[tuple[int, int], list[datetime]] = defaultdict(list)
    for a in alerts:
        by_pair[(min(a.recipient, a.other), max(a.recipient, a.other))].append(a.at)
    meetups_at: dict[tuple[int, int], list[datetime]] = defaultdict(list)
    for m in meetups:
        meetups_at[(m.a, m.b)].append(m.at)

    def any_within(moments: list[datetime], lo: datetime, hi: datetime) -> bool:
        return any(lo <= t <= hi for t in moments)

    window = protocol.announce_window
    # Strictly before: an alert raised by the second check-in itself came too late to
    # bring anyone anywhere.
    announced = [m for m in meetups if any(m.at - window <= t < m.at for t in by_pair[(m.a, m.b)])]

    def mutual_close(m: Meetup) -> bool:
        return close is None or ((m.a, m.b) in close and (m.b, m.a) in close)

    idle = [
        a
        for a in alerts
        if not any_within(
            meetups_at[(min(a.recipient, a.other), max(a.recipient, a.other))],
            a.at - window,
            a.at + window,
        )
    ]
    split = protocol.split
    checkins = [c for c in data.checkins if split is None or c.at >= split]
    return ReplayReport(
        period_start=checkins[0].at if checkins else None,
        period_end=checkins[-1].at if checkins else None,
        users=len({c.user for c in checkins}),
        checkins=len(checkins),
        friendships=len(data.friendships),
        close_links=2 * len(data.friendships) if close is None else len(close),
        intents=dict(Counter(u.activity for u in updates if u.activity is not None)),
        meetups=len(meetups),
        meetups_announced=len(announced),
        meetups_between_close=sum(1 for m in meetups if mutual_close(m)),
        meetups_between_close_announced=sum(1 for m in announced if mutual_close(m)),
        alerts=len(alerts),
        alerts_by_kind=dict(Counter(a.kind for a in alerts)),
        alerts_without_meetup=len(idle),
        alert_events=alerts,
    )
