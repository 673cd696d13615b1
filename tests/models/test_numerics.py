"""Numerical robustness of the models: extreme customers, extreme scales, the post-fit check."""

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import OptimizeResult

from clv.models import (
    BetaGeoBetaBinomModel,
    BetaGeoModel,
    GammaGammaModel,
    ModifiedBetaGeoModel,
    ParetoNBDModel,
)
from clv.models._optimizer import minimize_bfgs_box
from clv.models._optimum import certify_optimum

CDNOW_PARAMS = {
    BetaGeoModel: {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426},
    ModifiedBetaGeoModel: {"r": 0.525, "alpha": 6.183, "a": 0.891, "b": 1.614},
    ParetoNBDModel: {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669},
}
EXTREME = pd.DataFrame(
    {
        "frequency": [1000, 0, 5, 2000],
        "recency": [10.0, 0.0, 50.0, 99.9],
        "T": [100.0, 100, 60, 100],
    }
)


@pytest.mark.parametrize("model_class", list(CDNOW_PARAMS))
def test_extreme_customers_raise_no_floating_point_error(model_class):
    # (x=1000, t_x=10, T=100): P(alive) is below 1e-300; it used to underflow in logaddexp
    model = model_class.from_params(CDNOW_PARAMS[model_class], time_unit="W")
    with np.errstate(all="raise"):
        alive = model.probability_alive(EXTREME)
        expected = model.expected_purchases(EXTREME, 39.0)
        quiet = model.probability_no_purchase(EXTREME, 39.0)
    assert alive.iloc[0] == 0.0 and expected.iloc[0] == 0.0 and quiet.iloc[0] == 1.0
    assert ((alive >= 0) & (alive <= 1)).all() and (alive.iloc[1:] > 0).all()
    assert np.isfinite(expected).all() and (expected >= 0).all()


def test_bg_bb_extreme_customer_raises_no_floating_point_error():
    model = BetaGeoBetaBinomModel.from_params(
        {"alpha": 1.204, "beta": 0.750, "gamma": 0.657, "delta": 2.783}
    )
    table = pd.DataFrame(
        {"frequency": [0, 3, 1], "recency": [0, 400, 1], "n_periods": [6, 400, 400]}
    )
    with np.errstate(all="raise"):
        alive = model.probability_alive(table)
        expected = model.expected_purchases(table, 10)
    assert ((alive >= 0) & (alive <= 1)).all() and alive.iloc[2] < 1e-6
    assert np.isfinite(expected).all() and (expected >= 0).all()


@pytest.mark.parametrize("scale", [1e-9, 1e9, 1e11])
def test_gamma_gamma_is_scale_equivariant(cdnow_repeat, scale):
    base = GammaGammaModel().fit(cdnow_repeat)
    scaled_table = cdnow_repeat.assign(monetary_value=cdnow_repeat["monetary_value"] * scale)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # neither a warning nor an error at any scale
        scaled = GammaGammaModel().fit(scaled_table)
    np.testing.assert_allclose(scaled.params_["p"], base.params_["p"], rtol=1e-5)
    np.testing.assert_allclose(scaled.params_["q"], base.params_["q"], rtol=1e-5)
    np.testing.assert_allclose(scaled.params_["gamma"], base.params_["gamma"] * scale, rtol=1e-5)
    shift = len(cdnow_repeat) * np.log(scale)  # the density of c m is that of m over c
    np.testing.assert_allclose(scaled.log_likelihood_ + shift, base.log_likelihood_, atol=1e-6)
    np.testing.assert_allclose(
        scaled.expected_spend(scaled_table), base.expected_spend(cdnow_repeat) * scale, rtol=1e-5
    )


def _quadratic(center):
    def objective(x):
        return float(np.sum((x - center) ** 2)), 2.0 * (x - center)

    return objective


def _rerun(objective):
    return lambda start, inverse: minimize_bfgs_box(
        objective, start, 25.0, max_iter=100, inverse_hessian=inverse
    )


def test_post_fit_check_moves_a_premature_stop_to_the_optimum():
    center = np.array([1.0, -2.0, 0.5])
    objective = _quadratic(center)
    stopped = np.array([0.9, -1.7, 0.5])  # an optimiser that claimed success too early
    claimed = OptimizeResult(x=stopped, fun=objective(stopped)[0], jac=objective(stopped)[1])
    claimed.update(nit=3, nfev=4, success=True, message="relative reduction below ftol")
    checked = certify_optimum(objective, claimed, 25.0, 1e-12, _rerun(objective))
    np.testing.assert_allclose(checked.x, center, atol=1e-6)
    assert checked.shortfall == 0.0


def test_post_fit_check_certifies_a_true_optimum_without_moving():
    center = np.array([0.3, 0.7])
    objective = _quadratic(center)
    exact = OptimizeResult(x=center.copy(), fun=0.0, jac=np.zeros(2), nit=5, success=True)
    checked = certify_optimum(objective, exact, 25.0, 1e-12, _rerun(objective))
    assert checked.shortfall == 0.0 and np.array_equal(checked.x, center)


def test_post_fit_check_reports_an_objective_that_keeps_falling():
    # flat in x[1] except for a slow linear fall: no optimum inside the box
    def objective(x):
        return float(x[0] ** 2 - 1e-3 * x[1]), np.array([2.0 * x[0], -1e-3])

    def stuck(start, inverse):  # an optimiser that cannot move any further
        value, gradient = objective(start)
        return OptimizeResult(x=start, fun=value, jac=gradient, nit=0, success=False)

    at = np.array([0.0, 3.0])
    result = OptimizeResult(x=at, fun=objective(at)[0], jac=objective(at)[1], nit=1, success=True)
    # in a wide box the check's own steps (three rounds) do not reach the edge: a shortfall
    checked = certify_optimum(objective, result, 100.0, 1e-6, stuck)
    assert checked.shortfall > 1e-4 and abs(checked.direction[1]) > 0.99
    # in the fit's box they walk to its edge, which the fit reports (ConvergenceError)
    checked = certify_optimum(objective, result, 25.0, 1e-6, stuck)
    assert checked.x[1] == 25.0 and checked.fun < result.fun


@pytest.mark.parametrize("model_class", [BetaGeoModel, ModifiedBetaGeoModel])
@pytest.mark.parametrize("b", [9.4e9, 7e10])
def test_runaway_dropout_gives_the_no_dropout_limit(cdnow, model_class, b):
    # b -> infinity: no dropout after the history, so E[Y(t) | alive] -> (r + x) t / (alpha + T)
    # (the closed form gave -217 at b = 9.4e9)
    r, alpha = 0.243, 4.414
    model = model_class.from_params({"r": r, "alpha": alpha, "a": 0.8, "b": b}, time_unit="W")
    with np.errstate(all="raise"):
        expected = model.expected_purchases(cdnow, 39.0)
        alive = model.probability_alive(cdnow)
        new = model.expected_purchases_new_customer(np.array([1.0, 39.0]))
    assert np.isfinite(expected).all() and (expected >= 0).all()
    limit = (r + cdnow["frequency"]) * 39.0 / (alpha + cdnow["T"])
    shown = alive > 1e-3
    np.testing.assert_allclose((expected / alive)[shown], limit[shown], rtol=1e-6)
    np.testing.assert_allclose(new, r * np.array([1.0, 39.0]) / alpha, rtol=1e-6)


@pytest.mark.parametrize("scale", [1e10, 7e10])
def test_runaway_rate_shape_gives_the_poisson_limit(cdnow, scale):
    # r, alpha -> infinity with r / alpha fixed: every customer buys at rate r / alpha
    rate = 0.243 / 4.414
    model = BetaGeoModel.from_params({"r": rate * scale, "alpha": scale, "a": 0.8, "b": 2.4})
    near = BetaGeoModel.from_params({"r": rate * 1e9, "alpha": 1e9, "a": 0.8, "b": 2.4})
    with np.errstate(all="raise"):
        far = model.expected_purchases(cdnow, 39.0)
    assert np.isfinite(far).all() and (far >= 0).all()
    np.testing.assert_allclose(far, near.expected_purchases(cdnow, 39.0), rtol=1e-4)


def test_bg_bb_runaway_dropout_parameters_stay_finite(donations):
    # gamma, delta -> infinity with gamma / (gamma + delta) fixed: a fixed dropout rate
    far = BetaGeoBetaBinomModel.from_params(
        {"alpha": 1.2, "beta": 0.75, "gamma": 3e10, "delta": 9e10}
    )
    near = BetaGeoBetaBinomModel.from_params(
        {"alpha": 1.2, "beta": 0.75, "gamma": 3e5, "delta": 9e5}
    )
    with np.errstate(all="raise"):
        values = far.expected_purchases(donations, 5)
    np.testing.assert_allclose(values, near.expected_purchases(donations, 5), rtol=1e-4)
    np.testing.assert_allclose(
        far.probability_alive(donations), near.probability_alive(donations), rtol=1e-4
    )
