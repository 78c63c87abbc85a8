"""Goals, rules and the profile: the user's picture of themselves, in the user's hands.

- :class:`Goals` is what the user *states*: a target topic mix (sliders), "less of"
  and "never" rules with expiries they can see and edit, a daily time budget and the
  ranker to use.
- :class:`Profile` is what kith *learned* from what the user consumed, one entry per
  topic, each marked ``learned`` or ``set`` (the user overrode it) and listing the items
  it came from. Edits are plain values: the next page is ranked with them.
- :func:`target_mix` blends the two into the mix the ``aligned`` ranker calibrates to.

Everything here is pure Python (no numpy, no I/O) and raises :class:`kith.errors.InvalidInput`
for input a person could fix.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from kith.errors import InvalidInput
from kith.feed.topics import TopicSpace, blend, normalize_mix

# A day has 1,440 minutes; a budget of a whole day (or zero) is not a budget.
MIN_BUDGET_MINUTES = 1
MAX_BUDGET_MINUTES = 24 * 60 - 1
# X's "see fewer" fades after 14 days; kith's "less of" defaults to the same, but the
# expiry is shown and editable, and until it passes the rule holds without exception.
DEFAULT_LESS_OF_DAYS = 14
# How much of the target comes from what the user stated versus what kith learned.
# Stated goals dominate: the learned part only fills in what the sliders leave open.
DEFAULT_STATED_WEIGHT = 0.7
# "less of" keeps at most this share of a topic's target weight.
LESS_OF_FACTOR = 0.5
# How many source items a profile entry remembers (shown as "learned from ...").
PROFILE_ITEMS_SHOWN = 10


class RuleKind(enum.StrEnum):
    NEVER = "never"  # the matching items never appear while the rule is active
    LESS = "less"  # at most one matching item per page, and half the target weight


class EntrySource(enum.StrEnum):
    LEARNED = "learned"
    SET = "set"


@dataclass(frozen=True)
class Rule:
    """A hard filter on a topic or an author, active from ``created_at`` until ``expires_at``."""

    kind: RuleKind
    created_at: datetime
    expires_at: datetime | None = None
    topic: str | None = None
    author_id: int | None = None

    def __post_init__(self) -> None:
        if (self.topic is None) == (self.author_id is None):
            raise InvalidInput("a rule names exactly one topic or one author", field="rules")
        if self.created_at.tzinfo is None or (
            self.expires_at is not None and self.expires_at.tzinfo is None
        ):
            raise InvalidInput("rule times must carry a time zone", field="rules")
        if self.expires_at is not None and self.expires_at <= self.created_at:
            raise InvalidInput("a rule must expire after it starts", field="rules")

    def is_active(self, now: datetime) -> bool:
        return self.created_at <= now and (self.expires_at is None or now < self.expires_at)

    def matches(self, *, author_id: int, topics: Iterable[str]) -> bool:
        if self.author_id is not None:
            return author_id == self.author_id
        return self.topic in set(topics)


def less_of(
    *,
    now: datetime,
    topic: str | None = None,
    author_id: int | None = None,
    days: int | None = None,
) -> Rule:
    """A "less of" rule with the default (visible, editable) 14-day expiry."""
    span = DEFAULT_LESS_OF_DAYS if days is None else days
    return Rule(RuleKind.LESS, now, now + timedelta(days=span), topic=topic, author_id=author_id)


@dataclass(frozen=True)
class Goals:
    target_mix: Mapping[str, float]
    daily_budget_minutes: int
    ranker: str = "aligned"
    rules: tuple[Rule, ...] = ()


def make_goals(
    *,
    space: TopicSpace,
    target_mix: Mapping[str, float],
    daily_budget_minutes: int,
    ranker: str,
    rankers: Sequence[str],
    rules: Sequence[Rule] = (),
) -> Goals:
    """Validate the user's goals: a mix over known topics adding up to 100%, a real budget."""
    mix = normalize_mix(target_mix, space=space, field="target_mix")
    if not MIN_BUDGET_MINUTES <= daily_budget_minutes <= MAX_BUDGET_MINUTES:
        raise InvalidInput(
            f"the daily budget must be between {MIN_BUDGET_MINUTES} and "
            f"{MAX_BUDGET_MINUTES} minutes",
            field="daily_budget_minutes",
        )
    if ranker not in rankers:
        raise InvalidInput(
            f"unknown ranker {ranker!r}; choose one of {', '.join(rankers)}", field="ranker"
        )
    for rule in rules:
        if rule.topic is not None:
            space.index(rule.topic)
    return Goals(mix, daily_budget_minutes, ranker, tuple(rules))


@dataclass(frozen=True)
class ProfileEntry:
    weight: float
    source: EntrySource
    items: tuple[int, ...] = ()


@dataclass(frozen=True)
class Profile:
    """Topic -> entry. ``set`` entries keep the user's weight; ``learned`` ones share the rest."""

    entries: Mapping[str, ProfileEntry] = field(default_factory=dict)

    def mix(self) -> dict[str, float]:
        fixed = {t: e.weight for t, e in self.entries.items() if e.source is EntrySource.SET}
        learned = {t: e.weight for t, e in self.entries.items() if e.source is EntrySource.LEARNED}
        room = max(0.0, 1.0 - sum(fixed.values()))
        total = sum(learned.values())
        out = dict(fixed)
        if total > 0:
            out.update({t: room * w / total for t, w in learned.items()})
        total_all = sum(out.values())
        return {t: w / total_all for t, w in out.items() if w > 0} if total_all > 0 else {}


def learn_profile(
    consumed: Sequence[tuple[int, Sequence[str]]], *, previous: Profile | None = None
) -> Profile:
    """Learn topic shares from consumed ``(item_id, topics)``, oldest first.

    Each item's topics share weight 1/|topics|. Entries the user ``set`` are kept as they
    are (learning never overwrites the user); the rest are recomputed.
    """
    counts: dict[str, float] = {}
    sources: dict[str, list[int]] = {}
    for item_id, topics in consumed:
        unique = sorted(set(topics))
        for topic in unique:
            counts[topic] = counts.get(topic, 0.0) + 1.0 / len(unique)
            sources.setdefault(topic, []).append(item_id)
    total = sum(counts.values())
    entries: dict[str, ProfileEntry] = {}
    if total > 0:
        for topic, count in counts.items():
            recent = tuple(reversed(sources[topic][-PROFILE_ITEMS_SHOWN:]))
            entries[topic] = ProfileEntry(count / total, EntrySource.LEARNED, recent)
    if previous is not None:
        for topic, entry in previous.entries.items():
            if entry.source is EntrySource.SET:
                entries[topic] = replace(entry, items=entries.get(topic, entry).items)
    return Profile(entries)


def edit_profile(
    profile: Profile, *, space: TopicSpace, topic: str, weight: float | None
) -> Profile:
    """The user sets a topic's weight (0..1), or with ``None`` hands it back to learning."""
    space.index(topic)
    entries = dict(profile.entries)
    if weight is None:
        current = entries.get(topic)
        if current is not None and current.source is EntrySource.SET:
            del entries[topic]
        return Profile(entries)
    if not 0.0 <= weight <= 1.0:
        raise InvalidInput("a profile weight is a share between 0 and 1", field="weight")
    others = sum(e.weight for t, e in entries.items() if e.source is EntrySource.SET and t != topic)
    if others + weight > 1.0 + 1e-9:
        raise InvalidInput("the topics you set add up to more than 100%", field="weight")
    old = entries.get(topic)
    entries[topic] = ProfileEntry(weight, EntrySource.SET, old.items if old else ())
    return Profile(entries)


def active_rules(rules: Iterable[Rule], now: datetime) -> tuple[Rule, ...]:
    return tuple(rule for rule in rules if rule.is_active(now))


def target_mix(
    goals: Goals,
    profile: Profile,
    *,
    now: datetime,
    stated_weight: float = DEFAULT_STATED_WEIGHT,
) -> dict[str, float]:
    """The mix the feed aims for: stated goals blended with the learned profile.

    Active "never" topics get zero weight and "less of" topics keep ``LESS_OF_FACTOR`` of
    theirs, so calibration never pulls toward something the user turned down.
    """
    mix = blend([(stated_weight, goals.target_mix), (1.0 - stated_weight, profile.mix())])
    for rule in active_rules(goals.rules, now):
        if rule.topic is None or rule.topic not in mix:
            continue
        mix[rule.topic] *= 0.0 if rule.kind is RuleKind.NEVER else LESS_OF_FACTOR
    total = sum(mix.values())
    return {t: w / total for t, w in mix.items() if w > 0} if total > 0 else {}


def target_sources(goals: Goals, profile: Profile) -> dict[str, str]:
    """Where each topic's target weight comes from: ``stated`` beats ``set`` beats ``learned``."""
    out: dict[str, str] = {}
    for topic, entry in profile.entries.items():
        out[topic] = entry.source.value
    for topic, share in goals.target_mix.items():
        if share > 0:
            out[topic] = "stated"
    return out
