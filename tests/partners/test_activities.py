from __future__ import annotations

import pytest

from kith.errors import InvalidInput
from kith.partners.activities import Activity, infer_activity, parse_activity, related

NAMES = [
    ("Starbucks", Activity.COFFEE),
    ("Stumptown Coffee Roasters", Activity.COFFEE),
    ("Central Park Tennis Center", Activity.TENNIS),
    ("Rockaway Beach Surf Club", Activity.SURFING),
    ("Equinox Fitness", Activity.GYM),
    ("Jacqueline Kennedy Onassis Reservoir", Activity.RUN),
    ("The Dead Rabbit Bar", Activity.BAR),
    ("Shake Shack", Activity.RESTAURANT),
    ("Olive Garden", Activity.RESTAURANT),
    ("Park Avenue Diner", Activity.RESTAURANT),
    ("NYU Bobst Library", Activity.STUDY),
    ("Bryant Park", Activity.PARK),
    ("New York Botanical Garden", Activity.PARK),
    ("The High Line", Activity.PARK),
    ("Madison Square Garden", None),  # an arena
    ("Park Slope", None),  # a neighbourhood
    ("LGA LaGuardia Airport", None),
    ("", None),
    (None, None),
]


@pytest.mark.parametrize(("name", "expected"), NAMES)
def test_infer_activity(name: str | None, expected: Activity | None) -> None:
    assert infer_activity(name) is expected


def test_plans_and_places_are_evidence_for_each_other() -> None:
    assert Activity.RESTAURANT in related(Activity.LUNCH)
    assert Activity.DRINKS in related(Activity.BAR)
    assert Activity.PARK in related(Activity.WALK)
    assert related(Activity.TENNIS) == {Activity.TENNIS}
    assert related(Activity.ANYTHING) == set(Activity)


def test_parse_activity() -> None:
    assert parse_activity(" Tennis ") is Activity.TENNIS
    with pytest.raises(InvalidInput, match="unknown activity 'golf'") as caught:
        parse_activity("golf")
    assert caught.value.field == "activity"
