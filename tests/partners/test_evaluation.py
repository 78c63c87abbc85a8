"""Tie-averaged ranking metrics, bootstrap intervals and paired comparisons."""

from __future__ import annotations

import math

import numpy as np
import pytest

from kith.partners import evaluation as ev

# (scores, labels, hit@1, hit@5, reciprocal rank, auc)
CASES = [
    pytest.param([3, 2, 1], [1, 0, 0], 1.0, 1.0, 1.0, 1.0, id="perfect"),
    pytest.param([3, 2, 1], [0, 0, 1], 0.0, 1.0, 1 / 3, 0.0, id="worst"),
    # Everyone tied: the expected values of a random order, not the stable sort's luck.
    pytest.param([0, 0, 0, 0], [1, 0, 0, 0], 1 / 4, 1.0, 25 / 48, 0.5, id="all-tied"),
    pytest.param([0, 0, 0, 0], [0, 0, 0, 1], 1 / 4, 1.0, 25 / 48, 0.5, id="all-tied-last"),
    # Two positives tied with one negative: first positive at 1 w.p. 2/3, else at 2.
    pytest.param([1, 1, 1], [1, 1, 0], 2 / 3, 1.0, 2 / 3 + 1 / 6, 0.5, id="two-pos-tied"),
    # One negative ahead, then a tie of one positive and one negative.
    pytest.param([5, 1, 1, 0], [0, 1, 0, 0], 0.0, 1.0, 0.5 / 2 + 0.5 / 3, 0.5, id="ahead+tie"),
    pytest.param([9, 8, 7, 6, 5, 4, 1], [0] * 6 + [1], 0.0, 0.0, 1 / 7, 0.0, id="below-5"),
    # Tie straddling the hit@5 boundary: 4 ahead, then 1 positive among 3 tied.
    pytest.param(
        [9, 8, 7, 6, 2, 2, 2],
        [0, 0, 0, 0, 1, 0, 0],
        0.0,
        1 / 3,
        (1 / 5 + 1 / 6 + 1 / 7) / 3,
        (2 * 0.5) / 6,
        id="tie-at-5",
    ),
    pytest.param([2, 1], [1, 1], 1.0, 1.0, 1.0, math.nan, id="no-negative"),
]


@pytest.mark.parametrize(("scores", "labels", "hit1", "hit5", "rr", "auc"), CASES)
def test_question_metrics(
    scores: list[float], labels: list[int], hit1: float, hit5: float, rr: float, auc: float
) -> None:
    assert ev.hit_at(scores, labels, 1) == pytest.approx(hit1)
    assert ev.hit_at(scores, labels, 5) == pytest.approx(hit5)
    assert ev.reciprocal_rank(scores, labels) == pytest.approx(rr)
    if math.isnan(auc):
        assert math.isnan(ev.auc(scores, labels))
    else:
        assert ev.auc(scores, labels) == pytest.approx(auc)


def test_tie_average_equals_the_mean_over_all_orders() -> None:
    # Brute force: average the metric over every order of tied candidates.
    from itertools import permutations

    scores = np.array([3.0, 1.0, 1.0, 1.0, 0.0])
    labels = np.array([0, 1, 0, 1, 0], dtype=bool)
    rrs, hits = [], []
    for order in permutations(range(5)):
        # Sort by score, breaking ties by this permutation.
        ranked = sorted(range(5), key=lambda i: (-scores[i], order.index(i)))
        first = next(r for r, i in enumerate(ranked, start=1) if labels[i])
        rrs.append(1 / first)
        hits.append(first == 2)
    assert ev.reciprocal_rank(scores, labels) == pytest.approx(np.mean(rrs))
    assert ev.hit_at(scores, labels, 2) == pytest.approx(np.mean(hits))


def test_a_question_without_positives_is_refused() -> None:
    with pytest.raises(ValueError, match="positive"):
        ev.reciprocal_rank([1, 2], [0, 0])


def test_summary_is_the_question_mean_with_an_interval_around_it() -> None:
    rng = np.random.default_rng(1)
    values = rng.random(200)
    groups = np.repeat(np.arange(40), 5)
    per_q = {"mrr": values, "auc": np.where(np.arange(200) % 7 == 0, np.nan, values)}
    summary = ev.summarize(per_q, groups, resamples=300, seed=3)
    assert summary["mrr"].mean == pytest.approx(values.mean())
    assert summary["auc"].mean == pytest.approx(np.nanmean(per_q["auc"]))
    for estimate in summary.values():
        assert estimate.low < estimate.mean < estimate.high
    assert ev.summarize(per_q, groups, resamples=300, seed=3) == summary


def test_resampling_people_widens_the_interval_when_their_questions_agree() -> None:
    # 10 people, each with 20 identical questions: resampling questions would pretend
    # there are 200 independent observations.
    values = np.repeat(np.linspace(0, 1, 10), 20)
    by_person = ev.summarize({"mrr": values}, np.repeat(np.arange(10), 20), resamples=500)
    by_question = ev.summarize({"mrr": values}, np.arange(200), resamples=500)
    person, question = by_person["mrr"], by_question["mrr"]
    assert person.high - person.low > 3 * (question.high - question.low)


def test_paired_comparison() -> None:
    rng = np.random.default_rng(0)
    base = rng.random(300)
    groups = np.repeat(np.arange(60), 5)
    better = {"mrr": np.clip(base + 0.05, 0, 1)}
    same = ev.compare({"mrr": base}, {"mrr": base}, groups, resamples=200)["mrr"]
    assert same.difference.mean == 0
    assert same.p_not_better == 1.0
    up = ev.compare(better, {"mrr": base}, groups, resamples=200)["mrr"]
    assert up.difference.low > 0
    assert up.p_not_better == 0.0
