"""Gradient-boosted spend, purchase-count and churn models (XGBoost).

Both estimators follow the scikit-learn contract (``__init__`` stores keyword
arguments; ``fit`` returns ``self``; ``clone``/``get_params`` work) and take a
feature table such as :func:`clv.features.customer_features` (numeric and pandas
``category`` columns; ``customer_id`` and ``cutoff`` are never used as features;
predictions keep the input's index). XGBoost is imported only when a model is
fitted, predicts or is loaded. Models are saved in XGBoost's own UBJSON format plus a
small JSON metadata file; never pickled. Training is deterministic (``random_state``,
``n_jobs`` threads, ``tree_method="hist"``).

Choice of the spend objective (measured on CDNOW, weeks, with the ``boosted``
candidate of :mod:`clv.candidates`: training examples from 4 rolling cutoffs
1997-02-25 .. 1997-05-20 with a 19-week label window, features as of 1997-09-30,
predictions scaled to the 39-week holdout to 1998-06-30, 2,357 customers; RMSE of
per-customer holdout spend, lower is better; BG/NBD x Gamma-Gamma scores 72.30)::

    hurdle (logistic x gamma)          RMSE 72.32   total 53,362 (actual 70,976)
    reg:tweedie (variance power 1.5)   RMSE 77.47   total 26,847
    reg:squarederror                   RMSE 78.06   total 93,740

The hurdle is the default: spend is zero for most customers in any window and
skewed otherwise; modelling ``P(spend > 0)`` and the size of positive spend apart
kept both parts in range when the features at scoring time lie beyond the training
cutoffs' range, where the single log-link Tweedie booster collapsed (a third of the
actual total) and squared error overshot. The hybrid candidate uses the hurdle too
(its holdout RMSE on CDNOW: hurdle 72.14, Tweedie from BG/NBD x Gamma-Gamma's expected
spend as offset 76.30, Poisson from that offset 73.28; figures in
:mod:`clv.candidates`).

Threads: ``n_jobs=1`` by default. OpenMP threads wait on each other at every
step of a tree, so when other jobs hold the cores two threads are far slower than
one. ``benchmarks/boosted.py 25000 --jobs 1,2 --busy 0,1`` on this shared 2-core
machine (load average 14-18 from the other jobs): the three fits took 14.2 s with
``n_jobs=1`` and 244.6 s with ``n_jobs=2``; with one more busy core started next to
them, 25.9 s and 516.4 s. The predictions do not depend on the thread count. Raise
``n_jobs`` on dedicated cores.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from clv._validation import check_choice, check_is_fitted, check_number
from clv.errors import InvalidDataError, InvalidParameterError, ModelLoadError

__all__ = ["BoostedChurnModel", "BoostedSpendModel"]

FORMAT_NAME = "clv-boosted-model"
FORMAT_VERSION = 1
_NOT_FEATURES = ("customer_id", "cutoff", "future_purchases", "future_spend", "churned")
_SPEND_OBJECTIVES = ("reg:tweedie", "reg:squarederror", "count:poisson", "hurdle")
_CALIBRATIONS = ("isotonic", "sigmoid", None)


def _xgboost():
    try:
        import xgboost
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError("The boosted models need XGBoost: pip install 'clv[boost]'.") from error
    return xgboost


class _BoostedModel(BaseEstimator):
    """Shared machinery: feature checks, DMatrix building, training, persistence."""

    _booster_files: ClassVar[tuple[str, ...]] = ("booster.ubj",)

    def __init__(
        self,
        *,
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
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.max_depth = max_depth
        self.min_child_weight = min_child_weight
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.reg_lambda = reg_lambda
        self.random_state = random_state
        self.n_jobs = n_jobs

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

    def _learn_features(self, X: pd.DataFrame) -> None:
        if not isinstance(X, pd.DataFrame):
            raise InvalidDataError(
                f"{type(self).__name__} takes a pandas DataFrame of features; got "
                f"{type(X).__name__}."
            )
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
        if not isinstance(X, pd.DataFrame):
            raise InvalidDataError(
                f"{type(self).__name__} takes a pandas DataFrame of features; got "
                f"{type(X).__name__}."
            )
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

    def _dmatrix(self, frame: pd.DataFrame, label=None, weight=None, margin=None):
        xgb = _xgboost()
        return xgb.DMatrix(
            frame,
            label=label,
            weight=weight,
            base_margin=margin,
            enable_categorical=True,
            nthread=int(self.n_jobs),
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
        if isinstance(self, BoostedChurnModel):
            values = np.clip(values, 1e-6, 1 - 1e-6)
            return np.log(values / (1 - values))
        return np.log(np.maximum(values, 1e-6))

    def _booster_params(self, objective: str, **extra: Any) -> dict[str, Any]:
        params = {
            "objective": objective,
            "eta": float(self.learning_rate),
            "max_depth": int(self.max_depth),
            "min_child_weight": float(self.min_child_weight),
            "subsample": float(self.subsample),
            "colsample_bytree": float(self.colsample_bytree),
            "lambda": float(self.reg_lambda),
            "tree_method": "hist",
            "seed": int(self.random_state),
            "nthread": int(self.n_jobs),
            "max_cat_to_onehot": 1,
        }
        params.update(extra)
        return params

    def _train(self, frame, label, weight, objective: str, margin=None, **extra: Any):
        xgb = _xgboost()
        # The starting score is the (weighted) mean label, set explicitly: XGBoost's own
        # intercept search is slow for log-link objectives with several threads.
        mean = float(np.average(label, weights=weight))
        if objective == "binary:logistic":
            mean = min(max(mean, 1e-6), 1 - 1e-6)
        elif objective != "reg:squarederror":
            mean = max(mean, 1e-6)
        return xgb.train(
            self._booster_params(objective, base_score=mean, **extra),
            self._dmatrix(frame, label=label, weight=weight, margin=margin),
            num_boost_round=int(self.n_estimators),
        )

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
        if sample_weight is None:
            return None
        weights = np.asarray(sample_weight, dtype="float64").reshape(-1)
        if weights.shape[0] != n or not np.all(np.isfinite(weights)) or np.any(weights < 0):
            raise InvalidDataError(f"sample_weight must hold {n} finite non-negative values.")
        return weights

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
        self._check_is_fitted()
        folder = Path(directory)
        folder.mkdir(parents=True, exist_ok=True)
        boosters = self._boosters()
        files = list(self._booster_files[: len(boosters)])
        for booster, name in zip(boosters, files, strict=True):
            booster.save_model(str(folder / name))
        state = {
            "format": FORMAT_NAME,
            "format_version": FORMAT_VERSION,
            "model": type(self).__name__,
            "hyperparameters": self.get_params(),
            "feature_names": self.feature_names_,
            "categories": self.categories_,
            "booster_files": files,
            **self._extra_state(),
        }
        (folder / "model.json").write_text(
            json.dumps(state, indent=2, sort_keys=True) + "\n", encoding="utf-8"
        )

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
        try:
            state = json.loads((folder / "model.json").read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as error:
            raise ModelLoadError(
                f"Cannot read a boosted model from {str(folder)!r}: {error}."
            ) from None
        if state.get("format") != FORMAT_NAME or state.get("format_version") != FORMAT_VERSION:
            raise ModelLoadError(f"{str(folder)!r} does not hold a clv boosted model (v1).")
        if state.get("model") != cls.__name__:
            raise ModelLoadError(
                f"{str(folder)!r} holds a {state.get('model')!r}, not a {cls.__name__}."
            )
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


class BoostedSpendModel(_BoostedModel):
    """XGBoost regressor of a non-negative total (future spend, or purchase counts).

    Parameters
    ----------
    objective : {"hurdle", "reg:tweedie", "reg:squarederror", "count:poisson"}, default "hurdle"
        ``"hurdle"`` (the default, chosen on CDNOW: see the module docstring) is a
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
        each other and multiply the training time (see :mod:`clv.models.boosted`);
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
        super().__init__(
            n_estimators=n_estimators,
            learning_rate=learning_rate,
            max_depth=max_depth,
            min_child_weight=min_child_weight,
            subsample=subsample,
            colsample_bytree=colsample_bytree,
            reg_lambda=reg_lambda,
            random_state=random_state,
            n_jobs=n_jobs,
        )
        self.objective = objective
        self.tweedie_variance_power = tweedie_variance_power
        self.offset = offset

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


class BoostedChurnModel(_BoostedModel):
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
        super().__init__(
            n_estimators=n_estimators,
            learning_rate=learning_rate,
            max_depth=max_depth,
            min_child_weight=min_child_weight,
            subsample=subsample,
            colsample_bytree=colsample_bytree,
            reg_lambda=reg_lambda,
            random_state=random_state,
            n_jobs=n_jobs,
        )
        self.calibration = calibration
        self.calibration_fraction = calibration_fraction
        self.offset = offset

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

        logit = np.log(np.clip(raw, 1e-9, 1 - 1e-9) / np.clip(1 - raw, 1e-9, 1))
        platt = LogisticRegression(C=1e6).fit(logit[:, None], target, sample_weight=weights)
        return {"kind": "sigmoid", "a": float(platt.coef_[0, 0]), "b": float(platt.intercept_[0])}

    def _apply_map(self, raw: np.ndarray) -> np.ndarray:
        kind = self.calibration_.get("kind")
        if kind == "isotonic":
            return np.interp(raw, self.calibration_["x"], self.calibration_["y"])
        if kind == "sigmoid":
            logit = np.log(np.clip(raw, 1e-9, 1 - 1e-9) / np.clip(1 - raw, 1e-9, 1))
            return 1.0 / (1.0 + np.exp(-(self.calibration_["a"] * logit + self.calibration_["b"])))
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
