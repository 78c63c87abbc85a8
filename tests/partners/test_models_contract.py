"""Every partner model, baseline or learned, passes the same contract."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kith.partners.explain import reasons
from kith.partners.models.base import PartnerModel, load_model, model_classes
from kith.partners.models.learned import BoostedPartnerModel, LogisticPartnerModel
from tests.partners.conftest import FRIENDS_OF_0, World

MODELS = model_classes()
KINDS = sorted(MODELS)


def test_the_registry_holds_every_model() -> None:
    assert set(KINDS) >= {
        "baseline_coattendance",
        "baseline_recency",
        "baseline_weekly_prior",
        "baseline_adamic_adar",
        LogisticPartnerModel.kind,
        BoostedPartnerModel.kind,
    }


@pytest.fixture(params=KINDS)
def fitted(request: pytest.FixtureRequest, world: World) -> PartnerModel:
    model = MODELS[request.param]()
    assert model.fit(world.train, world.train_labels) is model  # fit returns self
    return model


def test_the_friend_who_always_comes_ranks_first(fitted: PartnerModel, world: World) -> None:
    scores = fitted.predict(world.test)
    assert scores.shape == (len(FRIENDS_OF_0),)
    best = int(world.test.candidate[np.argmax(scores)])
    assert best == 1
    # Strictly first: no tie with anyone else.
    assert np.sum(scores == scores.max()) == 1


def test_explanations_name_real_evidence(fitted: PartnerModel, world: World) -> None:
    explained = fitted.explain(world.test)
    assert len(explained) == len(world.test)
    row = FRIENDS_OF_0.index(1)
    values = dict(zip(world.test.names, world.test.values[row].tolist(), strict=True))
    sentences = reasons("Ana", world.test_query, values, explained[row])
    assert sentences, f"{fitted.kind} gave no reason for the obvious choice"
    assert all("Ana" in s for s in sentences)
    # The friend who never checked in has no evidence, so no reasons.
    no_history = FRIENDS_OF_0.index(5)
    empty = dict(zip(world.test.names, world.test.values[no_history].tolist(), strict=True))
    assert reasons("Bo", world.test_query, empty, explained[no_history]) == []


def test_save_and_load_round_trip(fitted: PartnerModel, world: World, tmp_path: Path) -> None:
    path = tmp_path / "model.json"
    fitted.save(path)
    loaded = load_model(path)
    assert type(loaded) is type(fitted)
    assert loaded.get_params() == fitted.get_params()
    np.testing.assert_allclose(loaded.predict(world.test), fitted.predict(world.test))


def test_the_issue_example_reason(world: World) -> None:
    model = LogisticPartnerModel().fit(world.train, world.train_labels)
    row = FRIENDS_OF_0.index(1)
    values = dict(zip(world.test.names, world.test.values[row].tolist(), strict=True))
    sentences = reasons(
        "Ana", world.test_query, values, model.explain(world.test, top=14)[row], limit=14
    )
    assert "Ana joined 5 of your last 5 Sunday tennis outings" in sentences
    assert "Ana is usually out on Sunday mornings" in sentences
