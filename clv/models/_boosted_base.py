"""What the boosted models share: feature checks, XGBoost training, persistence.

XGBoost is imported only when a model is fitted, predicts or is loaded. A fitted model
is a folder: its booster(s) in XGBoost's UBJSON format and ``model.json``, which starts
with the header of :mod:`clv.models._persistence` (format ``"clv-boosted-model"``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from clv._estimator_contract import Estimator
from clv._validation import check_is_fitted, check_number, check_sample_weight
from clv.errors import InvalidDataError, ModelLoadError
from clv.models._persistence import check_header, header, model_folder, parse, read_text, write_json

__all__ = ["FORMAT_NAME"]

FORMAT_NAME = "clv-boosted-model"
_NOT_FEATURES = ("customer_id", "cutoff", "future_purchases", "future_spend", "churned")
# Hyperparameters that xgboost.XGBRegressor takes under the same names.
_XGB_ARGUMENTS = (
    "n_estimators",
    "learning_rate",
    "max_depth",
    "min_child_weight",
    "subsample",
    "colsample_bytree",
    "reg_lambda",
    "random_state",
    "n_jobs",
)


def _xgboost():
    try:
        import xgboost
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError("The boosted models need XGBoost: pip install 'clv[boost]'.") from error
    return xgboost


def store_arguments(estimator: Estimator, arguments: dict[str, Any]) -> None:
    """Set a constructor's keyword arguments as attributes (the scikit-learn contract)."""
    for name, value in arguments.items():
        if name != "self":
            setattr(estimator, name, value)


class BoostedModel(Estimator):
    """Shared machinery: feature checks, training (XGBRegressor), DMatrix, persistence."""

    _booster_files: ClassVar[tuple[str, ...]] = ("booster.ubj",)
    _logit_margin: ClassVar[bool] = False  # the offset is a probability (churn)

    # -- checks ----------------------------------------------------------------------

    def _check_hyperparameters(self) -> None:
        owner = type(self).__name__
        check_number("n_estimators", self.n_estimators, owner=owner, low_open=True, integer=True)
        check_number("learning_rate", self.learning_rate, owner=owner, low_open=True, high=1.0)
        check_number("max_depth", self.max_depth, owner=owner, low_open=True, integer=True)
        check_number("min_child_weight", self.min_child_weight, owner=owner)
        check_number("subsample", self.subsample, owner=owner, low_open=True, high=1.0)
        check_number(
            "colsample_bytree", self.colsample_bytree, owner=owner, low_open=True, high=1.0
        )
        check_number("reg_lambda", self.reg_lambda, owner=owner)
        check_number("random_state", self.random_state, owner=owner, integer=True)
        check_number("n_jobs", self.n_jobs, owner=owner, low_open=True, integer=True)

    def _check_is_fitted(self) -> None:
        check_is_fitted(self, "feature_names_", "fit(X, y) or load()")

    def _check_frame(self, X: object) -> None:
        if not isinstance(X, pd.DataFrame):
            raise InvalidDataError(
                f"{type(self).__name__} takes a pandas DataFrame of features; got "
                f"{type(X).__name__}."
            )

    def _learn_features(self, X: pd.DataFrame) -> None:
        self._check_frame(X)
        names = [str(c) for c in X.columns if c not in _NOT_FEATURES]
        if not names:
            raise InvalidDataError(f"{type(self).__name__}: the table has no feature column.")
        categories: dict[str, list[Any]] = {}
        for name in names:
            dtype = X[name].dtype
            if isinstance(dtype, pd.CategoricalDtype):
                categories[name] = [
                    value.item() if hasattr(value, "item") else value for value in dtype.categories
                ]
            elif not pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype):
                raise InvalidDataError(
                    f"Feature column {name!r} must be numeric or pandas 'category'; got "
                    f"dtype {dtype}."
                )
        self.feature_names_ = names
        self.categories_ = categories

    def _features(self, X: pd.DataFrame) -> pd.DataFrame:
        self._check_frame(X)
        missing = [name for name in self.feature_names_ if name not in X.columns]
        if missing:
            raise InvalidDataError(
                f"The feature table lacks {len(missing)} column(s) the model was trained on: "
                f"{', '.join(missing[:5])}."
            )
        if len(X) == 0:
            raise InvalidDataError("The feature table has no rows.")
        columns = {}
        for name in self.feature_names_:
            series = X[name]
            if name in self.categories_:
                values = (
                    series.astype("object")
                    if isinstance(series.dtype, pd.CategoricalDtype)
                    else series
                )
                columns[name] = pd.Categorical(values, categories=self.categories_[name])
            else:
                if not pd.api.types.is_numeric_dtype(series.dtype):
                    raise InvalidDataError(
                        f"Feature column {name!r} must be numeric; got dtype {series.dtype}."
                    )
                columns[name] = series.to_numpy(dtype="float64", na_value=np.nan)
        return pd.DataFrame(columns)

    def _dmatrix(self, frame: pd.DataFrame, margin=None):
        xgb = _xgboost()
        return xgb.DMatrix(
            frame, base_margin=margin, enable_categorical=True, nthread=int(self.n_jobs)
        )

    def _margin(self, X: pd.DataFrame, rows=None) -> np.ndarray | None:
        """Return the offset column on the link scale (log; logit for churn), or None."""
        name = getattr(self, "offset", None)
        if name is None:
            return None
        if name not in X.columns:
            raise InvalidDataError(f"The offset column {name!r} is missing from the table.")
        values = X[name].to_numpy(dtype="float64", na_value=np.nan)
        if not np.all(np.isfinite(values)) or np.any(values < 0):
            raise InvalidDataError(
                f"The offset column {name!r} must be finite and >= 0 "
                f"({int((~np.isfinite(values) | (values < 0)).sum())} rows are not)."
            )
        if rows is not None:
            values = values[rows]
        if self._logit_margin:
            values = np.clip(values, 1e-6, 1 - 1e-6)
            return np.log(values / (1 - values))
        return np.log(np.maximum(values, 1e-6))

    def _train(self, frame, label, weight, objective: str, margin=None, **extra: Any):
        """Fit ``XGBRegressor`` (for every objective) and return its booster."""
        xgb = _xgboost()
        # The starting score is the (weighted) mean label, set explicitly: XGBoost's own
        # intercept search is slow for log-link objectives with several threads.
        mean = float(np.average(label, weights=weight))
        if objective == "binary:logistic":
            mean = min(max(mean, 1e-6), 1 - 1e-6)
        elif objective != "reg:squarederror":
            mean = max(mean, 1e-6)
        estimator = xgb.XGBRegressor(
            objective=objective,
            base_score=mean,
            tree_method="hist",
            enable_categorical=True,
            max_cat_to_onehot=1,
            **{name: getattr(self, name) for name in _XGB_ARGUMENTS},
            **extra,
        )
        estimator.fit(frame, label, sample_weight=weight, base_margin=margin)
        return estimator.get_booster()

    @staticmethod
    def _labels(y: object, n: int, name: str) -> np.ndarray:
        values = np.asarray(y, dtype="float64").reshape(-1)
        if values.shape[0] != n:
            raise InvalidDataError(f"{name} has {values.shape[0]} values but X has {n} rows.")
        if not np.all(np.isfinite(values)):
            raise InvalidDataError(
                f"{name}: {int((~np.isfinite(values)).sum())} values are missing or infinite."
            )
        return values

    @staticmethod
    def _weights(sample_weight: object, n: int) -> np.ndarray | None:
        return None if sample_weight is None else check_sample_weight(sample_weight, n)

    # -- persistence -----------------------------------------------------------------------

    def _boosters(self) -> list[Any]:
        raise NotImplementedError

    def _set_boosters(self, boosters: list[Any]) -> None:
        raise NotImplementedError

    def _extra_state(self) -> dict[str, Any]:
        return {}

    def _set_extra_state(self, state: dict[str, Any]) -> None:
        return None

    def save(self, directory: str | Path) -> None:
        """Write the booster(s) in XGBoost's UBJSON format and ``model.json`` metadata.

        Parameters
        ----------
        directory : str or pathlib.Path
            Folder to write into (created if needed).
        """
        folder = model_folder(self, directory)
        boosters = self._boosters()
        files = list(self._booster_files[: len(boosters)])
        for booster, name in zip(boosters, files, strict=True):
            booster.save_model(str(folder / name))
        state = {
            **header(self, FORMAT_NAME),
            "feature_names": self.feature_names_,
            "categories": self.categories_,
            "booster_files": files,
            **self._extra_state(),
        }
        write_json(folder / "model.json", state)

    @classmethod
    def load(cls, directory: str | Path):
        """Read a model written by :meth:`save`.

        Parameters
        ----------
        directory : str or pathlib.Path
            Folder written by :meth:`save`.

        Returns
        -------
        model
            The fitted model.

        Raises
        ------
        clv.errors.ModelLoadError
            The folder does not hold a model of this class.
        """
        folder = Path(directory)
        state = parse(read_text(folder / "model.json"))
        check_header(state, cls, FORMAT_NAME)
        model = cls(**state["hyperparameters"])
        xgb = _xgboost()
        boosters = []
        for name in state["booster_files"]:
            path = folder / name
            if not path.is_file():
                raise ModelLoadError(f"Missing booster file {str(path)!r}.")
            booster = xgb.Booster(params={"nthread": int(model.n_jobs)})
            booster.load_model(str(path))
            boosters.append(booster)
        model.feature_names_ = list(state["feature_names"])
        model.categories_ = {k: list(v) for k, v in state["categories"].items()}
        model._set_boosters(boosters)
        model._set_extra_state(state)
        return model
