"""The registered pyfunc, in Python, answers row for row with its input's index."""

from __future__ import annotations

import numpy as np

from tests.alignment import shuffled

PREDICTIONS = ["expected_purchases", "probability_alive", "churn_probability", "clv"]


def test_pyfunc_output_assigns_back_on_a_shuffled_table(trained):
    import mlflow

    from clv.datasets import load_cdnow
    from clv.features.behaviour import customer_features
    from clv.mlflow_model.validation import to_model_input
    from clv.serving._models import download_model, resolve_model

    model = mlflow.pyfunc.load_model(
        str(download_model(resolve_model(trained.model_uri, trained.tracking_uri)))
    )
    features = customer_features(load_cdnow(), as_of="1997-09-30", time_unit="W")
    columns = model.unwrap_python_model().metadata["feature_columns"]
    table = to_model_input(features[columns])
    reference = model.predict(table, params={"horizon": 39.0}).set_index("customer_id")

    mixed = shuffled(table)
    output = model.predict(mixed, params={"horizon": 39.0})
    assert output.index.equals(mixed.index)
    for name in [*PREDICTIONS, "segment"]:
        mixed[name] = output[name]  # the idiom under test
    assert (output["customer_id"].to_numpy() == mixed["customer_id"].to_numpy()).all()
    expected = reference.loc[mixed["customer_id"].to_numpy()]
    np.testing.assert_allclose(
        mixed[PREDICTIONS].to_numpy(), expected[PREDICTIONS].to_numpy(), rtol=1e-12
    )
    assert (mixed["segment"].to_numpy() == expected["segment"].to_numpy()).all()
