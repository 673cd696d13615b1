"""Terms shared inside one scoring call: computed once, the same numbers as without."""

from __future__ import annotations

import numpy as np

from clv.models import ParetoNBDModel
from clv.models import _pareto_nbd_likelihood as likelihood
from clv.models._shared_terms import remembered, shared_terms


def test_remembered_computes_once_per_equal_inputs_inside_the_block_only():
    calls = []

    def compute(value):
        calls.append(value)
        return np.array([value])

    x = np.arange(5.0)
    remembered("term", (x, 1.0), lambda: compute(1))
    assert calls == [1]  # outside a block: nothing kept
    remembered("term", (x, 1.0), lambda: compute(2))
    assert calls == [1, 2]
    with shared_terms():
        first = remembered("term", (x, 1.0), lambda: compute(3))
        again = remembered("term", (x.copy(), 1.0), lambda: compute(4))  # equal bytes
        with shared_terms():  # nested: the outer block's terms
            remembered("term", (x, 1.0), lambda: compute(5))
        remembered("term", (x + 1, 1.0), lambda: compute(6))  # other inputs
        remembered("term", (x, 2.0), lambda: compute(7))
        remembered("other", (x, 1.0), lambda: compute(8))
    assert again is first
    assert calls == [1, 2, 3, 6, 7, 8]
    remembered("term", (x, 1.0), lambda: compute(9))
    assert calls[-1] == 9  # the block's terms are gone


def test_pareto_nbd_predictions_are_identical_with_shared_terms(cdnow, monkeypatch):
    from clv.models.value import customer_lifetime_value

    model = ParetoNBDModel().fit(cdnow)

    def predictions():
        return (
            model.probability_alive(cdnow).to_numpy(),
            model.expected_purchases(cdnow, 39.0).to_numpy(),
            model.probability_no_purchase(cdnow, 39.0).to_numpy(),
            customer_lifetime_value(
                model, cdnow["monetary_value"], cdnow, horizon=13.0, discount_rate=0.1
            ).to_numpy(),
        )

    alone = predictions()
    evaluations = []
    compute = likelihood._compute_log_parts
    monkeypatch.setattr(
        likelihood, "_compute_log_parts", lambda *a: evaluations.append(1) or compute(*a)
    )
    with shared_terms():
        shared = predictions()
    for a, b in zip(alone, shared, strict=True):
        np.testing.assert_array_equal(a, b)
    # the terms at T (for every prediction and each of the CLV's 13 periods) once,
    # and at T + 39 for the churn probability
    assert len(evaluations) == 2
