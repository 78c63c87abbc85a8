"""Feature rows: evidence only from before the horizon, consent, and the no-history rule."""

from __future__ import annotations

from datetime import timedelta

import numpy as np

from kith.partners.activities import Activity
from kith.partners.features import FEATURES
from kith.partners.history import Query
from tests.partners import synthetic
from tests.partners.conftest import FRIENDS_OF_0, World, tennis_question


def _row(world: World, query: Query, friend: int, **kwargs: object) -> dict[str, float]:
    matrix = world.builder.build([query], **kwargs)  # type: ignore[arg-type]
    r = FRIENDS_OF_0.index(friend)
    return dict(zip(matrix.names, matrix.values[r].tolist(), strict=True))


def test_a_friend_without_history_looks_like_a_friend_with_nothing_in_common(
    world: World,
) -> None:
    # Friend 4 checks in every Monday at an office; friend 5 never checks in. For
    # Sunday tennis neither has evidence, and no feature may tell them apart: that is
    # what keeps the "no check-in yet" artefact out of every model.
    m = world.test
    four, five = FRIENDS_OF_0.index(4), FRIENDS_OF_0.index(5)
    model_columns = [m.names.index(f) for f in FEATURES]
    assert not m.values[four, model_columns].any()
    np.testing.assert_array_equal(m.values[four, model_columns], m.values[five, model_columns])
    assert m.no_history[five]
    assert not m.no_history[four]


def test_the_right_friend_has_evidence_in_every_signal(world: World) -> None:
    row = _row(world, world.test_query, 1)
    assert row["coattend"] == 25  # weeks 0..24 come before the horizon of week 25
    assert row["coattend_activity"] == row["coattend_slot"] == 25
    assert row["recent_joined"] == row["recent_sessions"] == 5
    assert row["adamic_adar"] > 0  # both keep meeting stranger 6
    assert row["mutual_friends"] == 2  # friends 2 and 3
    assert row["friend_slot_share"] > 0.5
    assert row["friend_cell_visits"] == 25


def test_evidence_after_the_horizon_is_ignored(world: World) -> None:
    early = tennis_question(0)  # horizon: an hour before the very first game
    row = _row(world, early, 1)
    assert row["coattend"] == 0
    assert row["friend_cell_visits"] == 0


def test_a_friend_who_does_not_consent_contributes_nothing(world: World) -> None:
    matrix = world.builder.build([world.test_query], consenting={2, 3, 4, 5})
    one = FRIENDS_OF_0.index(1)
    assert not matrix.values[one, : len(FEATURES)].any()
    assert not matrix.used[one]
    assert matrix.used[FRIENDS_OF_0.index(2)]


def test_anything_gives_no_activity_evidence(world: World) -> None:
    # "Anything" must not turn into "has any history" (the no-history rule again).
    sunday = synthetic.FIRST_SUNDAY + timedelta(weeks=25)
    query = Query.at(
        0,
        sunday,
        FRIENDS_OF_0,
        tz=synthetic.NEW_YORK,
        activity=Activity.ANYTHING,
        now=sunday - timedelta(hours=1),
    )
    for friend in (2, 3, 4):
        assert _row(world, query, friend)["friend_activity_share"] == 0
