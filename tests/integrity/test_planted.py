"""Planted campaigns in the real German-election data come out at the top, through
``kith eval integrity`` as an operator runs it.

The data has unlabelled coordinated groups of its own (CooRTweet's authors found
them), so precision counts only cases that were not already there before planting:
case ids are stable, so "already there" is exact. docs/integrity.md has the full
numbers, including the strict ones."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from kith.cli.main import app as cli
from kith.integrity.datasets import GERMAN_ELECTIONS
from tests.integrity.conftest import DATA, need


def test_planted_groups_rank_among_the_new_top_cases() -> None:
    source = need(DATA / GERMAN_ELECTIONS)
    args = ["eval", "integrity", "--data", str(source), "--seeds", "7", "--top", "10,50", "--json"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["rows_rejected"] == {"missing_message_id": 3}
    assert report["cases_before_planting"] > 100  # the real data's own groups
    top10 = report["seeds"]["7"]["10"]
    assert top10["new_cases"]["recall"] >= 0.8
    assert top10["new_cases"]["precision"] >= 0.8
    # Without discounting the real groups, all planted groups still sit in the top 50.
    assert report["seeds"]["7"]["50"]["strict"]["recall"] >= 0.8


def test_eval_refuses_bad_options_readably(tmp_path: Path) -> None:
    for args, message in (
        (["--data", str(tmp_path / "none.parquet")], "no data at"),
        (["--seeds", "one"], "comma-separated whole numbers"),
        (["--top", "0"], "at least 1"),
    ):
        result = CliRunner().invoke(cli, ["eval", "integrity", *args])
        assert result.exit_code == 2, result.output
        assert message in result.output
