"""Gamma-Gamma model of spend per transaction.

Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). "RFM and CLV: Using Iso-Value
Curves for Customer Base Analysis." *Journal of Marketing Research* 42(4), 415-430;
Fader, P. S. & Hardie, B. G. S. (2013). "The Gamma-Gamma Model of Monetary Value"
(note), eq. (1) for the density of the mean spend and eq. (5) for its conditional
expectation.
"""

from __future__ import annotations

import warnings
from typing import ClassVar

import numpy as np
import pandas as pd
from scipy.special import gammaln

from clv._validation import CustomerTable
from clv.errors import DataPolicyWarning, InvalidParameterError, describe_examples
from clv.models._arrays import dot, gather_by_integer
from clv.models._estimator import ProbabilisticModel
from clv.models._independence import spend_frequency_correlation, warn_if_dependent
from clv.models._stable import digamma_difference, log_pochhammer

__all__ = ["GammaGammaModel"]


def gamma_gamma_log_likelihood(params, data):
    """Log density of the mean repeat spend ``m`` given ``x`` repeat purchases, and its gradient.

    ``f(m | p, q, gamma, x) = Gamma(px+q) / (Gamma(px) Gamma(q)) * gamma^q m^(px-1)
    x^(px) / (gamma + x m)^(px+q)`` (Fader & Hardie 2013, eq. 1), per row of ``data``
    (``frequency``, ``log_m``, ``total_spend`` as prepared by :class:`GammaGammaModel`).
    """
    p, q, gamma = params
    x, log_m, spend = data["frequency"], data["log_m"], data["total_spend"]
    with np.errstate(all="ignore"):
        constant, d_p_const, d_q_const = gather_by_integer(x, _frequency_terms(p, q))
    px = p * x
    spend_terms, gamma_terms = _log_spend_terms(spend, gamma)
    ll = constant - gammaln(q) - log_m - px * spend_terms - q * gamma_terms
    grad = np.empty((len(x), 3))
    grad[:, 0] = d_p_const - x * spend_terms
    grad[:, 1] = d_q_const - gamma_terms
    grad[:, 2] = (q * spend / gamma - px) / (spend + gamma)
    return ll, grad


def _frequency_terms(p: float, q: float):
    """``log Gamma(pk+q)/Gamma(pk)`` and its derivatives in p and q, per frequency k."""

    def table(k):
        pk = p * k
        return log_pochhammer(pk, q), k * digamma_difference(pk, q), digamma_difference(q, pk)

    return table


def _log_spend_terms(spend: np.ndarray, gamma: float) -> tuple[np.ndarray, np.ndarray]:
    """``log(1 + gamma / (x m))`` and ``log(1 + x m / gamma)``, each without cancellation.

    The likelihood's ``(px - 1) log m + px log x + q log gamma - (px + q) log(gamma + x m)``
    is ``-log m - px log(1 + gamma/(x m)) - q log(1 + x m/gamma)``: in this form nothing
    cancels when p or q runs to 1e10.
    """
    ratio = gamma / spend
    spend_terms = np.log1p(ratio)
    gamma_terms = np.where(ratio >= 1.0, np.log1p(1.0 / ratio), spend_terms - np.log(ratio))
    return spend_terms, gamma_terms


class GammaGammaModel(ProbabilisticModel):
    """Gamma-Gamma model of the mean spend per repeat purchase.

    Spend per transaction is ``Gamma(p, nu)``; across customers ``nu ~ Gamma(q,
    gamma)``. Fitted on customers with at least one repeat purchase, on their mean
    repeat spend ``monetary_value``.

    Parameters
    ----------
    penalty : float, default 0.0
        L2 penalty: maximises ``mean LL per customer - penalty * sum(log(theta)**2)``.
    compute_standard_errors : bool, default False
        Set ``standard_errors_`` from the Hessian at the optimum.
    n_restarts : int, default 3
        Further starting points tried when the first run fails.
    max_iter : int, default 1000
        Maximum L-BFGS-B iterations per run.
    time_unit : {"D", "W", "Y"} or None, default None
        Carried as metadata only (spend does not depend on time).

    Attributes
    ----------
    params_ : pandas.Series
        ``p``, ``q``, ``gamma`` (lifetimes calls ``gamma`` ``v``).
    log_likelihood_ : float
        Total log-likelihood (-4,055.92 on CDNOW's 946 repeat customers).
    n_customers_ : int
        Customers fitted.
    n_zero_spend_excluded_ : int
        Repeat buyers with a mean repeat spend of 0, left out of the fit (predicted
        with the population mean).
    spend_frequency_correlation_ : float
        Spearman correlation of ``frequency`` and ``monetary_value`` in the fitted
        table; an :class:`~clv.errors.AssumptionWarning` is emitted at fit when its
        size is 0.3 or more (see :mod:`clv.models._independence`).
    """

    parameter_names: ClassVar[tuple[str, ...]] = ("p", "q", "gamma")
    data_columns: ClassVar[tuple[str, ...]] = ("frequency", "monetary_value")
    lifetimes_aliases: ClassVar[dict[str, str]] = {"v": "gamma"}
    collapse_identical_rows: ClassVar[bool] = False  # mean spends are continuous

    def _check_table(self, table: CustomerTable, *, fitting: bool) -> None:
        x = table.arrays["frequency"]
        if fitting:
            table.require(
                x > 0,
                "frequency 0: the Gamma-Gamma model is fitted on the mean spend of repeat "
                "purchases, which customers without repeat purchases do not have; fit on "
                "X[X['frequency'] > 0] (expected_spend still predicts them with the "
                "population mean)",
            )
        # Repeat buyers with a mean repeat spend of 0 ($0 lines, fully netted returns)
        # are left out of the fit (see fit) and predicted with the population mean.

    def fit(self, X: pd.DataFrame, y: object = None, sample_weight: object = None):
        """Fit by maximum likelihood, then check the independence of spend and frequency.

        Parameters
        ----------
        X : pandas.DataFrame
            Repeat buyers: ``frequency`` > 0 and ``monetary_value``.
        y : None
            Ignored.
        sample_weight : array-like, optional
            Customers each row stands for.

        Returns
        -------
        self
            The fitted model, with ``spend_frequency_correlation_`` and
            ``n_zero_spend_excluded_``.

        Notes
        -----
        Repeat buyers whose mean repeat spend is 0 (``frequency > 0``,
        ``monetary_value == 0``: only $0 repeat purchases) carry no information on
        the spend distribution the model can use (its likelihood is 0 there): they
        are left out of the fit with a :class:`~clv.errors.DataPolicyWarning`
        giving their number (``n_zero_spend_excluded_``), and
        :meth:`expected_spend` predicts them with the population mean.
        """
        X, sample_weight, excluded = _without_zero_spend(X, sample_weight)
        super().fit(X, y, sample_weight)
        self.n_zero_spend_excluded_ = excluded
        self.spend_frequency_correlation_ = spend_frequency_correlation(
            X["frequency"].to_numpy(dtype=np.float64),
            X["monetary_value"].to_numpy(dtype=np.float64),
            None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64),
        )
        warn_if_dependent(self.spend_frequency_correlation_, type(self).__name__)
        return self

    def _prepare_data(self, data):
        x = data["frequency"]
        m = data["monetary_value"]
        with np.errstate(divide="ignore"):
            data = dict(data)
            data["log_m"] = np.log(m)
            data["total_spend"] = x * m
        return data

    def _log_likelihood_rows(self, params, data):
        return gamma_gamma_log_likelihood(params, data)

    def _rescaled(self, data, weights):
        """Fit on spends divided by their geometric mean, then map back.

        The model is scale-equivariant: spends ``c m`` have the likelihood of ``m``
        at ``gamma / c`` minus ``n log c``. Fitting on unit-scale spends keeps
        ``log gamma`` far from the optimiser's box and the curvature of the three
        parameters alike, so amounts of 1e-9 or 1e11 fit as well as amounts of 10.
        """
        log_scale = dot(weights, data["log_m"]) / float(weights.sum())
        scaled = self._prepare_data(
            {
                "frequency": data["frequency"],
                "monetary_value": data["monetary_value"] * np.exp(-log_scale),
            }
        )
        return scaled, np.array([0.0, 0.0, log_scale]), -float(weights.sum()) * log_scale

    def _total_log_likelihood(self, params, data, weights):
        """Total log-likelihood from sufficient statistics: one log per row per call."""
        p, q, gamma = params
        levels, count, weighted_x, weighted_spend, log_m, total_weight = self._once_per_fit(
            data, "_sums", weights, lambda: _spend_sums(data, weights)
        )
        constant, d_p_const, d_q_const = _frequency_terms(p, q)(levels)
        spend_terms, gamma_terms = _log_spend_terms(data["total_spend"], gamma)
        inverse = 1.0 / (data["total_spend"] + gamma)
        x_spend_sum, gamma_sum = dot(weighted_x, spend_terms), dot(weights, gamma_terms)
        ll = (
            dot(count, constant)
            - total_weight * gammaln(q)
            - log_m
            - p * x_spend_sum
            - q * gamma_sum
        )
        grad = np.array(
            [
                dot(count, d_p_const) - x_spend_sum,
                dot(count, d_q_const) - gamma_sum,
                q / gamma * dot(weighted_spend, inverse) - p * dot(weighted_x, inverse),
            ]
        )
        return float(ll), grad

    def _initial_parameters(self, data, weights):
        m = data["monetary_value"]
        mean = float(dot(weights, m) / weights.sum())
        return np.array([1.0, 2.0, mean])

    def population_mean_spend(self) -> float:
        """Mean spend per transaction across customers: ``p * gamma / (q - 1)``.

        Returns
        -------
        float
            The population mean (finite only when ``q > 1``).
        """
        self._check_is_fitted()
        p, q, gamma = self.params_.to_numpy()
        if q <= 1:
            raise InvalidParameterError(
                f"The population mean spend is infinite when q <= 1 (q = {q:.4g})."
            )
        return float(p * gamma / (q - 1))

    def expected_spend(self, X: pd.DataFrame) -> pd.Series:
        """Predict the spend per future transaction, given each customer's history.

        ``E[Z | p, q, gamma, m, x] = (q - 1)/(px + q - 1) * p gamma/(q - 1) + px/(px + q -
        1) * m`` (Fader & Hardie 2013, eq. 5): a weighted average of the population
        mean and the customer's own mean; customers with ``frequency`` 0, and repeat
        buyers whose mean repeat spend is 0 (left out of the fit), get the population
        mean ``p * gamma / (q - 1)``.

        Parameters
        ----------
        X : pandas.DataFrame
            Columns ``frequency`` and ``monetary_value``.

        Returns
        -------
        pandas.Series
            Expected spend, indexed like ``X``.
        """
        arrays, index = self._prediction_table(X)
        p, q, _ = self.params_.to_numpy()
        population = self.population_mean_spend()
        x, m = arrays["frequency"], arrays["monetary_value"]
        weight = np.where(m > 0, p * x / (p * x + q - 1), 0.0)
        values = (1 - weight) * population + weight * m
        return pd.Series(values, index=index, name="expected_spend")


def _spend_sums(data: dict, weights: np.ndarray) -> tuple:
    """Parameter-free sums of the Gamma-Gamma likelihood, computed once per fit."""
    x = data["frequency"]
    by_x = np.bincount(x, weights=weights)
    return (
        np.flatnonzero(by_x),
        by_x[by_x > 0],
        weights * x,
        weights * data["total_spend"],
        dot(weights, data["log_m"]),
        float(weights.sum()),
    )


def _without_zero_spend(X: object, sample_weight: object) -> tuple[object, object, int]:
    """Drop repeat buyers with a mean repeat spend of 0 from a fit, warning with the count."""
    if not isinstance(X, pd.DataFrame) or not {"frequency", "monetary_value"} <= set(X.columns):
        return X, sample_weight, 0  # the base class names what is missing
    x = pd.to_numeric(X["frequency"], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    m = pd.to_numeric(X["monetary_value"], errors="coerce").to_numpy(
        dtype=np.float64, na_value=np.nan
    )
    zero = (x > 0) & (m == 0)
    count = int(zero.sum())
    if count == 0:
        return X, sample_weight, 0
    labels = X["customer_id"] if "customer_id" in X.columns else X.index
    noun = "customer has" if count == 1 else "customers have"
    warnings.warn(
        DataPolicyWarning(
            f"{count} {noun} repeat purchases but a mean repeat spend of 0 "
            f"({describe_examples(np.asarray(labels)[zero])}): left out of the Gamma-Gamma "
            "fit; expected_spend predicts them with the population mean.",
            {"zero_spend_customers_excluded": count},
        ),
        stacklevel=3,
    )
    if sample_weight is not None and np.ndim(sample_weight) == 1 and len(sample_weight) == len(X):
        sample_weight = np.asarray(sample_weight)[~zero]
    return X.loc[~zero], sample_weight, count
