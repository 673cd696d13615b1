"""Tests of the Pareto/NBD mathematics against the literature, lifetimes and simulation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, optimize

from clv.datasets import load_cdnow
from clv.models import _pareto_nbd_integral as integral
from clv.models import _pareto_nbd_likelihood as likelihood
from clv.models import _pareto_nbd_math as pnbd

PUBLISHED = np.array([0.55315, 10.57633, 0.60625, 11.67150])


@pytest.fixture(scope="module")
def cdnow() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    try:
        from clv.features import rfm_summary  # type: ignore[attr-defined]
    except ImportError:
        rfm_summary = None
    if rfm_summary is not None:
        table = rfm_summary(load_cdnow(), observation_end="1997-09-30", time_unit="W")
        return (
            table["frequency"].to_numpy(float),
            table["recency"].to_numpy(float),
            table["T"].to_numpy(float),
        )
    tx = load_cdnow()
    end = pd.Timestamp("1997-09-30")
    day = tx["timestamp"].dt.normalize()
    days = day[day <= end].groupby(tx["customer_id"])
    first, last, n = days.min(), days.max(), days.nunique()
    x = (n - 1).to_numpy(float)
    t_x = ((last - first).dt.days / 7).to_numpy()
    T = ((end - first).dt.days / 7).to_numpy()
    return x, t_x, T


def test_cdnow_published_log_likelihood(cdnow):
    x, t_x, T = cdnow
    assert len(x) == 2357 and x.sum() == 2457
    ll, _ = likelihood.log_likelihood(PUBLISHED, x, t_x, T)
    assert ll.sum() == pytest.approx(-9594.976, abs=0.05)


def test_cdnow_fit_reproduces_published(cdnow):
    x, t_x, T = cdnow

    def neg(theta):
        p = np.exp(theta)
        ll, g = likelihood.log_likelihood(p, x, t_x, T)
        return -ll.sum(), -(g.sum(axis=0) * p)

    res = optimize.minimize(neg, np.zeros(4), jac=True, method="L-BFGS-B")
    r, alpha, s, beta = np.exp(res.x)
    assert -res.fun == pytest.approx(-9594.98, abs=0.05)
    assert round(r, 3) == 0.553
    assert round(alpha, 3) == pytest.approx(10.578, abs=0.0015)
    assert round(s, 3) == 0.606
    assert beta == pytest.approx(11.67, abs=0.05)


@pytest.mark.parametrize(
    "params",
    [PUBLISHED, [0.5, 3.0, 0.7, 20.0], [0.5, 30.0, 0.7, 2.0], [2.0, 10.0, 0.3, 10.0]],
)
def test_log_likelihood_matches_lifetimes(cdnow, params):
    from lifetimes import ParetoNBDFitter

    x, t_x, T = cdnow
    ll, _ = likelihood.log_likelihood(params, x, t_x, T)
    ref = ParetoNBDFitter._conditional_log_likelihood(np.asarray(params, float), x, t_x, T)
    np.testing.assert_allclose(ll, ref, rtol=1e-8)


@pytest.mark.parametrize(
    "params",
    [PUBLISHED, [0.2, 1.5, 2.5, 80.0], [3.0, 200.0, 0.1, 0.5], [0.8, 5.0, 1.0, 5.0]],
)
def test_gradient_matches_finite_differences(params):
    params = np.asarray(params, float)
    rng = np.random.default_rng(1)
    T = np.concatenate([rng.uniform(1, 100, 40), [5000.0, 300.0, 50.0]])
    x = np.concatenate([rng.poisson(3, 40), [2000, 250, 0]]).astype(float)
    t_x = np.where(x > 0, T * rng.uniform(0, 1, T.size), 0.0)
    t_x[-3] = 4990.0
    _, grad = likelihood.log_likelihood(params, x, t_x, T)
    for k in range(4):
        h = 1e-5 * params[k]
        up, down = params.copy(), params.copy()
        up[k] += h
        down[k] -= h
        fd = (
            likelihood.log_likelihood(up, x, t_x, T)[0]
            - likelihood.log_likelihood(down, x, t_x, T)[0]
        ) / (2 * h)
        np.testing.assert_allclose(grad[:, k], fd, rtol=1e-6, atol=1e-7 * np.abs(fd).max())


def test_predictions_match_lifetimes(cdnow):
    from lifetimes import ParetoNBDFitter

    x, t_x, T = cdnow
    fitter = ParetoNBDFitter()
    fitter.params_ = pd.Series(PUBLISHED, index=["r", "alpha", "s", "beta"])
    np.testing.assert_allclose(
        pnbd.probability_alive(PUBLISHED, x, t_x, T),
        fitter.conditional_probability_alive(x, t_x, T),
        rtol=1e-6,
    )
    for t in (1.0, 39.0, 78.0):
        np.testing.assert_allclose(
            pnbd.conditional_expected_purchases(PUBLISHED, t, x, t_x, T),
            fitter.conditional_expected_number_of_purchases_up_to_time(t, x, t_x, T),
            rtol=1e-6,
        )
    np.testing.assert_allclose(
        pnbd.expected_purchases_new_customer(PUBLISHED, np.array([1.0, 39.0, 78.0])),
        fitter.expected_number_of_purchases_up_to_time(np.array([1.0, 39.0, 78.0])),
        rtol=1e-12,
    )


def test_new_customer_s_equal_one_limit():
    near = pnbd.expected_purchases_new_customer([0.5, 10.0, 1.0 + 1e-9, 12.0], 40.0)
    at = pnbd.expected_purchases_new_customer([0.5, 10.0, 1.0, 12.0], 40.0)
    assert at == pytest.approx(0.5 / 10 * 12 * np.log1p(40 / 12), rel=1e-12)
    assert near == pytest.approx(at, rel=1e-7)


@pytest.mark.parametrize("params", [PUBLISHED, [0.5, 2.0, 0.7, 50.0], [0.5, 50.0, 1.4, 2.0]])
def test_heavy_buyers_and_long_horizons_stay_finite(params):
    x = np.repeat([200.0, 500.0, 2000.0, 0.0], 4)
    T = np.tile([39.0, 500.0, 5000.0, 10_000.0], 4)
    t_x = np.where(x > 0, T * np.tile([1.0, 0.5, 0.01, 0.999], 4), 0.0)
    ll, grad = likelihood.log_likelihood(params, x, t_x, T)
    assert np.isfinite(ll).all() and np.isfinite(grad).all()
    pa = pnbd.probability_alive(params, x, t_x, T)
    assert np.isfinite(pa).all() and ((pa >= 0) & (pa <= 1)).all()
    for t in (1.0, 100.0, 10_000.0):
        e = pnbd.conditional_expected_purchases(params, t, x, t_x, T)
        p0 = pnbd.conditional_probability_no_purchase(params, t, x, t_x, T)
        d = pnbd.discounted_expected_residual_transactions(params, 1e-3 * t, x, t_x, T)
        assert np.isfinite(e).all() and (e >= 0).all()
        assert np.isfinite(p0).all() and ((p0 >= 0) & (p0 <= 1)).all()
        assert np.isfinite(d).all() and (d >= 0).all()
    # a heavy buyer still buying at T is alive; one silent for 99% of T is not
    assert pa[(x == 2000) & (t_x == T)].min() > 0.99
    assert pa[(x == 2000) & (t_x == 0.01 * T)].max() < 1e-6


def test_probability_no_purchase_matches_monte_carlo():
    r, alpha, s, beta = PUBLISHED
    rng = np.random.default_rng(7)
    n = 400_000
    for x, t_x, T, t in [
        (2.0, 30.43, 38.86, 39.0),
        (0.0, 0.0, 30.0, 10.0),
        (8.0, 20.0, 38.0, 52.0),
    ]:
        pa = pnbd.probability_alive(PUBLISHED, x, t_x, T)
        lam = rng.gamma(r + x, 1 / (alpha + T), n)
        mu = rng.gamma(s, 1 / (beta + T), n)
        inner = mu / (lam + mu) + lam / (lam + mu) * np.exp(-(lam + mu) * t)
        mc = 1 - pa + pa * inner.mean()
        se = pa * inner.std() / np.sqrt(n)
        got = pnbd.conditional_probability_no_purchase(PUBLISHED, t, x, t_x, T)
        assert abs(got - mc) < 4 * se + 1e-12


def test_dert_equals_integral_of_discounted_expected_purchases():
    params = PUBLISHED
    delta = np.log(1.15) / 52
    for x, t_x, T in [(2.0, 30.43, 38.86), (0.0, 0.0, 30.0), (300.0, 38.0, 39.0)]:
        # DERT = int_0^inf e^{-delta t} d/dt E[Y(t) | x, t_x, T] dt
        def rate(t, x=x, t_x=t_x, T=T):
            h = 1e-4 * max(t, 1.0)
            up = pnbd.conditional_expected_purchases(params, t + h, x, t_x, T)
            down = pnbd.conditional_expected_purchases(params, max(t - h, 0.0), x, t_x, T)
            return np.exp(-delta * t) * (up - down) / (t + h - max(t - h, 0.0))

        ref = integrate.quad(rate, 0, np.inf, limit=500, epsrel=1e-9)[0]
        got = pnbd.discounted_expected_residual_transactions(params, delta, x, t_x, T)
        assert got == pytest.approx(ref, rel=1e-5)


def test_dert_matches_hyperu_formula():
    from scipy.special import gammaln, hyperu

    r, alpha, s, beta = PUBLISHED
    x, t_x, T, delta = 2.0, 30.43, 38.86, 0.1 / 52
    ll, _ = likelihood.log_likelihood(PUBLISHED, x, t_x, T)
    log_num = (
        r * np.log(alpha)
        + s * np.log(beta)
        + (s - 1) * np.log(delta)
        + gammaln(r + x + 1)
        + np.log(hyperu(s, s, delta * (beta + T)))
    )
    log_den = gammaln(r) + (r + x + 1) * np.log(alpha + T) + ll
    got = pnbd.discounted_expected_residual_transactions(PUBLISHED, delta, x, t_x, T)
    assert got == pytest.approx(np.exp(log_num - log_den), rel=1e-8)


def test_sample_mean_matches_expected_purchases():
    rng = np.random.default_rng(3)
    T = np.tile([13.0, 39.0, 78.0], 100_000)
    x, t_x = pnbd.sample(PUBLISHED, T, rng)
    assert x.shape == T.shape and (t_x <= T).all() and (t_x[x == 0] == 0).all()
    assert (t_x[x > 0] > 0).all()
    for horizon in (13.0, 39.0, 78.0):
        sel = x[T == horizon]
        expected = pnbd.expected_purchases_new_customer(PUBLISHED, horizon)
        assert abs(sel.mean() - expected) < 4 * sel.std() / np.sqrt(sel.size)


def test_empty_interval_when_last_purchase_at_end():
    ll, grad = likelihood.log_likelihood(PUBLISHED, [3.0], [20.0], [20.0])
    r, alpha, s, beta = PUBLISHED
    from scipy.special import gammaln

    ref = gammaln(r + 3) - gammaln(r) + r * np.log(alpha / (alpha + 20)) - 3 * np.log(alpha + 20)
    ref += s * np.log(beta / (beta + 20))
    assert ll[0] == pytest.approx(ref, rel=1e-12)
    assert np.isfinite(grad).all()
    assert pnbd.probability_alive(PUBLISHED, 3.0, 20.0, 20.0) == pytest.approx(1.0)


def test_adaptive_node_count_matches_adaptive_quadrature():
    # every node tier (4 to 64 nodes) against scipy's adaptive quadrature
    rng = np.random.default_rng(11)
    n = 300
    r, s = np.exp(rng.uniform(np.log(0.02), np.log(20), (2, n)))
    alpha, beta = np.exp(rng.uniform(np.log(0.05), np.log(1e4), (2, n)))
    T = np.exp(rng.uniform(np.log(0.5), np.log(2000), n))
    x = np.floor(np.exp(rng.uniform(0, np.log(500), n)))
    t_x = T * rng.uniform(0, 1, n) ** rng.choice([0.2, 1.0, 5.0], n)
    for i in range(n):
        a = r[i] + x[i]
        log_i, _ = integral.log_integral(
            np.array([a]), s[i] + 1.0, alpha[i], beta[i], t_x[i : i + 1], T[i : i + 1], True
        )
        # reference: adaptive quadrature in z = log(alpha + y), scaled by the value at t_x
        b = s[i] + 1.0
        z0, z1 = np.log(alpha[i] + t_x[i]), np.log(alpha[i] + T[i])
        top = (1.0 - a) * z0 - b * np.log(beta[i] + t_x[i])

        def integrand(z, i=i, a=a, b=b, top=top):
            return np.exp((1.0 - a) * z - b * np.log(beta[i] - alpha[i] + np.exp(z)) - top)

        upper = min(z1, z0 + 200.0 / max(a, 1.0))  # beyond: below e^-200 of the value at t_x
        ref, _ = integrate.quad(integrand, z0, upper, epsabs=0, epsrel=1e-13, limit=1000)
        assert log_i[0] == pytest.approx(top + np.log(ref), abs=1e-9, rel=1e-11)


def test_total_log_likelihood_equals_sum_of_rows():
    rng = np.random.default_rng(5)
    T = rng.uniform(1, 60, 500)
    x, t_x = pnbd.sample(PUBLISHED, T, rng)
    x = np.concatenate([x, [3.0, 2000.0]])
    t_x = np.concatenate([t_x, [20.0, 4990.0]])
    T = np.concatenate([T, [20.0, 5000.0]])
    weights = rng.integers(1, 5, x.size).astype(float)
    for params in (PUBLISHED, [0.2, 1.5, 2.5, 80.0], [3.0, 200.0, 0.1, 0.5]):
        ll, grad = likelihood.log_likelihood(params, x, t_x, T)
        stats = likelihood.fit_statistics(x.astype(np.int64), t_x, T, weights)
        total, total_grad = likelihood.total_log_likelihood(params, stats)
        assert total == pytest.approx(weights @ ll, rel=1e-12)
        np.testing.assert_allclose(total_grad, weights @ grad, rtol=1e-10, atol=1e-9)
