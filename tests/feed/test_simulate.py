"""``kith simulate`` end to end on a small world."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from kith.cli.main import app

runner = CliRunner()
KEYS = {"high_arousal_share", "minutes_per_day", "days_over_budget", "homogenization"}


def _run(*args: str) -> dict:  # type: ignore[type-arg]
    result = runner.invoke(app, ["simulate", *args, "--json"])
    assert result.exit_code == 0, result.output
    out: dict = json.loads(result.stdout)  # type: ignore[type-arg]
    return out


def test_single_policy_reports_its_numbers_at_the_top_level() -> None:
    out = _run("--policy", "chronological", "--users", "8", "--days", "3", "--seed", "1")
    assert set(out) >= KEYS
    assert out["policy"] == "chronological"
    assert len(out["minutes_by_day"]) == 3
    shares = out["consumed_mix_last_week"]
    assert sum(shares.values()) == __import__("pytest").approx(1.0, abs=1e-3)


def test_engagement_collapses_onto_the_high_arousal_topic_and_aligned_does_not(
    tmp_path: Path,
) -> None:
    plot = tmp_path / "sim.png"
    args = ["--users", "16", "--days", "6", "--seed", "3", "--plot", str(plot)]
    out = _run("--policy", "engagement", "--policy", "aligned", *args)
    engagement, aligned = out["policies"]["engagement"], out["policies"]["aligned"]
    stated = engagement["stated_mix"][engagement["high_arousal_topic"]]
    assert engagement["high_arousal_share"] > 4 * stated
    assert aligned["high_arousal_share"] < 2 * stated
    assert engagement["goal_distance"] > aligned["goal_distance"]
    # Infinite scroll has no budget card; kith's pages stop.
    assert engagement["minutes_per_day"] > aligned["minutes_per_day"]
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_same_seed_same_world() -> None:
    args = ("--policy", "aligned", "--users", "6", "--days", "2", "--seed", "5")
    assert _run(*args) == _run(*args)


def test_bad_policy_is_a_readable_error() -> None:
    result = runner.invoke(app, ["simulate", "--policy", "virality", "--users", "5"])
    assert result.exit_code == 2
    assert "unknown policy" in result.output
    assert "Traceback" not in result.output
