"""The candidate interface: what every kind that ``clv train`` compares provides.

A candidate learns from a transaction log up to ``as_of``
(:meth:`Candidate.fit_transactions`), predicts :data:`PREDICTION_COLUMNS` from a
customer feature table (:meth:`Candidate.predict`), reports JSON-compatible
:meth:`Candidate.diagnostics` and saves itself as ``candidate.json`` plus its models'
JSON / XGBoost files (:meth:`Candidate.save`; read back by
:func:`clv.candidates.load_candidate`). The helpers here check and view the feature
table the same way for every kind.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from clv._estimator_contract import Estimator
from clv._validation import check_is_fitted, check_number, check_time_unit, require_columns
from clv.errors import InvalidDataError
from clv.models._persistence import header, model_folder, write_json

__all__ = ["FORMAT_NAME", "FORMAT_VERSION", "KINDS", "PREDICTION_COLUMNS", "Candidate"]

PREDICTION_COLUMNS: tuple[str, ...] = (
    "expected_purchases",
    "probability_alive",
    "churn_probability",
    "expected_spend",
    "clv",
)
KINDS: tuple[str, ...] = ("baseline", "bg_nbd", "mbg_nbd", "pareto_nbd", "boosted", "hybrid")
FORMAT_NAME = "clv-candidate"
FORMAT_VERSION = 1
RFM = ["customer_id", "frequency", "recency", "T", "monetary_value"]


def customer_table(features: pd.DataFrame, time_unit: str) -> pd.DataFrame:
    if not isinstance(features, pd.DataFrame):
        raise InvalidDataError(
            f"Candidates predict from a pandas DataFrame (clv.features.customer_features); "
            f"got {type(features).__name__}."
        )
    hint = "; build it with clv.features.customer_features"
    require_columns(features, RFM, "The feature table", hint)
    declared = features.attrs.get("time_unit")
    if declared is not None and declared != time_unit:
        raise InvalidDataError(
            f"The feature table is in time unit {declared!r} but the model was fitted in "
            f"{time_unit!r}; rebuild it with time_unit={time_unit!r}."
        )
    return features


def rfm_view(features: pd.DataFrame, time_unit: str) -> pd.DataFrame:
    # Not `features[RFM].reset_index(drop=True)`: selecting a list of columns costs
    # ~0.5 ms, too much for one-row requests on the endpoint.
    index = features.index
    if (
        list(features.columns) == RFM
        and isinstance(index, pd.RangeIndex)
        and index.start == 0
        and index.step == 1
    ):
        table = features.copy(deep=False)
    else:
        table = pd.DataFrame({name: features[name].array for name in RFM}, columns=RFM)
    table.attrs["time_unit"] = time_unit
    return table


def prediction_frame(index: pd.Index, **columns: np.ndarray) -> pd.DataFrame:
    """Build the prediction table: row for row with the features, with their index."""
    return pd.DataFrame(
        {name: np.asarray(columns[name], dtype="float64") for name in PREDICTION_COLUMNS},
        index=index,
    )


class Candidate(Estimator):
    """Base of the candidate models (one subclass per kind).

    Subclasses implement :meth:`fit_transactions`, :meth:`predict`, ``_state`` /
    ``_restore`` (JSON plus model files) and :meth:`diagnostics`.
    """

    name: ClassVar[str] = ""

    def _check_is_fitted(self) -> None:
        check_is_fitted(self, "time_unit_", "fit_transactions")

    @staticmethod
    def _check_time_unit(time_unit: str) -> str:
        check_time_unit(time_unit, "DWM")
        return time_unit

    @staticmethod
    def _check_predict_args(horizon: object, discount_rate: object, margin: object) -> float:
        horizon = check_number("horizon", horizon, owner="predict", low_open=True)
        check_number("discount_rate", discount_rate, owner="predict")
        check_number("margin", margin, owner="predict")
        return horizon

    def fit_transactions(
        self, transactions: pd.DataFrame, *, as_of: object, time_unit: str = "D", **options: Any
    ) -> Candidate:
        """Learn from the canonical transaction log up to ``as_of`` (inclusive) only.

        Parameters
        ----------
        transactions : pandas.DataFrame
            ``customer_id``, ``timestamp``, ``amount``.
        as_of : date-like
            Last day the model may see.
        time_unit : {"D", "W", "M"}, default "D"
            Unit of every duration and horizon.
        **options
            Kind-specific (``attributes`` for the boosted kinds).

        Returns
        -------
        self
            The fitted candidate.
        """
        raise NotImplementedError

    def predict(
        self,
        features: pd.DataFrame,
        *,
        horizon: float,
        discount_rate: float = 0.0,
        margin: float = 1.0,
    ) -> pd.DataFrame:
        """Predictions for every customer of ``features``.

        Parameters
        ----------
        features : pandas.DataFrame
            :func:`clv.features.customer_features` as of the scoring day, in the
            model's time unit.
        horizon : float
            Future window, in the model's time unit.
        discount_rate : float, default 0.0
            Annual effective discount rate (365.25 days a year).
        margin : float, default 1.0
            Share of spend that is profit.

        Returns
        -------
        pandas.DataFrame
            :data:`PREDICTION_COLUMNS`, one row per row of ``features`` and indexed
            like it (so ``features["clv"] = predict(features)["clv"]`` is right);
            ``customer_id`` stays in ``features``.
        """
        raise NotImplementedError

    def diagnostics(self) -> dict[str, Any]:
        """Parameters, fit statistics and convergence facts, JSON-compatible (for MLflow).

        Returns
        -------
        dict
        """
        raise NotImplementedError

    def _state(self, folder: Path) -> dict[str, Any]:
        raise NotImplementedError

    def _restore(self, folder: Path, state: dict[str, Any]) -> None:
        raise NotImplementedError

    def save(self, directory: str | Path) -> None:
        """Write ``candidate.json`` and the models' JSON / XGBoost files; never pickle.

        Parameters
        ----------
        directory : str or pathlib.Path
            Folder to write into (created if needed).
        """
        folder = model_folder(self, directory)
        state = {**header(self, FORMAT_NAME), "kind": self.name, "time_unit": self.time_unit_}
        write_json(folder / "candidate.json", {**state, **self._state(folder)})
