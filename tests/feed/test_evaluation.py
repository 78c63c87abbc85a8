"""Offline evaluation: metrics with hand-computed answers, then ``kith eval feed`` end to end."""

from __future__ import annotations

import csv
import json
import math
import os
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from kith.cli.main import app
from kith.feed.evaluation import gini, intra_list_diversity, miscalibration, ndcg_at_k, topic_mix

DATA = Path(
    os.environ.get(
        "KITH_SHARED_DATA", Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
    )
)
MOVIELENS = DATA / "movielens_latest_small"
runner = CliRunner()


@pytest.mark.parametrize(
    ("hits", "relevant", "expected"),
    [
        ([1, 0, 0], 1, 1.0),
        ([0, 1, 0], 1, 1 / math.log2(3)),
        ([1, 1, 0], 3, (1 + 1 / math.log2(3)) / (1 + 1 / math.log2(3) + 0.5)),
        ([0, 0, 0], 2, 0.0),
    ],
)
def test_ndcg(hits: list[int], relevant: int, expected: float) -> None:
    assert ndcg_at_k(np.array(hits, dtype=bool), relevant) == pytest.approx(expected)


def test_miscalibration_is_stecks_smoothed_kl() -> None:
    p = np.array([0.5, 0.5, 0.0])
    assert miscalibration(p, p) == pytest.approx(0.0)
    q = np.array([1.0, 0.0, 0.0])
    # q~ = 0.99 q + 0.01 p = (0.995, 0.005, 0)
    expected = 0.5 * math.log(0.5 / 0.995) + 0.5 * math.log(0.5 / 0.005)
    assert miscalibration(p, q) == pytest.approx(expected)


def test_topic_mix_shares_each_items_weight_over_its_topics() -> None:
    weights = np.array([[0.5, 0.5, 0.0], [0.0, 0.0, 1.0]])
    assert topic_mix(weights) == pytest.approx([0.25, 0.25, 0.5])


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ([[1, 0], [1, 0]], 0.0),
        ([[1, 0], [0, 1]], 1.0),
        ([[1, 1], [1, 0], [0, 1]], 1 - (2 / math.sqrt(2)) / 3),
    ],
)
def test_intra_list_diversity(rows: list[list[float]], expected: float) -> None:
    assert intra_list_diversity(np.array(rows, dtype=float)) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("counts", "expected"), [([1, 1, 1, 1], 0.0), ([0, 0, 0, 4], 0.75), ([0, 0], 0.0)]
)
def test_gini(counts: list[float], expected: float) -> None:
    assert gini(np.array(counts, dtype=float)) == pytest.approx(expected)


def _write_synthetic(tmp_path: Path) -> tuple[Path, Path]:
    """40 users who each like one of four genres; 60 movies, 15 per genre."""
    genres = ["Action", "Comedy", "Drama", "Horror"]
    items = tmp_path / "movies.csv"
    with items.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["movieId", "title", "genres"])
        for m in range(60):
            w.writerow([m, f"Movie {m} ({1990 + m % 30})", genres[m % 4]])
    ratings = tmp_path / "ratings.csv"
    rng = np.random.default_rng(0)
    with ratings.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["userId", "movieId", "rating", "timestamp"])
        for u in range(40):
            for m in rng.choice(60, size=25, replace=False):
                liked = m % 4 == u % 4
                w.writerow([u, m, 5.0 if liked else 2.0, 0])
    return ratings, items


def test_eval_cli_prints_every_metric_for_every_ranker(tmp_path: Path) -> None:
    ratings, items = _write_synthetic(tmp_path)
    plot = tmp_path / "loop.png"
    args = ["eval", "feed", "--ratings", str(ratings), "--items", str(items), "--json"]
    args += ["--seeds", "2", "--feedback-rounds", "2", "--plot", str(plot)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert set(out["rankers"]) == {"als", "aligned", "engagement", "chronological"}
    for name, metrics in out["rankers"].items():
        assert set(metrics) == {"ndcg@10", "recall@10", "ild", "miscalibration", "coverage", "gini"}
        assert set(out["spread"][name]) == set(metrics)
    # Users like exactly one genre: relevance finds it, newest-first does not.
    assert out["rankers"]["als"]["ndcg@10"] > out["rankers"]["chronological"]["ndcg@10"] + 0.3
    loop = out["feedback_loop"]["rankers"]
    assert set(loop) == set(out["rankers"])
    assert all(len(r["kl_from_stated_by_round"]) == 2 for r in loop.values())
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("ratings", "items", "message"),
    [
        ("missing.csv", "movies.csv", "no such file"),
        ("ratings.csv", "movies.txt", "parquet"),
        ("movies.csv", "movies.csv", "no column"),
    ],
)
def test_eval_cli_bad_input_is_a_readable_error(
    tmp_path: Path, ratings: str, items: str, message: str
) -> None:
    _write_synthetic(tmp_path)
    (tmp_path / "movies.txt").write_text("x")
    args = ["eval", "feed", "--ratings", str(tmp_path / ratings), "--items", str(tmp_path / items)]
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


@pytest.mark.skipif(not MOVIELENS.is_dir(), reason="shared MovieLens data not present")
def test_eval_cli_smoke_on_a_movielens_subset(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    table = pq.read_table(MOVIELENS / "ratings.parquet")
    subset = table.filter(pc.less_equal(table["user_id"], 60))
    pq.write_table(subset, tmp_path / "ratings.parquet")
    args = ["eval", "feed", "--ratings", str(tmp_path / "ratings.parquet")]
    args += ["--items", str(MOVIELENS / "movies.parquet"), "--json", "--seeds", "1"]
    result = runner.invoke(app, [*args, "--feedback-rounds", "0"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["protocol"]["users"] == len(pa.compute.unique(subset["user_id"]))
    als, aligned = out["rankers"]["als"], out["rankers"]["aligned"]
    # The re-ranker's whole point, even on a small sample: better calibrated, more diverse.
    assert aligned["miscalibration"] < als["miscalibration"]
    assert aligned["ild"] > als["ild"]
