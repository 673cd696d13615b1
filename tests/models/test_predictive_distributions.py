"""Predictive distributions: P(n purchases), P(alive) later, purchase intervals."""

import numpy as np
import pandas as pd
import pytest
from lifetimes import (
    BetaGeoBetaBinomFitter,
    BetaGeoFitter,
    ModifiedBetaGeoFitter,
    ParetoNBDFitter,
)
from scipy.integrate import quad
from scipy.special import gammaln

from clv.datasets.simulate_holdout import simulate_with_holdout
from clv.errors import InvalidParameterError
from clv.models import (
    BetaGeoBetaBinomModel,
    BetaGeoModel,
    ModifiedBetaGeoModel,
    ParetoNBDModel,
)
from clv.models._count_distributions import pareto_nbd_count_pmf

BGNBD = {"r": 0.2425945, "alpha": 4.4136019, "a": 0.7929199, "b": 2.4258881}
MBGNBD = {"r": 0.525, "alpha": 6.183, "a": 0.891, "b": 1.614}
PNBD = {"r": 0.55315, "alpha": 10.57633, "s": 0.60625, "beta": 11.6715}
BGBB = {"alpha": 1.204, "beta": 0.750, "gamma": 0.657, "delta": 2.783}
CONTINUOUS = [(BetaGeoModel, BGNBD), (ModifiedBetaGeoModel, MBGNBD), (ParetoNBDModel, PNBD)]
# the count distributions are summed up to this count: on CDNOW over 39 weeks the
# probability of more than 150 purchases is below 1e-12 for every customer
TRUNCATION = 150


def fitter(fitter_class, params):
    model = fitter_class()
    model.params_ = pd.Series(params)
    return model


def test_pareto_nbd_conditional_pmf_equals_lifetimes(cdnow):
    model = ParetoNBDModel.from_params(PNBD)
    oracle = fitter(ParetoNBDFitter, PNBD)
    x, t_x, T = (cdnow[c].to_numpy() for c in ("frequency", "recency", "T"))
    for horizon in (5.0, 39.0):
        ours = model.probability_of_n_purchases(cdnow, horizon, list(range(8)))
        for n in range(8):
            theirs = oracle.conditional_probability_of_n_purchases_up_to_time(n, horizon, x, t_x, T)
            np.testing.assert_allclose(ours[n].to_numpy(), theirs, rtol=1e-8, atol=1e-14)


@pytest.mark.parametrize(
    ("model_class", "fitter_class", "params"),
    [(BetaGeoModel, BetaGeoFitter, BGNBD), (ModifiedBetaGeoModel, ModifiedBetaGeoFitter, MBGNBD)],
)
def test_new_customer_pmf_equals_lifetimes(model_class, fitter_class, params):
    model = model_class.from_params(params)
    oracle = fitter(fitter_class, params)
    for horizon in (1.0, 39.0, 78.0):
        ours = model.probability_of_n_purchases_new_customer(horizon, list(range(12)))
        theirs = [oracle.probability_of_n_purchases_up_to_time(horizon, n) for n in range(12)]
        # lifetimes' 1 - (alpha/(alpha+t))^r * finite sum cancels at small t (abs. 3e-18);
        # the regularised incomplete beta function here does not
        np.testing.assert_allclose(ours.to_numpy(), theirs, rtol=1e-10, atol=1e-15)
    assert model.probability_of_n_purchases_new_customer(78.0, 2) == pytest.approx(ours[2])


def test_bgbb_new_customer_pmf_equals_lifetimes(donations):
    model = BetaGeoBetaBinomModel.from_params(BGBB)
    oracle = BetaGeoBetaBinomFitter()
    oracle.params_ = pd.Series(BGBB)
    oracle.data = donations.rename(columns={"count": "weights"})
    # lifetimes gives n_customers * P(X(6) = x) for the x present in the data (0..6)
    theirs = oracle.expected_number_of_transactions_in_first_n_periods(6)["model"]
    ours = model.probability_of_n_purchases_new_customer(6, list(theirs.index))
    np.testing.assert_allclose(ours.to_numpy() * donations["count"].sum(), theirs, rtol=1e-10)
    assert ours.sum() == pytest.approx(1.0, abs=1e-13)


def test_pareto_nbd_pmf_against_direct_quadrature():
    # heavy buyers and long windows, where a fixed rule would fail
    r = np.array([0.55, 30.5, 200.5])
    alpha = np.array([10.0, 60.0, 400.0])
    beta = np.array([11.7, 50.0, 500.0])
    s, t = 0.6, 52.0
    counts = [0, 1, 5, 30, 120]
    ours = pareto_nbd_count_pmf(counts, t, r, alpha, s, beta)

    def nb(n, tau, row):
        return np.exp(
            gammaln(r[row] + n)
            - gammaln(r[row])
            - gammaln(n + 1)
            + r[row] * np.log(alpha[row] / (alpha[row] + tau))
            + n * np.log(tau / (alpha[row] + tau))
        )

    for row in range(3):
        for j, n in enumerate(counts):
            dead = quad(
                lambda tau, n=n, row=row: (
                    nb(n, tau, row) * s * beta[row] ** s * (beta[row] + tau) ** -(s + 1)
                ),
                0,
                t,
                epsabs=0,
                epsrel=1e-12,
                limit=400,
            )[0]
            alive = nb(n, t, row) * (beta[row] / (beta[row] + t)) ** s
            assert ours[row, j] == pytest.approx(alive + dead, rel=1e-9, abs=1e-300)


@pytest.mark.parametrize(
    ("s", "beta"),
    [(1.8e7, [2.1e8, 2.1e8 + 40.0, 9e8]), (1e6, [20.0, 3e3, 4e6]), (3e9, [1e11, 2e10, 1e3])],
)
def test_pareto_nbd_pmf_with_a_large_dropout_shape(s, beta):
    # a large s (the no-heterogeneity limit the fuzz fits reach): the panels follow the
    # integrand's curvature where it is, not its bound (r + n + s + 1) / 4 everywhere
    r, alpha, beta = np.array([0.8, 14.8, 1e5]), np.array([4.6, 60.0, 5e5]), np.array(beta)
    t, counts = 39.0, [0, 1, 5]
    ours = pareto_nbd_count_pmf(counts, t, r, alpha, s, beta)

    def log_nb(n, tau, row):  # NB(n | r, alpha, tau) in logs
        return (
            gammaln(r[row] + n)
            - gammaln(r[row])
            - gammaln(n + 1)
            - r[row] * np.log1p(tau / alpha[row])
            + n * (np.log(tau) - np.log(alpha[row] + tau))
        )

    for row in range(3):
        for j, n in enumerate(counts):
            # in zeta = log(tau), cut where the integrand can peak
            def density(z, n=n, row=row):
                tau = np.exp(z)
                log_death = np.log(s) - np.log(beta[row]) - (s + 1.0) * np.log1p(tau / beta[row])
                return np.exp(log_nb(n, tau, row) + log_death + z)

            cuts = sorted({-60.0, np.log(t), *np.clip(np.log([alpha[row], beta[row]]), -60, 3.6)})
            dead = sum(
                quad(density, a, b, epsabs=0, epsrel=1e-12, limit=400)[0]
                for a, b in zip(cuts[:-1], cuts[1:], strict=False)
            )
            alive = np.exp(log_nb(n, t, row) - s * np.log1p(t / beta[row]))
            assert ours[row, j] == pytest.approx(alive + dead, rel=1e-9, abs=1e-300)


@pytest.mark.parametrize(("model_class", "params"), CONTINUOUS)
def test_conditional_pmf_sums_to_one_and_has_the_expected_mean(cdnow, model_class, params):
    model = model_class.from_params(params)
    pmf = model.probability_of_n_purchases(cdnow, 39.0, list(range(TRUNCATION + 1)))
    assert isinstance(pmf, pd.DataFrame) and list(pmf.columns) == list(range(TRUNCATION + 1))
    np.testing.assert_allclose(pmf.sum(axis=1), 1.0, atol=1e-12)
    mean = pmf.to_numpy() @ np.arange(TRUNCATION + 1)
    np.testing.assert_allclose(mean, model.expected_purchases(cdnow, 39.0), rtol=1e-9, atol=1e-12)
    # a new customer's distribution has a longer tail: 150 counts leave 1.1e-10 (BG/NBD)
    new = model.probability_of_n_purchases_new_customer(39.0, list(range(1001)))
    assert new.sum() == pytest.approx(1.0, abs=1e-13)
    assert new.to_numpy() @ np.arange(1001) == pytest.approx(
        model.expected_purchases_new_customer(39.0), rel=1e-9
    )


def test_bgbb_conditional_pmf_sums_to_one_and_has_the_expected_mean(donations):
    model = BetaGeoBetaBinomModel.from_params(BGBB)
    for m in (1, 5):
        pmf = model.probability_of_n_purchases(donations, m, list(range(m + 1)))
        np.testing.assert_allclose(pmf.sum(axis=1), 1.0, atol=1e-13)
        np.testing.assert_allclose(
            pmf.to_numpy() @ np.arange(m + 1), model.expected_purchases(donations, m), rtol=1e-10
        )
    beyond = model.probability_of_n_purchases(donations, 3, 4)
    assert (beyond == 0).all()


def test_one_count_gives_a_series_aligned_with_the_input(cdnow):
    model = BetaGeoModel.from_params(BGNBD)
    part = cdnow.iloc[[5, 1, 3]]
    one = model.probability_of_n_purchases(part, 10.0, 1)
    assert isinstance(one, pd.Series)
    several = model.probability_of_n_purchases(part, 10.0, [0, 1])
    np.testing.assert_array_equal(one.to_numpy(), several[1].to_numpy())
    assert list(one.index) == list(model.probability_alive(part).index)
    with pytest.raises(InvalidParameterError, match="'n' parameter"):
        model.probability_of_n_purchases(part, 10.0, -1)
    with pytest.raises(InvalidParameterError, match="'n' parameter"):
        model.probability_of_n_purchases(part, 10.0, [1.5])
    with pytest.raises(InvalidParameterError, match="'horizon'"):
        model.probability_of_n_purchases(part, -1.0, 1)


@pytest.mark.parametrize(("model_class", "params"), [*CONTINUOUS, (BetaGeoBetaBinomModel, BGBB)])
def test_probability_alive_later_starts_at_now_and_decreases(cdnow, donations, model_class, params):
    model = model_class.from_params(params)
    table = donations if model_class is BetaGeoBetaBinomModel else cdnow
    now = model.probability_alive(table)
    np.testing.assert_allclose(model.probability_alive(table, horizon=0), now, rtol=1e-12)
    later = [model.probability_alive(table, horizon=h).to_numpy() for h in (1, 5, 20)]
    assert np.all(later[0] <= now.to_numpy() + 1e-15)
    assert np.all(np.diff(np.stack(later), axis=0) <= 1e-15)


def test_bgbb_probability_alive_later_equals_lifetimes(donations):
    model = BetaGeoBetaBinomModel.from_params(BGBB)
    oracle = BetaGeoBetaBinomFitter()
    oracle.params_ = pd.Series(BGBB)
    x, t_x, n = (donations[c].to_numpy() for c in ("frequency", "recency", "n_periods"))
    for m in (0, 1, 5):
        np.testing.assert_allclose(
            model.probability_alive(donations, horizon=m),
            oracle.conditional_probability_alive(m, x, t_x, n),
            rtol=1e-10,
        )


@pytest.mark.parametrize(
    ("name", "model_class", "params"),
    [
        ("bgnbd", BetaGeoModel, BGNBD),
        ("mbgnbd", ModifiedBetaGeoModel, MBGNBD),
        ("pareto_nbd", ParetoNBDModel, PNBD),
        ("bgbb", BetaGeoBetaBinomModel, BGBB),
    ],
)
def test_predictions_match_simulated_customers(name, model_class, params):
    discrete = name == "bgbb"
    horizon = 6 if discrete else 39.0
    T = 6 if discrete else np.random.default_rng(0).uniform(27.0, 39.0, 20_000)
    sim = simulate_with_holdout(name, params, 20_000, T=T, holdout=horizon, random_state=1)
    model = model_class.from_params(params)
    later = model.probability_alive(sim, horizon=horizon)
    # the number alive at the end is a sum of independent Bernoullis given the histories
    spread = np.sqrt((later * (1 - later)).sum())
    assert abs(later.sum() - sim["alive_at_end"].sum()) < 4 * spread
    pmf = model.probability_of_n_purchases(sim, horizon, [0, 1, 2])
    for n in (0, 1, 2):
        actual = (sim["holdout_frequency"] == n).sum()
        assert abs(pmf[n].sum() - actual) < 4 * np.sqrt((pmf[n] * (1 - pmf[n])).sum())


@pytest.mark.parametrize(("model_class", "params"), [*CONTINUOUS, (BetaGeoBetaBinomModel, BGBB)])
def test_purchase_intervals_hold_the_point_and_nest(cdnow, donations, model_class, params):
    model = model_class.from_params(params)
    table = donations if model_class is BetaGeoBetaBinomModel else cdnow
    horizon = 5 if model_class is BetaGeoBetaBinomModel else 39.0
    wide = model.purchases_interval(table, horizon, level=0.9)
    narrow = model.purchases_interval(table, horizon, level=0.5)
    point = wide["expected_purchases"]
    assert (wide["purchases_lower"] <= point).all() and (point <= wide["purchases_upper"]).all()
    assert (wide["purchases_lower"] <= narrow["purchases_lower"]).all()
    assert (narrow["purchases_upper"] <= wide["purchases_upper"]).all()
    # the upper bound is a quantile: P(Y <= upper) >= 0.95 and P(Y <= upper - 1) < 0.95
    # unless it was widened to hold the expectation
    top = int(wide["purchases_upper"].max())
    cdf = model.probability_of_n_purchases(table, horizon, list(range(top + 1))).cumsum(axis=1)
    upper = wide["purchases_upper"].astype(int).to_numpy()
    rows = np.arange(len(upper))
    assert np.all(cdf.to_numpy()[rows, upper] >= 0.95 - 1e-12)
    quantile = upper > np.ceil(point.to_numpy())
    below = cdf.to_numpy()[rows, np.maximum(upper - 1, 0)]
    assert np.all(below[quantile] < 0.95)
    with pytest.raises(InvalidParameterError, match="'level'"):
        model.purchases_interval(table, horizon, level=1.0)


def test_count_calibration_on_customers_of_the_model_itself():
    from clv.models.count_calibration import count_calibration

    sim = simulate_with_holdout("bgnbd", BGNBD, 5_000, T=39.0, holdout=39.0, random_state=3)
    model = BetaGeoModel.from_params(BGNBD)
    histogram, measures = count_calibration(model, sim, sim["holdout_frequency"], 39.0)
    assert list(histogram.index) == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert histogram["actual"].sum() == 5_000
    assert histogram["predicted"].sum() == pytest.approx(5_000)
    # randomised PIT values are uniform for the true model: 4 standard errors
    assert abs(measures["pit_90"] - 0.90) < 4 * np.sqrt(0.09 / 5_000)
    assert abs(measures["pit_50"] - 0.50) < 4 * np.sqrt(0.25 / 5_000)
    # the plain central interval of a count over-covers
    assert measures["central_90"] > 0.93 and measures["central_50"] > 0.7


@pytest.mark.parametrize(("a", "b"), [(0.79, 2.4), (1e-3, 1e-3), (0.9, 2003.6), (5.0, 1.0)])
def test_beta_rule_integrates_polynomials_exactly_for_any_b(a, b):
    from clv.models._stable import beta_rule

    p, w = beta_rule(a, b, 48)
    assert np.all((p > 0) & (p < 1)) and w.sum() == pytest.approx(1.0)
    for k in (1, 2, 5, 20):
        exact = np.prod([(a + j) / (a + b + j) for j in range(k)])
        assert (p**k) @ w == pytest.approx(exact, rel=1e-9)


def test_heavy_buyers_get_finite_distributions():
    table = pd.DataFrame(
        {"frequency": [0, 500, 2000], "recency": [0.0, 2990.0, 2999.0], "T": [10.0, 3000.0, 3000.0]}
    )
    model = BetaGeoModel.from_params({"r": 0.24, "alpha": 30.0, "a": 0.79, "b": 2.4})
    later = model.probability_alive(table, horizon=365.0)
    assert np.all(np.isfinite(later)) and np.all(later <= model.probability_alive(table))
    pmf = model.probability_of_n_purchases(table, 365.0, list(range(400)))
    assert np.all(np.isfinite(pmf.to_numpy()))
    interval = model.purchases_interval(table, 365.0)
    assert (interval["purchases_lower"] <= interval["expected_purchases"]).all()
    assert (interval["expected_purchases"] <= interval["purchases_upper"]).all()
