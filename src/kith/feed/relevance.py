"""Relevance from implicit feedback: alternating least squares (Hu, Koren & Volinsky 2008).

A thin estimator around ``implicit``'s CPU ALS: hyperparameters in ``__init__``, learned
factors in ``user_factors_``/``item_factors_``, ``fit`` returns ``self``. It runs on one
BLAS thread (kith shares machines; implicit also warns that threaded BLAS slows it down).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from scipy.sparse import csr_matrix  # type: ignore[import-untyped,unused-ignore]


class ImplicitALS:
    def __init__(
        self,
        *,
        factors: int = 32,
        regularization: float = 1.0,
        alpha: float = 4.0,
        iterations: int = 15,
        random_state: int = 0,
    ) -> None:
        self.factors = factors
        self.regularization = regularization
        self.alpha = alpha
        self.iterations = iterations
        self.random_state = random_state

    def fit(self, user_items: csr_matrix) -> ImplicitALS:
        """Fit on a users x items matrix of interaction strengths (1 for a positive)."""
        from implicit.cpu.als import (  # type: ignore[import-untyped,unused-ignore]
            AlternatingLeastSquares,
        )
        from threadpoolctl import threadpool_limits  # type: ignore[import-untyped,unused-ignore]

        with threadpool_limits(limits=1, user_api="blas"):
            model = AlternatingLeastSquares(
                factors=self.factors,
                regularization=self.regularization,
                alpha=self.alpha,
                iterations=self.iterations,
                random_state=self.random_state,
                num_threads=1,
            )
            model.fit(user_items.tocsr().astype(np.float32), show_progress=False)
        self.user_factors_: npt.NDArray[np.float32] = np.asarray(model.user_factors)
        self.item_factors_: npt.NDArray[np.float32] = np.asarray(model.item_factors)
        return self

    def score(
        self, user: int, items: npt.NDArray[np.int64] | None = None
    ) -> npt.NDArray[np.float64]:
        """Predicted preference of ``user`` (a row of the fitted matrix) for ``items`` (all)."""
        factors = self.item_factors_ if items is None else self.item_factors_[items]
        scores: npt.NDArray[np.float64] = (factors @ self.user_factors_[user]).astype(np.float64)
        return scores

    def score_all(self) -> npt.NDArray[np.float32]:
        """Every user's predicted preference for every item, in one product (users x items)."""
        scores: npt.NDArray[np.float32] = self.user_factors_ @ self.item_factors_.T
        return scores
