"""A missing, corrupt or foreign model file is a clear ModelUnavailable, never a crash."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kith.partners.models.base import FORMAT, VERSION, ModelUnavailable, NotFitted, load_model
from kith.partners.models.learned import BoostedPartnerModel, LogisticPartnerModel
from tests.partners.conftest import World


def _document(**changes: object) -> str:
    doc = {
        "format": FORMAT,
        "version": VERSION,
        "kind": "logistic",
        "params": {"C": 1.0, "features": ["coattend", "recency"]},
        "state": {"coef": [1.0, 2.0], "intercept": 0.0, "mean": [0, 0], "scale": [1, 1]},
    }
    doc.update(changes)
    return json.dumps(doc)


CORRUPT = [
    pytest.param("{not json", "corrupt", id="not-json"),
    pytest.param(b"\xff\xfe\x00garbage", "corrupt", id="binary"),
    pytest.param("[1, 2, 3]", "not a kith partners model", id="not-an-object"),
    pytest.param(_document(format="something-else"), "not a kith partners model", id="format"),
    pytest.param(_document(version=99), "retrain", id="version"),
    pytest.param(_document(kind="oracle"), "unknown model kind", id="kind"),
    pytest.param(_document(params={"gamma": 1}), "corrupt", id="bad-params"),
    pytest.param(
        _document(state={"coef": [1.0], "intercept": 0, "mean": [0], "scale": [1]}),
        "corrupt",
        id="state-shape",
    ),
    pytest.param(_document(state={}), "corrupt", id="state-missing"),
    pytest.param(
        _document(kind="boosted", params={}, state={"booster": "tree\nnonsense"}),
        "corrupt",
        id="booster-garbage",
    ),
]


@pytest.mark.parametrize(("content", "message"), CORRUPT)
def test_corrupt_files_are_refused_with_a_reason(
    tmp_path: Path, content: str | bytes, message: str
) -> None:
    path = tmp_path / "model.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    with pytest.raises(ModelUnavailable, match=message) as caught:
        load_model(path)
    assert caught.value.code == "model-unavailable"


def test_a_missing_file_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailable, match="kith partners train"):
        load_model(tmp_path / "absent.json")


def test_a_valid_hand_written_file_loads(tmp_path: Path) -> None:
    path = tmp_path / "model.json"
    path.write_text(_document())
    model = load_model(path)
    assert isinstance(model, LogisticPartnerModel)
    assert model.features == ("coattend", "recency")


@pytest.mark.parametrize("cls", [LogisticPartnerModel, BoostedPartnerModel])
def test_unfitted_models_refuse_to_predict_or_save(
    cls: type[LogisticPartnerModel] | type[BoostedPartnerModel], world: World, tmp_path: Path
) -> None:
    model = cls()
    with pytest.raises(NotFitted):
        model.predict(world.test)
    with pytest.raises(NotFitted):
        model.save(tmp_path / "m.json")
    assert not (tmp_path / "m.json").exists()
