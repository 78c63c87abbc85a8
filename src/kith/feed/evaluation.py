"""Offline evaluation of the rankers on ratings data (the MovieLens protocol of issue 7).

Protocol, per seed: each user's ratings are shuffled and 20% held out; ratings >= 4 are
positives. ALS is fitted on the training positives; each ranker then ranks every item the
user did not rate in training, and its top 10 is scored against the held-out positives.

Metrics, per user and then averaged (users without a held-out positive are skipped):

- ``ndcg@10``: binary relevance, ideal DCG over min(10, held-out positives).
- ``recall@10``: hits / held-out positives.
- ``ild``: mean over pairs in the top 10 of 1 - cosine(multi-hot genre vectors);
  an item without genres counts as dissimilar to everything.
- ``miscalibration``: Steck (RecSys 2018) KL(p || q~), q~ = 0.99 q + 0.01 p, p the genre
  mix of the user's training positives, q that of the top 10, each item's genres sharing
  weight 1/|genres|.

Across users: ``coverage`` (share of the catalogue in anyone's top 10) and ``gini`` (of how
often each catalogue item is recommended). Each metric is the mean over seeds; its
standard deviation over seeds is reported under ``spread``.

How each ranker gets its inputs here (MovieLens has no authors, follows or engagement logs):

- ``als`` and ``aligned``: relevance = ALS score on training positives. ``aligned``'s target
  is the user's training genre mix (their "stated goal", as the issue specifies).
- ``engagement``: X's weights over two heads we can predict: ``fav`` = ALS on positives
  and ``good_click`` = ALS on *any* rating (engagement counts hate-watches too), both
  clipped to [0, 1]. Every item is its own author and in-network, so X's author-diversity
  and out-of-network factors are no-ops on this data.
- ``chronological``: newest release year first.

Everything here is pure: data in, numbers out; progress goes to an optional callback.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from kith.feed.data import RatingsData
from kith.feed.rankers.base import (
    ENGAGEMENT_HEADS,
    BoolArray,
    CandidateSet,
    FloatArray,
    IntArray,
    Viewer,
)
from kith.feed.rankers.registry import make_ranker
from kith.feed.relevance import ImplicitALS

POSITIVE = 4.0
HOLDOUT = 0.2
K = 10
SMOOTHING = 0.01
EVAL_RANKERS: tuple[str, ...] = ("als", "aligned", "engagement", "chronological")
METRICS: tuple[str, ...] = ("ndcg@10", "recall@10", "ild", "miscalibration", "coverage", "gini")

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Split:
    train: BoolArray  # per rating
    seed: int


def holdout_split(data: RatingsData, *, seed: int, holdout: float = HOLDOUT) -> Split:
    """Hold out ``holdout`` of each user's ratings (at least one), chosen at random."""
    rng = np.random.default_rng(seed)
    train = np.ones(len(data.ratings), dtype=np.bool_)
    order = np.argsort(data.users, kind="stable")
    bounds = np.searchsorted(data.users[order], np.arange(data.n_users + 1))
    for u in range(data.n_users):
        rows = order[bounds[u] : bounds[u + 1]]
        n_test = max(1, round(holdout * len(rows))) if len(rows) > 1 else 0
        train[rng.permutation(rows)[:n_test]] = False
    return Split(train, seed)


def interaction_matrix(
    data: RatingsData, mask: BoolArray, *, positives_only: bool
) -> Any:  # scipy.sparse.csr_matrix
    from scipy.sparse import csr_matrix  # type: ignore[import-untyped,unused-ignore]

    keep = mask & (data.ratings >= POSITIVE) if positives_only else mask
    values = np.ones(int(keep.sum()), dtype=np.float32)
    return csr_matrix(
        (values, (data.users[keep], data.items[keep])), shape=(data.n_users, data.n_items)
    )


# --- metrics (pure, one list at a time) --------------------------------------------------


def ndcg_at_k(hits: BoolArray, n_relevant: int, k: int = K) -> float:
    if n_relevant == 0:
        return 0.0
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    dcg = float((hits[:k] * discounts[: len(hits[:k])]).sum())
    ideal = float(discounts[: min(k, n_relevant)].sum())
    return dcg / ideal


def topic_mix(weights: FloatArray) -> FloatArray:
    """The topic distribution of a list: rows summed, then normalised (zeros if no topics)."""
    total: FloatArray = weights.sum(axis=0)
    mass = float(total.sum())
    return total / mass if mass > 0 else total


def miscalibration(p: FloatArray, q: FloatArray, *, alpha: float = SMOOTHING) -> float:
    """Steck's KL(p || q~) with q~ = (1 - alpha) q + alpha p."""
    on = p > 0
    q_tilde = (1 - alpha) * q[on] + alpha * p[on]
    return float((p[on] * np.log(p[on] / q_tilde)).sum())


def intra_list_diversity(weights: FloatArray) -> float:
    """Mean over pairs of 1 - cosine of the items' (multi-hot) topic vectors."""
    n = len(weights)
    if n < 2:
        return 0.0
    norms = np.linalg.norm(weights, axis=1)
    unit = np.divide(weights, norms[:, None], out=np.zeros_like(weights), where=norms[:, None] > 0)
    sims = unit @ unit.T
    pairs = n * (n - 1) / 2
    return float(1.0 - (sims.sum() - np.trace(sims)) / 2 / pairs)


def gini(counts: FloatArray) -> float:
    """Gini coefficient of non-negative counts (0: all equal, ~1: all on one item)."""
    if counts.sum() == 0:
        return 0.0
    x = np.sort(counts)
    n = len(x)
    cum = np.cumsum(x)
    return float((n + 1 - 2 * (cum / cum[-1]).sum()) / n)


# --- serving one ranker to every user ----------------------------------------------------


@dataclass(frozen=True)
class Scores:
    """Every user's predicted relevance and engagement for every item (users x items)."""

    relevance: npt.NDArray[np.float32]
    engagement: npt.NDArray[np.float32]


def fit_scores(data: RatingsData, train: BoolArray, *, seed: int, **als: Any) -> Scores:
    relevance = ImplicitALS(random_state=seed, **als).fit(
        interaction_matrix(data, train, positives_only=True)
    )
    engagement = ImplicitALS(random_state=seed, **als).fit(
        interaction_matrix(data, train, positives_only=False)
    )
    return Scores(relevance.score_all(), engagement.score_all())


def user_target(data: RatingsData, positives: IntArray) -> FloatArray:
    return topic_mix(data.item_topics[positives])


def candidates_for(data: RatingsData, scores: Scores, user: int, exclude: IntArray) -> CandidateSet:
    keep = np.ones(data.n_items, dtype=np.bool_)
    keep[exclude] = False
    rows = np.flatnonzero(keep).astype(np.int64)
    engagement = np.zeros((len(rows), len(ENGAGEMENT_HEADS)))
    relevance = scores.relevance[user, rows].astype(np.float64)
    engagement[:, ENGAGEMENT_HEADS.index("fav")] = np.clip(relevance, 0.0, 1.0)
    engagement[:, ENGAGEMENT_HEADS.index("good_click")] = np.clip(
        scores.engagement[user, rows], 0.0, 1.0
    )
    return CandidateSet(
        space=data.space,
        item_ids=rows,  # item *indices*, so rankings index straight into the data
        author_ids=rows,
        topic_weights=data.item_topics[rows],
        created_at=data.item_time[rows],
        in_network=np.ones(len(rows), dtype=np.bool_),
        relevance=relevance,
        engagement=engagement,
    )


def _user_rows(data: RatingsData, mask: BoolArray) -> list[IntArray]:
    order = np.argsort(data.users[mask], kind="stable")
    users = data.users[mask][order]
    items = data.items[mask][order]
    bounds = np.searchsorted(users, np.arange(data.n_users + 1))
    return [items[bounds[u] : bounds[u + 1]] for u in range(data.n_users)]


def evaluate_seed(
    data: RatingsData,
    *,
    seed: int,
    rankers: Sequence[str] = EVAL_RANKERS,
    params: Mapping[str, Mapping[str, Any]] | None = None,
    als: Mapping[str, Any] | None = None,
    users: int | None = None,
    progress: Progress | None = None,
) -> dict[str, dict[str, float]]:
    """One seed of the protocol: every metric for every ranker."""
    split = holdout_split(data, seed=seed)
    scores = fit_scores(data, split.train, seed=seed, **(als or {}))
    positive = data.ratings >= POSITIVE
    train_rated = _user_rows(data, split.train)
    train_pos = _user_rows(data, split.train & positive)
    test_pos = _user_rows(data, ~split.train & positive)
    made = {name: make_ranker(name, **(params or {}).get(name, {})) for name in rankers}
    sums = {
        name: dict.fromkeys(("ndcg@10", "recall@10", "ild", "miscalibration"), 0.0)
        for name in rankers
    }
    counts = {name: np.zeros(data.n_items) for name in rankers}
    evaluated = 0
    for u in range(data.n_users if users is None else min(users, data.n_users)):
        if len(test_pos[u]) == 0 or len(train_pos[u]) == 0:
            continue
        evaluated += 1
        candidates = candidates_for(data, scores, u, train_rated[u])
        target = user_target(data, train_pos[u])
        viewer = Viewer(user_id=u, target=target, seed=seed)
        relevant = set(test_pos[u].tolist())
        for name, ranker in made.items():
            ranking = ranker.order(viewer, candidates, k=K)
            top = candidates.item_ids[ranking.rows]
            hits = np.array([i in relevant for i in top.tolist()], dtype=np.bool_)
            weights = data.item_topics[top]
            s = sums[name]
            s["ndcg@10"] += ndcg_at_k(hits, len(relevant))
            s["recall@10"] += float(hits.sum()) / len(relevant)
            s["ild"] += intra_list_diversity(weights)
            s["miscalibration"] += miscalibration(target, topic_mix(weights))
            counts[name][top] += 1
        if progress is not None:
            progress("user")
    out: dict[str, dict[str, float]] = {}
    for name in rankers:
        metrics = {m: v / max(evaluated, 1) for m, v in sums[name].items()}
        metrics["coverage"] = float((counts[name] > 0).mean())
        metrics["gini"] = gini(counts[name])
        out[name] = metrics
    return out


def summarize(per_seed: Sequence[Mapping[str, Mapping[str, float]]]) -> dict[str, Any]:
    """Means over seeds under ``rankers``, standard deviations under ``spread``."""
    names = list(per_seed[0])
    rankers: dict[str, dict[str, float]] = {}
    spread: dict[str, dict[str, float]] = {}
    for name in names:
        rankers[name] = {}
        spread[name] = {}
        for metric in METRICS:
            values = np.array([seed[name][metric] for seed in per_seed])
            rankers[name][metric] = round(float(values.mean()), 4)
            spread[name][metric] = round(float(values.std()), 4)
    return {"rankers": rankers, "spread": spread}


def check_targets(rankers: Mapping[str, Mapping[str, float]]) -> dict[str, Any]:
    """The issue's bar for ``aligned``: nDCG >= 95% of ALS, miscalibration <= 0.37, ILD >= 0.76."""
    if "aligned" not in rankers or "als" not in rankers:
        return {}
    aligned, als = rankers["aligned"], rankers["als"]
    ratio = aligned["ndcg@10"] / als["ndcg@10"] if als["ndcg@10"] else 0.0
    checks = {
        "ndcg_ratio_to_als": round(ratio, 4),
        "ndcg_within_5pct": ratio >= 0.95,
        "miscalibration_le_0.37": aligned["miscalibration"] <= 0.37,
        "ild_ge_0.76": aligned["ild"] >= 0.76,
    }
    checks["all_met"] = all(v for k, v in checks.items() if isinstance(v, bool))
    return checks


# --- the feedback loop -------------------------------------------------------------------


def feedback_loop(
    data: RatingsData,
    *,
    rounds: int = 10,
    seed: int = 0,
    rankers: Sequence[str] = EVAL_RANKERS,
    params: Mapping[str, Mapping[str, Any]] | None = None,
    als: Mapping[str, Any] | None = None,
    users: int | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Refit, serve, consume, repeat: how far does each ranker drag consumption from the goal?

    Each ranker gets its own copy of the world. Every round it is refitted on the training
    ratings plus everything consumed so far, serves each user a top 10, and the user
    consumes the item at position ``j`` with probability ``examine(j) * like(i)``:
    ``examine(j) = 1 / log2(j + 2)`` (position bias) and ``like(i) = 0.2 + 0.8 * a(i)``,
    ``a(i)`` the overlap of the item's genres with the user's stated mix (their training
    genre mix), scaled so the user's favourite genre scores 1. Consumed items become
    positives. Reported per round: the mean over users of KL(stated || consumed~) (Steck's
    smoothing) and total variation between them, consumption so far.
    """
    split = holdout_split(data, seed=seed)
    rng = np.random.default_rng(seed + 1_000)
    positive = data.ratings >= POSITIVE
    train_pos = _user_rows(data, split.train & positive)
    n_users = data.n_users if users is None else min(users, data.n_users)
    targets = [user_target(data, train_pos[u]) for u in range(data.n_users)]
    examine = 1.0 / np.log2(np.arange(K) + 2)
    result: dict[str, Any] = {}
    for name in rankers:
        ranker = make_ranker(name, **(params or {}).get(name, {}))
        extra_users: list[int] = []
        extra_items: list[int] = []
        consumed: list[list[int]] = [[] for _ in range(data.n_users)]
        kl_by_round: list[float] = []
        tv_by_round: list[float] = []
        for _ in range(rounds):
            world = _with_consumption(data, split.train, extra_users, extra_items)
            everything = np.ones(len(world.ratings), dtype=np.bool_)
            scores = fit_scores(world, everything, seed=seed, **(als or {}))
            rated = _user_rows(world, everything)
            for u in range(n_users):
                if len(train_pos[u]) == 0:
                    continue
                candidates = candidates_for(world, scores, u, rated[u])
                viewer = Viewer(user_id=u, target=targets[u], seed=seed)
                top = candidates.item_ids[ranker.order(viewer, candidates, k=K).rows]
                affinity = data.item_topics[top] @ targets[u] / max(float(targets[u].max()), 1e-9)
                chance = examine[: len(top)] * (0.2 + 0.8 * affinity)
                taken = top[rng.random(len(top)) < chance]
                consumed[u].extend(taken.tolist())
                extra_users.extend([u] * len(taken))
                extra_items.extend(taken.tolist())
            kls, tvs = [], []
            for u in range(n_users):
                if consumed[u] and len(train_pos[u]):
                    q = topic_mix(data.item_topics[np.array(consumed[u])])
                    kls.append(miscalibration(targets[u], q))
                    tvs.append(0.5 * float(np.abs(targets[u] - q).sum()))
            kl_by_round.append(round(float(np.mean(kls)), 4) if kls else 0.0)
            tv_by_round.append(round(float(np.mean(tvs)), 4) if tvs else 0.0)
            if progress is not None:
                progress("round")
        result[name] = {
            "kl_from_stated_by_round": kl_by_round,
            "tv_from_stated_by_round": tv_by_round,
            "final_kl_from_stated": kl_by_round[-1] if kl_by_round else 0.0,
            "final_tv_from_stated": tv_by_round[-1] if tv_by_round else 0.0,
            "items_consumed": sum(len(c) for c in consumed),
        }
    return {"rounds": rounds, "seed": seed, "rankers": result}


def _with_consumption(
    data: RatingsData, train: BoolArray, users: list[int], items: list[int]
) -> RatingsData:
    """The training ratings plus consumed items as 5-star ratings."""
    added = len(users)
    return replace(
        data,
        users=np.concatenate([data.users[train], np.array(users, dtype=np.int64)]),
        items=np.concatenate([data.items[train], np.array(items, dtype=np.int64)]),
        ratings=np.concatenate([data.ratings[train], np.full(added, 5.0)]),
    )
