"""Single-signal baselines: each ranks friends by one piece of evidence.

They need no training (``fit`` only checks its input) and are what the server falls
back to when no trained model is available.
"""

from __future__ import annotations

from typing import Any, ClassVar, Self

import numpy as np
import numpy.typing as npt

from kith.partners.features import FeatureMatrix
from kith.partners.models.base import Contribution, PartnerModel, register_model


class SingleSignal(PartnerModel):
    """Score = one feature column."""

    feature: ClassVar[str]

    def fit(self, features: FeatureMatrix, labels: npt.NDArray[np.bool_]) -> Self:
        if len(labels) != len(features):
            raise ValueError("labels and features differ in length")
        return self

    def predict(self, features: FeatureMatrix) -> npt.NDArray[np.float64]:
        return features.column(self.feature).astype(np.float64)

    def explain(self, features: FeatureMatrix, *, top: int = 3) -> list[list[Contribution]]:
        values = self.predict(features)
        return [[(self.feature, float(v))] if v > 0 else [] for v in values]

    def get_params(self) -> dict[str, Any]:
        return {}

    def _state(self) -> dict[str, Any]:
        return {}

    def _restore(self, state: dict[str, Any]) -> None:
        return None


@register_model
class CoAttendance(SingleSignal):
    """How often the friend was with the asker before (same place, within the hour)."""

    kind = "baseline_coattendance"
    feature = "coattend"


@register_model
class Recency(SingleSignal):
    """How recently the friend was last with the asker."""

    kind = "baseline_recency"
    feature = "recency"


@register_model
class WeeklyPrior(SingleSignal):
    """How much of the friend's week falls in the asked-about slot (day x part of day)."""

    kind = "baseline_weekly_prior"
    feature = "friend_slot_share"


@register_model
class AdamicAdar(SingleSignal):
    """Adamic-Adar index of asker and friend on the co-location graph."""

    kind = "baseline_adamic_adar"
    feature = "adamic_adar"


BASELINES: tuple[type[SingleSignal], ...] = (CoAttendance, Recency, WeeklyPrior, AdamicAdar)
