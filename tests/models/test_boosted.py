import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from clv.errors import InvalidDataError, InvalidParameterError, ModelLoadError
from clv.models.boosted import BoostedChurnModel, BoostedSpendModel

pytest.importorskip("xgboost")


def _data(n=1500, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    group = rng.choice(["a", "b", "c"], n)
    rate = np.exp(0.8 * x + np.where(group == "a", 0.7, 0.0))
    purchases = rng.poisson(rate)
    spend = np.array([rng.gamma(2.0, 10.0, k).sum() for k in purchases])
    X = pd.DataFrame(
        {
            "customer_id": np.arange(n),
            "x": x,
            "noise": rng.normal(size=n),
            "group": pd.Categorical(group),
        }
    )
    return X, spend, (purchases == 0).astype(int)


@pytest.mark.parametrize(
    "objective", ["reg:tweedie", "reg:squarederror", "hurdle", "count:poisson"]
)
def test_spend_model_fits_and_round_trips(tmp_path, objective):
    X, spend, _ = _data()
    model = BoostedSpendModel(objective=objective, n_estimators=40).fit(X, spend)
    predicted = model.predict(X)
    assert predicted.index.equals(X.index) and (predicted >= 0).all()
    assert np.corrcoef(predicted, spend)[0, 1] > 0.4
    model.save(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir())[0].endswith(".ubj")
    assert not list(tmp_path.glob("*.pkl"))
    loaded = BoostedSpendModel.load(tmp_path)
    pd.testing.assert_series_equal(loaded.predict(X), predicted)
    assert loaded.get_params() == model.get_params()


def test_training_is_deterministic_and_clone_works():
    X, spend, _ = _data()
    model = BoostedSpendModel(n_estimators=30, random_state=3)
    twin = clone(model)
    assert twin.get_params() == model.get_params()
    pd.testing.assert_series_equal(model.fit(X, spend).predict(X), twin.fit(X, spend).predict(X))


def test_unknown_categories_predict_as_missing():
    X, spend, _ = _data()
    model = BoostedSpendModel(n_estimators=20).fit(X, spend)
    new = X.head(3).assign(group=pd.Categorical(["zzz", "a", "b"]))
    assert np.isfinite(model.predict(new)).all()


def test_calibration_improves_brier_on_fresh_customers(tmp_path):
    X, _, churned = _data(4000, seed=1)
    train, test = X.iloc[:3000], X.iloc[3000:]
    raw = BoostedChurnModel(calibration=None, n_estimators=300, max_depth=6, learning_rate=0.3)
    calibrated = BoostedChurnModel(
        calibration="isotonic", n_estimators=300, max_depth=6, learning_rate=0.3
    )
    y_train, y_test = churned[:3000], churned[3000:]
    brier_raw = np.mean((raw.fit(train, y_train).churn_probability(test) - y_test) ** 2)
    calibrated.fit(train, y_train)
    p = calibrated.churn_probability(test)
    brier_cal = np.mean((p - y_test) ** 2)
    assert brier_cal < brier_raw
    assert calibrated.calibration_["brier_calibrated"] < calibrated.calibration_["brier_raw"]
    calibrated.save(tmp_path)
    pd.testing.assert_series_equal(BoostedChurnModel.load(tmp_path).churn_probability(test), p)
    sigmoid = BoostedChurnModel(calibration="sigmoid", n_estimators=30).fit(train, y_train)
    assert sigmoid.predict_proba(test).shape == (1000, 2)


def test_errors():
    X, spend, churned = _data(200)
    with pytest.raises(InvalidParameterError, match="'objective' parameter of BoostedSpendModel"):
        BoostedSpendModel(objective="reg:absolute").fit(X, spend)
    with pytest.raises(InvalidParameterError, match="'n_estimators' parameter"):
        BoostedSpendModel(n_estimators=0).fit(X, spend)
    with pytest.raises(InvalidDataError, match="1 targets are negative"):
        BoostedSpendModel().fit(X, np.r_[-1.0, spend[1:]])
    with pytest.raises(InvalidDataError, match="lacks 1 column"):
        BoostedSpendModel(n_estimators=5).fit(X, spend).predict(X.drop(columns="x"))
    with pytest.raises(InvalidDataError, match="must be numeric or pandas 'category'"):
        BoostedSpendModel().fit(X.assign(x=X["x"].astype(str)), spend)
    with pytest.raises(ModelLoadError):
        BoostedChurnModel.load("/nonexistent")


def test_xgboost_is_imported_lazily():
    code = (
        "import sys, clv.models, clv.models.boosted, clv.candidates; "
        "print('xgboost' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
