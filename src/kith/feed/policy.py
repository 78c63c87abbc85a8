"""Stopping cues and hard filters: pure policy, applied after any ranker.

The order is fixed: **filter, then page**. A ranker can score a post however it likes;
if an active "never" rule matches, the post is not on any page (100% suppression,
not the 11% Mozilla measured for YouTube's "not interested"); an active "less of"
rule lets at most :data:`LESS_OF_PER_PAGE` matching post onto each page.

kith's own rankers page in :data:`PAGE_SIZE` items and end with a card: "you're all
caught up" when the new posts are exhausted, or the budget card once today's minutes
reach the user's budget, which needs a deliberate choice to continue. Rankers that
declare ``infinite_scroll`` (the engagement baseline) get neither card, as on the
platforms they imitate.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import hmac
import json
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, Protocol, TypeVar

from kith.errors import InvalidInput
from kith.feed.goals import Rule, RuleKind, active_rules

# About a screenful and a half on a phone; small enough that a page boundary comes
# often, which is where the stopping cues live.
PAGE_SIZE = 20
# "less of": at most this many matching items on one page (must be < PAGE_SIZE).
LESS_OF_PER_PAGE = 1
# Continuing past the budget buys this many minutes before the card comes back.
BUDGET_EXTENSION_MINUTES = 10


class FeedEntry(Protocol):
    @property
    def item_id(self) -> int: ...

    @property
    def author_id(self) -> int: ...

    @property
    def topics(self) -> tuple[str, ...]: ...


T = TypeVar("T", bound=FeedEntry)


@dataclass(frozen=True)
class Hidden(Generic[T]):
    item: T
    reason: str  # "never: topic sports", "less of: author 7", "you said never to this post"


@dataclass(frozen=True)
class Filtered(Generic[T]):
    kept: list[T]
    hidden: list[Hidden[T]]


def _describe(rule: Rule) -> str:
    target = f"topic {rule.topic}" if rule.topic is not None else f"author {rule.author_id}"
    return f"{'never' if rule.kind is RuleKind.NEVER else 'less of'}: {target}"


def apply_rules(
    ranked: Sequence[T],
    rules: Iterable[Rule],
    *,
    now: datetime,
    page_size: int = PAGE_SIZE,
    hidden_items: Collection[int] = (),
) -> Filtered[T]:
    """Remove what the user turned down, keeping the ranked order of the rest.

    ``hidden_items`` are posts the user said "less" or "never" to one by one: those never
    come back. "less of" is counted per page of the *filtered* list, so the guarantee
    ("at most one per page") holds on the pages the user actually sees.
    """
    active = active_rules(rules, now)
    never = [r for r in active if r.kind is RuleKind.NEVER]
    less = [r for r in active if r.kind is RuleKind.LESS]
    kept: list[T] = []
    hidden: list[Hidden[T]] = []
    per_page: dict[int, int] = {}
    for item in ranked:
        if item.item_id in hidden_items:
            hidden.append(Hidden(item, "you turned this post down"))
            continue
        blocker = next(
            (r for r in never if r.matches(author_id=item.author_id, topics=item.topics)), None
        )
        if blocker is not None:
            hidden.append(Hidden(item, _describe(blocker)))
            continue
        matching = [
            i for i, r in enumerate(less) if r.matches(author_id=item.author_id, topics=item.topics)
        ]
        page_start = len(kept) // page_size
        if matching:
            if page_start in per_page and per_page[page_start] >= LESS_OF_PER_PAGE:
                hidden.append(Hidden(item, _describe(less[matching[0]])))
                continue
            per_page[page_start] = per_page.get(page_start, 0) + 1
        kept.append(item)
    return Filtered(kept, hidden)


class CardKind(enum.StrEnum):
    CAUGHT_UP = "caught_up"
    BUDGET = "budget"


@dataclass(frozen=True)
class Card:
    kind: CardKind
    message: str
    choices: tuple[str, ...] = ()


CAUGHT_UP_CARD = Card(CardKind.CAUGHT_UP, "You're all caught up.")
BUDGET_CHOICES = ("stop for today", f"continue for {BUDGET_EXTENSION_MINUTES} more minutes")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_offset: int | None  # None: nothing more to page through
    card: Card | None = None
    hidden: list[Hidden[T]] = field(default_factory=list)


def budget_card(minutes_today: float, budget_minutes: int) -> Card:
    return Card(
        CardKind.BUDGET,
        f"You've spent {minutes_today:.0f} of your {budget_minutes} minutes today.",
        BUDGET_CHOICES,
    )


def next_page(
    ranked: Sequence[T],
    *,
    offset: int,
    infinite_scroll: bool,
    minutes_today: float,
    budget_minutes: int,
    continue_past_budget: bool = False,
    page_size: int = PAGE_SIZE,
) -> Page[T]:
    """The page starting at ``offset`` of an already filtered ranking, with its card.

    Over budget, a kith feed serves an empty page with the budget card until the user
    chooses to continue (``continue_past_budget``); the caller records that choice and
    grants :data:`BUDGET_EXTENSION_MINUTES` more before asking again.
    """
    if offset < 0 or offset > len(ranked):
        raise InvalidInput("the cursor points outside this feed", field="cursor")
    if budget_minutes <= 0:
        raise InvalidInput("the daily budget must be positive", field="daily_budget_minutes")
    if infinite_scroll:
        items = list(ranked[offset : offset + page_size])
        # Infinite scroll never ends: the platform backfills from older and unfollowed posts.
        return Page(items, offset + len(items))
    if minutes_today >= budget_minutes and not continue_past_budget:
        return Page([], offset, budget_card(minutes_today, budget_minutes))
    items = list(ranked[offset : offset + page_size])
    end = offset + len(items)
    if end >= len(ranked):
        return Page(items, None, CAUGHT_UP_CARD)
    return Page(items, end)


def encode_cursor(state: dict[str, int | str], *, key: bytes) -> str:
    """An opaque, signed cursor: the client cannot move it or point it at another feed."""
    body = json.dumps(state, sort_keys=True, separators=(",", ":")).encode()
    tag = hmac.new(key, body, hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(tag + body).decode().rstrip("=")


def decode_cursor(token: str, *, key: bytes) -> dict[str, int | str]:
    """The state inside a cursor from :func:`encode_cursor`; tampering is refused."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (ValueError, TypeError):
        raise InvalidInput("the cursor is not valid", field="cursor") from None
    tag, body = raw[:16], raw[16:]
    expected = hmac.new(key, body, hashlib.sha256).digest()[:16]
    if len(tag) != 16 or not hmac.compare_digest(tag, expected):
        raise InvalidInput("the cursor is not valid", field="cursor")
    state = json.loads(body)
    if not isinstance(state, dict):
        raise InvalidInput("the cursor is not valid", field="cursor")
    return state
