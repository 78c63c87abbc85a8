"""The server ranks with the instance's trained model, and falls back (saying so) when the
file is missing, corrupt or fails: never a 500."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from fastapi.testclient import TestClient

from kith.clock import FixedClock
from kith.config import Settings
from kith.partners.features import COLUMNS, FeatureMatrix
from kith.partners.models.learned import LogisticPartnerModel
from tests.conftest import World
from tests.partners.conftest import World as SyntheticWorld

THURSDAY = datetime(2026, 3, 26, 9, 0, tzinfo=UTC)
SUNDAY_10 = datetime(2026, 3, 29, 10, 0, tzinfo=UTC)


@pytest.fixture
def model_file(world: SyntheticWorld, tmp_path: Path, settings: Settings) -> Path:
    """A logistic model trained on the synthetic tennis world, saved where the server looks."""
    path = tmp_path / "models" / "partners.json"
    LogisticPartnerModel(C=1.0).fit(world.train, world.train_labels).save(path)
    settings.partners_model = path
    return path


def ask(town: World, who: dict[str, str]) -> tuple[int, dict[str, str], list[dict[str, object]]]:
    r = town.client.get(
        "/api/v1/suggestions",
        params={
            "activity": "tennis",
            "starts_at": SUNDAY_10.isoformat(),
            "ends_at": (SUNDAY_10 + timedelta(hours=2)).isoformat(),
        },
        headers=who,
    )
    return r.status_code, dict(r.headers), r.json()


def test_trained_model_ranks_and_a_broken_file_falls_back(
    client: TestClient, clock: FixedClock, model_file: Path
) -> None:
    town = World(client)
    clock.set(THURSDAY - timedelta(days=14))
    ana, ben, cid = (town.person(n) for n in ("ana", "ben", "cid"))
    town.befriend(ana, ben, b_puts_a_in="close")
    town.befriend(ana, cid, b_puts_a_in="close")
    # Ben goes for tennis on Sunday mornings; Cid has coffee on Wednesday mornings.
    for weeks in (1, 2):
        clock.set(SUNDAY_10 - timedelta(weeks=weeks))
        r = client.post("/api/v1/me/check-ins", json={"activity": "tennis"}, headers=ben.headers)
        assert r.status_code == 201
        clock.set(SUNDAY_10 - timedelta(weeks=weeks, days=4, hours=2))
        r = client.post("/api/v1/me/check-ins", json={"activity": "coffee"}, headers=cid.headers)
        assert r.status_code == 201
    clock.set(THURSDAY)

    status, headers, ranked = ask(town, ana.headers)
    assert status == 200
    assert headers["kith-model"] == "logistic"
    assert "kith-model-note" not in headers
    assert [s["username"] for s in ranked] == ["ben", "cid"]
    reasons = ranked[0]["reasons"]
    assert isinstance(reasons, list)
    assert any("tennis" in str(r) or "Sunday" in str(r) for r in reasons), reasons

    # A corrupt file (a half-copied deploy, a disk error ...): the baseline ranks, and says so.
    model_file.write_text('{"format": "kith.partners.model", "version": 1, "kind": "logis')
    status, headers, ranked = ask(town, ana.headers)
    assert status == 200
    assert headers["kith-model"] == "baseline_coattendance"
    assert "unreadable" in headers["kith-model-note"]
    assert {s["username"] for s in ranked} == {"ben", "cid"}

    # A well-formed file whose model does not fit today's features: fallback, never a 500.
    LogisticPartnerModel(features=("coattend",)).fit(*_tiny_training()).save(model_file)
    text = model_file.read_text().replace('"coattend"', '"no_such_feature"')
    model_file.write_text(text)
    status, headers, _ = ask(town, ana.headers)
    assert status == 200
    assert headers["kith-model"] == "baseline_coattendance"
    assert "failed" in headers["kith-model-note"]

    # The file disappears: fallback again.
    model_file.unlink()
    status, headers, _ = ask(town, ana.headers)
    assert status == 200
    assert "missing" in headers["kith-model-note"]


def _tiny_training() -> tuple[FeatureMatrix, npt.NDArray[np.bool_]]:
    values = np.zeros((4, len(COLUMNS)))
    values[:2, COLUMNS.index("coattend")] = [3.0, 2.0]
    matrix = FeatureMatrix(
        values=values,
        names=COLUMNS,
        query_index=np.zeros(4, dtype=np.int64),
        candidate=np.arange(4, dtype=np.int64),
        used=np.ones(4, dtype=bool),
        no_history=np.zeros(4, dtype=bool),
    )
    return matrix, np.array([True, True, False, False])
