"""The served model's columns and signature: feature columns in, predictions out, params.

Inputs are the customer feature table of :func:`clv.features.customer_features`,
as it is: ``mlflow.pyfunc.load_model(uri).predict(customer_features(...))`` and
``mlflow.pyfunc.spark_udf`` over the same table in Spark need no conversion. The
signature asks only for the columns the registered kind reads (``metadata.json``
``feature_columns``: ``customer_id`` and, for the BTYD kinds and the baseline,
``frequency``, ``recency``, ``T``, ``monetary_value``; every column for the
boosted kinds), in the table's order; any other column may be sent and is ignored
(MLflow logs that it ignores it). They are not listed as optional columns: a
``spark_udf`` called with some columns fills every listed column it was not given
with nulls, and refuses to be called without columns, when the signature has
optional ones. Types follow what clv builds, chosen so that nothing is silently
cast:

* a count (``frequency``, ``purchases_*``) is ``any``: integers (clv, Spark
  ``long``) and floats (JSON, other tools' tables) both reach the model, which
  refuses a fractional or negative count by name -- declared ``long``, MLflow's
  JSON parsing would truncate a 3.5 to 3, and declared ``double``, MLflow refuses
  ``int64`` ("can not safely convert");
* every other number is ``double``, text is ``string``.

Outputs are :data:`OUTPUT_COLUMNS`: ``customer_id``, the candidates'
:data:`~clv.candidates.PREDICTION_COLUMNS` (``expected_purchases``,
``probability_alive``, ``churn_probability``, ``expected_spend``, ``clv``),
``margin``, ``segment`` and ``action``; with the ``interval`` param, the optional
interval columns after ``clv`` (:mod:`clv.mlflow_model.intervals`). Params:
``horizon`` (in the model's time unit), ``discount_rate`` (annual), ``margin`` and
``interval``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from clv.candidates.base import PREDICTION_COLUMNS
from clv.mlflow_model.intervals import signature_parts

__all__ = ["MARGIN", "OUTPUT_COLUMNS", "PREDICTION_COLUMNS", "build_signature"]

CUSTOMER_ID = "customer_id"
#: The share of spend counted as profit in ``clv`` (an output column, one value per row).
MARGIN = "margin"
#: The served model's output columns, in order (without the optional interval columns).
OUTPUT_COLUMNS = (CUSTOMER_ID, *PREDICTION_COLUMNS, MARGIN, "segment", "action")
_TEXT_OUTPUTS = ("segment", "action")


def build_signature(
    input_example: pd.DataFrame,
    *,
    required: Sequence[str] | None = None,
    categorical: Sequence[str] = (),
    horizon: float,
    discount_rate: float,
    margin: float = 1.0,
) -> Any:
    """Build the model signature: feature columns in, predictions out, four params.

    The ``required`` columns of ``input_example`` (a customer feature table as
    :func:`clv.features.customer_features` builds it), in its order; other columns
    a caller sends are ignored. Types, chosen so that clv's own table passes as it
    is and nothing is silently cast (see the module docstring): an integer column
    other than ``customer_id`` is ``any`` (the model checks it is a whole
    non-negative number); other numeric columns ``double``; ``categorical`` ones
    ``string``; ``customer_id`` ``long`` or ``string`` as in the example.

    Parameters
    ----------
    input_example : pandas.DataFrame
        A few rows of the customer feature table.
    required : sequence of str, optional
        The columns the model reads (default: every column).
    categorical : sequence of str, optional
        Pass-through attribute columns, declared ``string``.
    horizon, discount_rate, margin : float
        Defaults of the params (``horizon`` in the model's time unit).

    Returns
    -------
    mlflow.models.ModelSignature
    """
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, DataType, ParamSchema, ParamSpec, Schema
    from mlflow.types.schema import AnyType

    needed = set(input_example.columns if required is None else required) | {CUSTOMER_ID}
    ids = input_example[CUSTOMER_ID]
    id_type = DataType.long if pd.api.types.is_integer_dtype(ids.dtype) else DataType.string
    inputs = [ColSpec(id_type, CUSTOMER_ID)]
    for name in input_example.columns:
        if name == CUSTOMER_ID or name not in needed:
            continue
        dtype = input_example[name].dtype
        is_count = pd.api.types.is_integer_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)
        if name in categorical:
            declared: Any = DataType.string
        elif is_count:
            declared = AnyType()
        else:
            declared = DataType.double
        inputs.append(ColSpec(declared, name))
    declared_out = {CUSTOMER_ID: id_type, **dict.fromkeys(_TEXT_OUTPUTS, DataType.string)}
    outputs = [ColSpec(declared_out.get(name, DataType.double), name) for name in OUTPUT_COLUMNS]
    interval_param, interval_outputs = signature_parts()  # optional (mlflow_model.intervals)
    at = OUTPUT_COLUMNS.index("clv") + 1
    outputs[at:at] = interval_outputs
    params = ParamSchema(
        [
            ParamSpec("horizon", DataType.double, float(horizon)),
            ParamSpec("discount_rate", DataType.double, float(discount_rate)),
            ParamSpec(MARGIN, DataType.double, float(margin)),
            interval_param,
        ]
    )
    return ModelSignature(inputs=Schema(inputs), outputs=Schema(outputs), params=params)
