"""A simulator that runs the rankers against a documented model of people.

Nothing here is measured from real users: it is a small, explicit model, meant to make
the *mechanism* visible (how a ranker that learns "what kept you scrolling" and a ranker
that aims for what you asked for pull a population apart), not to predict magnitudes.

**World.** ``CREATORS`` accounts post every day (Poisson, ``POSTS_PER_CREATOR`` a day),
mostly on their home topic. Each user follows ``FOLLOWS`` creators, chosen in proportion
to the user's stated goals: their *in-network*. Every post has its topic's arousal plus
noise; ``surfing`` is the high-arousal topic (it stands for any content that grabs
rather than serves: the "surfing videos" of the critique).

**People.** Each user has
- stated goals ``g`` (a topic mix; the high-arousal topic gets a small share),
- latent interests ``theta``, starting near the goals, that **drift toward what is
  consumed**: ``theta <- (1 - DRIFT) * theta + DRIFT * onehot(topic)`` per consumed post,
- an impulsivity ``a`` in [0, 1] (how strongly arousal pulls),
- a daily budget (20, 30 or 45 minutes) and ``SESSIONS_PER_DAY`` visits a day.

Scrolling down a feed, the user examines the post at page position ``j`` with probability
``1 / (1 + j / POSITION_SCALE)`` (position bias) and, if examined, consumes it with
``sigmoid(BIAS + DELIBERATE * T * g[t] + INTEREST * T * theta[t] + IMPULSIVE * a * arousal)``:
deliberate (goal) and impulsive (arousal) preferences side by side. Each post scrolled
past costs ``SCROLL_MINUTES``; a consumed post ``DWELL_MINUTES``. A consumed post is
favourited (a deliberate signal) with ``FAV_BASE + FAV_GOAL * g[t] / max(g)`` and
replied to with ``REPLY_BASE + REPLY_AROUSAL * a * arousal`` (arousal provokes replies).
After each post the session goes on with probability
``CONTINUE_BASE + CONTINUE_AROUSAL * arousal`` of a consumed post (``CONTINUE_BASE``
after one scrolled past): arousing posts keep people scrolling.

**Stopping cues.** kith's rankers serve pages of 20. At the end of a page the session
ends with "you're all caught up" when the day's posts are exhausted; once today's
minutes pass the budget, a budget card asks, and the user continues only with
probability ``OVERRIDE_BASE + OVERRIDE_IMPULSIVE * a`` (for 10 more minutes). The
engagement ranker scrolls forever and backfills with unseen posts of the last days.

**Platforms.** All rankers see the same logged behaviour. A per-user, per-topic
engagement model (smoothed rates of click, favourite, reply per impression, with the
population's rates as the prior) predicts the engagement heads; ``engagement`` ranks
with X's weights; ``aligned`` uses the predicted *favourite* rate as relevance (what
people deliberately approve of, not what they click) and calibrates to ``target_mix``
(70% stated goals, 30% the profile learned from favourited posts);
``chronological`` shows the in-network posts newest first.

Reported per policy: the topic share of consumption by day (and the high-arousal topic's
share over the last week), minutes per day, days over budget, topic entropy, homogenisation
(mean pairwise Jaccard of users' consumed posts over the last week, after Chaney, Stewart &
Engelhardt, RecSys 2018), the distance between consumption and stated goals, and how far
users' interests moved.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np

from kith.feed import goals as goals_mod
from kith.feed.policy import BUDGET_EXTENSION_MINUTES, PAGE_SIZE
from kith.feed.rankers.base import ENGAGEMENT_HEADS, CandidateSet, FloatArray, IntArray, Viewer
from kith.feed.rankers.registry import RANKERS, make_ranker
from kith.feed.topics import TopicSpace

SIM_TOPICS = TopicSpace(
    ("friends", "local", "science", "arts", "sports", "cooking", "news", "surfing")
)
HIGH_AROUSAL = "surfing"
TOPIC_AROUSAL = {
    "friends": 0.10,
    "local": 0.15,
    "science": 0.15,
    "arts": 0.10,
    "sports": 0.40,
    "cooking": 0.10,
    "news": 0.45,
    "surfing": 0.95,
}
DAY_SECONDS = 86_400.0
# Simulated rules never expire, so any fixed "now" will do for target_mix.
_EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
LAST_WEEK = 7


@dataclass(frozen=True)
class UserModel:
    """Every assumption of the simulation, with its default; see the module docstring."""

    creators: int = 80
    posts_per_creator: float = 3.0
    home_topic_share: float = 0.8
    follows: int = 15
    sessions_per_day: int = 3
    high_arousal_goal: float = 0.03
    drift: float = 0.01
    position_scale: float = 10.0
    bias: float = -2.2
    deliberate: float = 0.35
    interest: float = 0.35
    impulsive: float = 3.0
    scroll_minutes: float = 0.05
    dwell_minutes: float = 0.6
    fav_base: float = 0.05
    fav_goal: float = 0.6
    relevance_head: str = "fav"
    reply_base: float = 0.01
    reply_arousal: float = 0.3
    continue_base: float = 0.97
    continue_arousal: float = 0.025
    override_base: float = 0.05
    override_impulsive: float = 0.25
    budgets: tuple[int, ...] = (20, 30, 45)
    backfill_days: int = 2
    prior_strength: float = 20.0
    stated_weight: float = goals_mod.DEFAULT_STATED_WEIGHT
    profile_memory: int = 200
    warmup_posts: int = 40


@dataclass
class _World:
    posts_topic: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    posts_author: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    posts_day: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    posts_time: FloatArray = field(default_factory=lambda: np.zeros(0))
    posts_arousal: FloatArray = field(default_factory=lambda: np.zeros(0))


def _world(model: UserModel, days: int, rng: np.random.Generator) -> tuple[_World, IntArray]:
    n_topics = len(SIM_TOPICS)
    home = rng.integers(0, n_topics, size=model.creators)
    topics, authors, post_days, times, arousal = [], [], [], [], []
    base = np.array([TOPIC_AROUSAL[t] for t in SIM_TOPICS.names])
    for day in range(days):
        counts = rng.poisson(model.posts_per_creator, size=model.creators)
        for creator in np.flatnonzero(counts):
            for _ in range(int(counts[creator])):
                own = rng.random() < model.home_topic_share
                topic = int(home[creator]) if own else int(rng.integers(0, n_topics))
                topics.append(topic)
                authors.append(int(creator))
                post_days.append(day)
                times.append(day * DAY_SECONDS + rng.random() * DAY_SECONDS)
                arousal.append(float(np.clip(base[topic] + rng.normal(0, 0.05), 0, 1)))
    world = _World(
        np.array(topics, dtype=np.int64),
        np.array(authors, dtype=np.int64),
        np.array(post_days, dtype=np.int64),
        np.array(times),
        np.array(arousal),
    )
    return world, home.astype(np.int64)


@dataclass
class _People:
    goals: FloatArray  # (users, topics)
    interests: FloatArray
    initial_interests: FloatArray
    impulsivity: FloatArray
    budgets: FloatArray
    follows: list[set[int]]


def _people(model: UserModel, users: int, home: IntArray, rng: np.random.Generator) -> _People:
    n_topics = len(SIM_TOPICS)
    high = SIM_TOPICS.index(HIGH_AROUSAL)
    goals = np.zeros((users, n_topics))
    for u in range(users):
        mix = rng.dirichlet(np.full(n_topics - 1, 0.6))
        goals[u, [i for i in range(n_topics) if i != high]] = mix * (1 - model.high_arousal_goal)
        goals[u, high] = model.high_arousal_goal
    interests = 0.7 * goals + 0.3 * rng.dirichlet(np.ones(n_topics), size=users)
    follows = []
    for u in range(users):
        weight = goals[u, home] + 0.02
        chosen = rng.choice(len(home), size=model.follows, replace=False, p=weight / weight.sum())
        follows.append({int(c) for c in chosen})
    return _People(
        goals=goals,
        interests=interests,
        initial_interests=interests.copy(),
        impulsivity=rng.beta(2, 2, size=users),
        budgets=rng.choice(np.array(model.budgets, dtype=np.float64), size=users),
        follows=follows,
    )


class TopicEngagementModel:
    """The platform's model: smoothed per-user, per-topic rates of each logged action.

    ``predict`` gives, per candidate, the probability of each head in
    :data:`ENGAGEMENT_HEADS` (click -> ``good_click``, favourite -> ``fav``, reply ->
    ``reply``; heads the simulation does not produce stay 0).
    """

    ACTIONS = ("good_click", "fav", "reply")

    def __init__(self, users: int, topics: int, *, prior_strength: float = 20.0) -> None:
        self.prior_strength = prior_strength
        self.impressions_ = np.zeros((users, topics))
        self.actions_ = np.zeros((len(self.ACTIONS), users, topics))

    def update(self, user: int, topic: int, *, clicked: bool, fav: bool, reply: bool) -> None:
        self.impressions_[user, topic] += 1
        self.actions_[:, user, topic] += (clicked, fav, reply)

    def predict(self, user: int, topics: IntArray) -> FloatArray:
        seen = self.impressions_.sum(axis=0)
        prior = (self.actions_.sum(axis=1) + 0.1) / (seen + 1.0)  # (actions, topics)
        m = self.prior_strength
        rate = (self.actions_[:, user, :] + m * prior) / (self.impressions_[user] + m)
        out = np.zeros((len(topics), len(ENGAGEMENT_HEADS)))
        for i, action in enumerate(self.ACTIONS):
            out[:, ENGAGEMENT_HEADS.index(action)] = rate[i, topics]
        return out


def _react(
    model: UserModel,
    people: _People,
    u: int,
    topic: int,
    arousal: float,
    position: int,
    rng: np.random.Generator,
) -> tuple[bool, bool, bool]:
    """Whether user ``u`` consumes, favourites and replies to a post: the user model."""
    n_topics = people.goals.shape[1]
    a = float(people.impulsivity[u])
    examined = rng.random() < 1.0 / (1.0 + position / model.position_scale)
    utility = (
        model.bias
        + model.deliberate * n_topics * people.goals[u, topic]
        + model.interest * n_topics * people.interests[u, topic]
        + model.impulsive * a * arousal
    )
    clicked = bool(examined and rng.random() < _sigmoid(utility))
    goal_share = people.goals[u, topic] / people.goals[u].max()
    fav = clicked and rng.random() < model.fav_base + model.fav_goal * goal_share
    reply = clicked and rng.random() < model.reply_base + model.reply_arousal * a * arousal
    return clicked, bool(fav), bool(reply)


def _warm_up(
    model: UserModel,
    people: _People,
    world: _World,
    engagement: TopicEngagementModel,
    pool: IntArray,
    rng: np.random.Generator,
) -> None:
    """Logs every platform starts from: each user saw a few posts in random order.

    Without them a greedy engagement model never learns about topics it happened not to
    show on day one; with them, every policy starts from the same history.
    """
    for u in range(len(people.budgets)):
        shown = rng.choice(pool, size=min(model.warmup_posts, len(pool)), replace=False)
        for j, post in enumerate(shown.tolist()):
            topic = int(world.posts_topic[post])
            clicked, fav, reply = _react(
                model, people, u, topic, float(world.posts_arousal[post]), j % PAGE_SIZE, rng
            )
            engagement.update(u, topic, clicked=clicked, fav=fav, reply=reply)


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def _mix(vector: FloatArray) -> dict[str, float]:
    return {SIM_TOPICS.names[i]: float(v) for i, v in enumerate(vector) if v > 0}


def _viewer(
    u: int, people: _People, consumed: list[int], world: _World, seed: int, model: UserModel
) -> Viewer:
    recent = consumed[-model.profile_memory :]
    profile = goals_mod.learn_profile(
        [(p, (SIM_TOPICS.names[int(world.posts_topic[p])],)) for p in recent]
    )
    goals = goals_mod.Goals(_mix(people.goals[u]), int(people.budgets[u]))
    target = goals_mod.target_mix(goals, profile, now=_EPOCH, stated_weight=model.stated_weight)
    return Viewer(
        user_id=u,
        target=SIM_TOPICS.vector(target),
        target_sources=goals_mod.target_sources(goals, profile),
        seed=seed,
    )


def _run_policy(
    policy: str,
    *,
    users: int,
    days: int,
    seed: int,
    model: UserModel,
    ranker_params: Mapping[str, Mapping[str, Any]] | None,
    progress: Callable[[str], None] | None,
) -> dict[str, Any]:
    world_rng = np.random.default_rng([seed, 1])
    world, home = _world(model, days, world_rng)
    people = _people(model, users, home, world_rng)
    rng = np.random.default_rng([seed, 2])
    ranker = make_ranker(policy, **(ranker_params or {}).get(policy, {}))
    infinite = RANKERS[policy].infinite_scroll
    n_topics = len(SIM_TOPICS)
    engagement = TopicEngagementModel(users, n_topics, prior_strength=model.prior_strength)
    weights = np.eye(n_topics)
    seen = np.zeros((users, len(world.posts_topic)), dtype=np.bool_)
    consumed: list[list[int]] = [[] for _ in range(users)]
    consumed_day: list[list[int]] = [[] for _ in range(users)]
    minutes = np.zeros((users, days))
    topic_counts = np.zeros((days, n_topics))
    favourites: list[list[int]] = [[] for _ in range(users)]
    by_day = [np.flatnonzero(world.posts_day == d) for d in range(days)]
    _warm_up(model, people, world, engagement, by_day[0], np.random.default_rng([seed, 3]))
    in_network_of = [
        np.array([a in people.follows[u] for a in range(model.creators)]) for u in range(users)
    ]
    for day in range(days):
        first = max(0, day - model.backfill_days) if infinite else day
        pool = np.concatenate(by_day[first : day + 1])
        for u in range(users):
            extension = 0.0
            a = float(people.impulsivity[u])
            for _session in range(model.sessions_per_day):
                fresh = pool[~seen[u, pool]]
                viewer = _viewer(u, people, favourites[u], world, seed, model)
                follow = in_network_of[u][world.posts_author[fresh]]
                if policy == "chronological":
                    fresh, follow = fresh[follow], follow[follow]
                if infinite:
                    # Backfill only when today's posts run out: older posts come last.
                    today = world.posts_day[fresh] == day
                    fresh = np.concatenate([fresh[today], fresh[~today]])
                    follow = in_network_of[u][world.posts_author[fresh]]
                position = 0
                going = True
                while going and len(fresh):
                    if not infinite and position > 0:
                        limit = people.budgets[u] + extension
                        if minutes[u, day] >= limit:
                            if rng.random() >= model.override_base + model.override_impulsive * a:
                                break
                            extension += BUDGET_EXTENSION_MINUTES + (minutes[u, day] - limit)
                    topics = world.posts_topic[fresh]
                    candidates = CandidateSet(
                        space=SIM_TOPICS,
                        item_ids=fresh,
                        author_ids=world.posts_author[fresh],
                        topic_weights=weights[topics],
                        created_at=world.posts_time[fresh],
                        in_network=follow,
                        relevance=None,
                        engagement=engagement.predict(u, topics),
                    )
                    predicted = candidates.engagement
                    assert predicted is not None
                    candidates = _with_relevance(candidates, predicted, model.relevance_head)
                    page = candidates.item_ids[ranker.order(viewer, candidates, k=PAGE_SIZE).rows]
                    for j, post in enumerate(page.tolist()):
                        seen[u, post] = True
                        topic = int(world.posts_topic[post])
                        arousal = float(world.posts_arousal[post])
                        minutes[u, day] += model.scroll_minutes
                        clicked, fav, reply = _react(model, people, u, topic, arousal, j, rng)
                        engagement.update(u, topic, clicked=clicked, fav=fav, reply=reply)
                        if fav:
                            favourites[u].append(post)
                        if clicked:
                            minutes[u, day] += model.dwell_minutes
                            consumed[u].append(post)
                            consumed_day[u].append(day)
                            topic_counts[day, topic] += 1
                            people.interests[u] *= 1 - model.drift
                            people.interests[u, topic] += model.drift
                        stay = model.continue_base + (
                            model.continue_arousal * arousal if clicked else 0.0
                        )
                        if rng.random() >= stay:
                            going = False
                            break
                    position += len(page)
                    keep = ~np.isin(fresh, page)
                    fresh, follow = fresh[keep], follow[keep]
                # The caught-up card: kith's session ends when today's new posts run out.
        if progress is not None:
            progress("day")
    return _summarize(
        policy, people, world, consumed, consumed_day, minutes, topic_counts, days, rng
    )


def _with_relevance(candidates: CandidateSet, predicted: FloatArray, head: str) -> CandidateSet:
    from dataclasses import replace

    return replace(candidates, relevance=predicted[:, ENGAGEMENT_HEADS.index(head)].copy())


def _entropy(counts: FloatArray) -> float:
    total = counts.sum()
    if total <= 0:
        return 0.0
    p = counts[counts > 0] / total
    return float(-(p * np.log2(p)).sum())


def _summarize(
    policy: str,
    people: _People,
    world: _World,
    consumed: Sequence[list[int]],
    consumed_day: Sequence[list[int]],
    minutes: FloatArray,
    topic_counts: FloatArray,
    days: int,
    rng: np.random.Generator,
) -> dict[str, Any]:
    users = len(consumed)
    n_topics = len(SIM_TOPICS)
    high = SIM_TOPICS.index(HIGH_AROUSAL)
    start = max(0, days - LAST_WEEK)
    last_week = topic_counts[start:].sum(axis=0)
    share = topic_counts / np.maximum(topic_counts.sum(axis=1, keepdims=True), 1)
    per_user_sets: list[set[int]] = []
    entropies, distances = [], []
    for u in range(users):
        recent = [p for p, d in zip(consumed[u], consumed_day[u], strict=True) if d >= start]
        per_user_sets.append(set(recent))
        counts = np.bincount(
            world.posts_topic[np.array(recent, dtype=np.int64)], minlength=n_topics
        )
        entropies.append(_entropy(counts.astype(np.float64)))
        if counts.sum():
            mix = counts / counts.sum()
            distances.append(0.5 * float(np.abs(mix - people.goals[u]).sum()))
        else:
            distances.append(1.0)
    pairs = [(i, j) for i in range(users) for j in range(i + 1, users)]
    if len(pairs) > 5000:
        chosen = rng.choice(len(pairs), size=5000, replace=False)
        pairs = [pairs[int(c)] for c in chosen]
    jaccards = []
    for i, j in pairs:
        union = per_user_sets[i] | per_user_sets[j]
        if union:
            jaccards.append(len(per_user_sets[i] & per_user_sets[j]) / len(union))
    over = minutes > people.budgets[:, None]
    shift = 0.5 * np.abs(people.interests - people.initial_interests).sum(axis=1)
    return {
        "policy": policy,
        "high_arousal_topic": HIGH_AROUSAL,
        "high_arousal_share": round(float(last_week[high] / max(last_week.sum(), 1)), 4),
        "minutes_per_day": round(float(minutes.mean()), 2),
        "days_over_budget": round(float(over.sum(axis=1).mean()), 2),
        "share_of_days_over_budget": round(float(over.mean()), 4),
        "homogenization": round(float(np.mean(jaccards)) if jaccards else 0.0, 4),
        "topic_entropy_bits": round(float(np.mean(entropies)), 4),
        "goal_distance": round(float(np.mean(distances)), 4),
        "preference_shift": round(float(shift.mean()), 4),
        "high_arousal_interest": {
            "start": round(float(people.initial_interests[:, high].mean()), 4),
            "end": round(float(people.interests[:, high].mean()), 4),
        },
        "posts_consumed_per_day": round(sum(len(c) for c in consumed) / users / days, 2),
        "stated_mix": {
            t: round(float(people.goals[:, i].mean()), 4) for i, t in enumerate(SIM_TOPICS.names)
        },
        "consumed_mix_last_week": {
            t: round(float(last_week[i] / max(last_week.sum(), 1)), 4)
            for i, t in enumerate(SIM_TOPICS.names)
        },
        "topic_share_by_day": {
            t: [round(float(v), 4) for v in share[:, i]] for i, t in enumerate(SIM_TOPICS.names)
        },
        "minutes_by_day": [round(float(v), 2) for v in minutes.mean(axis=0)],
    }


def simulate(
    policies: Sequence[str],
    *,
    users: int,
    days: int,
    seed: int,
    model: UserModel | None = None,
    ranker_params: Mapping[str, Mapping[str, Any]] | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, dict[str, Any]]:
    """Run each policy on the same simulated world (same seed), one result per policy."""
    model = model or UserModel()
    return {
        policy: _run_policy(
            policy,
            users=users,
            days=days,
            seed=seed,
            model=model,
            ranker_params=ranker_params,
            progress=progress,
        )
        for policy in policies
    }
