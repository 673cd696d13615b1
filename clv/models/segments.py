"""Customer segments from value and churn risk.

The scheme, stated once: a **value tier** crossed with a **churn-risk flag**.

* Value tiers come from quantiles of ``clv`` over the population the rules were
  fitted on (the training customers), stored as two thresholds so that a single
  customer is segmented the same way as the whole base:

  - ``"high value"``: ``clv > high_threshold_``, the ``1 - high_share`` quantile
    (default: the top 20 %);
  - ``"medium value"``: ``medium_threshold_ < clv <= high_threshold_``, where
    ``medium_threshold_`` is the ``1 - high_share - medium_share`` quantile (default:
    the next 30 %);
  - ``"low value"``: the rest.

  Comparisons are strict, so when many customers share one value (typically
  ``clv = 0``) they all land in the lower tier rather than being split arbitrarily;
  the tiers are then smaller than their nominal shares.

* A customer is **at risk** when ``churn_probability >= churn_threshold`` (default
  0.5: a purchase in the horizon is less likely than none). ``churn_probability`` is
  the probability of no purchase over the prediction horizon
  (docs/INTERFACES.md).

Six segment names result, in this order (:data:`SEGMENTS`): ``"high value"``,
``"high value at risk"``, ``"medium value"``, ``"medium value at risk"``,
``"low value"``, ``"low value at risk"``. "high value at risk" is where retention
spending pays most.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from clv._estimator_contract import Estimator
from clv._validation import check_is_fitted, check_number
from clv.errors import InvalidDataError, ModelLoadError
from clv.models._persistence import check_format

__all__ = ["SEGMENTS", "SegmentRules", "segment_summary"]

_TIERS = ("high value", "medium value", "low value")
_RISK_SUFFIX = " at risk"

#: Every segment name, from the most to the least valuable.
SEGMENTS: tuple[str, ...] = tuple(name for tier in _TIERS for name in (tier, tier + _RISK_SUFFIX))

_SEGMENT_NAMES = np.asarray(SEGMENTS, dtype=object)

_FORMAT = "clv.SegmentRules"
_FORMAT_VERSION = 1


def _column(frame: pd.DataFrame, name: str) -> np.ndarray:
    if name not in frame.columns:
        raise InvalidDataError(
            f"The predictions are missing column {name!r} (columns: "
            f"{', '.join(map(str, frame.columns))})."
        )
    series = frame[name]
    if not pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
        raise InvalidDataError(f"Column {name!r} must be numeric; got dtype {series.dtype}.")
    values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    _check_finite(name, values, frame.index)
    return values


def _examples(labels: Any, bad: np.ndarray) -> str:
    shown = np.flatnonzero(bad)[:3] if labels is None else np.asarray(labels)[bad][:3]
    return ", ".join(map(str, shown.tolist()))


def _check_finite(name: str, values: np.ndarray, labels: Any) -> None:
    bad = ~np.isfinite(values)
    if bad.any():
        raise InvalidDataError(
            f"{int(bad.sum())} row(s) have a missing or infinite {name!r} "
            f"(e.g. {_examples(labels, bad)})."
        )


def _as_frame(predictions: Any) -> tuple[pd.DataFrame, bool]:
    """Return the predictions as a DataFrame, and whether a single row was given."""
    if isinstance(predictions, pd.DataFrame):
        return predictions, False
    if isinstance(predictions, pd.Series | Mapping):
        row = dict(predictions)
        return pd.DataFrame({key: [value] for key, value in row.items()}), True
    raise InvalidDataError(
        "The predictions must be a DataFrame, or one row as a Series or dict; got "
        f"{type(predictions).__name__}."
    )


class SegmentRules(Estimator):
    """Value tiers (stored clv quantiles) crossed with churn risk.

    See the module docstring for the scheme and the segment names.

    Parameters
    ----------
    high_share : float, default 0.2
        Share of the fitting population in the top tier ("high value").
    medium_share : float, default 0.3
        Share in the middle tier ("medium value"); ``high_share + medium_share``
        must not exceed 1.
    churn_threshold : float, default 0.5
        A customer with ``churn_probability >= churn_threshold`` is "at risk".

    Attributes
    ----------
    high_threshold_ : float
        ``clv`` above which a customer is "high value".
    medium_threshold_ : float
        ``clv`` above which (up to ``high_threshold_``) a customer is "medium value".
    n_customers_ : int
        Size of the fitting population.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"clv": range(10), "churn_probability": [0.1] * 10})
    >>> rules = SegmentRules().fit(table)
    >>> rules.assign({"clv": 9.0, "churn_probability": 0.7})
    'high value at risk'
    """

    def __init__(
        self, *, high_share: float = 0.2, medium_share: float = 0.3, churn_threshold: float = 0.5
    ):
        self.high_share = high_share
        self.medium_share = medium_share
        self.churn_threshold = churn_threshold

    def _check_params(self) -> None:
        owner = type(self).__name__
        high = check_number("high_share", self.high_share, owner=owner, low_open=True, high=1.0)
        check_number(
            "medium_share", self.medium_share, owner=owner, high=1 - high, note=" (1 - high_share)"
        )
        check_number("churn_threshold", self.churn_threshold, owner=owner, low_open=True, high=1.0)

    def fit(self, predictions: pd.DataFrame, y: object = None) -> SegmentRules:
        """Store the value-tier thresholds from the training population's ``clv``.

        Parameters
        ----------
        predictions : pandas.DataFrame
            Predictions for the training population, with a numeric ``clv`` column.
        y : None
            Ignored.

        Returns
        -------
        SegmentRules
            ``self``.
        """
        self._check_params()
        if not isinstance(predictions, pd.DataFrame) or len(predictions) == 0:
            raise InvalidDataError("SegmentRules.fit needs a non-empty DataFrame of predictions.")
        clv = _column(predictions, "clv")
        self.high_threshold_ = float(np.quantile(clv, 1.0 - self.high_share))
        self.medium_threshold_ = float(
            np.quantile(clv, max(0.0, 1.0 - self.high_share - self.medium_share))
        )
        self.n_customers_ = int(clv.size)
        return self

    def _check_is_fitted(self) -> None:
        check_is_fitted(self, "high_threshold_", "fit(predictions) or SegmentRules.from_dict(...)")

    def assign(self, predictions: pd.DataFrame | pd.Series | Mapping[str, Any]) -> pd.Series | str:
        """Segment of each customer, from the stored thresholds.

        Parameters
        ----------
        predictions : pandas.DataFrame, pandas.Series or dict
            Rows with ``clv`` and ``churn_probability``; any number of rows, including
            one. A Series or dict is one customer.

        Returns
        -------
        pandas.Series or str
            For a DataFrame, the segment names indexed like it (name ``"segment"``);
            for a single Series or dict, the one name.
        """
        self._check_is_fitted()
        frame, single = _as_frame(predictions)
        clv = _column(frame, "clv")
        churn = _column(frame, "churn_probability")
        names = self._segments(clv, churn, frame.index)
        if single:
            return str(names[0])
        return pd.Series(names, index=frame.index, name="segment", dtype=object)

    def assign_arrays(self, clv: Any, churn_probability: Any, labels: Any = None) -> np.ndarray:
        """Segment of each customer from plain arrays (the fast path of :meth:`assign`).

        Parameters
        ----------
        clv, churn_probability : array-like of float
            One value per customer.
        labels : array-like, optional
            Customer ids, to name offending rows in error messages (row numbers
            otherwise).

        Returns
        -------
        numpy.ndarray
            Segment names (object array), one per customer.
        """
        self._check_is_fitted()
        clv = np.asarray(clv, dtype=np.float64).reshape(-1)
        churn = np.asarray(churn_probability, dtype=np.float64).reshape(-1)
        if clv.shape != churn.shape:
            raise InvalidDataError(
                f"'clv' has {clv.size} values but 'churn_probability' has {churn.size}."
            )
        _check_finite("clv", clv, labels)
        _check_finite("churn_probability", churn, labels)
        return self._segments(clv, churn, labels)

    def _segments(self, clv: np.ndarray, churn: np.ndarray, labels: Any) -> np.ndarray:
        outside = (churn < 0) | (churn > 1)
        if outside.any():
            raise InvalidDataError(
                f"{int(outside.sum())} row(s) have a 'churn_probability' outside [0, 1] "
                f"(e.g. {_examples(labels, outside)})."
            )
        tier = np.where(
            clv > self.high_threshold_,
            0,
            np.where(clv > self.medium_threshold_, 1, 2),
        )
        at_risk = churn >= self.churn_threshold
        return _SEGMENT_NAMES[2 * tier + at_risk.astype(np.int64)]

    def fit_assign(self, predictions: pd.DataFrame) -> pd.Series:
        """Fit on ``predictions`` and return their segments.

        Parameters
        ----------
        predictions : pandas.DataFrame
            Predictions with ``clv`` and ``churn_probability``.

        Returns
        -------
        pandas.Series
            Segment names indexed like ``predictions``.
        """
        return self.fit(predictions).assign(predictions)  # type: ignore[return-value]

    def to_dict(self) -> dict[str, Any]:
        """Return the fitted rules as a JSON-serialisable dict.

        Returns
        -------
        dict
            Format tag and version, the parameters and the stored thresholds.
        """
        self._check_is_fitted()
        return {
            "format": _FORMAT,
            "format_version": _FORMAT_VERSION,
            "params": {
                "high_share": float(self.high_share),
                "medium_share": float(self.medium_share),
                "churn_threshold": float(self.churn_threshold),
            },
            "thresholds": {
                "high": self.high_threshold_,
                "medium": self.medium_threshold_,
            },
            "n_customers": self.n_customers_,
            "segments": list(SEGMENTS),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SegmentRules:
        """Rebuild fitted rules from :meth:`to_dict` output.

        Parameters
        ----------
        data : mapping
            As produced by :meth:`to_dict` (for example after a JSON round trip).

        Returns
        -------
        SegmentRules

        Raises
        ------
        clv.errors.ModelLoadError
            If the dict is not a saved SegmentRules of a supported version.
        """
        check_format(data, _FORMAT, _FORMAT_VERSION, "saved SegmentRules")
        try:
            rules = cls(**dict(data["params"]))
            rules._check_params()
            high = float(data["thresholds"]["high"])
            medium = float(data["thresholds"]["medium"])
            n_customers = int(data.get("n_customers", 0))
        except (KeyError, TypeError, ValueError) as error:
            raise ModelLoadError(
                f"The saved SegmentRules is incomplete or malformed: {error}."
            ) from None
        if not (math.isfinite(high) and math.isfinite(medium) and medium <= high):
            raise ModelLoadError(
                f"The saved SegmentRules thresholds are invalid (high {high}, medium {medium})."
            )
        rules.high_threshold_, rules.medium_threshold_ = high, medium
        rules.n_customers_ = n_customers
        return rules


def segment_summary(predictions_with_segment: pd.DataFrame) -> pd.DataFrame:
    """Count, total and mean CLV per segment.

    Parameters
    ----------
    predictions_with_segment : pandas.DataFrame
        Predictions with a ``clv`` column and a ``segment`` column (for example
        ``predictions.assign(segment=rules.assign(predictions))``).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``segment`` (the segments present, in :data:`SEGMENTS` order, any
        other names after them alphabetically), columns ``count`` (int),
        ``total_clv`` and ``mean_clv``.
    """
    frame = predictions_with_segment
    if not isinstance(frame, pd.DataFrame):
        raise InvalidDataError(f"segment_summary needs a DataFrame; got {type(frame).__name__}.")
    if "segment" not in frame.columns:
        raise InvalidDataError(
            "The predictions have no 'segment' column; add one with SegmentRules.assign."
        )
    clv = _column(frame, "clv")
    segments = frame["segment"]  # pandas' text kept as it is: as objects it costs 3x more
    segments = (
        segments.array
        if isinstance(segments.dtype, pd.StringDtype)
        else segments.astype(object).to_numpy()
    )
    if pd.isna(segments).any():
        raise InvalidDataError(f"{int(pd.isna(segments).sum())} row(s) have no segment.")
    grouped = pd.DataFrame({"segment": segments, "clv": clv}).groupby("segment", sort=False)["clv"]
    summary = pd.DataFrame(
        {"count": grouped.size(), "total_clv": grouped.sum(), "mean_clv": grouped.mean()}
    )
    known = [name for name in SEGMENTS if name in summary.index]
    others = sorted((name for name in summary.index if name not in SEGMENTS), key=str)
    summary = summary.loc[known + others]
    summary.index.name = "segment"
    summary["count"] = summary["count"].astype(np.int64)
    return summary
