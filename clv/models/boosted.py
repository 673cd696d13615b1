"""Gradient-boosted spend, purchase-count and churn models (XGBoost).

Both estimators follow the scikit-learn contract and take a feature table such as
:func:`clv.features.customer_features` (numeric and pandas ``category`` columns;
``customer_id`` and ``cutoff`` are never features; predictions keep the input's
index). The spend objective defaults to the hurdle and ``n_jobs`` to 1: the CDNOW
and thread measurements behind both are in DESIGN.md, "Decisions".
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd

from clv._validation import check_choice, check_number
from clv.errors import InvalidDataError, InvalidParameterError
from clv.models._boosted_base import BoostedModel, store_arguments
from clv.models._boosted_churn import BoostedChurnModel
from clv.models._persistence import register

__all__ = ["BoostedChurnModel", "BoostedSpendModel"]

_SPEND_OBJECTIVES = ("reg:tweedie", "reg:squarederror", "count:poisson", "hurdle")


@register
class BoostedSpendModel(BoostedModel):
    """XGBoost regressor of a non-negative total (future spend, or purchase counts).

    Parameters
    ----------
    objective : {"hurdle", "reg:tweedie", "reg:squarederror", "count:poisson"}, default "hurdle"
        ``"hurdle"`` (the default, chosen on CDNOW: DESIGN.md, "Decisions") is a
        two-part model, ``P(y > 0)`` (logistic) times ``E[y | y > 0]`` (gamma regression
        on the positive rows); ``"reg:tweedie"`` suits zero-inflated, skewed spend in
        one booster; ``"count:poisson"`` suits purchase counts.
    tweedie_variance_power : float, default 1.5
        Tweedie power in (1, 2) (only for ``"reg:tweedie"``).
    offset : str, optional
        Name of a column of ``X`` holding a prior prediction of the target (response
        scale, e.g. BG/NBD x Gamma-Gamma's expected spend). The booster then starts
        from ``log(offset)`` (XGBoost's ``base_margin``) and learns a multiplicative
        correction; only with ``"reg:tweedie"`` or ``"count:poisson"``.
    n_estimators : int, default 300
        Boosting rounds.
    learning_rate : float, default 0.05
        Shrinkage per round.
    max_depth : int, default 4
        Depth of each tree.
    min_child_weight : float, default 5.0
        Minimum hessian weight in a leaf.
    subsample, colsample_bytree : float, default 0.8
        Row and column sampling per tree.
    reg_lambda : float, default 1.0
        L2 penalty on leaf weights.
    random_state : int, default 0
        Seed (training is deterministic).
    n_jobs : int, default 1
        XGBoost threads. One by default: on a shared machine more threads wait on
        each other and multiply the training time (DESIGN.md, "Decisions");
        raise it on dedicated cores.

    Attributes
    ----------
    feature_names_ : list of str
        Feature columns, in training order.
    categories_ : dict
        Categories of every categorical feature (unknown values predict as missing).
    booster_ : xgboost.Booster
        The fitted booster (the positive-part booster is ``positive_booster_`` for the
        hurdle).
    """

    _booster_files: ClassVar[tuple[str, ...]] = ("booster.ubj", "positive_booster.ubj")

    def __init__(
        self,
        *,
        objective: str = "hurdle",
        tweedie_variance_power: float = 1.5,
        offset: str | None = None,
        n_estimators: int = 300,
        learning_rate: float = 0.05,
        max_depth: int = 4,
        min_child_weight: float = 5.0,
        subsample: float = 0.8,
        colsample_bytree: float = 0.8,
        reg_lambda: float = 1.0,
        random_state: int = 0,
        n_jobs: int = 1,
    ):
        store_arguments(self, locals())

    def _check_hyperparameters(self) -> None:
        super()._check_hyperparameters()
        owner = "BoostedSpendModel"
        check_choice("objective", self.objective, _SPEND_OBJECTIVES, owner=owner)
        check_number(
            "tweedie_variance_power",
            self.tweedie_variance_power,
            owner=owner,
            low=1.0,
            low_open=True,
            high=2.0,
        )
        if self.offset is not None and self.objective not in ("reg:tweedie", "count:poisson"):
            raise InvalidParameterError(
                "An 'offset' needs a log-link objective ('reg:tweedie' or 'count:poisson'); "
                f"got objective={self.objective!r}."
            )

    def fit(self, X: pd.DataFrame, y: object, sample_weight: object = None) -> BoostedSpendModel:
        """Fit the regressor.

        Parameters
        ----------
        X : pandas.DataFrame
            Feature table (``customer_id``, ``cutoff`` and label columns are ignored).
        y : array-like of shape (n_rows,)
            Non-negative targets (e.g. ``future_spend``).
        sample_weight : array-like of shape (n_rows,), optional
            Row weights.

        Returns
        -------
        self
            The fitted model.
        """
        self._check_hyperparameters()
        self._learn_features(X)
        frame = self._features(X)
        target = self._labels(y, len(frame), "y")
        if np.any(target < 0):
            raise InvalidDataError(
                f"y: {int((target < 0).sum())} targets are negative; spend and counts are >= 0."
            )
        weights = self._weights(sample_weight, len(frame))
        self.positive_booster_ = None
        if self.objective == "hurdle":
            positive = target > 0
            self.booster_ = self._train(
                frame, positive.astype("float64"), weights, "binary:logistic"
            )
            if positive.sum() == 0:
                raise InvalidDataError("y: every target is 0; the hurdle model has nothing to fit.")
            self.positive_booster_ = self._train(
                frame.loc[positive].reset_index(drop=True),
                target[positive],
                None if weights is None else weights[positive],
                "reg:gamma",
            )
        elif self.objective == "reg:tweedie":
            self.booster_ = self._train(
                frame,
                target,
                weights,
                "reg:tweedie",
                self._margin(X),
                tweedie_variance_power=float(self.tweedie_variance_power),
            )
        else:
            self.booster_ = self._train(frame, target, weights, self.objective, self._margin(X))
        return self

    def predict(self, X: pd.DataFrame) -> pd.Series:
        """Predicted target for every row.

        Parameters
        ----------
        X : pandas.DataFrame
            Feature table with the training columns.

        Returns
        -------
        pandas.Series
            Non-negative predictions (squared error is clipped at 0), indexed like
            ``X``.
        """
        self._check_is_fitted()
        matrix = self._dmatrix(self._features(X), margin=self._margin(X))
        values = self.booster_.predict(matrix).astype("float64")
        if self.positive_booster_ is not None:
            values = values * self.positive_booster_.predict(matrix).astype("float64")
        return pd.Series(np.clip(values, 0.0, None), index=X.index, name="prediction")

    def _boosters(self) -> list[Any]:
        return [self.booster_] + ([self.positive_booster_] if self.positive_booster_ else [])

    def _set_boosters(self, boosters: list[Any]) -> None:
        self.booster_ = boosters[0]
        self.positive_booster_ = boosters[1] if len(boosters) > 1 else None
