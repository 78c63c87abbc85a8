"""Table-driven tests of the pure policy: hard filters, pages, stopping cues, cursors."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest

from kith.errors import InvalidInput
from kith.feed.goals import Rule, RuleKind, less_of
from kith.feed.policy import (
    LESS_OF_PER_PAGE,
    PAGE_SIZE,
    CardKind,
    apply_rules,
    decode_cursor,
    encode_cursor,
    next_page,
)
from tests.feed.conftest import NOW

TOPICS = ("friends", "science", "sports", "surfing")


@dataclass(frozen=True)
class Item:
    item_id: int
    author_id: int
    topics: tuple[str, ...]


# 200 items: topics cycle, authors cycle over 9, so every rule has many matches.
FEED = [
    Item(i, i % 9, (TOPICS[i % 4],) if i % 5 else (TOPICS[i % 4], "sports")) for i in range(200)
]
DAY = timedelta(days=1)


def never(*, topic: str | None = None, author: int | None = None, **span: timedelta) -> Rule:
    start = NOW - span.get("ago", DAY)
    until = span.get("until")
    return Rule(RuleKind.NEVER, start, None if until is None else NOW + until, topic, author)


@pytest.mark.parametrize(
    ("rule", "matches"),
    [
        (never(topic="surfing"), lambda i: "surfing" in i.topics),
        (never(topic="sports"), lambda i: "sports" in i.topics),
        (never(author=4), lambda i: i.author_id == 4),
        (never(topic="surfing", until=DAY), lambda i: "surfing" in i.topics),
    ],
    ids=["never-topic", "never-multi-topic", "never-author", "never-with-expiry"],
)
def test_never_suppresses_every_match(rule: Rule, matches) -> None:  # type: ignore[no-untyped-def]
    result = apply_rules(FEED, [rule], now=NOW)
    assert not [i for i in result.kept if matches(i)]
    assert len(result.hidden) == sum(1 for i in FEED if matches(i)) > 0
    assert all(h.reason.startswith("never") for h in result.hidden)
    # Everything else keeps its ranked order.
    assert result.kept == [i for i in FEED if not matches(i)]


@pytest.mark.parametrize(
    ("rule", "active"),
    [
        (never(topic="surfing", ago=DAY, until=DAY), True),
        (never(topic="surfing", ago=2 * DAY, until=-DAY), False),  # expired yesterday
        (Rule(RuleKind.NEVER, NOW + DAY, None, "surfing"), False),  # starts tomorrow
        (less_of(now=NOW - 13 * DAY, topic="surfing"), True),  # day 13 of 14
        (less_of(now=NOW - 14 * DAY, topic="surfing"), False),  # faded after 14 days
    ],
)
def test_rules_hold_exactly_while_active(rule: Rule, active: bool) -> None:
    kept = apply_rules(FEED, [rule], now=NOW).kept
    surfing = [i for i in kept if "surfing" in i.topics]
    if not active:
        assert kept == FEED
    elif rule.kind is RuleKind.NEVER:
        assert surfing == []
    else:
        assert 0 < len(surfing) < 50


@pytest.mark.parametrize(
    "rules",
    [
        [less_of(now=NOW, topic="surfing")],
        [less_of(now=NOW, author_id=3)],
        [less_of(now=NOW, topic="surfing"), less_of(now=NOW, topic="science")],
        [less_of(now=NOW, topic="sports"), never(topic="surfing")],
    ],
)
def test_less_of_allows_at_most_one_match_per_page(rules: list[Rule]) -> None:
    kept = apply_rules(FEED, rules, now=NOW).kept
    less = [r for r in rules if r.kind is RuleKind.LESS]
    for start in range(0, len(kept), PAGE_SIZE):
        page = kept[start : start + PAGE_SIZE]
        hits = [
            i for i in page if any(r.matches(author_id=i.author_id, topics=i.topics) for r in less)
        ]
        assert len(hits) <= LESS_OF_PER_PAGE


def test_posts_turned_down_one_by_one_never_come_back() -> None:
    result = apply_rules(FEED, [], now=NOW, hidden_items={3, 50, 199})
    assert {h.item.item_id for h in result.hidden} == {3, 50, 199}
    assert all(i.item_id not in {3, 50, 199} for i in result.kept)


@pytest.mark.parametrize(
    ("total", "offset", "minutes", "budget", "go_on", "infinite", "n_items", "next_offset", "card"),
    [
        (50, 0, 0, 30, False, False, 20, 20, None),
        (50, 20, 5, 30, False, False, 20, 40, None),
        (50, 40, 5, 30, False, False, 10, None, CardKind.CAUGHT_UP),
        (40, 20, 5, 30, False, False, 20, None, CardKind.CAUGHT_UP),
        (50, 20, 30, 30, False, False, 0, 20, CardKind.BUDGET),  # budget reached: must choose
        (50, 20, 45, 30, True, False, 20, 40, None),  # chose to continue
        (50, 40, 90, 30, False, True, 10, 50, None),  # infinite scroll: no cards, ever
        (50, 50, 90, 30, False, True, 0, 50, None),
        (0, 0, 0, 30, False, False, 0, None, CardKind.CAUGHT_UP),
    ],
)
def test_pages_and_stopping_cues(
    total: int,
    offset: int,
    minutes: float,
    budget: int,
    go_on: bool,
    infinite: bool,
    n_items: int,
    next_offset: int | None,
    card: CardKind | None,
) -> None:
    page = next_page(
        FEED[:total],
        offset=offset,
        infinite_scroll=infinite,
        minutes_today=minutes,
        budget_minutes=budget,
        continue_past_budget=go_on,
    )
    assert len(page.items) == n_items
    assert page.items == FEED[offset : offset + n_items]
    assert page.next_offset == next_offset
    assert (page.card.kind if page.card else None) == card
    if card is CardKind.BUDGET:
        assert page.card is not None
        assert len(page.card.choices) == 2  # stop, or deliberately continue


@pytest.mark.parametrize(("offset", "budget"), [(-1, 30), (201, 30), (0, 0)])
def test_bad_paging_input_is_refused(offset: int, budget: int) -> None:
    with pytest.raises(InvalidInput):
        next_page(
            FEED, offset=offset, infinite_scroll=False, minutes_today=0, budget_minutes=budget
        )


def test_cursor_round_trips_and_refuses_tampering() -> None:
    key = b"k" * 32
    token = encode_cursor({"offset": 40, "ranker": "aligned"}, key=key)
    assert decode_cursor(token, key=key) == {"offset": 40, "ranker": "aligned"}
    forged = encode_cursor({"offset": 400, "ranker": "aligned"}, key=b"x" * 32)
    flipped = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    for bad in (forged, flipped, "", "not a cursor!", token[:10]):
        with pytest.raises(InvalidInput, match="cursor"):
            decode_cursor(bad, key=key)
