"""``kith partners train|suggest`` and ``kith eval partners`` end to end on synthetic files."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kith.cli.main import app
from tests.partners import synthetic

runner = CliRunner()


def _text(output: str) -> str:
    """Output with Rich's line wrapping undone."""
    return " ".join(output.split())


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    checkins, friendships, venues = synthetic.write_parquet(tmp_path_factory.mktemp("gowalla"))
    return ["--checkins", str(checkins), "--friendships", str(friendships), "--venues", str(venues)]


@pytest.fixture(scope="module")
def report(files: list[str], tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    plot = tmp_path_factory.mktemp("plot") / "partners.png"
    cutoff = synthetic.cutoff().isoformat()
    result = runner.invoke(
        app,
        [
            "eval",
            "partners",
            *files,
            "--cutoff",
            cutoff,
            "--json",
            "--resamples",
            "50",
            "--plot",
            str(plot),
        ],
    )
    assert result.exit_code == 0, result.output
    assert plot.stat().st_size > 10_000
    parsed: dict[str, object] = json.loads(result.stdout)
    return parsed


def test_eval_reports_every_model_in_the_issue_shape(report: dict[str, object]) -> None:
    models = report["models"]
    assert isinstance(models, dict)
    assert set(models) == {
        "learned",
        "learned_coarse_res7",
        "baseline_coattendance",
        "baseline_recency",
        "baseline_weekly_prior",
        "baseline_adamic_adar",
    }
    for metrics in models.values():
        assert set(metrics) == {"hit@1", "hit@5", "mrr", "auc"}
        assert all(0.0 <= v <= 1.0 for v in metrics.values())
    assert "no_checkin_yet" in report["signals"]  # type: ignore[operator]


def test_eval_finds_exactly_the_meetups_after_the_cutoff(report: dict[str, object]) -> None:
    protocol = report["protocol"]
    assert isinstance(protocol, dict)
    # Ten Sundays after the cutoff, each a meetup for user 0 (5 friends) and for
    # user 1 (3 friends); stranger 6 is nobody's friend.
    assert protocol["test_events"] == 20
    assert protocol["test_users"] == 2
    assert protocol["test_candidates"] == 10 * (5 + 3)


def test_in_the_synthetic_world_past_company_is_a_perfect_guide(
    report: dict[str, object],
) -> None:
    models = report["models"]
    assert isinstance(models, dict)
    assert models["baseline_coattendance"]["mrr"] == 1.0
    assert models["learned"]["hit@1"] == 1.0
    # Friend 5 never checks in and never comes: the signal ranks the wrong friend first.
    signals = report["signals"]
    assert isinstance(signals, dict)
    assert signals["no_checkin_yet"]["auc"] < 0.5


def _suggest(files: list[str], model: Path) -> str:
    """``kith partners suggest`` for Sunday tennis at 10:00 after the data ends; stdout."""
    args = ["--model", str(model), "--user", "0", "--activity", "tennis"]
    when = ["--at", "2010-08-01T10:00:00-04:00", "--limit", "3"]
    result = runner.invoke(app, ["partners", "suggest", *files, *args, *when])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_train_then_suggest_with_reasons(files: list[str], tmp_path: Path) -> None:
    model = tmp_path / "partners.json"
    result = runner.invoke(app, ["partners", "train", *files, "--out", str(model)])
    assert result.exit_code == 0, result.output
    assert json.loads(model.read_text())["kind"] == "boosted"
    out = _suggest(files, model)
    ranked = re.findall(r"│\s+user (\d+)\s+│", out)
    assert ranked[0] == "1", out
    assert "corrupt" not in out
    assert "has been out with you" in _text(out) or "joined" in _text(out)


def test_a_corrupt_model_falls_back_to_the_baseline_and_says_so(
    files: list[str], tmp_path: Path
) -> None:
    model = tmp_path / "partners.json"
    model.write_text("{definitely not a model")
    out = _text(_suggest(files, model))
    assert "corrupt" in out
    assert "co-attendance" in out


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("--checkins", "/nonexistent/checkins.parquet"), "no such file"),
        (("--cutoff", "last tuesday"), "not a date"),
        (("--cutoff", "2001-01-01"), "no meetups before the cutoff"),
        (("--cutoff", "2030-01-01"), "no meetups at or after the cutoff"),
    ],
)
def test_eval_bad_input_is_a_readable_error(
    files: list[str], change: tuple[str, str], message: str
) -> None:
    args = dict(zip(files[::2], files[1::2], strict=True))
    args["--cutoff"] = synthetic.cutoff().isoformat()
    args[change[0]] = change[1]
    flat = [x for pair in args.items() for x in pair]
    result = runner.invoke(app, ["eval", "partners", *flat, "--json"])
    assert result.exit_code == 2
    assert message in _text(result.output)
    assert "Traceback" not in result.output


def test_a_venues_file_that_is_not_parquet(files: list[str], tmp_path: Path) -> None:
    bogus = tmp_path / "venues.parquet"
    bogus.write_text("id,name\n1,Cafe\n")
    args = [*files[:4], "--venues", str(bogus), "--cutoff", "2010-05-01"]
    result = runner.invoke(app, ["eval", "partners", *args])
    assert result.exit_code == 2
    assert "is not a Parquet file" in _text(result.output)
