"""Public API of the predictive distributions, shared by the transaction models.

:class:`PredictiveDistributionMixin` turns a model's per-row hooks ``_count_pmf``,
``_count_pmf_new_customer`` and ``_probability_alive_at`` (formulas in
:mod:`clv.models._count_distributions`) into pandas results indexed like the input.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np
import pandas as pd

from clv._validation import check_number
from clv.errors import InvalidParameterError

__all__ = ["PredictiveDistributionMixin", "check_level", "count_quantiles", "rows_pmf"]

#: Counts evaluated per step while searching a quantile of the count distribution.
_COUNT_STEP = 16
#: Largest count searched for a quantile before giving up.
_MAX_COUNT = 100_000


def _check_counts(owner: str, n: object) -> tuple[np.ndarray, bool]:
    """Validate ``n`` (one non-negative int or a sequence of them); return (counts, scalar)."""
    scalar = isinstance(n, numbers.Integral) and not isinstance(n, bool)
    values = [n] if scalar else (list(n) if isinstance(n, Sequence | np.ndarray) else None)
    ok = values is not None and len(values) > 0
    if ok:
        ok = all(
            isinstance(v, numbers.Integral) and not isinstance(v, bool) and v >= 0 for v in values
        )
    if not ok:
        raise InvalidParameterError(
            f"The 'n' parameter of {owner} must be a non-negative int or a non-empty sequence "
            f"of them. Got {n!r} instead."
        )
    return np.asarray(values, dtype=np.int64), scalar


def check_level(owner: str, level: object) -> float:
    """Validate an interval level in (0, 1)."""
    return check_number(
        "level", level, owner=owner, low_open=True, high=1.0, high_open=True, note=", e.g. 0.9"
    )


def count_quantiles(pmf, rows: int, probabilities: Sequence[float]) -> np.ndarray:
    """Smallest ``n`` with ``P(Y <= n) >= p`` per row, for each ``p``: shape ``(rows, len(p))``.

    ``pmf(rows, n)`` gives the selected rows' probabilities of the counts ``n``; counts go
    in steps of 16, rows leave once found, and sums are compared with ``p - 1e-12`` so
    that rounding cannot push a quantile one count up.
    """
    targets = np.asarray(probabilities, dtype=np.float64) - 1e-12
    out = np.full((rows, len(targets)), -1, dtype=np.int64)
    cumulative = np.zeros(rows)
    pending = np.arange(rows)
    start = 0
    while len(pending) and start < _MAX_COUNT:
        counts = np.arange(start, start + _COUNT_STEP)
        running = cumulative[pending, None] + np.cumsum(pmf(pending, counts), axis=1)
        for j, target in enumerate(targets):
            unset = out[pending, j] < 0
            reached = running >= target
            hit = unset & reached.any(axis=1)
            out[pending[hit], j] = counts[np.argmax(reached[hit], axis=1)]
        cumulative[pending] = running[:, -1]
        pending = pending[(out[pending] < 0).any(axis=1)]
        start += _COUNT_STEP
    if len(pending):  # a vanishing tail never reaches the level: the search limit
        out[out < 0] = _MAX_COUNT
    return out


def rows_pmf(model, params, data: dict[str, np.ndarray], horizon: float):
    """``pmf(rows, n)``: ``model``'s count PMF of the selected rows, for :func:`count_quantiles`."""
    return lambda rows, n: model._count_pmf(
        params, {k: v[rows] for k, v in data.items()}, horizon, n
    )


class PredictiveDistributionMixin:
    """Predictive distributions of purchases and survival, from the model's hooks."""

    def _count_pmf(self, params, data, horizon: float, n: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _count_pmf_new_customer(self, params, horizon: float, n: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _probability_alive_at(self, params, data, horizon: float) -> np.ndarray:
        raise NotImplementedError

    def probability_of_n_purchases(
        self, X: pd.DataFrame, horizon: float, n: int | Sequence[int]
    ) -> pd.Series | pd.DataFrame:
        """Probability of exactly ``n`` purchases in the next ``horizon``, given each history.

        ``P(Y(horizon) = n | frequency, recency, T)``; see
        :mod:`clv.models._count_distributions` for the formulas and their sources.

        Parameters
        ----------
        X : pandas.DataFrame
            Customer table with the model's columns.
        horizon : float
            Length of the future window, in the model's time unit (opportunities,
            an integer, for BG/BB).
        n : int or sequence of int
            Number(s) of purchases.

        Returns
        -------
        pandas.Series or pandas.DataFrame
            For one ``n`` a Series, for several a DataFrame with one column per ``n``;
            indexed like ``X``.
        """
        owner = type(self).__name__
        counts, scalar = _check_counts(owner, n)
        horizon = self._check_horizon(horizon)  # type: ignore[attr-defined]
        data, index = self._prediction_table(X)
        values = np.clip(self._count_pmf(self.params_.to_numpy(), data, horizon, counts), 0, 1)
        if scalar:
            return pd.Series(values[:, 0], index=index, name=f"probability_of_{counts[0]}")
        return pd.DataFrame(values, index=index, columns=pd.Index(counts, name="n"))

    def probability_of_n_purchases_new_customer(
        self, horizon: float, n: int | Sequence[int]
    ) -> float | pd.Series:
        """Probability of ``n`` repeat purchases in ``(0, horizon]`` for a new customer.

        Parameters
        ----------
        horizon : float
            Time since the first purchase (opportunities for BG/BB).
        n : int or sequence of int
            Number(s) of repeat purchases.

        Returns
        -------
        float or pandas.Series
            One probability, or a Series indexed by ``n``.
        """
        self._check_is_fitted()
        owner = type(self).__name__
        counts, scalar = _check_counts(owner, n)
        horizon = self._check_horizon(horizon)  # type: ignore[attr-defined]
        values = np.clip(
            self._count_pmf_new_customer(self.params_.to_numpy(), horizon, counts), 0, 1
        )
        if scalar:
            return float(values[0])
        return pd.Series(values, index=pd.Index(counts, name="n"), name="probability")

    def probability_alive(self, X: pd.DataFrame, horizon: float | None = None) -> pd.Series:
        """Probability that each customer is active now, or ``horizon`` from now.

        Parameters
        ----------
        X : pandas.DataFrame
            Customer table with the model's columns.
        horizon : float, optional
            Time after the end of observation (``T``), in the model's time unit
            (opportunities for BG/BB). ``None`` or 0: at the end of observation.
            Alive later means alive now and not dropped out since, whatever the
            customer buys meanwhile.

        Returns
        -------
        pandas.Series
            Values in [0, 1], indexed like ``X``; non-increasing in ``horizon``.
        """
        if horizon is None:
            return super().probability_alive(X)  # type: ignore[misc]
        horizon = self._check_horizon(horizon)  # type: ignore[attr-defined]
        data, index = self._prediction_table(X)
        values = self._probability_alive_at(self.params_.to_numpy(), data, horizon)
        return pd.Series(np.clip(values, 0.0, 1.0), index=index, name="probability_alive")

    def purchases_interval(
        self, X: pd.DataFrame, horizon: float, level: float = 0.9
    ) -> pd.DataFrame:
        """Central prediction interval of the purchases in the next ``horizon``.

        ``purchases_lower`` is the smallest ``n`` with ``P(Y <= n) >= (1 - level) / 2``
        and ``purchases_upper`` the smallest with ``P(Y <= n) >= (1 + level) / 2``; where
        the distribution is so skewed that the expectation lies outside, the interval
        is widened to the nearest counts around it (it then covers more than ``level``). ``Y`` is a count:
        such an interval holds at least ``level`` of the probability, usually more.

        Parameters
        ----------
        X : pandas.DataFrame
            Customer table with the model's columns.
        horizon : float
            Length of the future window.
        level : float, default 0.9
            Probability the interval is meant to hold, in (0, 1).

        Returns
        -------
        pandas.DataFrame
            ``expected_purchases``, ``purchases_lower``, ``purchases_upper``, indexed
            like ``X``.
        """
        owner = type(self).__name__
        level = check_level(owner, level)
        horizon = self._check_horizon(horizon)  # type: ignore[attr-defined]
        data, index = self._prediction_table(X)
        params = self.params_.to_numpy()
        point = self._expected_purchases_curve(params, data, np.array([horizon]))[:, 0]
        bounds = count_quantiles(
            rows_pmf(self, params, data, horizon),
            len(point),
            [(1.0 - level) / 2.0, (1.0 + level) / 2.0],
        ).astype(np.float64)
        return pd.DataFrame(
            {
                "expected_purchases": point,
                "purchases_lower": np.minimum(bounds[:, 0], np.floor(point)),
                "purchases_upper": np.maximum(bounds[:, 1], np.ceil(point)),
            },
            index=index,
        )
