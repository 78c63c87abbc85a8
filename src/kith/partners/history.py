"""The data the partner models see: histories, friendships and questions, as plain arrays.

The server builds these from kith's own tables (check-ins, meetups, intents ...) and
the evaluation builds them from the Gowalla files; the models never see a database.

* :class:`History`: one row per past event ``(user, time, cell, activity)``, columnar.
  ``cell`` is an opaque integer place key: an H3 cell at the precision the person
  granted (the integer form, ``h3.api.basic_int``), or any other place id. ``area``
  is a coarser cell used for "near here" evidence (the H3 resolution-7 parent, or the
  cell itself when it is already that coarse).
* :class:`Query`: "who of these friends is up for ``activity`` at ``time``, near ``cell``".

Times are UTC epoch seconds (int64); weekly slots are computed once, in local time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from kith.partners.activities import ACTIVITY_CODES, UNKNOWN_CODE, Activity

IntArray = npt.NDArray[np.int64]

# Weekly slots: day of week (Monday 0) x part of day. Four parts keep the slots few
# enough to estimate from a few dozen check-ins and readable in a reason
# ("Sunday mornings").
PARTS_OF_DAY: tuple[tuple[str, int, int], ...] = (
    ("night", 0, 6),
    ("morning", 6, 12),
    ("afternoon", 12, 17),
    ("evening", 17, 24),
)
N_PARTS = len(PARTS_OF_DAY)
N_SLOTS = 7 * N_PARTS
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# H3 resolution of the "area" column (about 5 km2 per cell).
AREA_RESOLUTION = 7


def part_of_day(hour: int) -> int:
    for index, (_, start, end) in enumerate(PARTS_OF_DAY):
        if start <= hour < end:
            return index
    raise ValueError(f"hour out of range: {hour}")


def weekly_slot(moment: datetime, tz: ZoneInfo) -> int:
    """The slot (``day * N_PARTS + part``) of an aware datetime, in local time ``tz``."""
    if moment.tzinfo is None:
        raise ValueError("weekly_slot needs an aware datetime")
    local = moment.astimezone(tz)
    return local.weekday() * N_PARTS + part_of_day(local.hour)


def slot_name(slot: int) -> str:
    """``"Sunday mornings"`` for a slot."""
    day, part = divmod(slot, N_PARTS)
    return f"{DAY_NAMES[day]} {PARTS_OF_DAY[part][0]}s"


def weekly_slots(times: IntArray, tz: ZoneInfo) -> npt.NDArray[np.int8]:
    """The weekly slot of each epoch-seconds time, in local time ``tz``."""
    # Offsets change only at DST transitions: convert each distinct hour once.
    hours = times // 3600
    unique, inverse = np.unique(hours, return_inverse=True)
    slots = np.array(
        [weekly_slot(datetime.fromtimestamp(int(h) * 3600, UTC), tz) for h in unique],
        dtype=np.int8,
    )
    return slots[inverse].astype(np.int8)


def area_of(cell: int) -> int:
    """The resolution-7 H3 parent of an H3 cell (the cell itself if already coarser)."""
    import h3.api.basic_int as h3

    if not h3.is_valid_cell(cell):
        return cell
    if h3.get_resolution(cell) <= AREA_RESOLUTION:
        return cell
    return int(h3.cell_to_parent(cell, AREA_RESOLUTION))


def coarsen_cells(cells: IntArray, resolution: int) -> IntArray:
    """Each H3 cell replaced by its parent at ``resolution`` (never finer than granted)."""
    import h3.api.basic_int as h3

    unique, inverse = np.unique(cells, return_inverse=True)
    parents = np.array([h3.cell_to_parent(int(c), resolution) for c in unique], dtype=np.int64)
    return np.asarray(parents[inverse], dtype=np.int64)


@dataclass(frozen=True, eq=False)
class History:
    """Past events, columnar and sorted by ``(user, time)``."""

    user: IntArray
    time: IntArray
    cell: IntArray
    area: IntArray
    activity: npt.NDArray[np.int8]
    slot: npt.NDArray[np.int8]

    def __post_init__(self) -> None:
        n = len(self.user)
        for name in ("time", "cell", "area", "activity", "slot"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"History column {name} has the wrong length")

    def __len__(self) -> int:
        return len(self.user)

    @classmethod
    def from_arrays(
        cls,
        user: npt.ArrayLike,
        time: npt.ArrayLike,
        cell: npt.ArrayLike,
        activity: npt.ArrayLike,
        *,
        tz: ZoneInfo,
        area: npt.ArrayLike | None = None,
    ) -> History:
        """Build from columns; ``activity`` holds :data:`ACTIVITY_CODES` (-1 unknown)."""
        users = np.asarray(user, dtype=np.int64)
        times = np.asarray(time, dtype=np.int64)
        cells = np.asarray(cell, dtype=np.int64)
        if area is None:
            unique, inverse = np.unique(cells, return_inverse=True)
            areas = np.array([area_of(int(c)) for c in unique], dtype=np.int64)[inverse]
        else:
            areas = np.asarray(area, dtype=np.int64)
        order = np.lexsort((times, users))
        return cls(
            user=users[order],
            time=times[order],
            cell=cells[order],
            area=np.asarray(areas, dtype=np.int64)[order],
            activity=np.asarray(activity, dtype=np.int8)[order],
            slot=weekly_slots(times[order], tz),
        )

    @classmethod
    def from_events(
        cls,
        events: Iterable[tuple[int, datetime, int, Activity | None]],
        *,
        tz: ZoneInfo,
    ) -> History:
        """Build from ``(user, aware time, cell, activity)`` tuples (the server's path)."""
        rows = list(events)
        for _, moment, _, _ in rows:
            if moment.tzinfo is None:
                raise ValueError("History needs aware datetimes")
        return cls.from_arrays(
            [r[0] for r in rows],
            [int(r[1].timestamp()) for r in rows],
            [r[2] for r in rows],
            [UNKNOWN_CODE if r[3] is None else ACTIVITY_CODES[r[3]] for r in rows],
            tz=tz,
        )

    def select(self, mask: npt.NDArray[np.bool_]) -> History:
        return History(
            user=self.user[mask],
            time=self.time[mask],
            cell=self.cell[mask],
            area=self.area[mask],
            activity=self.activity[mask],
            slot=self.slot[mask],
        )

    def before(self, moment: int) -> History:
        """Only the events strictly before ``moment`` (epoch seconds)."""
        return self.select(self.time < moment)

    def coarsened(self, resolution: int) -> History:
        """Every cell replaced by its H3 parent at ``resolution`` (cells must be H3)."""
        cells = coarsen_cells(self.cell, resolution)
        unique, inverse = np.unique(cells, return_inverse=True)
        areas = np.array([area_of(int(c)) for c in unique], dtype=np.int64)
        return History(self.user, self.time, cells, areas[inverse], self.activity, self.slot)


@dataclass(frozen=True, eq=False)
class Query:
    """Rank ``candidates`` (friends of ``user``) for ``activity`` at ``time`` near ``cell``.

    ``horizon`` is the moment evidence must predate (epoch seconds): the server passes
    "now"; an evaluation passes the question's time minus the meetup window, so the
    meetup being predicted never counts as its own evidence.
    """

    user: int
    time: int
    slot: int
    activity: Activity | None
    cell: int | None
    candidates: IntArray
    horizon: int

    @classmethod
    def at(
        cls,
        user: int,
        moment: datetime,
        candidates: Sequence[int],
        *,
        tz: ZoneInfo,
        activity: Activity | None = None,
        cell: int | None = None,
        now: datetime | None = None,
    ) -> Query:
        timestamp = int(moment.timestamp())
        horizon = int(now.timestamp()) if now is not None else timestamp
        return cls(
            user=user,
            time=timestamp,
            slot=weekly_slot(moment, tz),
            activity=activity,
            cell=cell,
            candidates=np.asarray(candidates, dtype=np.int64),
            horizon=min(horizon, timestamp),
        )


@dataclass(frozen=True, eq=False)
class LabelledQuery:
    """A question whose answer is known: the candidates who actually came."""

    query: Query
    positives: frozenset[int]
    # Who the event belongs to, for resampling by person in the evaluation.
    group: int = field(default=-1)

    def labels(self) -> npt.NDArray[np.bool_]:
        return np.isin(self.query.candidates, np.fromiter(self.positives, dtype=np.int64))


# A person's friends, as any iterable of ids (a list, a tuple or a numpy array).
Friends = Mapping[int, Iterable[int]]
