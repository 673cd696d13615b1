"""The registered model takes clv's own feature table as it is (a real SQLite MLflow store)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clv.datasets import load_cdnow
from clv.errors import InvalidDataError
from clv.features.behaviour import customer_features
from clv.mlflow_model.signature import PREDICTION_COLUMNS

PREDICTIONS = list(PREDICTION_COLUMNS)
AS_OF = "1997-09-30"


@pytest.fixture(scope="module")
def model(trained):
    """``mlflow.pyfunc.load_model`` of the registered URI, from the test store."""
    import mlflow

    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(trained.tracking_uri)
    try:
        return mlflow.pyfunc.load_model(trained.model_uri)
    finally:
        mlflow.set_tracking_uri(previous)


@pytest.fixture(scope="module")
def features():
    return customer_features(load_cdnow(), as_of=AS_OF, time_unit="W")


def test_pyfunc_predicts_customer_features_as_they_are(model, features, clv_score):
    # clv's table has integer columns (frequency, purchases_*) and more columns than a
    # BG/NBD model reads; nothing is converted or selected before predict.
    assert features["frequency"].dtype == np.int64
    assert features["purchases_28d"].dtype == np.int64
    scored = model.predict(features, params={"horizon": 39.0})
    assert len(scored) == len(clv_score) == 2357
    expected = clv_score.set_index("customer_id").loc[scored["customer_id"]]
    np.testing.assert_allclose(scored[PREDICTIONS], expected[PREDICTIONS], rtol=1e-12)
    assert scored["segment"].tolist() == expected["segment"].tolist()


def test_extra_columns_are_ignored_and_order_does_not_matter(model, features):
    reference = model.predict(features, params={"horizon": 39.0})
    shuffled = features[features.columns[::-1]].assign(region="north", score=1.5)
    scored = model.predict(shuffled, params={"horizon": 39.0})
    pd.testing.assert_frame_equal(scored.reset_index(drop=True), reference.reset_index(drop=True))


def test_the_columns_spark_udf_passes_are_accepted(model, features):
    # mlflow.pyfunc.spark_udf hands the model a pandas frame built from the Spark
    # columns: long columns arrive as int64 (int32 for IntegerType), doubles as float64,
    # and only the columns the UDF was called with.
    reference = model.predict(features, params={"horizon": 39.0})
    required = model.unwrap_python_model().metadata["feature_columns"]
    assert required == ["customer_id", "frequency", "recency", "T", "monetary_value"]
    narrow = features[required].astype({"frequency": "int32"})
    scored = model.predict(narrow, params={"horizon": 39.0})
    np.testing.assert_allclose(scored[PREDICTIONS], reference[PREDICTIONS], rtol=1e-12)


def test_float_counts_are_accepted_and_fractional_ones_refused(model, features):
    reference = model.predict(features, params={"horizon": 39.0})
    # A table from another tool (lifetimes' summary has float frequency).
    floats = features.astype({"frequency": "float64"})
    scored = model.predict(floats, params={"horizon": 39.0})
    np.testing.assert_allclose(scored[PREDICTIONS], reference[PREDICTIONS], rtol=1e-12)
    broken = floats.copy()
    broken.loc[3, "frequency"] = 1.5
    with pytest.raises(
        InvalidDataError, match="column 'frequency' counts repeat purchases: 1 row is"
    ):
        model.predict(broken)


def test_signature_requires_only_what_the_kind_reads(model, features):
    from mlflow.exceptions import MlflowException

    schema = model.metadata.get_input_schema()
    rfm = ["customer_id", "frequency", "recency", "T", "monetary_value"]
    assert schema.input_names() == schema.required_input_names() == rfm
    types = {spec.name: spec.to_dict()["type"] for spec in schema.inputs}
    assert types["frequency"] == "any"  # ints and floats reach the model's own checks
    assert types["recency"] == "double"
    missing = features.drop(columns=["recency"])
    with pytest.raises(MlflowException, match=r"missing inputs \['recency'\]"):
        model.predict(missing)


def test_metadata_states_the_horizon_unit(model):
    assert model.metadata.metadata["clv_time_unit"] == "W"
    assert model.metadata.metadata["clv_horizon_unit"] == "weeks"
    metadata = model.unwrap_python_model().metadata
    assert metadata["time_unit"] == "W"
    assert metadata["horizon_unit"] == "weeks"
    assert len(metadata["input_columns"]) == 22
