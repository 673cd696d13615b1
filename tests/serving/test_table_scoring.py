"""Batch scoring's shortcuts change speed, never answers.

``predict_table`` (no per-value signature loop) against ``PyFuncModel.predict`` on
the same table, and the model loaded on a helper thread (``BackgroundModel``)
raising its errors in the caller's thread.
"""

from __future__ import annotations

import mlflow
import numpy as np
import pandas as pd
import pytest

from clv.datasets import load_cdnow
from clv.errors import InvalidDataError, ModelLoadError
from clv.features.behaviour import customer_features
from clv.mlflow_model.table_scoring import _direct_input, predict_table
from clv.mlflow_model.validation import to_model_input
from clv.serving._models import download_model, resolve_model
from clv.serving.model_loading import BackgroundModel


@pytest.fixture(scope="module")
def model_and_features(trained):
    model = mlflow.pyfunc.load_model(
        str(download_model(resolve_model(trained.model_uri, trained.tracking_uri)))
    )
    features = customer_features(load_cdnow(), as_of="1997-09-30", time_unit="W")
    columns = model.unwrap_python_model().metadata["feature_columns"]
    return model, to_model_input(features[columns])


@pytest.mark.parametrize(
    "params", [None, {"horizon": 52.0}, {"horizon": 13.0, "discount_rate": 0.1, "margin": 0.3}]
)
def test_predict_table_equals_the_pyfunc(model_and_features, params):
    model, features = model_and_features
    assert _direct_input(model, features) is not None  # the shortcut is taken
    expected = model.predict(features, params=params)
    got = predict_table(model, features, params)
    pd.testing.assert_frame_equal(got, expected)


def test_other_tables_go_through_mlflow(model_and_features):
    model, features = model_and_features
    as_float32 = features.astype({"monetary_value": np.float32})
    assert _direct_input(model, as_float32) is None
    pd.testing.assert_frame_equal(
        predict_table(model, as_float32), model.predict(as_float32), check_exact=False
    )
    text_ids = features.assign(customer_id=features["customer_id"].astype(str))
    assert _direct_input(model, text_ids) is None
    with pytest.raises(mlflow.exceptions.MlflowException):
        predict_table(model, text_ids)
    assert _direct_input(model, features.drop(columns="T")) is None


def test_predict_table_keeps_the_models_own_checks(model_and_features):
    model, features = model_and_features
    negative = features.copy()
    negative.loc[negative.index[3], "frequency"] = -1
    assert _direct_input(model, negative) is not None
    with pytest.raises(InvalidDataError, match="frequency") as direct:
        predict_table(model, negative)
    with pytest.raises(InvalidDataError, match="frequency") as routed:
        model.predict(negative)
    assert str(direct.value) == str(routed.value)
    with pytest.raises(mlflow.exceptions.MlflowException):
        predict_table(model, features, {"horizon": "soon"})


def test_background_model_loads_and_reports_errors_in_the_callers_thread(trained, tmp_path):
    with BackgroundModel(trained.model_uri, trained.tracking_uri, tmp_path / "a") as loading:
        resolved, model = loading.result()
    assert resolved.version == trained.version
    assert "feature_columns" in model.unwrap_python_model().metadata
    with BackgroundModel("models:/clv@nobody", trained.tracking_uri, tmp_path / "b") as loading:
        with pytest.raises(ModelLoadError, match="Unknown model"):
            loading.result()
        with pytest.raises(ModelLoadError, match="Unknown model"):
            loading.check()  # once failed, every check raises
