"""Read the Gowalla check-in files into plain arrays (the only I/O in ``partners``).

Formats are those of ``shared/data/gowalla_nyc`` (see its README): Parquet files
``checkins`` (user_id, checkin_time_utc, lat, lon, venue_id), ``friendships``
(user_id, friend_id, both directions) and ``venues`` (venue_id, name, ...).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from kith.errors import InvalidInput
from kith.partners.activities import ACTIVITY_CODES, UNKNOWN_CODE, infer_activity
from kith.partners.history import IntArray

_CHECKIN_COLUMNS = ("user_id", "checkin_time_utc", "lat", "lon", "venue_id")


@dataclass(frozen=True, eq=False)
class CheckinTable:
    """Check-ins as columns; ``activity`` is inferred from the venue's name (-1 unknown)."""

    user: IntArray
    time: IntArray  # UTC epoch seconds
    lat: npt.NDArray[np.float64]
    lon: npt.NDArray[np.float64]
    venue: IntArray
    activity: npt.NDArray[np.int8]
    friends: dict[int, IntArray]

    def __len__(self) -> int:
        return len(self.user)

    def cells(self, resolution: int) -> IntArray:
        """Each check-in's H3 cell at ``resolution``, as integers."""
        import h3.api.basic_int as h3

        coords = np.stack([self.lat, self.lon], axis=1)
        unique, inverse = np.unique(coords, axis=0, return_inverse=True)
        cells = np.array(
            [h3.latlng_to_cell(la, lo, resolution) for la, lo in unique],
            dtype=np.int64,
        )
        return cells[inverse.reshape(-1)]

    def select(self, mask: npt.NDArray[np.bool_]) -> CheckinTable:
        return CheckinTable(
            self.user[mask],
            self.time[mask],
            self.lat[mask],
            self.lon[mask],
            self.venue[mask],
            self.activity[mask],
            self.friends,
        )


def _read(path: Path, columns: tuple[str, ...]) -> dict[str, npt.NDArray[np.generic]]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    if not path.is_file():
        raise InvalidInput(f"no such file: {path}", field=str(path))
    try:
        table = pq.read_table(path, columns=list(columns))
    except (pa.ArrowInvalid, OSError, KeyError) as exc:
        raise InvalidInput(
            f"{path} is not a Parquet file with columns {', '.join(columns)}: {exc}",
            field=str(path),
        ) from exc
    out: dict[str, npt.NDArray[np.generic]] = {}
    for name in columns:
        column = table.column(name)
        if pa.types.is_timestamp(column.type):
            column = column.cast(pa.timestamp("s", tz="UTC")).cast(pa.int64())
        out[name] = column.to_numpy(zero_copy_only=False)
    return out


def load_gowalla(checkins: Path, friendships: Path, venues: Path) -> CheckinTable:
    """Load the three files; activities come from venue names."""
    ck = _read(checkins, _CHECKIN_COLUMNS)
    fr = _read(friendships, ("user_id", "friend_id"))
    ve = _read(venues, ("venue_id", "name"))
    names = {int(v): str(n) for v, n in zip(ve["venue_id"], ve["name"], strict=True)}
    venue = ck["venue_id"].astype(np.int64)
    codes = {
        v: (UNKNOWN_CODE if (a := infer_activity(names.get(v))) is None else ACTIVITY_CODES[a])
        for v in np.unique(venue).tolist()
    }
    activity = np.array([codes[v] for v in venue.tolist()], dtype=np.int8)
    users, friends_of = fr["user_id"].astype(np.int64), fr["friend_id"].astype(np.int64)
    order = np.lexsort((friends_of, users))
    users, friends_of = users[order], friends_of[order]
    unique, starts = np.unique(users, return_index=True)
    friends = {
        int(u): part for u, part in zip(unique, np.split(friends_of, starts[1:]), strict=True)
    }
    return CheckinTable(
        user=ck["user_id"].astype(np.int64),
        time=ck["checkin_time_utc"].astype(np.int64),
        lat=ck["lat"].astype(np.float64),
        lon=ck["lon"].astype(np.float64),
        venue=venue,
        activity=activity,
        friends=friends,
    )
