"""The planted-campaign evaluation on CooRTweet's German-election data, end to end:
detect on the real data, plant groups (see :mod:`kith.integrity.evaluation`), detect
again, and score the ranking. Behind ``kith eval integrity``; docs/integrity.md has
the protocol and the numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from kith.integrity.evaluation import PlantSpec, plant_campaigns, planted_scores
from kith.integrity.networks import DetectConfig
from kith.integrity.pipeline import detect

# Called with a short description after each stage: for a progress bar.
Step = Callable[[str], None]


def planted_steps(seeds: Sequence[int]) -> int:
    """How many times :func:`evaluate_planted` calls ``on_step``."""
    return 2 + len(seeds)


def evaluate_planted(
    source: Path,
    work_dir: Path,
    *,
    seeds: Sequence[int] = (0, 1, 2),
    top_ks: Sequence[int] = (10, 20, 50),
    groups: int = 10,
    network: str = "co_link",
    window: float = 60.0,
    on_step: Step | None = None,
) -> dict[str, Any]:
    """Precision and recall of planted groups among the top cases, per seed and top k,
    both strict and counting only cases that were not found before planting."""
    import duckdb
    import pyarrow.parquet as pq

    from kith.integrity.datasets import german_messages_sql

    def step(what: str) -> None:
        if on_step is not None:
            on_step(what)

    config = DetectConfig(network=network, window=window)
    with duckdb.connect() as connection:
        messages = connection.sql(german_messages_sql(source)).to_arrow_table()
    pq.write_table(messages, work_dir / "real.parquet")
    step(f"read {messages.num_rows:,} posts")
    before = detect(work_dir / "real.parquet", config, work_dir / "before")
    known = frozenset(c.case_id for c in before.cases)
    step(f"{len(known):,} cases before planting")
    per_seed: dict[str, Any] = {}
    for seed in seeds:
        spec = PlantSpec(groups=groups, seed=seed)
        planted, truth = plant_campaigns(messages, spec)
        path = work_dir / f"planted_{seed}.parquet"
        pq.write_table(planted, path)
        after = detect(path, config, work_dir / f"after_{seed}")
        per_seed[str(seed)] = {
            str(k): {
                "strict": asdict(planted_scores(after.cases, truth, top_k=k)),
                "new_cases": asdict(planted_scores(after.cases, truth, top_k=k, known=known)),
            }
            for k in top_ks
        }
        step(f"seed {seed} scored")
    return {
        "data": str(source),
        "network": network,
        "window": window,
        "posts": before.summary["rows"]["valid"],
        "rows_rejected": before.summary["rows"]["rejects"],
        "cases_before_planting": len(known),
        "plant": {k: v for k, v in asdict(PlantSpec(groups=groups)).items() if k != "seed"},
        "seeds": per_seed,
    }
