"""Plain sentences for "why am I seeing this" (pure: no I/O).

Every served item carries its :class:`~kith.feed.rankers.base.Why` (ranker, source, goal,
score parts); :func:`reasons` says the same in words a person reads in the popover.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kith.feed.rankers.base import Why

CIRCLE_WORDS = {"close": "close friends", "friends": "friends", "acquaintances": "acquaintances"}

ACTIVITY_OFF = (
    "Your activity is not used to rank your feed (the switch is off in Privacy), "
    "so only the goals you stated count."
)
ACTIVITY_ON = "Your own activity shapes part of your target (you allowed it in Privacy)."


@dataclass(frozen=True, slots=True)
class Context:
    author: str
    circle: str | None  # the viewer's circle for the author
    target: Mapping[str, float]  # the mix this page aimed for
    uses_activity: bool
    label: str | None = None


def _goal_sentence(why: Why, target: Mapping[str, float]) -> str | None:
    if why.goal is None:
        return None
    share = target.get(why.goal, 0.0)
    if why.goal_source == "stated":
        origin = "you asked for it in your goals"
    elif why.goal_source == "set":
        origin = "you set it in your profile"
    else:
        origin = "kith learned it from what you read"
    return f"Counts toward {why.goal} ({share:.0%} of your target mix): {origin}."


def _ranker_sentence(why: Why) -> str:
    parts = why.parts
    if why.ranker == "chronological":
        return "Chronological: newest first, nothing else."
    if why.ranker == "engagement":
        heads = sorted(
            (
                (k, v)
                for k, v in parts.items()
                if k not in ("out_of_network_scale", "author_diversity")
            ),
            key=lambda kv: -abs(kv[1]),
        )
        top = ", ".join(f"{k} {v:+.2f}" for k, v in heads[:3])
        return (
            "Engagement baseline: predicted reactions weighted as X publishes them "
            f"(largest parts: {top})."
        )
    rel, cal, div = (parts.get(k, 0.0) for k in ("relevance", "calibration", "diversity"))
    return f"Aligned: relevance {rel:.2f}, calibration to your mix {cal:+.2f}, variety {div:+.2f}."


def reasons(why: Why, ctx: Context) -> list[str]:
    out: list[str] = []
    if why.source == "exploration":
        out.append(
            "Exploration: a post outside what kith predicts for you, picked in proportion "
            "to your goals, so you can find something new."
        )
    circle = CIRCLE_WORDS.get(ctx.circle or "", ctx.circle)
    out.append(f"From {ctx.author}" + (f", one of your {circle}." if circle else "."))
    goal = _goal_sentence(why, ctx.target)
    if goal:
        out.append(goal)
    out.append(_ranker_sentence(why))
    out.append(ACTIVITY_ON if ctx.uses_activity else ACTIVITY_OFF)
    if ctx.label:
        out.append(f"Labelled on review: {ctx.label}.")
    return out
