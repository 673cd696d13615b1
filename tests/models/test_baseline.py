import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from clv.errors import InvalidDataError, NotFittedError
from clv.models.baseline import SimpleCLVModel, uniform_discount_factor


def _table():
    table = pd.DataFrame(
        {
            "customer_id": [1, 2, 3],
            "frequency": [4, 0, 2],
            "T": [8.0, 5.0, 0.0],
            "monetary_value": [10.0, 0.0, 40.0],
        }
    )
    table.attrs["time_unit"] = "W"
    return table


def test_formula_value_times_rate_times_horizon():
    model = SimpleCLVModel().fit(_table())
    assert model.population_rate_ == pytest.approx(6 / 13)
    assert model.population_spend_ == pytest.approx((40 + 80) / 6)
    purchases = model.expected_purchases(_table(), 10)
    assert purchases.tolist() == pytest.approx([5.0, 0.0, 60 / 13])
    assert model.expected_spend(_table()).tolist() == pytest.approx([10.0, 20.0, 40.0])
    clv = model.customer_lifetime_value(_table(), horizon=10, margin=0.5)
    assert clv.tolist() == pytest.approx([25.0, 0.0, 0.5 * 40 * 60 / 13])
    assert (model.probability_alive(_table()) == 1).all()
    assert model.probability_no_purchase(_table(), 10).iloc[0] == pytest.approx(np.exp(-5))
    assert clv.index.equals(_table().index)


def test_discount_factor_conventions():
    assert uniform_discount_factor(10, "W", 0.0) == 1.0
    d = 1.1 ** (7 / 365.25) - 1
    expected = np.mean([(1 + d) ** -k for k in range(1, 53)])
    assert uniform_discount_factor(52, "W", 0.1) == pytest.approx(expected)
    assert uniform_discount_factor(0.5, "Y", 0.1) == pytest.approx(
        (1 - 1.1**-0.5) / (0.5 * np.log(1.1))
    )


def test_estimator_contract_and_round_trip(tmp_path):
    model = SimpleCLVModel(time_unit="W")
    assert clone(model).get_params() == {"time_unit": "W"}
    with pytest.raises(NotFittedError):
        model.expected_purchases(_table(), 1)
    model.fit(_table())
    model.save(tmp_path / "m.json")
    loaded = SimpleCLVModel.load(tmp_path / "m.json")
    pd.testing.assert_series_equal(
        loaded.customer_lifetime_value(_table(), horizon=52, discount_rate=0.1),
        model.customer_lifetime_value(_table(), horizon=52, discount_rate=0.1),
    )


def test_errors_name_columns():
    with pytest.raises(InvalidDataError, match="'monetary_value'"):
        SimpleCLVModel().fit(_table().drop(columns="monetary_value"))
    bad = _table()
    bad.loc[0, "T"] = -1.0
    with pytest.raises(InvalidDataError, match="1 customer has negative 'T'"):
        SimpleCLVModel().fit(bad)
