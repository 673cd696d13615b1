"""Score a whole customer feature table with a loaded clv pyfunc, without per-row checks.

``PyFuncModel.predict`` first enforces the model signature on its input. For a
column declared ``any`` (the counts, see :mod:`clv.mlflow_model.signature`) MLflow
checks every value in a Python loop: about 1.5 s per million rows, more than the
model spends predicting them. Batch scoring sends the table
:func:`clv.features.behaviour.customer_features` built, whose columns already have
the declared types, so :func:`predict_table` checks the types once per column
(what the enforcement would accept without converting anything: ``long`` is a
64-bit integer column, ``double`` a float64 one, ``any`` an int64 or float64 one,
``string`` a column of ``str``), fills the params from the params schema as MLflow
does, and calls the model's own ``predict`` -- which still validates every value
by name (:func:`clv.mlflow_model.validation.validate_features`), inside
:func:`clv.models._shared_terms.shared_terms` so that the model's predictions
(at the query's horizon and at the default one for the segments) evaluate their
common per-row terms once. Any other table, and
any model that is not a clv model, goes through ``PyFuncModel.predict`` unchanged:
the shortcut changes speed, never answers (``tests/serving/test_table_scoring.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["predict_table"]


def _column_fits(values: pd.Series, declared: str) -> bool:
    """Whether MLflow's enforcement would pass ``values`` as they are for ``declared``."""
    dtype = values.dtype
    if declared == "long":
        return dtype == np.int64
    if declared == "double":
        return dtype == np.float64
    if declared == "any":
        return dtype in (np.int64, np.float64)
    if declared == "string":
        return (
            dtype == np.dtype(object) and pd.api.types.infer_dtype(values, skipna=False) == "string"
        )
    return False


def _direct_input(model: Any, features: pd.DataFrame) -> pd.DataFrame | None:
    """Return the frame MLflow would pass to the model, or ``None`` to let MLflow check."""
    python_model = model.unwrap_python_model()
    if not hasattr(python_model, "predict_columns"):  # not a clv model
        return None
    schema = model.metadata.get_input_schema()
    if schema is None or not schema.has_input_names():
        return None
    specs = schema.inputs
    names = [spec.name for spec in specs]
    if any(name not in features.columns for name in names):
        return None
    if features.columns.duplicated().any():
        return None
    for spec in specs:
        declared = str(getattr(spec.type, "name", spec.type)).lower()
        if not _column_fits(features[spec.name], declared):
            return None
    return features.loc[:, names]


def _full_params(model: Any, params: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """``params`` checked against the params schema, defaults filled in, as MLflow does."""
    from mlflow.types.schema import ParamSpec

    schema = model.metadata.get_params_schema()
    given = dict(params or {})
    if schema is None:
        return None if given else {}
    specs = {spec.name: spec for spec in schema.params}
    if any(name not in specs for name in given):
        return None  # MLflow drops unknown params with a warning: let it
    return {
        name: ParamSpec.validate_param_spec(given[name], spec) if name in given else spec.default
        for name, spec in specs.items()
    }


def predict_table(
    model: Any, features: pd.DataFrame, params: Mapping[str, Any] | None = None
) -> pd.DataFrame:
    """Score a feature table as ``model.predict(features, params=params)`` would.

    Parameters
    ----------
    model : mlflow.pyfunc.PyFuncModel
        A loaded model (a clv model takes the shortcut, any other ``predict``).
    features : pandas.DataFrame
        Customer feature table with the model's columns (others are ignored).
    params : mapping, optional
        ``horizon``, ``discount_rate``, ``margin`` as for ``model.predict``.

    Returns
    -------
    pandas.DataFrame
        What ``model.predict`` returns for the same input and params.

    Raises
    ------
    mlflow.exceptions.MlflowException
        For a param the params schema refuses, or (MLflow's route) an input the
        signature refuses.
    clv.errors.InvalidDataError
        For values the model refuses (negative counts, missing values...).
    """
    if not isinstance(features, pd.DataFrame):
        return model.predict(features, params=params)
    frame = _direct_input(model, features)
    if frame is None:
        return model.predict(features, params=params)
    full = _full_params(model, params)
    if full is None:
        return model.predict(features, params=params)
    from clv.models._shared_terms import shared_terms

    context = getattr(getattr(model, "_model_impl", None), "context", None)
    with shared_terms():  # the predictions at the query's and the default horizon share terms
        return model.unwrap_python_model().predict(context, frame, params=full)
