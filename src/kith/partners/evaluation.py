"""Ranking metrics for "who's up for it?", honest about ties. Pure numpy.

Each question ranks its candidates; the positives are the friends who came.

* **Tie-averaged.** Many friends share a score (no history gives zeros everywhere), and
  any fixed order among them is arbitrary: a stable sort alone moves hit@1 by several
  points. Every metric here is its *expected* value when tied candidates are put in a
  uniformly random order, computed exactly (no sampling).
* **hit@k**: the chance that a positive is among the first ``k``. **MRR**: the expected
  reciprocal rank of the first positive. **AUC**: the chance that a random positive
  outranks a random negative (ties count one half); undefined, and skipped, when a
  question has no negative.
* **Intervals** resample *people*, not questions (one person's questions are not
  independent), 95% percentile bootstrap. **Paired comparisons** resample the same
  people for both models, so the shared difficulty of each question cancels.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

METRICS: tuple[str, ...] = ("hit@1", "hit@5", "mrr", "auc")

FloatArray = npt.NDArray[np.float64]


def first_positive_rank_distribution(
    scores: npt.ArrayLike, labels: npt.ArrayLike
) -> tuple[int, FloatArray]:
    """``(g, p)``: the first positive sits at rank ``g + k`` with probability ``p[k-1]``.

    Only candidates scored at least as high as the best positive matter: ``g`` of them
    score strictly higher (all negatives); the rest of that top tie group are shuffled.
    """
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels, dtype=bool)
    if not y.any():
        raise ValueError("a question needs at least one positive")
    best = s[y].max()
    ahead = int(np.count_nonzero(s > best))
    tied = int(np.count_nonzero(s == best))
    tied_pos = int(np.count_nonzero(y & (s == best)))
    total = math.comb(tied, tied_pos)
    # P(first positive at position k in a random order of the tie group).
    probs = np.array(
        [math.comb(tied - k, tied_pos - 1) / total for k in range(1, tied - tied_pos + 2)],
        dtype=np.float64,
    )
    return ahead, probs


def hit_at(scores: npt.ArrayLike, labels: npt.ArrayLike, k: int) -> float:
    ahead, probs = first_positive_rank_distribution(scores, labels)
    room = k - ahead
    return float(probs[: max(room, 0)].sum())


def reciprocal_rank(scores: npt.ArrayLike, labels: npt.ArrayLike) -> float:
    ahead, probs = first_positive_rank_distribution(scores, labels)
    ranks = ahead + np.arange(1, len(probs) + 1)
    return float((probs / ranks).sum())


def auc(scores: npt.ArrayLike, labels: npt.ArrayLike) -> float:
    """Per-question AUC with ties as one half; ``nan`` without both classes."""
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels, dtype=bool)
    pos, neg = s[y], s[~y]
    if len(pos) == 0 or len(neg) == 0:
        return math.nan
    greater = (pos[:, None] > neg[None, :]).sum()
    equal = (pos[:, None] == neg[None, :]).sum()
    return float((greater + 0.5 * equal) / (len(pos) * len(neg)))


def question_metrics(
    scores: Sequence[npt.ArrayLike], labels: Sequence[npt.ArrayLike]
) -> dict[str, FloatArray]:
    """Each metric for each question (``nan`` where AUC is undefined)."""
    out = {m: np.empty(len(scores)) for m in METRICS}
    for q, (s, y) in enumerate(zip(scores, labels, strict=True)):
        out["hit@1"][q] = hit_at(s, y, 1)
        out["hit@5"][q] = hit_at(s, y, 5)
        out["mrr"][q] = reciprocal_rank(s, y)
        out["auc"][q] = auc(s, y)
    return out


@dataclass(frozen=True)
class Estimate:
    mean: float
    low: float
    high: float

    def as_dict(self) -> dict[str, float]:
        return {"mean": self.mean, "low": self.low, "high": self.high}


def _bootstrap_means(
    values: FloatArray, groups: npt.ArrayLike, *, resamples: int, seed: int
) -> tuple[float, FloatArray]:
    """Mean over questions, and its bootstrap replicates resampling groups (people)."""
    g = np.asarray(groups)
    ok = ~np.isnan(values)
    _, group_index = np.unique(g, return_inverse=True)
    n_groups = int(group_index.max()) + 1 if len(g) else 0
    sums = np.bincount(group_index[ok], weights=values[ok], minlength=n_groups)
    counts = np.bincount(group_index[ok], minlength=n_groups).astype(np.float64)
    if counts.sum() == 0:
        return math.nan, np.full(resamples, math.nan)
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, n_groups, size=(resamples, n_groups))
    picked_counts = counts[picks].sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        replicates = sums[picks].sum(axis=1) / picked_counts
    return float(sums.sum() / counts.sum()), replicates


def summarize(
    per_question: Mapping[str, FloatArray],
    groups: npt.ArrayLike,
    *,
    resamples: int = 1000,
    seed: int = 0,
) -> dict[str, Estimate]:
    """Mean of each metric with a 95% interval from resampling groups (people)."""
    out: dict[str, Estimate] = {}
    for metric, values in per_question.items():
        mean, reps = _bootstrap_means(values, groups, resamples=resamples, seed=seed)
        low, high = np.nanpercentile(reps, [2.5, 97.5]) if resamples else (mean, mean)
        out[metric] = Estimate(mean, float(low), float(high))
    return out


@dataclass(frozen=True)
class Comparison:
    """``a`` minus ``b``: mean difference, its 95% interval, and the share of resamples
    in which ``a`` was not better (a one-sided bootstrap p-value)."""

    difference: Estimate
    p_not_better: float

    def as_dict(self) -> dict[str, float]:
        return {**self.difference.as_dict(), "p_not_better": self.p_not_better}


def compare(
    a: Mapping[str, FloatArray],
    b: Mapping[str, FloatArray],
    groups: npt.ArrayLike,
    *,
    resamples: int = 1000,
    seed: int = 0,
) -> dict[str, Comparison]:
    """Paired comparison of two models' per-question metrics on the same questions."""
    out: dict[str, Comparison] = {}
    for metric in a:
        diff = np.asarray(a[metric]) - np.asarray(b[metric])
        mean, reps = _bootstrap_means(diff, groups, resamples=resamples, seed=seed)
        low, high = np.nanpercentile(reps, [2.5, 97.5])
        p = float(np.mean(reps <= 0)) if resamples else math.nan
        out[metric] = Comparison(Estimate(mean, float(low), float(high)), p)
    return out
