"""``kith integrity moderator`` and ``kith integrity scan``, as an operator runs them."""

from __future__ import annotations

import json

from fastapi import FastAPI
from typer.testing import CliRunner, Result

from kith.cli.main import app as cli
from kith.clock import FixedClock
from kith.config import Settings
from tests.conftest import World
from tests.integrity.helpers import build_scene


def run(settings: Settings, *args: str) -> Result:
    return CliRunner().invoke(
        cli, ["integrity", *args], env={"KITH_DATABASE_URL": settings.database_url}
    )


def test_granting_and_revoking_the_moderator_role(settings: Settings, world: World) -> None:
    ana = world.person("ana")
    assert world.get(ana, "/api/v1/moderation/cases").status_code == 404
    result = run(settings, "moderator", "add", "ana")
    assert (result.exit_code, result.output.strip()) == (0, "ana is a moderator")
    assert world.get(ana, "/api/v1/moderation/cases").json() == {"cases": []}
    assert run(settings, "moderator", "add", "ana").exit_code == 0  # harmless twice
    result = run(settings, "moderator", "remove", "ana")
    assert (result.exit_code, result.output.strip()) == (0, "ana is no longer a moderator")
    assert world.get(ana, "/api/v1/moderation/cases").status_code == 404
    for args, message in (
        (("moderator", "add", "nobody"), "no such user"),
        (("moderator", "remove", "ana"), "no such moderator"),
        (("moderator", "add", "bad\x00name"), "no such user"),
    ):
        result = run(settings, *args)
        assert result.exit_code == 1
        assert message in result.output
        assert "Traceback" not in result.output


def test_scan_reports_json_and_is_idempotent(
    settings: Settings, world: World, app: FastAPI, clock: FixedClock
) -> None:
    empty = run(settings, "scan", "--json")
    assert empty.exit_code == 0, empty.output
    assert json.loads(empty.stdout) == {
        "posts": 0,
        "cases_found": 0,
        "opened": 0,
        "updated": 0,
        "unchanged": 0,
    }
    build_scene(world, app, clock)
    first = json.loads(run(settings, "scan", "--json", "--network", "co_tweet").stdout)
    assert (first["posts"], first["opened"]) == (24, 1)
    again = json.loads(run(settings, "scan", "--json", "--network", "co_tweet").stdout)
    assert (again["opened"], again["unchanged"]) == (0, 1)
    # A group needs more matched posts than these bots made to become a case.
    strict = json.loads(run(settings, "scan", "--json", "--min-matched", "13").stdout)
    assert strict["cases_found"] == 0


def test_scan_refuses_bad_options_readably(settings: Settings) -> None:
    for args, message in (
        (("--network", "co_retweet"), "kith's posts have text and links only"),
        (("--network", "co_nothing"), "unknown network"),
        (("--window", "-1"), "the window must be"),
        (("--window", "99999999"), "longer than 30 days"),
    ):
        result = run(settings, "scan", *args)
        assert result.exit_code == 2, result.output
        assert message in result.output
        assert "Traceback" not in result.output
