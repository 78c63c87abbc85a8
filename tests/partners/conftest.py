from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import h3.api.basic_int as h3
import numpy as np
import pytest

from kith.partners.activities import Activity, infer_activity
from kith.partners.features import FeatureBuilder, FeatureMatrix
from kith.partners.history import History, LabelledQuery, Query
from tests.partners import synthetic
from tests.web.conftest import pages  # noqa: F401  (the web pages fixture, for test_web.py)

FRIENDS_OF_0 = [1, 2, 3, 4, 5]


def cell_of(venue: int) -> int:
    _, lat, lon = synthetic.VENUES[venue]
    return int(h3.latlng_to_cell(lat, lon, 12))


@dataclass
class World:
    history: History
    friends: dict[int, list[int]]
    builder: FeatureBuilder
    train: FeatureMatrix
    train_labels: np.ndarray
    test_query: Query
    test: FeatureMatrix


def tennis_question(week: int) -> Query:
    sunday = synthetic.FIRST_SUNDAY + timedelta(weeks=week)
    return Query.at(
        0,
        sunday,
        FRIENDS_OF_0,
        tz=synthetic.NEW_YORK,
        activity=Activity.TENNIS,
        cell=cell_of(1),
        now=sunday - timedelta(hours=1),
    )


@pytest.fixture(scope="session")
def world() -> World:
    events = [
        (user, when, cell_of(venue), infer_activity(synthetic.VENUES[venue][0]))
        for user, when, venue in synthetic.checkins()
    ]
    history = History.from_events(events, tz=synthetic.NEW_YORK)
    friends: dict[int, list[int]] = {}
    for a, b in synthetic.FRIENDSHIPS:
        friends.setdefault(a, []).append(b)
        friends.setdefault(b, []).append(a)
    builder = FeatureBuilder(history, friends)
    train_q = [LabelledQuery(tennis_question(w), frozenset({1}), group=0) for w in range(1, 20)]
    train = builder.build([q.query for q in train_q])
    labels = np.concatenate([q.labels() for q in train_q])
    test_query = tennis_question(25)
    return World(history, friends, builder, train, labels, test_query, builder.build([test_query]))
