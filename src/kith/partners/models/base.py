"""The estimator interface every "who's up for it?" model shares, and its file format.

    model = LogisticPartnerModel(C=0.5).fit(features, labels)   # returns the model
    scores = model.predict(features)                            # one score per row
    reasons = model.explain(features)                           # top signals per row
    model.save(path); model = load_model(path)

Models take a :class:`~kith.partners.features.FeatureMatrix` (plain arrays), never a
database session. Hyperparameters are set in ``__init__``; learned state ends in
``_``. A saved model is one JSON document (no pickle: loading a file never runs code),
tagged with :data:`FORMAT` and :data:`VERSION`; anything else is refused with
:class:`ModelUnavailable` so the server can fall back to the baselines.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
import numpy.typing as npt

# Re-exported: the errors live in the one tree (kith.errors) so the API maps them once.
from kith.errors import ModelUnavailable, NotFitted
from kith.partners.features import FeatureMatrix

__all__ = ["ModelUnavailable", "NotFitted", "PartnerModel", "load_model"]

FORMAT = "kith.partners.model"
VERSION = 1


Contribution = tuple[str, float]


class PartnerModel(ABC):
    """Score each (question, candidate) row: higher means more likely to come."""

    # Registry key, also the name in evaluation reports.
    kind: ClassVar[str]

    @abstractmethod
    def fit(self, features: FeatureMatrix, labels: npt.NDArray[np.bool_]) -> Self: ...

    @abstractmethod
    def predict(self, features: FeatureMatrix) -> npt.NDArray[np.float64]: ...

    @abstractmethod
    def explain(self, features: FeatureMatrix, *, top: int = 3) -> list[list[Contribution]]:
        """For each row, the signals that raised its score most, largest first."""

    @abstractmethod
    def get_params(self) -> dict[str, Any]: ...

    @abstractmethod
    def _state(self) -> dict[str, Any]:
        """Learned state as JSON-ready values."""

    @abstractmethod
    def _restore(self, state: dict[str, Any]) -> None: ...

    def save(self, path: Path) -> None:
        document = {
            "format": FORMAT,
            "version": VERSION,
            "kind": self.kind,
            "params": self.get_params(),
            "state": self._state(),
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(document), encoding="utf-8")
        # Readers (the server) never see a half-written model.
        tmp.replace(path)


REGISTRY: dict[str, type[PartnerModel]] = {}


def register_model(cls: type[PartnerModel]) -> type[PartnerModel]:
    REGISTRY[cls.kind] = cls
    return cls


def model_classes() -> dict[str, type[PartnerModel]]:
    """Every registered model by kind (one registry drives the CLI, loading and tests)."""
    # Importing the implementations fills the registry.
    import kith.partners.models.baselines
    import kith.partners.models.learned  # noqa: F401

    return dict(REGISTRY)


def load_model(path: Path) -> PartnerModel:
    """Read a saved model; every failure is a :class:`ModelUnavailable` saying why."""
    classes = model_classes()
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelUnavailable(f"no model file at {path}; run `kith partners train`") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelUnavailable(f"model file {path} is unreadable or corrupt: {exc}") from exc
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ModelUnavailable(f"{path} is not a kith partners model file")
    if document.get("version") != VERSION:
        raise ModelUnavailable(
            f"{path} has model format version {document.get('version')!r}; "
            f"this kith reads version {VERSION}: retrain it"
        )
    cls = classes.get(str(document.get("kind")))
    if cls is None:
        raise ModelUnavailable(f"{path} holds an unknown model kind {document.get('kind')!r}")
    try:
        model = cls(**document["params"])
        model._restore(document["state"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelUnavailable(f"model file {path} is corrupt: {exc!r}") from exc
    return model


def top_contributions(
    names: tuple[str, ...], contributions: npt.NDArray[np.float64], top: int
) -> list[list[Contribution]]:
    """The ``top`` positive contributions of each row, largest first."""
    out: list[list[Contribution]] = []
    for row in contributions:
        order = np.argsort(-row, kind="stable")[:top]
        out.append([(names[i], float(row[i])) for i in order if row[i] > 0])
    return out
