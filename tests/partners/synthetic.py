"""A small synthetic world with a known answer, shared by the partners tests.

User 0 plays tennis every Sunday at 10:00 (New York) with friend 1 (and stranger 6,
who is nobody's friend). Friends 2, 3 and 4 keep other routines (weekday coffee,
Friday drinks, Monday lunch at the office); friend 5 never checks in. So for "tennis
on Sunday morning" friend 1 is the right answer by every signal.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

NEW_YORK = ZoneInfo("America/New_York")
FIRST_SUNDAY = datetime(2010, 1, 3, 10, 0, tzinfo=NEW_YORK)
WEEKS = 30
CUTOFF_WEEK = 20  # the CLI test's cutoff: weeks 20-29 are the test period

VENUES = {
    1: ("Central Park Tennis Center", 40.7851, -73.9683),
    2: ("Joe Coffee", 40.7302, -73.9901),
    3: ("Blue Bar", 40.7205, -74.0012),
    4: ("Acme Office", 40.7501, -73.9802),
}
FRIENDSHIPS = [(0, 1), (0, 2), (0, 3), (0, 4), (0, 5), (1, 2), (1, 3)]


def checkins() -> list[tuple[int, datetime, int]]:
    """(user, aware time, venue) rows."""
    rows: list[tuple[int, datetime, int]] = []
    for week in range(WEEKS):
        sunday = FIRST_SUNDAY + timedelta(weeks=week)
        rows.append((0, sunday, 1))
        rows.append((1, sunday + timedelta(minutes=10), 1))
        rows.append((6, sunday + timedelta(minutes=20), 1))
        rows.append((2, sunday + timedelta(days=3, hours=-2), 2))  # Wednesday 08:00
        rows.append((3, sunday + timedelta(days=5, hours=12), 3))  # Friday 22:00
        rows.append((4, sunday + timedelta(days=1, hours=3), 4))  # Monday 13:00
    return rows


def cutoff() -> datetime:
    return (FIRST_SUNDAY + timedelta(weeks=CUTOFF_WEEK, hours=-12)).astimezone(UTC)


def write_parquet(directory: Path) -> tuple[Path, Path, Path]:
    """The world in the shared Gowalla format: (checkins, friendships, venues)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = checkins()
    paths = (
        directory / "checkins.parquet",
        directory / "friendships.parquet",
        directory / "venues.parquet",
    )
    pq.write_table(
        pa.table(
            {
                "user_id": pa.array([r[0] for r in rows], pa.int32()),
                "checkin_time_utc": pa.array(
                    [r[1].astimezone(UTC) for r in rows], pa.timestamp("us", tz="UTC")
                ),
                "lat": [VENUES[r[2]][1] for r in rows],
                "lon": [VENUES[r[2]][2] for r in rows],
                "venue_id": pa.array([r[2] for r in rows], pa.int32()),
            }
        ),
        paths[0],
    )
    both = FRIENDSHIPS + [(b, a) for a, b in FRIENDSHIPS]
    pq.write_table(
        pa.table(
            {
                "user_id": pa.array([a for a, _ in both], pa.int32()),
                "friend_id": pa.array([b for _, b in both], pa.int32()),
            }
        ),
        paths[1],
    )
    pq.write_table(
        pa.table(
            {
                "venue_id": pa.array(list(VENUES), pa.int32()),
                "name": [v[0] for v in VENUES.values()],
                "lat": [v[1] for v in VENUES.values()],
                "lon": [v[2] for v in VENUES.values()],
            }
        ),
        paths[2],
    )
    return paths
