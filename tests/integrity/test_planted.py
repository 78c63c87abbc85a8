"""Planted campaigns in the real German-election data come out at the top.

The data has unlabelled coordinated groups of its own (CooRTweet's authors found
them), so precision counts only cases that were not already there before planting:
case ids are stable, so "already there" is exact. docs/integrity.md has the full
numbers, including the strict ones."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from kith.integrity.datasets import GERMAN_ELECTIONS, german_messages_sql
from kith.integrity.evaluation import PlantSpec, plant_campaigns, planted_scores
from kith.integrity.networks import DetectConfig
from kith.integrity.pipeline import detect
from tests.integrity.conftest import DATA, need


def test_planted_groups_rank_among_the_new_top_cases(tmp_path: Path) -> None:
    source = need(DATA / GERMAN_ELECTIONS)
    messages = duckdb.connect().sql(german_messages_sql(source)).to_arrow_table()
    config = DetectConfig(network="co_link", window=60)
    pq.write_table(messages, tmp_path / "real.parquet")
    before = detect(tmp_path / "real.parquet", config, tmp_path / "before")
    assert before.summary["rows"]["rejects"] == {"missing_message_id": 3}
    planted, groups = plant_campaigns(messages, PlantSpec(groups=10, seed=7))
    pq.write_table(planted, tmp_path / "planted.parquet")
    after = detect(tmp_path / "planted.parquet", config, tmp_path / "after")
    known = frozenset(c.case_id for c in before.cases)
    score = planted_scores(after.cases, groups, top_k=10, known=known)
    assert score.recall >= 0.8
    assert score.precision >= 0.8
    # Without discounting the real groups, all planted groups still sit in the top 50.
    assert planted_scores(after.cases, groups, top_k=50).recall >= 0.8
