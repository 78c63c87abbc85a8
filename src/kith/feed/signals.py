"""What the live rankers are fed: relevance and predicted engagement, from plain values (pure).

kith never ranks one person's feed with another person's activity: the consent switch
"use my activity to rank my own feed" promises that nobody else's feed uses it. So the
predictions here come from two sources only:

* the post itself: how recent it is, which circle the viewer keeps its author in, whether
  it carries a link or a question, and how *arousing* its wording is (a small lexicon of
  outrage and hype words, exclamation marks and shouting);
* the viewer's own history (:class:`OwnHistory`), and only when the viewer turned that
  switch on: per-topic rates of opening, liking, replying and "less"/"never" feedback,
  smoothed toward a fixed prior so a handful of events cannot swing a topic.

``relevance`` (for ``aligned``) is recency, closeness and, with consent, the viewer's own
positive rate on the post's topics. It is "ALS or similar" for a small network: a
content-based score, because collaborative filtering would need other people's activity.
``engagement`` (for the ``engagement`` baseline) fills X's heads the way an engagement
model behaves: replies follow arousal, clicks follow links, and, with consent, the
viewer's own habits. That is the mechanism the simulator shows, on live posts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

# Recency halves every this many hours.
RECENCY_HALF_LIFE_HOURS = 24.0
# How close the viewer keeps the author, by the viewer's circle for them.
CLOSENESS = {"close": 1.0, "friends": 0.6, "acquaintances": 0.3}
CUSTOM_CIRCLE_CLOSENESS = 0.6
# Weights of relevance's parts; they sum to 1, so relevance is in [0, 1].
RELEVANCE_WEIGHTS = {"recency": 0.45, "closeness": 0.25, "affinity": 0.30}
# Per-topic rates are smoothed with this many pseudo-impressions at the prior.
SMOOTHING_IMPRESSIONS = 5.0
PRIOR_RATES = {"open": 0.2, "like": 0.1, "reply": 0.02, "negative": 0.01}
POSITIVE_KINDS = frozenset({"open", "like", "reply", "more"})
NEGATIVE_KINDS = frozenset({"less", "never"})

AROUSAL_WORDS = frozenset(
    (
        "outrage",
        "outrageous",
        "shocking",
        "shocked",
        "unbelievable",
        "insane",
        "furious",
        "disgusting",
        "disgrace",
        "scandal",
        "destroyed",
        "slammed",
        "epic",
        "worst",
        "horrifying",
        "terrifying",
        "crazy",
        "explosive",
        "brutal",
        "savage",
        "meltdown",
        "chaos",
        "disaster",
        "rage",
        "fury",
        "insult",
        "betrayal",
        "exposed",
    )
)
_WORD = re.compile(r"[A-Za-z']+")


def arousal(text: str) -> float:
    """How much the wording grabs rather than informs, in [0, 1]."""
    words = _WORD.findall(text)
    if not words:
        return 0.0
    hype = sum(1 for w in words if w.lower() in AROUSAL_WORDS)
    shouting = sum(1 for w in words if len(w) >= 3 and w.isupper())
    bangs = text.count("!")
    raw = 0.35 * hype + 0.2 * shouting + 0.15 * min(bangs, 4)
    return min(1.0, raw)


def recency(created_at: datetime, now: datetime) -> float:
    hours = max(0.0, (now - created_at).total_seconds() / 3600)
    return float(0.5 ** (hours / RECENCY_HALF_LIFE_HOURS))


def closeness(circle_name: str | None, *, builtin: bool) -> float:
    if circle_name is None:
        return 0.0
    if builtin:
        return CLOSENESS.get(circle_name, CUSTOM_CIRCLE_CLOSENESS)
    return CUSTOM_CIRCLE_CLOSENESS


@dataclass(frozen=True)
class OwnEvent:
    post_id: int
    kind: str
    topics: tuple[str, ...]


@dataclass(frozen=True)
class OwnHistory:
    """The viewer's own per-topic rates; empty (all priors) when consent is off."""

    seen: Mapping[str, float] = field(default_factory=dict)
    counts: Mapping[str, Mapping[str, float]] = field(default_factory=dict)

    @classmethod
    def from_events(cls, events: Iterable[OwnEvent]) -> OwnHistory:
        """Count impressions and actions per topic; a post's topics share its weight."""
        seen: dict[str, float] = {}
        counts: dict[str, dict[str, float]] = {}
        for event in events:
            if not event.topics:
                continue
            share = 1.0 / len(event.topics)
            for topic in event.topics:
                if event.kind == "seen":
                    seen[topic] = seen.get(topic, 0.0) + share
                    continue
                kind = "negative" if event.kind in NEGATIVE_KINDS else event.kind
                if kind == "more":
                    kind = "like"  # "more like this" is a like the user said out loud
                per = counts.setdefault(topic, {})
                per[kind] = per.get(kind, 0.0) + share
        return cls(seen, counts)

    def rate(self, topic: str, kind: str) -> float:
        prior = PRIOR_RATES[kind]
        seen = self.seen.get(topic, 0.0)
        done = self.counts.get(topic, {}).get(kind, 0.0)
        return min(1.0, (done + SMOOTHING_IMPRESSIONS * prior) / (seen + SMOOTHING_IMPRESSIONS))

    def mean_rate(self, topics: Sequence[str], kind: str) -> float:
        if not topics:
            return PRIOR_RATES[kind]
        return sum(self.rate(t, kind) for t in topics) / len(topics)

    def affinity(self, topics: Sequence[str]) -> float:
        """How much more than the prior the viewer opens and likes these topics, in [0, 1]."""
        if not self.seen or not topics:
            return 0.0
        lift = self.mean_rate(topics, "open") + self.mean_rate(topics, "like")
        base = PRIOR_RATES["open"] + PRIOR_RATES["like"]
        return max(0.0, min(1.0, (lift - base) / (1.0 - base) * 2.0))


@dataclass(frozen=True)
class PostFeatures:
    topics: tuple[str, ...]
    created_at: datetime
    text: str
    has_link: bool
    closeness: float


def relevance_parts(post: PostFeatures, history: OwnHistory, now: datetime) -> dict[str, float]:
    return {
        "recency": recency(post.created_at, now),
        "closeness": post.closeness,
        "affinity": history.affinity(post.topics),
    }


def relevance(parts: Mapping[str, float]) -> float:
    return sum(RELEVANCE_WEIGHTS[name] * parts[name] for name in RELEVANCE_WEIGHTS)


def engagement(post: PostFeatures, history: OwnHistory) -> dict[str, float]:
    """Predicted probabilities for X's heads (the rest stay 0)."""
    heat = arousal(post.text)
    question = 1.0 if "?" in post.text else 0.0
    fresh = 1.0 if post.closeness >= CLOSENESS["close"] else 0.5
    return {
        "fav": min(1.0, history.mean_rate(post.topics, "like") * (1.0 + heat)),
        "reply": min(1.0, history.mean_rate(post.topics, "reply") + 0.3 * heat + 0.05 * question),
        "good_click": min(
            1.0, history.mean_rate(post.topics, "open") * (1.5 if post.has_link else 1.0)
        ),
        "good_profile_click": 0.02 * fresh,
        "negative_feedback_v2": history.mean_rate(post.topics, "negative"),
    }
