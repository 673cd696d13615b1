"""Retention what-if: what customers are worth if fewer of them drop out.

The scenario lowers every chosen customer's **dropout** by a relative ``reduction``
from now on (0.2 = 20 % lower) and keeps the purchase rate, spend and P(alive) today:

* **Pareto/NBD**: the rate ``mu`` becomes ``(1 - reduction) mu``; given alive at ``T``
  that is ``Gamma(s, (beta + T) / (1 - reduction))`` in Fader & Hardie's (2005) eq. 41.
* **BG/NBD**, **MBG/NBD**: the probability ``p`` after each purchase becomes
  ``(1 - reduction) p``, integrated over ``p ~ Beta(a, b + x)`` (MBG/NBD: ``b + x + 1``)
  by :func:`clv.models._beta_geo_math.expected_purchases_given_alive`.
* **BG/BB**: ``theta`` before each opportunity becomes ``(1 - reduction) theta``; an alive
  customer transacts ``sum_{i=1}^{m} p (1 - theta)^i`` times in the next ``m``
  opportunities (Fader, Hardie & Shang 2010, eq. 13, before integrating over ``theta``).

``reduction = 0`` gives the model's own predictions; the value is
:func:`clv.models.value.customer_lifetime_value` of the scenario's purchase curve.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from clv._validation import check_number
from clv.errors import InvalidDataError, InvalidParameterError
from clv.models._beta_geo_math import expected_purchases_given_alive
from clv.models._pareto_nbd_math import one_minus_pow_over
from clv.models._stable import beta_rule
from clv.models._transaction_model import TransactionModel
from clv.models.beta_geo import BetaGeoModel
from clv.models.beta_geo_beta_binom import BetaGeoBetaBinomModel
from clv.models.modified_beta_geo import ModifiedBetaGeoModel
from clv.models.pareto_nbd import ParetoNBDModel
from clv.models.value import customer_lifetime_value

__all__ = ["RetentionWhatIf", "retention_what_if", "scenario_model"]

_JACOBI_NODES = 48


def _pareto_curve(params, data, horizons, keep):
    from clv.models import _pareto_nbd_math as math_

    r, alpha, s, beta = params
    x, t_x, T = data["frequency"], data["recency"], data["T"]
    log_alive = math_.log_p_alive(params, x, t_x, T)
    scaled = (beta + T) / keep
    level = np.exp(log_alive + np.log(r + x) - np.log(alpha + T))
    return np.stack(
        [level * scaled * one_minus_pow_over(s - 1.0, np.log1p(t / scaled)) for t in horizons],
        axis=1,
    )


def _beta_geo_curve(model, params, data, horizons, keep):
    r, alpha, a, b = params
    x, T = data["frequency"], data["T"]
    p_alive = model._probability_alive(params, data)
    shifted = np.array([r, alpha, a, b + model._shift])
    return np.stack(
        [
            p_alive * expected_purchases_given_alive(shifted, x, T, float(t), dropout_scale=keep)
            for t in horizons
        ],
        axis=1,
    )


def _bgbb_curve(model, params, data, horizons, keep):
    alpha, beta, gamma, delta = params
    x, n = data["frequency"], data["n_periods"]
    p_alive = model._probability_alive(params, data)
    rate = (alpha + x) / (alpha + beta + n)
    out = np.empty((len(x), len(horizons)))
    for value in np.unique(n):
        rows = n == value
        nodes, weights = beta_rule(gamma, delta + value, _JACOBI_NODES)  # Beta(gamma, delta+n)
        theta = keep * nodes
        survive = 1.0 - theta
        for column, m in enumerate(horizons):
            total = survive / theta * -np.expm1(m * np.log1p(-theta))
            out[rows, column] = total @ weights
    return out * (p_alive * rate)[:, None]


class _ScenarioModel:
    """A fitted transaction model whose future dropout is scaled by ``keep`` (all else its own)."""

    def __init__(self, model: TransactionModel, keep: float):
        self._model = model
        self._keep = keep

    def __getattr__(self, name: str) -> Any:
        return getattr(self._model, name)

    def _expected_purchases_curve(self, params, data, horizons):
        model, keep = self._model, self._keep
        horizons = np.asarray(horizons, dtype=np.float64)
        if isinstance(model, ParetoNBDModel):
            return _pareto_curve(params, data, horizons, keep)
        if isinstance(model, BetaGeoModel | ModifiedBetaGeoModel):
            return _beta_geo_curve(model, params, data, horizons, keep)
        return _bgbb_curve(model, params, data, horizons, keep)

    def _discounted_expected_residual_transactions(self, params, data, delta):
        return None


_SUPPORTED = (ParetoNBDModel, BetaGeoModel, ModifiedBetaGeoModel, BetaGeoBetaBinomModel)


def scenario_model(transaction_model: TransactionModel, reduction: float) -> Any:
    """Return the fitted model with every future dropout lowered by ``reduction``.

    Parameters
    ----------
    transaction_model : TransactionModel
        A fitted BG/NBD, MBG/NBD, Pareto/NBD or BG/BB model.
    reduction : float
        Relative reduction of the dropout rate (Pareto/NBD) or probability (the
        others) from now on, in [0, 1); the module docstring defines it per model.

    Returns
    -------
    object
        A stand-in for the model that :func:`clv.models.customer_lifetime_value`
        accepts.
    """
    if not isinstance(transaction_model, _SUPPORTED):
        raise InvalidParameterError(
            "retention_what_if needs a BG/NBD, MBG/NBD, Pareto/NBD or BG/BB model; got "
            f"{type(transaction_model).__name__}."
        )
    transaction_model._check_is_fitted()
    reduction = check_number(
        "reduction",
        reduction,
        owner="retention_what_if",
        high=1.0,
        high_open=True,
        note=" (0.2 = dropout 20 % lower)",
    )
    return _ScenarioModel(transaction_model, 1.0 - reduction)


@dataclass(frozen=True)
class RetentionWhatIf:
    """The result of :func:`retention_what_if`.

    Attributes
    ----------
    customers : pandas.DataFrame
        Per customer, indexed like the input: ``clv`` (as predicted), ``clv_scenario``
        (with the lower dropout where targeted), ``gain`` and ``targeted``.
    by_segment : pandas.DataFrame
        Per segment (or one row ``"all"``): ``customers``, ``targeted``, ``clv``,
        ``clv_scenario``, ``gain``, ``gain_pct``.
    reduction : float
        The relative dropout reduction applied.
    """

    customers: pd.DataFrame
    by_segment: pd.DataFrame
    reduction: float

    @property
    def total_gain(self) -> float:
        """Change in total CLV over all customers."""
        return float(self.customers["gain"].sum())


def retention_what_if(
    transaction_model: TransactionModel,
    spend: Any,
    X: pd.DataFrame,
    *,
    reduction: float,
    horizon: float,
    segments: pd.Series | None = None,
    target: str | Iterable[str] | None = None,
    **value_options: Any,
) -> RetentionWhatIf:
    """Change in CLV if the dropout of the targeted customers were lower.

    Parameters
    ----------
    transaction_model : TransactionModel
        A fitted BG/NBD, MBG/NBD, Pareto/NBD or BG/BB model.
    spend : GammaGammaModel, float or array-like
        Expected spend per purchase, as in :func:`clv.models.customer_lifetime_value`.
    X : pandas.DataFrame
        Customer table.
    reduction : float
        Relative reduction of dropout from now on, in [0, 1) (see the module docstring).
    horizon : float
        Future window, in the model's time unit.
    segments : pandas.Series, optional
        Segment of each customer, aligned with ``X``'s index (for example
        ``SegmentRules.assign``); the result is then summed per segment.
    target : str or iterable of str, optional
        The segment(s) whose dropout is lowered; every customer when omitted.
    **value_options
        ``margin``, ``discount_rate``, ``discounting``, ``period``, ``time_unit``: as in
        :func:`clv.models.customer_lifetime_value`.

    Returns
    -------
    RetentionWhatIf
        Per-customer and per-segment values before and after.
    """
    scenario = scenario_model(transaction_model, reduction)
    options = dict(value_options, horizon=horizon)
    base = customer_lifetime_value(transaction_model, spend, X, **options)
    changed = customer_lifetime_value(scenario, spend, X, **options)
    labels = _segments(segments, X.index)
    targeted = np.ones(len(base), dtype=bool)
    if target is not None:
        if segments is None:
            raise InvalidParameterError("A 'target' segment needs the 'segments' of customers.")
        wanted = {target} if isinstance(target, str) else set(target)
        unknown = wanted - set(labels)
        if unknown:
            raise InvalidParameterError(
                f"No customer is in the target segment(s) {sorted(map(str, unknown))}."
            )
        targeted = np.isin(labels, list(wanted))
    after = np.where(targeted, changed.to_numpy(), base.to_numpy())
    customers = pd.DataFrame(
        {
            "clv": base.to_numpy(),
            "clv_scenario": after,
            "gain": after - base.to_numpy(),
            "targeted": targeted,
        },
        index=X.index,
    )
    grouped = customers.assign(segment=labels).groupby("segment", sort=False)
    by_segment = pd.DataFrame(
        {
            "customers": grouped.size(),
            "targeted": grouped["targeted"].sum(),
            "clv": grouped["clv"].sum(),
            "clv_scenario": grouped["clv_scenario"].sum(),
            "gain": grouped["gain"].sum(),
        }
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        by_segment["gain_pct"] = 100.0 * by_segment["gain"] / by_segment["clv"]
    return RetentionWhatIf(customers=customers, by_segment=by_segment, reduction=float(reduction))


def _segments(segments: pd.Series | None, index: pd.Index) -> np.ndarray:
    if segments is None:
        return np.full(len(index), "all", dtype=object)
    if not isinstance(segments, pd.Series) or len(segments) != len(index):
        raise InvalidDataError(
            f"'segments' must be a Series with one label per customer ({len(index)})."
        )
    if not segments.index.equals(index):
        if not segments.index.is_unique or not index.isin(segments.index).all():
            raise InvalidDataError(
                "'segments' is not indexed like the customer table: align it first "
                "(e.g. rules.assign(predictions) on a frame with the same index)."
            )
        segments = segments.reindex(index)
    return segments.astype(object).to_numpy()
