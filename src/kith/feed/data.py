"""Read ratings and items files into plain arrays for :mod:`kith.feed.evaluation`.

The only I/O in the feed's offline path. Accepts the Parquet files under
``shared/data/movielens_latest_small`` (snake_case columns, ``genres`` as a list) and the
original MovieLens CSVs (``userId,movieId,rating,timestamp`` and ``movieId,title,genres``
with pipe-separated genres).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from kith.errors import InvalidInput
from kith.feed.rankers.base import FloatArray, IntArray
from kith.feed.topics import TopicSpace

_YEAR = re.compile(r"\((\d{4})\)\s*$")
NO_GENRES = "(no genres listed)"


@dataclass(frozen=True)
class RatingsData:
    """Ratings as index arrays plus each item's topics and "posted" time."""

    users: IntArray  # row per rating: user index 0..n_users-1
    items: IntArray  # row per rating: item index 0..n_items-1
    ratings: FloatArray
    user_ids: IntArray  # original id of each user index
    item_ids: IntArray  # original id of each item index
    space: TopicSpace
    item_topics: FloatArray  # (n_items, topics), rows sum to 1 (0 for no genres)
    item_time: FloatArray  # seconds since the epoch: January 1st of the release year

    @property
    def n_users(self) -> int:
        return len(self.user_ids)

    @property
    def n_items(self) -> int:
        return len(self.item_ids)


def _read_table(path: Path) -> dict[str, list[Any]]:
    if not path.is_file():
        raise InvalidInput(f"no such file: {path}", field=str(path))
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        table: dict[str, list[Any]] = pq.read_table(path).to_pydict()
        return table
    if path.suffix == ".csv":
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        if not rows:
            raise InvalidInput(f"{path} has no rows", field=str(path))
        return {key: [row[key] for row in rows] for key in rows[0]}
    raise InvalidInput(f"{path}: expected a .parquet or .csv file", field=str(path))


def _column(table: dict[str, list[Any]], path: Path, *names: str) -> list[Any]:
    for name in names:
        if name in table:
            return table[name]
    raise InvalidInput(f"{path} has no column {names[0]!r}", field=str(path))


def load_ratings(ratings_path: Path, items_path: Path) -> RatingsData:
    """Load a ratings file and an items (genres) file; ratings of unknown items are refused."""
    ratings = _read_table(ratings_path)
    items = _read_table(items_path)
    try:
        r_users = np.array(_column(ratings, ratings_path, "user_id", "userId"), dtype=np.int64)
        r_items = np.array(_column(ratings, ratings_path, "movie_id", "movieId"), dtype=np.int64)
        r_values = np.array(_column(ratings, ratings_path, "rating"), dtype=np.float64)
        i_ids = np.array(_column(items, items_path, "movie_id", "movieId"), dtype=np.int64)
    except ValueError as exc:
        raise InvalidInput(f"ids and ratings must be numbers ({exc})", field="ratings") from None
    raw_genres = _column(items, items_path, "genres")
    genres = [
        [g for g in (v.split("|") if isinstance(v, str) else v) if g and g != NO_GENRES]
        for v in raw_genres
    ]
    years = items.get("year")
    titles = items.get("title", [""] * len(i_ids))
    if years is None:
        found = [_YEAR.search(str(t)) for t in titles]
        years = [int(m.group(1)) if m else None for m in found]
    if len(r_values) == 0:
        raise InvalidInput(f"{ratings_path} has no ratings", field="ratings")

    item_ids, item_index = np.unique(r_items, return_inverse=True)
    user_ids, user_index = np.unique(r_users, return_inverse=True)
    row_of = {int(i): n for n, i in enumerate(i_ids)}
    missing = [int(i) for i in item_ids if int(i) not in row_of]
    if missing:
        raise InvalidInput(
            f"{len(missing)} rated items are not in the items file (e.g. {missing[0]})",
            field="items",
        )
    space = TopicSpace(tuple(sorted({g for gs in genres for g in gs})))
    rows = [row_of[int(i)] for i in item_ids]
    topics = space.weights([genres[r] for r in rows])
    time = np.array(
        [datetime(int(years[r]), 1, 1, tzinfo=UTC).timestamp() if years[r] else 0.0 for r in rows]
    )
    return RatingsData(
        users=user_index.astype(np.int64),
        items=item_index.astype(np.int64),
        ratings=r_values,
        user_ids=user_ids.astype(np.int64),
        item_ids=item_ids.astype(np.int64),
        space=space,
        item_topics=topics,
        item_time=time,
    )
