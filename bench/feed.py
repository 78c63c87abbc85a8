"""Aligned ranker vs plain ALS scoring: rank 1,000 candidates for one user, p50/p99.

Both sides score the same 1,000 candidates with the same ALS factors (32 dimensions, as
fitted by kith.feed.relevance on MovieLens) and return one page of 20; the aligned side
then re-ranks (calibration + diversity + exploration). Prints one JSON object with the
latencies in milliseconds and aligned/ALS ratios. Runs on one core, synthetic factors
and genres, so it needs no data set.

    .venv/bin/python bench/feed.py [--repeats 500]
"""

from __future__ import annotations

import argparse
import json
import os
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np

from kith.feed.rankers.base import CandidateSet, Viewer, top_k
from kith.feed.rankers.registry import make_ranker
from kith.feed.topics import TopicSpace

CANDIDATES = 1_000
PAGE = 20
FACTORS = 32
GENRES = 19


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=500)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    space = TopicSpace(tuple(f"g{i}" for i in range(GENRES)))
    item_factors = rng.normal(0, 0.3, (CANDIDATES, FACTORS)).astype(np.float32)
    user_factors = rng.normal(0, 0.3, (64, FACTORS)).astype(np.float32)
    weights = np.zeros((CANDIDATES, GENRES))
    for row in range(CANDIDATES):
        genres = rng.choice(GENRES, size=rng.integers(1, 4), replace=False)
        weights[row, genres] = 1.0 / len(genres)
    ids = np.arange(CANDIDATES, dtype=np.int64)
    base = CandidateSet(
        space=space,
        item_ids=ids,
        author_ids=ids,
        topic_weights=weights,
        created_at=rng.random(CANDIDATES),
        in_network=np.ones(CANDIDATES, dtype=np.bool_),
    )
    aligned = make_ranker("aligned")

    def als(user: int) -> None:
        scores = (item_factors @ user_factors[user]).astype(np.float64)
        top_k(scores, PAGE)

    def align(user: int) -> None:
        scores = (item_factors @ user_factors[user]).astype(np.float64)
        target = weights[rng.choice(CANDIDATES, 30)].sum(axis=0)
        candidates = CandidateSet(
            space=space,
            item_ids=base.item_ids,
            author_ids=base.author_ids,
            topic_weights=base.topic_weights,
            created_at=base.created_at,
            in_network=base.in_network,
            relevance=scores,
        )
        aligned.order(Viewer(user_id=user, target=target / target.sum()), candidates, k=PAGE)

    results = {}
    for name, fn in (("als", als), ("aligned", align)):
        for user in range(20):  # warm up
            fn(user)
        times = []
        for i in range(args.repeats):
            start = time.perf_counter()
            fn(i % len(user_factors))
            times.append((time.perf_counter() - start) * 1000)
        results[name] = {
            "p50_ms": round(float(np.percentile(times, 50)), 4),
            "p99_ms": round(float(np.percentile(times, 99)), 4),
        }
    print(
        json.dumps(
            {
                "candidates": CANDIDATES,
                "page": PAGE,
                "repeats": args.repeats,
                **results,
                "ratio_p50": round(results["aligned"]["p50_ms"] / results["als"]["p50_ms"], 2),
                "ratio_p99": round(results["aligned"]["p99_ms"] / results["als"]["p99_ms"], 2),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
