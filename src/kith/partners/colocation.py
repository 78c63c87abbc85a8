"""Who was where with whom: co-locations found in a history (pure, numpy only).

Two events co-locate when they are at the same place key, by different people, at
most ``window`` seconds apart. The same rule defines a meetup in the evaluation, the
co-attendance evidence and the co-location graph that Adamic-Adar walks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from kith.partners.history import History, IntArray

MEETUP_WINDOW_SECONDS = 3600


def colocated_pairs(
    place: IntArray, time: IntArray, user: IntArray, *, window: int = MEETUP_WINDOW_SECONDS
) -> tuple[IntArray, IntArray]:
    """All ordered pairs ``(i, j)`` of rows at the same place, different users, within window.

    Both directions are returned. Sorting by (place, time) and a single searchsorted
    finds every partner in O(n log n + pairs) without a Python loop.
    """
    n = len(place)
    if n == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    order = np.lexsort((time, place))
    p, t = place[order], time[order]
    _, rank = np.unique(p, return_inverse=True)
    start = int(t.min())
    # Each place gets its own band of the key line, wider than any time difference.
    band = int(t.max()) - start + window + 1
    key = rank.astype(np.int64) * band + (t - start)
    end = np.searchsorted(key, key + window, side="right")
    counts = end - np.arange(n) - 1
    first = np.repeat(np.arange(n), counts)
    offsets = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    second = first + 1 + offsets
    i, j = order[first], order[second]
    keep = user[i] != user[j]
    i, j = i[keep], j[keep]
    return np.concatenate([i, j]), np.concatenate([j, i])


@dataclass(frozen=True, eq=False)
class CoLocations:
    """Co-location evidence indexed for fast "before this horizon" questions.

    ``meetings[(u, f)]``: the times of ``u``'s events with ``f`` present, sorted, plus
    their row numbers in the history (to read activity and slot).
    ``neighbours[u]``: the people ``u`` ever co-located with and when they first did,
    sorted by that time (the co-location graph, growing over time).
    """

    meeting_rows: dict[tuple[int, int], IntArray]
    neighbour_times: dict[int, IntArray]
    neighbour_ids: dict[int, IntArray]

    @classmethod
    def build(cls, history: History, *, window: int = MEETUP_WINDOW_SECONDS) -> CoLocations:
        i, j = colocated_pairs(history.cell, history.time, history.user, window=window)
        # One meeting per (event of u, person f), however many events f had there.
        pair_keys = np.unique(np.stack([i, history.user[j]], axis=1), axis=0)
        rows, partners = pair_keys[:, 0], pair_keys[:, 1]
        owners = history.user[rows]
        order = np.lexsort((rows, partners, owners))
        rows, partners, owners = rows[order], partners[order], owners[order]
        meeting_rows: dict[tuple[int, int], IntArray] = {}
        if len(rows):
            cuts = np.flatnonzero((np.diff(owners) != 0) | (np.diff(partners) != 0)) + 1
            for chunk in np.split(np.arange(len(rows)), cuts):
                key = (int(owners[chunk[0]]), int(partners[chunk[0]]))
                meeting_rows[key] = rows[chunk]
        # The graph edge appears once both events of the first meeting have happened.
        when = np.maximum(history.time[i], history.time[j])
        a, b = history.user[i], history.user[j]
        neighbour_times: dict[int, IntArray] = {}
        neighbour_ids: dict[int, IntArray] = {}
        if len(a):
            order = np.lexsort((when, b, a))
            a, b, when = a[order], b[order], when[order]
            first = np.ones(len(a), dtype=bool)
            first[1:] = (a[1:] != a[:-1]) | (b[1:] != b[:-1])
            a, b, when = a[first], b[first], when[first]
            order = np.lexsort((when, a))
            a, b, when = a[order], b[order], when[order]
            cuts = np.flatnonzero(np.diff(a) != 0) + 1
            for chunk in np.split(np.arange(len(a)), cuts):
                owner = int(a[chunk[0]])
                neighbour_times[owner] = when[chunk]
                neighbour_ids[owner] = b[chunk]
        return cls(meeting_rows, neighbour_times, neighbour_ids)

    def meetings(self, user: int, friend: int) -> IntArray:
        return self.meeting_rows.get((user, friend), _EMPTY)

    def neighbours_before(self, user: int, horizon: int) -> IntArray:
        times = self.neighbour_times.get(user)
        if times is None:
            return _EMPTY
        return self.neighbour_ids[user][: int(np.searchsorted(times, horizon))]

    def degree_before(self, user: int, horizon: int) -> int:
        times = self.neighbour_times.get(user)
        return 0 if times is None else int(np.searchsorted(times, horizon))


_EMPTY: IntArray = np.zeros(0, dtype=np.int64)


def friend_meetups(
    place: IntArray,
    time: IntArray,
    user: IntArray,
    friends: dict[int, npt.NDArray[np.int64]],
    *,
    window: int = MEETUP_WINDOW_SECONDS,
) -> dict[int, set[int]]:
    """For each row, the friends of its user seen at the same place within ``window``.

    Rows with no friend present are absent. This is the evaluation's definition of a
    real meetup.
    """
    i, j = colocated_pairs(place, time, user, window=window)
    found: dict[int, set[int]] = {}
    friend_sets = {u: set(fs.tolist()) for u, fs in friends.items()}
    for row, other in zip(i.tolist(), user[j].tolist(), strict=True):
        if other in friend_sets.get(int(user[row]), ()):
            found.setdefault(row, set()).add(other)
    return found
