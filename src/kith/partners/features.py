"""Turn questions into feature rows: one row per (question, candidate friend). Pure.

Every feature uses only evidence from before the question's ``horizon``.

**The "no history yet" rule.** Each feature is zero both for a friend with no history at
all and for a friend whose history has nothing in common with the question (another
day, another activity, elsewhere, never with the asker). So no model can tell "has no
check-in yet" from "is not a match". That matters because in the Gowalla snapshot a
friend with no check-in yet is *more* likely to appear soon, for reasons of how the
data was collected rather than behaviour; the evaluation reports that signal on its
own (``FeatureMatrix.no_history``) and keeps it out of every model. Shares are
therefore counts over a shrunk total (``k / (n + SHARE_PRIOR)``) rather than
smoothed towards a population rate, and there is deliberately no "how active is this
friend overall" feature.

**Consent.** A friend who does not let their history help friends plan gets an
all-zero row (``used`` is false) and is ranked on nothing of theirs.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from kith.partners.activities import ACTIVITY_CODES, Activity, related
from kith.partners.colocation import CoLocations
from kith.partners.history import N_PARTS, Friends, History, IntArray, Query

FEATURES: tuple[str, ...] = (
    "coattend",  # times the friend was with the asker (same place, within the hour)
    "coattend_activity",  # ... at the question's activity (or a related one)
    "coattend_slot",  # ... in the question's weekly slot (day x part of day)
    "recent_joined",  # of the asker's last RECENT_SESSIONS similar outings, how many with friend
    "recency",  # exp(-days since the last time together / RECENCY_DAYS); 0 if never
    "adamic_adar",  # shared co-location neighbours, rare ones weigh more
    "mutual_friends",  # friends the asker and the friend have in common
    "mutual_adamic_adar",  # ... each weighted 1/log(their friend count): close circles count
    "friend_slot_share",  # friend's events in this weekly slot / (all + prior)
    "friend_part_share",  # ... in this part of day, any day
    "friend_day_share",  # ... on this day of week
    "friend_activity_share",  # ... at this activity (0 for "anything")
    "friend_area_share",  # ... in this area (H3 res 7)
    "friend_cell_visits",  # friend's events at this very place
)
# Context for explanations, constant within a question, never a model input.
CONTEXT: tuple[str, ...] = ("recent_sessions",)
COLUMNS: tuple[str, ...] = FEATURES + CONTEXT

RECENT_SESSIONS = 5  # "joined 4 of your last 5 Sunday tennis sessions"
RECENCY_DAYS = 30.0
SHARE_PRIOR = 3.0  # pseudo-events: one check-in in a slot is not "usually"
_DAY = 86400.0
_NO_ROWS: IntArray = np.zeros(0, dtype=np.int64)
_COL = {name: index for index, name in enumerate(COLUMNS)}


@dataclass(frozen=True, eq=False)
class FeatureMatrix:
    """Rows of features for many questions, with the bookkeeping to rank and explain.

    ``query_index[r]`` is the question of row ``r`` and ``candidate[r]`` the friend;
    ``used[r]`` says whether that friend's own history contributed (for the privacy
    ledger); ``no_history[r]`` is the leakage signal, for measurement only.
    """

    values: npt.NDArray[np.float64]
    names: tuple[str, ...]
    query_index: IntArray
    candidate: IntArray
    used: npt.NDArray[np.bool_]
    no_history: npt.NDArray[np.bool_]

    def column(self, name: str) -> npt.NDArray[np.float64]:
        return self.values[:, self.names.index(name)]

    def columns(self, names: Sequence[str]) -> npt.NDArray[np.float64]:
        missing = [n for n in names if n not in self.names]
        if missing:
            raise ValueError(f"feature matrix lacks columns: {', '.join(missing)}")
        return self.values[:, [self.names.index(n) for n in names]]

    def __len__(self) -> int:
        return len(self.values)

    def take(self, rows: Sequence[int]) -> FeatureMatrix:
        """Only these rows, in this order."""
        index = np.asarray(rows, dtype=np.int64)
        return FeatureMatrix(
            values=self.values[index],
            names=self.names,
            query_index=self.query_index[index],
            candidate=self.candidate[index],
            used=self.used[index],
            no_history=self.no_history[index],
        )

    def groups(self) -> list[IntArray]:
        """Row numbers of each question, in question order."""
        if len(self.query_index) == 0:
            return []
        cuts = np.flatnonzero(np.diff(self.query_index) != 0) + 1
        return list(np.split(np.arange(len(self.query_index)), cuts))


class FeatureBuilder:
    """Index a history once, then build rows for any number of questions."""

    def __init__(
        self,
        history: History,
        friends: Friends,
        *,
        colocations: CoLocations | None = None,
    ) -> None:
        self.history = history
        self.friends = {u: frozenset(int(f) for f in fs) for u, fs in friends.items()}
        self.colocations = colocations if colocations is not None else CoLocations.build(history)
        users, starts = np.unique(history.user, return_index=True)
        # An empty history (nobody has done anything yet) has no spans at all.
        ends = np.append(starts[1:], len(history.user)) if len(users) else starts
        self._span = {int(u): (int(s), int(e)) for u, s, e in zip(users, starts, ends, strict=True)}

    def _prefix(self, user: int, horizon: int) -> tuple[int, int]:
        """Rows ``[start, stop)`` of ``user``'s events before ``horizon``."""
        start, end = self._span.get(user, (0, 0))
        stop = start + int(np.searchsorted(self.history.time[start:end], horizon))
        return start, stop

    def build(
        self, queries: Sequence[Query], *, consenting: Collection[int] | None = None
    ) -> FeatureMatrix:
        blocks: list[npt.NDArray[np.float64]] = []
        query_index: list[IntArray] = []
        used: list[npt.NDArray[np.bool_]] = []
        no_history: list[npt.NDArray[np.bool_]] = []
        for q, query in enumerate(queries):
            values, query_used, empty = self._rows(query, consenting)
            blocks.append(values)
            query_index.append(np.full(len(query.candidates), q, dtype=np.int64))
            used.append(query_used)
            no_history.append(empty)
        if not blocks:
            blocks = [np.zeros((0, len(COLUMNS)))]
        return FeatureMatrix(
            values=np.vstack(blocks),
            names=COLUMNS,
            query_index=np.concatenate(query_index or [np.zeros(0, dtype=np.int64)]),
            candidate=np.concatenate(
                [q.candidates for q in queries] or [np.zeros(0, dtype=np.int64)]
            ),
            used=np.concatenate(used or [np.zeros(0, dtype=bool)]),
            no_history=np.concatenate(no_history or [np.zeros(0, dtype=bool)]),
        )

    def _rows(
        self, query: Query, consenting: Collection[int] | None
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
        """One question's rows, a fixed number of array operations for all candidates.

        A server request ranks up to a few hundred friends and must take well under a
        millisecond here, so each signal is computed once over the rows of every
        candidate together (``np.bincount`` by candidate) rather than friend by friend.
        """
        h = self.history
        horizon = query.horizon
        candidates = query.candidates.tolist()
        k = len(candidates)
        out = np.zeros((k, len(COLUMNS)))
        spans = np.array([self._prefix(f, horizon) for f in candidates], dtype=np.int64)
        spans = spans.reshape(k, 2)
        counts = spans[:, 1] - spans[:, 0]
        empty = counts == 0
        used = np.array(
            [consenting is None or f in consenting for f in candidates], dtype=bool
        ).reshape(k)
        codes = _codes(query.activity)
        u_start, u_stop = self._prefix(query.user, horizon)
        sessions = _similar_sessions(h, u_start, u_stop, query, codes)
        out[:, _COL["recent_sessions"]] = len(sessions)
        if not used.any():
            return out, used, empty
        self._together(out, query, candidates, used, codes, sessions)
        self._graph(out, query, candidates, used)
        self._routine(out, query, spans[used & ~empty], np.flatnonzero(used & ~empty), codes)
        return out, used, empty

    def _together(
        self,
        out: npt.NDArray[np.float64],
        query: Query,
        candidates: list[int],
        used: npt.NDArray[np.bool_],
        codes: npt.NDArray[np.int8] | None,
        sessions: IntArray,
    ) -> None:
        """Co-attendance, recent sessions joined and recency: the asker's rows with each friend."""
        h = self.history
        k = len(candidates)
        pieces = [
            self.colocations.meetings(query.user, f) if used[r] else _NO_ROWS
            for r, f in enumerate(candidates)
        ]
        rows = np.concatenate(pieces) if pieces else _NO_ROWS
        owner = np.repeat(np.arange(k), [len(p) for p in pieces])
        before = h.time[rows] < query.horizon
        rows, owner = rows[before], owner[before]
        if not len(rows):
            return
        coattend = np.bincount(owner, minlength=k).astype(np.float64)
        out[:, _COL["coattend"]] = coattend
        if codes is not None:
            hits = np.isin(h.activity[rows], codes)
            out[:, _COL["coattend_activity"]] = np.bincount(owner, weights=hits, minlength=k)
        else:
            out[:, _COL["coattend_activity"]] = coattend
        at_slot = h.slot[rows] == query.slot
        out[:, _COL["coattend_slot"]] = np.bincount(owner, weights=at_slot, minlength=k)
        joined = np.isin(rows, sessions)
        out[:, _COL["recent_joined"]] = np.bincount(owner, weights=joined, minlength=k)
        last = np.full(k, np.iinfo(np.int64).min, dtype=np.int64)
        np.maximum.at(last, owner, h.time[rows])
        for r in np.flatnonzero(coattend).tolist():
            days = (query.horizon - int(last[r])) / _DAY
            out[r, _COL["recency"]] = math.exp(-days / RECENCY_DAYS)

    def _graph(
        self,
        out: npt.NDArray[np.float64],
        query: Query,
        candidates: list[int],
        used: npt.NDArray[np.bool_],
    ) -> None:
        """Adamic-Adar on the co-location graph and the mutual-friend signals."""
        u_neighbours = set(self.colocations.neighbours_before(query.user, query.horizon).tolist())
        u_friends = self.friends.get(query.user, frozenset())
        degrees: dict[int, int] = {}  # neighbours in common recur from friend to friend
        for r, friend in enumerate(candidates):
            if not used[r]:
                continue
            if u_neighbours:
                out[r, _COL["adamic_adar"]] = self._adamic_adar(
                    u_neighbours, friend, query.horizon, degrees
                )
            mutual = u_friends & self.friends.get(friend, frozenset())
            if mutual:
                out[r, _COL["mutual_friends"]] = len(mutual)
                out[r, _COL["mutual_adamic_adar"]] = sum(
                    1.0 / math.log(len(self.friends[z])) for z in mutual
                )

    def _routine(
        self,
        out: npt.NDArray[np.float64],
        query: Query,
        spans: IntArray,
        which: IntArray,
        codes: npt.NDArray[np.int8] | None,
    ) -> None:
        """Each friend's own week: shares of their events in this slot, activity, area."""
        if not len(which):
            return
        h = self.history
        k = len(out)
        day, part = divmod(query.slot, N_PARTS)
        lengths = spans[:, 1] - spans[:, 0]
        # Every row of every candidate, and which candidate it belongs to.
        offsets = np.cumsum(lengths) - lengths
        rows = np.arange(int(lengths.sum())) + np.repeat(spans[:, 0] - offsets, lengths)
        owner = np.repeat(which, lengths)
        total = np.zeros(k)
        total[which] = lengths + SHARE_PRIOR
        total[total == 0] = 1.0  # rows without events stay 0 below

        def share(mask: npt.NDArray[np.bool_]) -> npt.NDArray[np.float64]:
            return np.bincount(owner, weights=mask, minlength=k).astype(np.float64)

        slots = h.slot[rows]
        out[:, _COL["friend_slot_share"]] = share(slots == query.slot) / total
        out[:, _COL["friend_part_share"]] = share(slots % N_PARTS == part) / total
        out[:, _COL["friend_day_share"]] = share(slots // N_PARTS == day) / total
        if codes is not None:
            out[:, _COL["friend_activity_share"]] = share(np.isin(h.activity[rows], codes)) / total
        if query.cell is not None:
            from kith.partners.history import area_of

            area = area_of(query.cell)
            out[:, _COL["friend_area_share"]] = share(h.area[rows] == area) / total
            out[:, _COL["friend_cell_visits"]] = share(h.cell[rows] == query.cell)

    def _adamic_adar(
        self, u_neighbours: set[int], friend: int, horizon: int, degrees: dict[int, int]
    ) -> float:
        score = 0.0
        for z in self.colocations.neighbours_before(friend, horizon).tolist():
            if z in u_neighbours:
                if z not in degrees:
                    degrees[z] = self.colocations.degree_before(z, horizon)
                # z met both, so its degree is at least 2 and the log is positive.
                score += 1.0 / math.log(degrees[z])
        return score


def _codes(activity: Activity | None) -> npt.NDArray[np.int8] | None:
    """Activity codes that count as evidence; ``None`` means "no activity evidence"."""
    if activity is None or activity is Activity.ANYTHING:
        return None
    return np.array(sorted(ACTIVITY_CODES[a] for a in related(activity)), dtype=np.int8)


def _similar_sessions(
    h: History, start: int, stop: int, query: Query, codes: npt.NDArray[np.int8] | None
) -> IntArray:
    """Rows of the asker's last few outings like this one (same day; same activity or part)."""
    day, part = divmod(query.slot, N_PARTS)
    slots = h.slot[start:stop]
    mask = slots // N_PARTS == day
    if codes is not None:
        mask &= np.isin(h.activity[start:stop], codes)
    else:
        mask &= slots % N_PARTS == part
    return (np.flatnonzero(mask) + start)[-RECENT_SESSIONS:].astype(np.int64)
