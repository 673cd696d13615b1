"""Gradient-boosted churn model (XGBoost), calibrated on held-out customers."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd

from clv._validation import check_choice, check_number
from clv.errors import InvalidDataError
from clv.models._boosted_base import BoostedModel, store_arguments
from clv.models._persistence import register

__all__ = ["BoostedChurnModel"]

_CALIBRATIONS = ("isotonic", "sigmoid", None)


def _logit(probability: np.ndarray) -> np.ndarray:
    return np.log(np.clip(probability, 1e-9, 1 - 1e-9) / np.clip(1 - probability, 1e-9, 1))


@register
class BoostedChurnModel(BoostedModel):
    """XGBoost classifier of churn (no purchase in the horizon), calibrated.

    The booster is trained on a share of the customers; its raw probabilities on the
    other customers (``calibration_fraction``, split by ``customer_id`` so that the
    rows of one customer at several cutoffs stay together) fit the calibration map:
    isotonic regression (default) or Platt's sigmoid on the log-odds. The map is
    stored as numbers in the JSON metadata.

    Parameters
    ----------
    calibration : {"isotonic", "sigmoid", None}, default "isotonic"
        Calibration map; ``None`` trains on every row and returns raw probabilities.
    calibration_fraction : float, default 0.25
        Share of customers held out to fit the calibration map.
    offset : str, optional
        Name of a column of ``X`` holding a prior churn probability (e.g. BG/NBD's
        probability of no purchase); the booster starts from its log-odds.
    n_estimators, learning_rate, max_depth, min_child_weight, subsample, colsample_bytree, reg_lambda, random_state, n_jobs
        As in :class:`BoostedSpendModel`.

    Attributes
    ----------
    feature_names_, categories_, booster_
        As in :class:`BoostedSpendModel`.
    calibration_ : dict
        The map (``{"kind": "isotonic", "x": [...], "y": [...]}`` or
        ``{"kind": "sigmoid", "a": ..., "b": ...}``) and the Brier scores of the raw
        and calibrated probabilities on the held-out customers
        (``brier_raw``, ``brier_calibrated``).
    """

    _logit_margin: ClassVar[bool] = True

    def __init__(
        self,
        *,
        calibration: str | None = "isotonic",
        calibration_fraction: float = 0.25,
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
        owner = "BoostedChurnModel"
        check_choice("calibration", self.calibration, _CALIBRATIONS, owner=owner)
        check_number(
            "calibration_fraction", self.calibration_fraction, owner=owner, low_open=True, high=0.9
        )

    def _held_out(self, X: pd.DataFrame) -> np.ndarray:
        groups = X["customer_id"].to_numpy() if "customer_id" in X.columns else np.arange(len(X))
        codes, uniques = pd.factorize(groups, sort=True)
        rng = np.random.default_rng(int(self.random_state))
        chosen = rng.random(len(uniques)) < float(self.calibration_fraction)
        return chosen[codes]

    def fit(self, X: pd.DataFrame, y: object, sample_weight: object = None) -> BoostedChurnModel:
        """Fit the classifier and its calibration map.

        Parameters
        ----------
        X : pandas.DataFrame
            Feature table; ``customer_id`` (when present) groups rows for the split.
        y : array-like of shape (n_rows,)
            1 (or True) where the customer churned, else 0.
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
        if not np.all((target == 0) | (target == 1)):
            raise InvalidDataError("y must hold 0/1 (or booleans): 1 where the customer churned.")
        weights = self._weights(sample_weight, len(frame))
        margin = self._margin(X)
        if self.calibration is None:
            self.booster_ = self._train(frame, target, weights, "binary:logistic", margin)
            self.calibration_ = {"kind": None}
            return self
        held = self._held_out(X)
        if held.all() or not held.any() or len(np.unique(target[held])) < 2:
            raise InvalidDataError(
                f"Calibration needs both classes among the held-out customers "
                f"({int(held.sum())} of {len(held)} rows held out); give more customers or "
                "use calibration=None."
            )
        train = ~held
        self.booster_ = self._train(
            frame.loc[train].reset_index(drop=True),
            target[train],
            None if weights is None else weights[train],
            "binary:logistic",
            None if margin is None else margin[train],
        )
        raw = self.booster_.predict(
            self._dmatrix(
                frame.loc[held].reset_index(drop=True),
                margin=None if margin is None else margin[held],
            )
        ).astype("float64")
        w = None if weights is None else weights[held]
        self.calibration_ = self._fit_map(raw, target[held], w)
        calibrated = self._apply_map(raw)
        self.calibration_["brier_raw"] = float(np.average((raw - target[held]) ** 2, weights=w))
        self.calibration_["brier_calibrated"] = float(
            np.average((calibrated - target[held]) ** 2, weights=w)
        )
        return self

    def _fit_map(self, raw: np.ndarray, target: np.ndarray, weights) -> dict[str, Any]:
        if self.calibration == "isotonic":
            from sklearn.isotonic import IsotonicRegression

            iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
            iso.fit(raw, target, sample_weight=weights)
            return {
                "kind": "isotonic",
                "x": [float(v) for v in iso.X_thresholds_],
                "y": [float(v) for v in iso.y_thresholds_],
            }
        from sklearn.linear_model import LogisticRegression

        platt = LogisticRegression(C=1e6).fit(_logit(raw)[:, None], target, sample_weight=weights)
        return {"kind": "sigmoid", "a": float(platt.coef_[0, 0]), "b": float(platt.intercept_[0])}

    def _apply_map(self, raw: np.ndarray) -> np.ndarray:
        kind = self.calibration_.get("kind")
        if kind == "isotonic":
            return np.interp(raw, self.calibration_["x"], self.calibration_["y"])
        if kind == "sigmoid":
            return 1.0 / (
                1.0 + np.exp(-(self.calibration_["a"] * _logit(raw) + self.calibration_["b"]))
            )
        return raw

    def predict_proba(self, X: pd.DataFrame, *, calibrated: bool = True) -> np.ndarray:
        """Probabilities of staying (column 0) and churning (column 1).

        Parameters
        ----------
        X : pandas.DataFrame
            Feature table with the training columns.
        calibrated : bool, default True
            Apply the calibration map (False gives the booster's raw output).

        Returns
        -------
        numpy.ndarray of shape (n_rows, 2)
        """
        self._check_is_fitted()
        raw = self.booster_.predict(
            self._dmatrix(self._features(X), margin=self._margin(X))
        ).astype("float64")
        churn = np.clip(self._apply_map(raw) if calibrated else raw, 0.0, 1.0)
        return np.column_stack([1.0 - churn, churn])

    def churn_probability(self, X: pd.DataFrame, *, calibrated: bool = True) -> pd.Series:
        """Probability of no purchase in the horizon, per row.

        Parameters
        ----------
        X : pandas.DataFrame
            Feature table with the training columns.
        calibrated : bool, default True
            Apply the calibration map.

        Returns
        -------
        pandas.Series
            Values in [0, 1], indexed like ``X``.
        """
        values = self.predict_proba(X, calibrated=calibrated)[:, 1]
        return pd.Series(values, index=X.index, name="churn_probability")

    def _boosters(self) -> list[Any]:
        return [self.booster_]

    def _set_boosters(self, boosters: list[Any]) -> None:
        self.booster_ = boosters[0]

    def _extra_state(self) -> dict[str, Any]:
        return {"calibration": self.calibration_}

    def _set_extra_state(self, state: dict[str, Any]) -> None:
        self.calibration_ = dict(state.get("calibration", {"kind": None}))
