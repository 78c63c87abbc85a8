"""Goals, rules and the editable profile: table-driven validation and known answers."""

from __future__ import annotations

from datetime import timedelta

import pytest

from kith.errors import InvalidInput
from kith.feed.goals import (
    EntrySource,
    Profile,
    Rule,
    RuleKind,
    edit_profile,
    learn_profile,
    less_of,
    make_goals,
    target_mix,
    target_sources,
)
from kith.feed.rankers import ranker_names
from tests.feed.conftest import NOW, SPACE

RANKERS = ranker_names(user_facing_only=True)


def goals(**overrides: object):  # type: ignore[no-untyped-def]
    args: dict[str, object] = {
        "space": SPACE,
        "target_mix": {"friends": 0.5, "science": 0.5},
        "daily_budget_minutes": 30,
        "ranker": "aligned",
        "rankers": RANKERS,
    }
    args.update(overrides)
    return make_goals(**args)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"target_mix": {"friends": 0.4, "science": 0.4, "sports": 0.4}}, "target_mix"),
        ({"target_mix": {"friends": 0.3}}, "target_mix"),
        ({"target_mix": {}}, "target_mix"),
        ({"target_mix": {"friends": 1.5, "science": -0.5}}, "target_mix"),
        ({"target_mix": {"astrology": 1.0}}, "topics"),
        ({"target_mix": {"friends": float("nan")}}, "target_mix"),
        ({"daily_budget_minutes": 0}, "daily_budget_minutes"),
        ({"daily_budget_minutes": 24 * 60}, "daily_budget_minutes"),
        ({"ranker": "virality"}, "ranker"),
        ({"ranker": "als"}, "ranker"),  # the offline baseline is not offered to users
        ({"rules": [less_of(now=NOW, topic="astrology")]}, "topics"),
    ],
)
def test_bad_goals_are_refused(overrides: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        goals(**overrides)
    assert caught.value.field == field


def test_slider_rounding_is_rescaled() -> None:
    g = goals(target_mix={"friends": 0.333, "science": 0.333, "sports": 0.333})
    assert sum(g.target_mix.values()) == pytest.approx(1.0)
    assert g.target_mix["friends"] == pytest.approx(1 / 3)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"topic": "surfing", "author_id": 3}, "exactly one"),
        ({}, "exactly one"),
        ({"topic": "surfing", "expires_at": NOW - timedelta(days=1)}, "expire after"),
    ],
)
def test_bad_rules_are_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        Rule(RuleKind.NEVER, NOW, **kwargs)  # type: ignore[arg-type]


def test_profile_is_learned_with_its_sources_and_user_edits_win() -> None:
    consumed = [(1, ("science",)), (2, ("science", "sports")), (3, ("friends",)), (4, ("science",))]
    profile = learn_profile(consumed)
    assert profile.mix() == pytest.approx({"science": 0.625, "sports": 0.125, "friends": 0.25})
    assert profile.entries["science"].items == (4, 2, 1)
    assert profile.entries["science"].source is EntrySource.LEARNED

    edited = edit_profile(profile, space=SPACE, topic="sports", weight=0.5)
    assert edited.entries["sports"].source is EntrySource.SET
    assert edited.mix()["sports"] == pytest.approx(0.5)
    # Learning again keeps what the user set.
    relearned = learn_profile([*consumed, (5, ("science",))], previous=edited)
    assert relearned.entries["sports"].weight == 0.5
    assert relearned.entries["sports"].source is EntrySource.SET
    # Handing the topic back to learning.
    back = edit_profile(relearned, space=SPACE, topic="sports", weight=None)
    assert "sports" not in back.entries or back.entries["sports"].source is EntrySource.LEARNED


@pytest.mark.parametrize(
    ("topic", "weight"), [("astrology", 0.1), ("sports", 1.2), ("sports", -0.1)]
)
def test_bad_profile_edits_are_refused(topic: str, weight: float) -> None:
    with pytest.raises(InvalidInput):
        edit_profile(Profile(), space=SPACE, topic=topic, weight=weight)


def test_set_entries_cannot_add_up_past_everything() -> None:
    profile = edit_profile(Profile(), space=SPACE, topic="sports", weight=0.7)
    with pytest.raises(InvalidInput, match="more than 100%"):
        edit_profile(profile, space=SPACE, topic="science", weight=0.5)


def test_target_blends_stated_and_learned_and_obeys_rules() -> None:
    g = goals()
    profile = learn_profile([(1, ("surfing",)), (2, ("surfing",))])
    mix = target_mix(g, profile, now=NOW)
    assert mix == pytest.approx({"friends": 0.35, "science": 0.35, "surfing": 0.3})
    assert target_sources(g, profile) == {
        "friends": "stated",
        "science": "stated",
        "surfing": "learned",
    }
    never = goals(rules=[Rule(RuleKind.NEVER, NOW, None, topic="surfing")])
    assert "surfing" not in target_mix(never, profile, now=NOW)
    less = goals(rules=[less_of(now=NOW, topic="surfing")])
    assert target_mix(less, profile, now=NOW)["surfing"] < mix["surfing"]
    # After the 14 days the "less of" rule fades and the learned weight returns.
    later = target_mix(less, profile, now=NOW + timedelta(days=15))
    assert later == pytest.approx(mix)
