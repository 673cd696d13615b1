"""The ``boosted`` kind: XGBoost spend, purchases and churn on behavioural features.

Three XGBoost models on :func:`clv.features.customer_features`: future spend
(:class:`~clv.models.boosted.BoostedSpendModel`, hurdle), future purchases (a third
booster with the Poisson objective, so that purchases are learnt from counts rather
than derived from spend / mean basket, which would divide two noisy estimates) and
churn (:class:`~clv.models.boosted.BoostedChurnModel`, calibrated).
``probability_alive`` is ``1 - churn probability`` over the training horizon (the
probability of at least one purchase in it): boosting has no latent "alive" state.
The training examples come from rolling cutoffs (:mod:`clv.candidates.planning`,
which also says how other horizons are extrapolated).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd

from clv.candidates.base import Candidate, customer_table, prediction_frame
from clv.candidates.planning import plan_cutoffs
from clv.features.behaviour import training_examples
from clv.models.baseline import uniform_discount_factor

__all__ = ["BoostedCandidate"]


class BoostedCandidate(Candidate):
    """XGBoost spend, purchases and churn models on behavioural features.

    Parameters
    ----------
    training_horizon : float, optional
        Label window of the training examples, in the time unit (see the module
        notes for the default and for predicting other horizons).
    n_cutoffs : int, default 4
        Rolling origins (cutoffs that leave no history before them are skipped).
    cutoff_step : float, optional
        Distance between cutoffs in the time unit; default 28 days (4 weeks).
    spend_objective : str, default "hurdle"
        Objective of the spend booster (see :mod:`clv.models.boosted`); the hybrid
        uses BG/NBD's expected spend as offset with "reg:tweedie" or "count:poisson".
    calibration : {"isotonic", "sigmoid", None}, default "isotonic"
        Calibration of the churn probabilities.
    n_estimators : int, default 300
        Boosting rounds of each booster.
    learning_rate : float, default 0.05
        Shrinkage.
    max_depth : int, default 4
        Tree depth.
    random_state : int, default 0
        Seed.
    n_jobs : int, default 1
        XGBoost threads. One by default: on a shared machine more threads wait on
        each other and multiply the training time (see :mod:`clv.models.boosted`);
        raise it on dedicated cores.
    """

    name: ClassVar[str] = "boosted"

    def __init__(
        self,
        *,
        training_horizon: float | None = None,
        n_cutoffs: int = 4,
        cutoff_step: float | None = None,
        spend_objective: str = "hurdle",
        calibration: str | None = "isotonic",
        n_estimators: int = 300,
        learning_rate: float = 0.05,
        max_depth: int = 4,
        random_state: int = 0,
        n_jobs: int = 1,
    ):
        self.training_horizon = training_horizon
        self.n_cutoffs = n_cutoffs
        self.cutoff_step = cutoff_step
        self.spend_objective = spend_objective
        self.calibration = calibration
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.max_depth = max_depth
        self.random_state = random_state
        self.n_jobs = n_jobs

    def _booster_options(self) -> dict[str, Any]:
        return {
            "n_estimators": self.n_estimators,
            "learning_rate": self.learning_rate,
            "max_depth": self.max_depth,
            "random_state": self.random_state,
            "n_jobs": self.n_jobs,
        }

    def _add_btyd(self, table: pd.DataFrame, horizon: float, fit: bool = False) -> pd.DataFrame:
        """Add the BTYD features to ``table`` (none here; the hybrid overrides this)."""
        return table

    def _training_examples(self, examples, transactions, as_of):
        """Return the examples the boosters learn from (as built; the hybrid adds to them)."""
        return examples

    def fit_transactions(  # noqa: D102
        self, transactions, *, as_of, time_unit="D", attributes: pd.DataFrame | None = None
    ):
        from clv.models.boosted import BoostedChurnModel, BoostedSpendModel

        horizon, cutoffs, end = plan_cutoffs(
            transactions,
            as_of,
            self._check_time_unit(time_unit),
            owner=type(self).__name__,
            training_horizon=self.training_horizon,
            n_cutoffs=self.n_cutoffs,
            cutoff_step=self.cutoff_step,
        )
        examples = training_examples(
            transactions,
            cutoffs=cutoffs,
            horizon=horizon,
            time_unit=time_unit,
            attributes=attributes,
            observation_end=pd.Timestamp(int(end), unit="D"),
        )
        self.time_unit_ = time_unit
        self.training_horizon_ = horizon
        examples = self._training_examples(examples, transactions, as_of)
        options = self._booster_options()
        features = examples.drop(columns=["future_purchases", "future_spend", "churned"])
        offsets = self._offsets()
        self.spend_model_boosted_ = BoostedSpendModel(
            objective=self.spend_objective, offset=offsets[0], **options
        ).fit(features, examples["future_spend"])
        self.purchases_model_ = BoostedSpendModel(
            objective="count:poisson", offset=offsets[1], **options
        ).fit(features, examples["future_purchases"])
        self.churn_model_ = BoostedChurnModel(
            calibration=self.calibration, offset=offsets[2], **options
        ).fit(features, examples["churned"].astype("int64"))
        self.cutoffs_ = [str(c.date()) for c in cutoffs]
        self.n_examples_ = int(len(examples))
        return self

    def _offsets(self) -> tuple[str | None, str | None, str | None]:
        return None, None, None

    def _scale(self, table: pd.DataFrame, horizon: float) -> np.ndarray:
        return np.full(len(table), horizon / self.training_horizon_)

    def predict(self, features, *, horizon, discount_rate=0.0, margin=1.0):  # noqa: D102
        self._check_is_fitted()
        horizon = self._check_predict_args(horizon, discount_rate, margin)
        table = customer_table(features, self.time_unit_).reset_index(drop=True)
        table = self._add_btyd(table, self.training_horizon_, fit=False)
        scale = self._scale(table, horizon)
        spend = self.spend_model_boosted_.predict(table).to_numpy() * scale
        purchases = self.purchases_model_.predict(table).to_numpy() * scale
        churn_h = self.churn_model_.churn_probability(table).to_numpy()
        churn = churn_h ** (horizon / self.training_horizon_)
        factor = uniform_discount_factor(horizon, self.time_unit_, discount_rate)
        return prediction_frame(
            features.index,
            expected_purchases=purchases,
            probability_alive=self._alive(table, churn_h),
            churn_probability=churn,
            expected_spend=spend,
            clv=margin * factor * spend,
        )

    def _alive(self, table: pd.DataFrame, churn_at_training_horizon: np.ndarray) -> np.ndarray:
        return 1.0 - churn_at_training_horizon

    def diagnostics(self):  # noqa: D102
        self._check_is_fitted()
        return {
            "training_horizon": self.training_horizon_,
            "cutoffs": list(self.cutoffs_),
            "n_examples": self.n_examples_,
            "n_features": len(self.spend_model_boosted_.feature_names_),
            "churn_calibration_brier_raw": self.churn_model_.calibration_.get("brier_raw"),
            "churn_calibration_brier_calibrated": self.churn_model_.calibration_.get(
                "brier_calibrated"
            ),
        }

    def _state(self, folder):
        self.spend_model_boosted_.save(folder / "spend")
        self.purchases_model_.save(folder / "purchases")
        self.churn_model_.save(folder / "churn")
        return {
            "training_horizon": self.training_horizon_,
            "cutoffs": list(self.cutoffs_),
            "n_examples": self.n_examples_,
        }

    def _restore(self, folder, state):
        from clv.models.boosted import BoostedChurnModel, BoostedSpendModel

        self.spend_model_boosted_ = BoostedSpendModel.load(folder / "spend")
        self.purchases_model_ = BoostedSpendModel.load(folder / "purchases")
        self.churn_model_ = BoostedChurnModel.load(folder / "churn")
        self.training_horizon_ = float(state["training_horizon"])
        self.cutoffs_ = list(state["cutoffs"])
        self.n_examples_ = int(state["n_examples"])
