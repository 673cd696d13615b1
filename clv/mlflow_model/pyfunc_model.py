"""The clv MLflow model: one pyfunc, written as models-from-code.

MLflow copies this file into the model folder and executes it when the model is
loaded (``mlflow.pyfunc.load_model``, ``mlflow models serve``,
``mlflow.pyfunc.spark_udf``); the last lines call :func:`mlflow.models.set_model`.
Imported as ``clv.mlflow_model.pyfunc_model`` it only defines things, without
touching MLflow's global model slot.

What the model folder holds (no pickle anywhere):

``artifacts/candidate/``
    The refitted candidate, saved by ``candidate.save`` (JSON parameters; boosted
    models in XGBoost's own format).
``artifacts/segments.json``
    The fitted :class:`clv.models.segments.SegmentRules` (thresholds, as JSON).
``artifacts/metadata.json``
    ``kind``, ``time_unit``, the training window, the default ``horizon`` and
    ``discount_rate``, the feature columns and which must be non-negative, the
    clv version.
``code/clv/``
    A copy of the clv package (Python sources only) that made the model, so that
    the folder is self-contained: MLflow puts ``code/`` first on ``sys.path`` when
    it loads the model in a fresh process. In a process that has already imported
    clv, the imported clv is used.

Inputs, outputs, params and their types: :mod:`clv.mlflow_model.signature`; the input
rules: :mod:`clv.mlflow_model.validation`; the optional interval columns:
:mod:`clv.mlflow_model.intervals`. ``horizon`` is **in the model's time unit**
(``metadata.json`` ``time_unit``; weeks for ``clv train``'s default ``W``); each param
defaults to the value stored at training time. ``clv`` is ``margin`` x the discounted
expected spend (:mod:`clv.mlflow_model.margin`). Segments (and their ``action``,
:mod:`clv.models.actions`) are always assigned from the predictions at the stored
defaults, so a customer's segment does not change with the query's horizon, rate or
margin.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd

from clv.errors import ModelLoadError
from clv.mlflow_model.intervals import INTERVAL, check_interval, interval_arrays, output_columns
from clv.mlflow_model.margin import DEFAULT_MARGIN, apply_margin, check_margin
from clv.mlflow_model.params import check_horizon, check_param
from clv.mlflow_model.signature import MARGIN, OUTPUT_COLUMNS, PREDICTION_COLUMNS
from clv.mlflow_model.validation import validated_columns
from clv.models.actions import action_array

__all__ = ["CLVModel", "read_metadata"]

CUSTOMER_ID = "customer_id"
CANDIDATE_ARTIFACT = "candidate"
SEGMENTS_ARTIFACT = "segments"
METADATA_ARTIFACT = "metadata"


def read_metadata(path: str | Path) -> dict[str, Any]:
    """Read a model's ``metadata.json``; raise :class:`~clv.errors.ModelLoadError` if unusable."""
    try:
        metadata = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"Cannot read the clv model metadata at {path}: {exc}") from exc
    for key in ("kind", "time_unit", "feature_columns", "horizon", "discount_rate"):
        if key not in metadata:
            raise ModelLoadError(f"The clv model metadata at {path} lacks '{key}'.")
    return metadata


class CLVModel(mlflow.pyfunc.PythonModel):
    """Customer lifetime value, churn and segment for each customer of a feature table."""

    def load_context(self, context: Any) -> None:
        """Load the candidate, the segment rules and the metadata from the artifacts."""
        from clv.candidates import load_candidate
        from clv.models.segments import SegmentRules

        artifacts = context.artifacts
        self.metadata = read_metadata(artifacts[METADATA_ARTIFACT])
        self.candidate = load_candidate(artifacts[CANDIDATE_ARTIFACT])
        segments_path = Path(artifacts[SEGMENTS_ARTIFACT])
        try:
            segments = json.loads(segments_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ModelLoadError(
                f"Cannot read the segment rules at {segments_path}: {exc}"
            ) from exc
        self.segments = SegmentRules.from_dict(segments)
        # the recommended action per segment (clv.models.actions; overrides saved with
        # the rules under "actions")
        self.actions = segments.get("actions") or None

    def _predict(
        self, features: pd.DataFrame, horizon: float, discount_rate: float
    ) -> pd.DataFrame:
        return self.candidate.predict(features, horizon=horizon, discount_rate=discount_rate)

    # ``pd.DataFrame`` is a hint MLflow accepts without deriving a schema from it (the
    # explicit signature stays in charge); other hints make MLflow warn or convert.
    def predict(
        self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None
    ) -> pd.DataFrame:
        """Score customers.

        Parameters
        ----------
        context : mlflow.pyfunc.PythonModelContext
            Unused (the artifacts are read in :meth:`load_context`).
        model_input : pandas.DataFrame
            Customer feature table.
        params : dict, optional
            ``horizon`` (in the model's time unit), ``discount_rate`` (annual),
            ``margin`` (share of spend that is profit, in [0, 1]) and, optionally,
            ``interval`` (a level in (0, 1): the interval columns of
            :mod:`clv.mlflow_model.intervals`).

        Returns
        -------
        pandas.DataFrame
            One row per input row, indexed like ``model_input`` (the index contract):
            ``customer_id``, the predictions and ``segment``.
        """
        output = self.predict_columns(model_input, params)
        rows = len(output[CUSTOMER_ID])
        index = model_input.index if isinstance(model_input, pd.DataFrame) else None
        if index is None or len(index) != rows:
            index = pd.RangeIndex(rows)
        return pd.DataFrame(output, index=index, copy=False)

    def predict_columns(
        self, model_input: Any, params: Mapping[str, Any] | None = None
    ) -> dict[str, np.ndarray]:
        """Score customers; return the output columns as arrays (no DataFrame).

        What :meth:`predict` returns, before it becomes a DataFrame: the endpoint
        (:mod:`clv.serving.server`) calls this with a dict of numpy arrays and
        writes the JSON answer from the arrays, which saves a DataFrame round trip
        per request.

        Parameters
        ----------
        model_input : pandas.DataFrame or dict of numpy.ndarray
            Customer feature table, or its columns as equally long 1-D arrays.
        params : mapping, optional
            As for :meth:`predict`.

        Returns
        -------
        dict of numpy.ndarray
            :data:`OUTPUT_COLUMNS`, in that order (with ``interval``, the interval
            columns after ``clv``).
        """
        metadata = self.metadata
        params = dict(params or {})
        default_horizon = float(metadata["horizon"])
        default_rate = float(metadata["discount_rate"])
        default_margin = check_margin(metadata.get("margin", DEFAULT_MARGIN))
        horizon = check_horizon(params.get("horizon", default_horizon), metadata["time_unit"])
        rate = check_param("discount_rate", params.get("discount_rate", default_rate))
        margin = check_margin(params.get(MARGIN, default_margin))
        columns = metadata["feature_columns"]
        data = validated_columns(
            model_input,
            columns=columns,
            categorical=metadata.get("categorical_columns", ()),
            nonnegative=metadata.get("nonnegative_columns", ()),
        )
        # A candidate that reads only some columns (the BTYD kinds: the RFM ones) gets
        # only those: building a DataFrame costs ~20 us per column.
        ids = data[CUSTOMER_ID]
        used = getattr(self.candidate, "input_columns", None) or columns
        if not all(name in data for name in used):
            used = columns
        # (``columns=`` would double the constructor's cost; the dict keeps the order.)
        features = pd.DataFrame(
            {name: data[name] for name in used}, index=pd.RangeIndex(len(ids)), copy=False
        )
        features.attrs["time_unit"] = metadata["time_unit"]
        # Revenue (margin 1) from the candidate, times the margin as at training time
        # (apply_margin), so the segments match the stored thresholds exactly.
        predictions = self._predict(features, horizon, rate)
        if horizon == default_horizon and rate == default_rate:
            at_defaults = predictions
        else:
            at_defaults = self._predict(features, default_horizon, default_rate)
        segments = self.segments.assign_arrays(
            apply_margin(at_defaults["clv"].to_numpy(dtype="float64"), default_margin),
            at_defaults["churn_probability"].to_numpy(dtype="float64"),
            labels=ids,
        )
        output: dict[str, np.ndarray] = {CUSTOMER_ID: ids}
        for name in PREDICTION_COLUMNS:
            output[name] = predictions[name].to_numpy(dtype="float64")
        output["clv"] = apply_margin(output["clv"], margin)
        output[MARGIN] = np.full(len(ids), margin)
        # Python str objects: pandas and pyarrow take them ~3x faster than numpy's
        # fixed-width text (0.3 s per million rows in batch scoring)
        output["segment"] = np.asarray(segments, dtype=object)
        output["action"] = action_array(output["segment"], self.actions)
        level = check_interval(params.get(INTERVAL))
        if level is None:
            return output
        extra = interval_arrays(
            self.candidate,
            features,
            level=level,
            horizon=horizon,
            discount_rate=rate,
            margin=margin,
            point=output,
        )
        output.update(extra)
        return {name: output[name] for name in output_columns(OUTPUT_COLUMNS, True)}


# Executed by MLflow as the model's code file (under a generated module name):
# register the model object. Imported as a module of clv, nothing is set.
if not __name__.startswith("clv."):
    mlflow.models.set_model(CLVModel())
