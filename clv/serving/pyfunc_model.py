"""The clv MLflow model: one pyfunc, written as models-from-code.

MLflow copies this file into the model folder and executes it when the model is
loaded (``mlflow.pyfunc.load_model``, ``mlflow models serve``,
``mlflow.pyfunc.spark_udf``); the last lines call :func:`mlflow.models.set_model`.
Imported as ``clv.serving.pyfunc_model`` it only defines things, so that other
code (batch scoring, the tests) can reuse :func:`validate_features` without
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

Outputs are ``customer_id``, ``expected_purchases``, ``probability_alive``,
``churn_probability``, ``expected_spend``, ``clv``, ``margin``, ``segment`` and
``action`` (the segment's recommended action, :mod:`clv.models.actions`).
Params: ``horizon`` -- **in the model's time unit** (``metadata.json``
``time_unit`` and ``horizon_unit``; weeks for ``clv train``'s default ``W``),
``discount_rate`` (annual) and ``margin`` (share of spend that is profit, in
[0, 1]; :mod:`clv.training.margin`), each defaulting to the value stored at
training time. ``clv`` is ``margin`` x the discounted expected spend: revenue when
``margin`` is 1, profit otherwise; the ``margin`` column says which. Segments are
always assigned from the predictions at the stored defaults, so a customer's
segment does not change with the query's horizon, rate or margin. The optional param
``interval`` (a level such as 0.9) adds prediction intervals after ``clv``
(``purchases_lower``, ``purchases_upper``, ``clv_lower``, ``clv_upper``, ``interval``;
declared as optional outputs, see :mod:`clv.serving.intervals`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd

from clv.candidates import PREDICTION_COLUMNS
from clv.errors import InvalidDataError, InvalidParameterError, ModelLoadError, describe_examples
from clv.models.actions import action_array
from clv.serving.intervals import (
    INTERVAL,
    check_interval,
    interval_arrays,
    output_columns,
    signature_parts,
)
from clv.training.margin import DEFAULT_MARGIN, apply_margin, check_margin

__all__ = [
    "OUTPUT_COLUMNS",
    "PREDICTION_COLUMNS",
    "CLVModel",
    "build_signature",
    "to_model_input",
    "validate_features",
]

CUSTOMER_ID = "customer_id"
#: The share of spend counted as profit in ``clv`` (an output column, one value per row).
MARGIN = "margin"
OUTPUT_COLUMNS = (CUSTOMER_ID, *PREDICTION_COLUMNS, MARGIN, "segment", "action")

CANDIDATE_ARTIFACT = "candidate"
SEGMENTS_ARTIFACT = "segments"
METADATA_ARTIFACT = "metadata"

#: The longest prediction horizon a request may ask for, in years (converted to the
#: model's time unit: 3652.5 days, 521.8 weeks). Scoring costs time in proportion to
#: the horizon's number of periods: 10,000 rows at 10 years of days take ~8 s.
MAX_HORIZON_YEARS = 10.0
#: The largest ``frequency`` accepted: beyond 2**53 a float no longer holds every
#: integer, and the count would not survive its conversion to int64.
MAX_FREQUENCY = 2.0**53

#: RFM columns with a rule of their own; every other numeric column must be finite,
#: and non-negative when the metadata says so.
_RFM_NONNEGATIVE = ("frequency", "recency", "T", "monetary_value")


def _ids(labels: np.ndarray | None, mask: np.ndarray) -> str:
    """Describe a few offending customer ids (or row numbers), shortened, for a message."""
    if labels is not None:
        values = labels[mask]
        label = "customers"
    else:
        values = np.flatnonzero(mask)
        label = "rows"
    shown = describe_examples(str(value)[:24] for value in pd.unique(values))
    return f"{label} {shown}"


def _rows(count: int, verb: str = "are") -> str:
    singular = {"are": "is", "have": "has"}[verb]
    return f"{count} row {singular}" if count == 1 else f"{count} rows {verb}"


def _as_frame(model_input: Any) -> pd.DataFrame:
    if isinstance(model_input, pd.DataFrame):
        return model_input
    if isinstance(model_input, Mapping) or (
        isinstance(model_input, Sequence) and not isinstance(model_input, str | bytes)
    ):
        try:
            return pd.DataFrame(model_input)
        except (TypeError, ValueError) as exc:
            raise InvalidDataError(
                "The input must be a table of customer features (one row per customer)."
            ) from exc
    raise InvalidDataError(
        "The input must be a table of customer features (one row per customer); "
        f"got {type(model_input).__name__}."
    )


def _array_columns(model_input: Any) -> dict[str, np.ndarray] | None:
    """Return ``model_input`` as a dict if it maps names to equally long 1-D numpy arrays."""
    if not isinstance(model_input, Mapping) or not model_input:
        return None
    lengths = set()
    for value in model_input.values():
        if not isinstance(value, np.ndarray) or value.ndim != 1:
            return None
        lengths.add(len(value))
    return dict(model_input) if len(lengths) == 1 else None


def _columns_of(
    model_input: Any, columns: Sequence[str]
) -> tuple[dict[str, Any], np.ndarray | None]:
    """Return the required columns (Series or arrays) and the customer ids, if any."""
    arrays = _array_columns(model_input)
    source: Any = arrays if arrays is not None else _as_frame(model_input)
    present = set(source.keys()) if arrays is not None else set(source.columns)
    missing = [name for name in columns if name not in present]
    if missing:
        raise InvalidDataError(
            f"The input lacks {len(missing)} of the {len(columns)} feature column(s): "
            + ", ".join(f"'{name}'" for name in missing[:10])
            + (" ..." if len(missing) > 10 else "")
            + "."
        )
    raw = {name: source[name] for name in columns}
    if CUSTOMER_ID in raw:
        labels = np.asarray(raw[CUSTOMER_ID])
    elif CUSTOMER_ID in present:
        labels = np.asarray(source[CUSTOMER_ID])
    else:
        labels = None
    return raw, labels


def _numbers(raw: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """``float64`` values, null mask, and text mask (``None``: no text) of one column."""
    dtype = raw.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "fiu":
        # The common case (a numpy int or float column): no text to look for.
        values = np.asarray(raw, dtype="float64")
        return values, np.isnan(values), None
    series = raw if isinstance(raw, pd.Series) else pd.Series(raw)
    values = pd.to_numeric(series, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    null = series.isna().to_numpy()
    return values, null, np.isnan(values) & ~null


def _validated_columns(
    model_input: Any,
    *,
    columns: Sequence[str],
    categorical: Sequence[str] = (),
    nonnegative: Sequence[str] = (),
) -> dict[str, np.ndarray]:
    """:func:`validate_features` without building a DataFrame: the columns as arrays."""
    raw, labels = _columns_of(model_input, columns)
    n_rows = len(next(iter(raw.values()))) if raw else 0
    if n_rows == 0:
        raise InvalidDataError("The input has no rows: there is no customer to score.")

    problems: list[str] = []
    if CUSTOMER_ID in raw:
        ids = raw[CUSTOMER_ID]
        dtype = ids.dtype
        if isinstance(dtype, np.dtype) and dtype.kind in "iub":
            null_ids = np.zeros(n_rows, dtype=bool)
        else:
            null_ids = np.asarray(pd.isna(ids), dtype=bool)
        if null_ids.any():
            problems.append(
                f"column '{CUSTOMER_ID}': {_rows(int(null_ids.sum()), 'have')} a null customer id "
                f"(rows {describe_examples(np.flatnonzero(null_ids)).removeprefix('e.g. ')})"
            )
    skip = {CUSTOMER_ID, *categorical}
    numeric_names = [name for name in columns if name not in skip]
    clean = None if problems else _clean_numbers(raw, numeric_names, nonnegative)
    if clean is not None:
        return _result(raw, columns, clean)
    numeric: dict[str, np.ndarray] = {}
    for name in numeric_names:
        column = raw[name]
        if pd.api.types.is_bool_dtype(column.dtype):
            problems.append(f"column '{name}' must be numeric; it holds booleans")
            continue
        values, null, text = _numbers(column)
        if text is not None and text.any():
            problems.append(
                f"column '{name}': {_rows(int(text.sum()))} not numeric ({_ids(labels, text)})"
            )
        if null.any():
            problems.append(
                f"column '{name}': {_rows(int(null.sum()))} null ({_ids(labels, null)})"
            )
        infinite = np.isinf(values)
        if infinite.any():
            problems.append(
                f"column '{name}': {_rows(int(infinite.sum()))} infinite ({_ids(labels, infinite)})"
            )
        numeric[name] = values

    finite = {name: np.isfinite(values) for name, values in numeric.items()}
    for name in dict.fromkeys([*_RFM_NONNEGATIVE, *nonnegative]):
        if name not in numeric:
            continue
        negative = finite[name] & (numeric[name] < 0)
        if negative.any():
            problems.append(
                f"column '{name}': {_rows(int(negative.sum()))} negative ({_ids(labels, negative)})"
            )
    if "frequency" in numeric:
        values = numeric["frequency"]
        fractional = finite["frequency"] & (values != np.floor(values))
        if fractional.any():
            problems.append(
                f"column 'frequency' counts repeat purchases: {_rows(int(fractional.sum()))} "
                f"fractional ({_ids(labels, fractional)})"
            )
        huge = finite["frequency"] & (values > MAX_FREQUENCY)
        if huge.any():
            problems.append(
                f"column 'frequency': {_rows(int(huge.sum()))} larger than 2**53 "
                f"({_ids(labels, huge)})"
            )
    if "recency" in numeric and "T" in numeric:
        recency, age = numeric["recency"], numeric["T"]
        both = finite["recency"] & finite["T"]
        late = both & _late(recency, age)
        if late.any():
            count = int(late.sum())
            problems.append(
                f"{count} customer{'s have' if count > 1 else ' has'} recency > T "
                f"({_ids(labels, late).split(' ', 1)[1]})"
            )
    if problems:
        raise InvalidDataError("Invalid customer features: " + "; ".join(problems) + ".")
    return _result(raw, columns, numeric)


def _late(recency: np.ndarray, age: np.ndarray) -> np.ndarray:
    return recency > age * (1 + 1e-12) + 1e-9


def _clean_numbers(
    raw: dict[str, Any], names: Sequence[str], nonnegative: Sequence[str]
) -> dict[str, np.ndarray] | None:
    """All numeric columns as ``float64`` if nothing needs a message; else ``None``.

    The same rules as the column-by-column checks of :func:`_validated_columns`,
    on one 2-D block (one numpy call per rule rather than per column and rule:
    ~0.2 ms less per request); ``None`` sends the input through those checks,
    which name the problems.
    """
    arrays = []
    for name in names:
        dtype = raw[name].dtype
        if not (isinstance(dtype, np.dtype) and dtype.kind in "fiu"):
            return None
        arrays.append(np.asarray(raw[name], dtype="float64"))
    if not arrays:
        return {}
    block = np.vstack(arrays)
    if not np.isfinite(block).all():
        return None
    position = {name: index for index, name in enumerate(names)}
    rows = [
        position[name]
        for name in dict.fromkeys([*_RFM_NONNEGATIVE, *nonnegative])
        if name in position
    ]
    if rows and (block[rows] < 0).any():
        return None
    if "frequency" in position:
        values = block[position["frequency"]]
        if (values != np.floor(values)).any() or (values > MAX_FREQUENCY).any():
            return None
    if "recency" in position and "T" in position:
        if _late(block[position["recency"]], block[position["T"]]).any():
            return None
    return dict(zip(names, block, strict=True))


def _result(
    raw: dict[str, Any], columns: Sequence[str], numeric: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    data = {name: numeric[name] if name in numeric else np.asarray(raw[name]) for name in columns}
    if "frequency" in numeric:
        data["frequency"] = numeric["frequency"].astype("int64")
    return data


def validate_features(
    model_input: Any,
    *,
    columns: Sequence[str],
    categorical: Sequence[str] = (),
    nonnegative: Sequence[str] = (),
    time_unit: str | None = None,
) -> pd.DataFrame:
    """Check a customer feature table before scoring, and return a clean copy.

    Every problem found is reported in one :class:`~clv.errors.InvalidDataError`
    whose message names the column, the number of rows and a few customers, and
    never repeats the payload itself.

    Parameters
    ----------
    model_input : pandas.DataFrame or dict or list of records
        The customer feature table (one row per customer); a dict of equally long
        1-D numpy arrays is read without building a DataFrame first.
    columns : sequence of str
        The feature columns the model was trained with (``customer_id`` first).
    categorical : sequence of str, optional
        Pass-through attribute columns that are not numeric.
    nonnegative : sequence of str, optional
        Further numeric columns that must not be negative (counts, amounts,
        durations). ``frequency``, ``recency``, ``T`` and ``monetary_value``
        always must not be.
    time_unit : str, optional
        Stored in the result's ``attrs["time_unit"]``.

    Returns
    -------
    pandas.DataFrame
        The required columns in training order (extra columns dropped); numeric
        columns as ``float64``, ``frequency`` as ``int64``.

    Raises
    ------
    clv.errors.InvalidDataError
        Missing columns; an empty table; null customer ids; text, nulls or
        infinite values in numeric columns; negative or fractional ``frequency``;
        negative durations or amounts; ``recency`` greater than ``T``.
    """
    data = _validated_columns(
        model_input, columns=columns, categorical=categorical, nonnegative=nonnegative
    )
    # One constructor call: inserting the columns one by one costs ~10 ms per request.
    n_rows = len(next(iter(data.values())))
    result = pd.DataFrame(data, index=pd.RangeIndex(n_rows))
    if time_unit is not None:
        result.attrs["time_unit"] = time_unit
    return result


def to_model_input(features: pd.DataFrame) -> pd.DataFrame:
    """Prepare a feature table for a model logged by an earlier clv (all features double).

    Models logged by this version of clv take :func:`clv.features.customer_features`
    as it is (see the module docstring) and need no conversion (it does no harm).
    Older models declared every numeric feature ``double``, and MLflow refuses
    ``int64`` for ``double``: for those, this turns integer feature columns to
    float64. ``customer_id`` keeps its type; the caller's frame is not modified.

    Parameters
    ----------
    features : pandas.DataFrame
        Output of :func:`clv.features.customer_features`.

    Returns
    -------
    pandas.DataFrame
        A copy with every integer or boolean column other than ``customer_id`` as
        ``float64``.
    """
    if not isinstance(features, pd.DataFrame):
        raise InvalidDataError(
            f"The features must be a pandas DataFrame; got {type(features).__name__}."
        )
    columns = {
        name: "float64"
        for name, dtype in features.dtypes.items()
        if name != CUSTOMER_ID
        and (pd.api.types.is_integer_dtype(dtype) or pd.api.types.is_bool_dtype(dtype))
    }
    result = features.astype(columns) if columns else features.copy()
    result.attrs = dict(features.attrs)
    return result


def _check_param(
    name: str, value: Any, *, positive: bool, maximum: float = math.inf, note: str = ""
) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        number = math.nan
    valid = math.isfinite(number) and (number > 0 if positive else number >= 0)
    if isinstance(value, bool) or not valid or number > maximum:
        bounds = (
            f"{'(0' if positive else '[0'}, {'inf)' if math.isinf(maximum) else f'{maximum:g}]'}"
        )
        shown = repr(value) if len(repr(value)) <= 40 else f"a {type(value).__name__}"
        raise InvalidParameterError(
            f"The '{name}' parameter must be a number in the range {bounds}{note}. "
            f"Got {shown} instead."
        )
    return number


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
            :mod:`clv.serving.intervals`).

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
            ``horizon`` (in the model's time unit), ``discount_rate`` (annual),
            ``margin`` (share of spend that is profit, in [0, 1]) and, optionally,
            ``interval`` (a level in (0, 1): the interval columns of
            :mod:`clv.serving.intervals`).

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
        from clv.models._base import units_per_year

        unit = metadata["time_unit"]
        horizon = _check_param(
            "horizon",
            params.get("horizon", default_horizon),
            positive=True,
            maximum=MAX_HORIZON_YEARS * units_per_year(unit),
            note=f" (at most {MAX_HORIZON_YEARS:g} years, in the model's time unit '{unit}')",
        )
        rate = _check_param(
            "discount_rate", params.get("discount_rate", default_rate), positive=False
        )
        margin = check_margin(params.get(MARGIN, default_margin))
        columns = metadata["feature_columns"]
        data = _validated_columns(
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
        output["segment"] = segments.astype(str)
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


def build_signature(
    input_example: pd.DataFrame,
    *,
    required: Sequence[str] | None = None,
    categorical: Sequence[str] = (),
    horizon: float,
    discount_rate: float,
    margin: float = 1.0,
) -> Any:
    """Build the model signature: feature columns in, predictions out, three params.

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
    outputs = [ColSpec(id_type, CUSTOMER_ID)]
    outputs += [ColSpec(DataType.double, name) for name in PREDICTION_COLUMNS]
    outputs.append(ColSpec(DataType.double, MARGIN))
    outputs.append(ColSpec(DataType.string, "segment"))
    outputs.append(ColSpec(DataType.string, "action"))
    interval_param, interval_outputs = signature_parts()  # optional (clv.serving.intervals)
    at = [spec.name for spec in outputs].index("clv") + 1
    outputs[at:at] = interval_outputs
    params = ParamSchema(
        [
            ParamSpec("horizon", DataType.double, float(horizon)),
            ParamSpec("discount_rate", DataType.double, float(discount_rate)),
            ParamSpec("margin", DataType.double, float(margin)),
            interval_param,
        ]
    )
    return ModelSignature(inputs=Schema(inputs), outputs=Schema(outputs), params=params)


# Executed by MLflow as the model's code file (under a generated module name):
# register the model object. Imported as clv.serving.pyfunc_model, nothing is set.
if __name__ != "clv.serving.pyfunc_model":
    mlflow.models.set_model(CLVModel())
