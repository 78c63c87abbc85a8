"""Learned models: combine every signal, trained on meetups that happened.

* :class:`LogisticPartnerModel`: logistic regression on log-scaled, standardised
  features. Scoring is one dot product (microseconds per friend, no scikit-learn at
  serving time) and each feature's share of the score is an honest explanation.
* :class:`BoostedPartnerModel`: LightGBM gradient boosting (LambdaRank within each
  question), explained with SHAP contributions. By default every feature is
  *monotone increasing*: more evidence never lowers a friend's score. That keeps the
  trees from learning odd steps (such as "exactly zero evidence is special", which is
  how the "no check-in yet" artefact would creep in) and makes the reasons sensible.
  This is the model ``kith eval partners`` reports as ``learned``.
"""

from __future__ import annotations

from typing import Any, Self

import numpy as np
import numpy.typing as npt

from kith.partners.features import FEATURES, FeatureMatrix
from kith.partners.models.base import (
    Contribution,
    NotFitted,
    PartnerModel,
    register_model,
    top_contributions,
)

# Counts have long tails: log1p keeps one friend with 80 meetups from swamping the fit.
_COUNT_FEATURES = frozenset(
    {
        "coattend",
        "coattend_activity",
        "coattend_slot",
        "recent_joined",
        "friend_cell_visits",
        "mutual_friends",
    }
)


def _design(features: FeatureMatrix, names: tuple[str, ...]) -> npt.NDArray[np.float64]:
    x = features.columns(names).astype(np.float64)
    for i, name in enumerate(names):
        if name in _COUNT_FEATURES:
            x[:, i] = np.log1p(x[:, i])
    return x


@register_model
class LogisticPartnerModel(PartnerModel):
    kind = "logistic"

    def __init__(self, *, C: float = 1.0, features: tuple[str, ...] | list[str] = FEATURES):
        self.C = C
        self.features = tuple(features)

    def get_params(self) -> dict[str, Any]:
        return {"C": self.C, "features": list(self.features)}

    def fit(self, features: FeatureMatrix, labels: npt.NDArray[np.bool_]) -> Self:
        from sklearn.linear_model import LogisticRegression

        x = _design(features, self.features)
        y = np.asarray(labels, dtype=bool)
        if len(np.unique(y)) < 2:
            raise ValueError("training needs both friends who came and friends who did not")
        self.mean_ = x.mean(axis=0)
        scale = x.std(axis=0)
        # A constant column (a signal absent from this data) must not divide by zero.
        self.scale_ = np.where(scale > 0, scale, 1.0)
        fitted = LogisticRegression(C=self.C, max_iter=1000).fit((x - self.mean_) / self.scale_, y)
        self.coef_ = fitted.coef_[0].astype(np.float64)
        self.intercept_ = float(fitted.intercept_[0])
        return self

    def _z(self, features: FeatureMatrix) -> npt.NDArray[np.float64]:
        if not hasattr(self, "coef_"):
            raise NotFitted("fit or load the model before predicting")
        z: npt.NDArray[np.float64] = (_design(features, self.features) - self.mean_) / self.scale_
        return z

    def predict(self, features: FeatureMatrix) -> npt.NDArray[np.float64]:
        return np.asarray(self._z(features) @ self.coef_ + self.intercept_, dtype=np.float64)

    def explain(self, features: FeatureMatrix, *, top: int = 3) -> list[list[Contribution]]:
        # Contribution relative to a friend with no evidence at all (every feature 0),
        # so "no evidence" explains nothing and every reason is something that happened.
        zero = (np.zeros(len(self.features)) - self.mean_) / self.scale_
        contributions = (self._z(features) - zero) * self.coef_
        return top_contributions(self.features, contributions, top)

    def _state(self) -> dict[str, Any]:
        if not hasattr(self, "coef_"):
            raise NotFitted("cannot save a model that was never fitted")
        return {
            "coef": self.coef_.tolist(),
            "intercept": self.intercept_,
            "mean": self.mean_.tolist(),
            "scale": self.scale_.tolist(),
        }

    def _restore(self, state: dict[str, Any]) -> None:
        n = len(self.features)
        arrays = {k: np.asarray(state[k], dtype=np.float64) for k in ("coef", "mean", "scale")}
        if any(a.shape != (n,) for a in arrays.values()):
            raise ValueError("state does not match the feature list")
        self.coef_, self.mean_, self.scale_ = arrays["coef"], arrays["mean"], arrays["scale"]
        self.intercept_ = float(state["intercept"])


@register_model
class BoostedPartnerModel(PartnerModel):
    kind = "boosted"

    def __init__(
        self,
        *,
        n_estimators: int = 200,
        learning_rate: float = 0.05,
        num_leaves: int = 7,
        min_child_samples: int = 20,
        features: tuple[str, ...] | list[str] = FEATURES,
        monotone: bool = True,
        seed: int = 0,
    ):
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.features = tuple(features)
        self.monotone = monotone
        self.seed = seed

    def get_params(self) -> dict[str, Any]:
        return {
            "n_estimators": self.n_estimators,
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_child_samples": self.min_child_samples,
            "features": list(self.features),
            "monotone": self.monotone,
            "seed": self.seed,
        }

    def fit(self, features: FeatureMatrix, labels: npt.NDArray[np.bool_]) -> Self:
        import lightgbm

        y = np.asarray(labels, dtype=np.int64)
        group_sizes = [len(g) for g in features.groups()]
        ranker = lightgbm.LGBMRanker(
            n_estimators=self.n_estimators,
            learning_rate=self.learning_rate,
            num_leaves=self.num_leaves,
            min_child_samples=self.min_child_samples,
            random_state=self.seed,
            n_jobs=1,
            deterministic=True,
            monotone_constraints=[1 if self.monotone else 0] * len(self.features),
            verbose=-1,
        )
        ranker.fit(_design(features, self.features), y, group=group_sizes)
        self.booster_ = ranker.booster_
        return self

    def _check(self) -> Any:
        if not hasattr(self, "booster_"):
            raise NotFitted("fit or load the model before predicting")
        booster: Any = self.booster_
        return booster

    def predict(self, features: FeatureMatrix) -> npt.NDArray[np.float64]:
        booster = self._check()
        return np.asarray(booster.predict(_design(features, self.features)), dtype=np.float64)

    def explain(self, features: FeatureMatrix, *, top: int = 3) -> list[list[Contribution]]:
        booster = self._check()
        shap = np.asarray(booster.predict(_design(features, self.features), pred_contrib=True))
        return top_contributions(self.features, shap[:, :-1], top)

    def _state(self) -> dict[str, Any]:
        return {"booster": self._check().model_to_string()}

    def _restore(self, state: dict[str, Any]) -> None:
        import lightgbm

        text = state["booster"]
        if not isinstance(text, str):
            raise ValueError("booster must be text")
        try:
            self.booster_ = lightgbm.Booster(model_str=text)
        except lightgbm.basic.LightGBMError as exc:
            raise ValueError(f"LightGBM could not read the booster: {exc}") from exc
