"""Learned models: combine every signal, trained on meetups that happened.

* :class:`LogisticPartnerModel`: logistic regression on log-scaled, standardised
  features. Scoring is one dot product (microseconds per friend, no scikit-learn at
  serving time) and each feature's share of the score is an honest explanation.
* :class:`BoostedPartnerModel`: LightGBM gradient boosting (LambdaRank within each
  question), explained with path contributions (each split's change in the tree's
  expected value, credited to its feature; they add up to the score like SHAP values,
  at a look-up per tree, fast enough to serve). By default every feature is
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


def path_contributions(dump: dict[str, Any], n_features: int) -> npt.NDArray[np.float64]:
    """``table[tree, leaf, feature]`` from a LightGBM model dump (``Booster.dump_model``)."""
    trees = dump["tree_info"]
    leaves = max(int(t["num_leaves"]) for t in trees) if trees else 1
    table = np.zeros((len(trees), leaves, n_features))
    for t, info in enumerate(trees):
        root = info["tree_structure"]
        stack = [(root, np.zeros(n_features))] if "split_feature" in root else []
        while stack:
            node, above = stack.pop()
            for side in ("left_child", "right_child"):
                child = node[side]
                value = child["leaf_value"] if "leaf_index" in child else child["internal_value"]
                here = above.copy()
                here[int(node["split_feature"])] += value - node["internal_value"]
                if "leaf_index" in child:
                    table[t, int(child["leaf_index"])] = here
                else:
                    stack.append((child, here))
    return table


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
        # One thread: a request scores a few dozen rows, and LightGBM's thread pool costs
        # more than it saves there (ten times more on a busy machine).
        scores = booster.predict(_design(features, self.features), num_threads=1)
        return np.asarray(scores, dtype=np.float64)

    def explain(self, features: FeatureMatrix, *, top: int = 3) -> list[list[Contribution]]:
        """Path contributions (Saabas): along the path to each row's leaf in every tree,
        each split's feature is credited with the change in the tree's expected value.
        Like SHAP they add up to the score (minus the trees' base values); unlike
        LightGBM's TreeSHAP they cost one table look-up per tree, not a walk of every
        path (about 20 ms for 50 friends), so a suggestion can afford them."""
        booster = self._check()
        table = self._paths()
        leaves = booster.predict(
            _design(features, self.features), pred_leaf=True, num_threads=1
        ).astype(np.int64)
        contributions = table[np.arange(table.shape[0]), leaves].sum(axis=1)
        return top_contributions(self.features, contributions, top)

    def _paths(self) -> npt.NDArray[np.float64]:
        """Per tree and leaf, what each feature adds on the way there (built once)."""
        cached: npt.NDArray[np.float64] | None = getattr(self, "paths_", None)
        if cached is None:
            cached = path_contributions(self._check().dump_model(), len(self.features))
            self.paths_ = cached
        return cached

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
