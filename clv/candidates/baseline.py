"""The ``baseline`` kind: the simple formula as a candidate."""

from __future__ import annotations

from typing import ClassVar

from clv.candidates.base import RFM, Candidate, customer_table, prediction_frame, rfm_view
from clv.features.rfm import rfm_summary
from clv.models.baseline import SimpleCLVModel, uniform_discount_factor

__all__ = ["BaselineCandidate"]


class BaselineCandidate(Candidate):
    """The simple formula (:class:`~clv.models.baseline.SimpleCLVModel`) as a candidate."""

    name: ClassVar[str] = "baseline"
    #: The feature columns ``predict`` reads (the served model requires only these).
    input_columns: ClassVar[tuple[str, ...]] = tuple(RFM)

    def fit_transactions(self, transactions, *, as_of, time_unit="D", **options):  # noqa: D102
        table = rfm_summary(
            transactions, observation_end=as_of, time_unit=self._check_time_unit(time_unit)
        )
        self.model_ = SimpleCLVModel().fit(table)
        self.time_unit_ = time_unit
        return self

    def predict(self, features, *, horizon, discount_rate=0.0, margin=1.0):  # noqa: D102
        self._check_is_fitted()
        horizon = self._check_predict_args(horizon, discount_rate, margin)
        table = rfm_view(customer_table(features, self.time_unit_), self.time_unit_)
        purchases = self.model_.expected_purchases(table, horizon).to_numpy()
        per_purchase = self.model_.expected_spend(table).to_numpy()
        spend = purchases * per_purchase
        factor = uniform_discount_factor(horizon, self.time_unit_, discount_rate)
        return prediction_frame(
            features.index,
            expected_purchases=purchases,
            probability_alive=self.model_.probability_alive(table).to_numpy(),
            churn_probability=self.model_.probability_no_purchase(table, horizon).to_numpy(),
            expected_spend=spend,
            clv=margin * factor * spend,
        )

    def diagnostics(self):  # noqa: D102
        self._check_is_fitted()
        return {
            "population_rate": self.model_.population_rate_,
            "population_spend": self.model_.population_spend_,
            "n_customers": self.model_.n_customers_,
        }

    def _state(self, folder):
        self.model_.save(folder / "baseline.json")
        return {}

    def _restore(self, folder, state):
        self.model_ = SimpleCLVModel.load(folder / "baseline.json")


# ---------------------------------------------------------------------------------------
# BTYD x Gamma-Gamma
