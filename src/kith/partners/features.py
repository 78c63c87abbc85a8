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
        h = self.history
        horizon = query.horizon
        day, part = divmod(query.slot, N_PARTS)
        codes = _codes(query.activity)
        u_start, u_stop = self._prefix(query.user, horizon)
        sessions = _similar_sessions(h, u_start, u_stop, query, codes)
        u_friends = self.friends.get(query.user, frozenset())
        u_neighbours = set(self.colocations.neighbours_before(query.user, horizon).tolist())
        out = np.zeros((len(query.candidates), len(COLUMNS)))
        used = np.zeros(len(query.candidates), dtype=bool)
        empty = np.zeros(len(query.candidates), dtype=bool)
        out[:, _COL["recent_sessions"]] = len(sessions)
        area = None
        if query.cell is not None:
            from kith.partners.history import area_of

            area = area_of(query.cell)
        for r, friend in enumerate(query.candidates.tolist()):
            f_start, f_stop = self._prefix(friend, horizon)
            n = f_stop - f_start
            empty[r] = n == 0
            if consenting is not None and friend not in consenting:
                continue
            used[r] = True
            row = out[r]
            meetings = self.colocations.meetings(query.user, friend)
            meetings = meetings[h.time[meetings] < horizon]
            if len(meetings):
                row[_COL["coattend"]] = len(meetings)
                if codes is not None:
                    row[_COL["coattend_activity"]] = np.count_nonzero(
                        np.isin(h.activity[meetings], codes)
                    )
                else:
                    row[_COL["coattend_activity"]] = len(meetings)
                row[_COL["coattend_slot"]] = np.count_nonzero(h.slot[meetings] == query.slot)
                row[_COL["recent_joined"]] = np.count_nonzero(np.isin(sessions, meetings))
                days = (horizon - int(h.time[meetings].max())) / _DAY
                row[_COL["recency"]] = math.exp(-days / RECENCY_DAYS)
            if u_neighbours:
                row[_COL["adamic_adar"]] = self._adamic_adar(u_neighbours, friend, horizon)
            mutual = u_friends & self.friends.get(friend, frozenset())
            if mutual:
                row[_COL["mutual_friends"]] = len(mutual)
                row[_COL["mutual_adamic_adar"]] = sum(
                    1.0 / math.log(len(self.friends[z])) for z in mutual
                )
            if n == 0:
                continue
            slots = h.slot[f_start:f_stop]
            total = n + SHARE_PRIOR
            row[_COL["friend_slot_share"]] = np.count_nonzero(slots == query.slot) / total
            row[_COL["friend_part_share"]] = np.count_nonzero(slots % N_PARTS == part) / total
            row[_COL["friend_day_share"]] = np.count_nonzero(slots // N_PARTS == day) / total
            if codes is not None:
                row[_COL["friend_activity_share"]] = (
                    np.count_nonzero(np.isin(h.activity[f_start:f_stop], codes)) / total
                )
            if query.cell is not None:
                row[_COL["friend_area_share"]] = (
                    np.count_nonzero(h.area[f_start:f_stop] == area) / total
                )
                row[_COL["friend_cell_visits"]] = np.count_nonzero(
                    h.cell[f_start:f_stop] == query.cell
                )
        return out, used, empty

    def _adamic_adar(self, u_neighbours: set[int], friend: int, horizon: int) -> float:
        score = 0.0
        for z in self.colocations.neighbours_before(friend, horizon).tolist():
            if z in u_neighbours:
                # z met both, so its degree is at least 2 and the log is positive.
                score += 1.0 / math.log(self.colocations.degree_before(z, horizon))
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
