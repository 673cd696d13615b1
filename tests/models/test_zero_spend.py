"""Gamma-Gamma on real logs: repeat buyers with a $0 mean repeat spend are left out, counted."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from clv.errors import DataPolicyWarning, InvalidDataError
from clv.models import GammaGammaModel


def test_zero_spend_repeat_buyers_are_left_out_and_predicted_with_the_population_mean(
    cdnow_repeat,
):
    table = cdnow_repeat.copy()
    zero = table.index[:3]
    table.loc[zero, "monetary_value"] = 0.0
    with pytest.warns(DataPolicyWarning, match=r"3 customers have repeat purchases but a mean"):
        model = GammaGammaModel().fit(table)
    assert model.n_zero_spend_excluded_ == 3 and model.n_customers_ == len(table) - 3
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataPolicyWarning)
        reference = GammaGammaModel().fit(table.drop(index=zero))
    np.testing.assert_allclose(model.params_, reference.params_, rtol=1e-10)
    spend = model.expected_spend(table)
    np.testing.assert_allclose(spend.loc[zero], model.population_mean_spend(), rtol=1e-12)
    assert np.isfinite(spend).all() and (spend > 0).all()
    weights = np.arange(len(table)) % 3 + 1.0
    with pytest.warns(DataPolicyWarning):
        weighted = GammaGammaModel().fit(table, sample_weight=weights)
    assert weighted.n_zero_spend_excluded_ == 3
    negative = table.assign(monetary_value=table["monetary_value"] - 1e6)
    with pytest.raises(InvalidDataError, match="negative 'monetary_value'"):
        GammaGammaModel().fit(negative)
