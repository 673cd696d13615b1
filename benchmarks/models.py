"""Speed of clv's probabilistic models against lifetimes on the same simulated data.

Plain script: ``python benchmarks/models.py [--bgnbd N] [--pareto N] ...``. Customers
are simulated with CDNOW-like parameters and day-resolution ``T`` and ``recency`` (in
weeks), as real transaction logs give. Prints times, ratios and both
log-likelihoods (total, in weeks) for every fit.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd

from clv.datasets.simulate import simulate_beta_geo, simulate_gamma_gamma, simulate_pareto_nbd
from clv.models import BetaGeoModel, GammaGammaModel, ParetoNBDModel

BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PARETO = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}
SPEND = {"p": 6.25, "q": 3.74, "gamma": 15.44}
DAY = 1 / 7


def timed(function):
    start = time.perf_counter()
    result = function()
    return result, time.perf_counter() - start


def report(name, n, ours_seconds, theirs_seconds, ours_ll=None, theirs_ll=None, ours_rows_ll=None):
    line = f"{name:<28} n={n:>9,}  clv {ours_seconds:8.3f} s"
    if theirs_seconds is not None:
        line += f"  lifetimes {theirs_seconds:8.3f} s  ratio {theirs_seconds / ours_seconds:7.1f}x"
    print(line)
    if ours_ll is not None:
        text = f"{'':<28} log-likelihood clv {ours_ll:,.3f}"
        if theirs_ll is not None:
            same = ours_ll if ours_rows_ll is None else ours_rows_ll
            text += f"  lifetimes {theirs_ll:,.3f}  (clv - lifetimes = {same - theirs_ll:+.2e})"
        print(text)


def lifetimes_total_ll(model_class, params, table):
    return float(model_class.from_params(params).log_likelihood_rows(table).sum())


def bench_transactions(name, simulate, params, model_class, fitter_class, n, with_lifetimes, seed):
    table = simulate(params, n, T=(27.0, 39.0), resolution=DAY, random_state=seed)
    model, ours = timed(lambda: model_class().fit(table))
    theirs_seconds = theirs_ll = None
    if with_lifetimes:
        fitter = fitter_class()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _, theirs_seconds = timed(
                lambda: fitter.fit(table["frequency"], table["recency"], table["T"])
            )
        theirs_ll = lifetimes_total_ll(model_class, fitter.params_, table)
        # both optima scored by the same per-customer evaluator, so the difference is
        # not blurred by the summation order of the fit's sufficient statistics
        ours_ll = lifetimes_total_ll(model_class, model.params_, table)
        report(name, n, ours, theirs_seconds, model.log_likelihood_, theirs_ll, ours_ll)
    else:
        report(name, n, ours, theirs_seconds, model.log_likelihood_)
    return table, model


def bench_gamma_gamma(n, seed):
    from lifetimes import GammaGammaFitter

    rng = np.random.default_rng(seed)
    frequency = rng.geometric(0.3, size=n)
    table = pd.DataFrame(
        {
            "frequency": frequency,
            "monetary_value": simulate_gamma_gamma(SPEND, frequency, random_state=seed),
        }
    )
    model, ours = timed(lambda: GammaGammaModel().fit(table))
    fitter = GammaGammaFitter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, theirs = timed(lambda: fitter.fit(table["frequency"], table["monetary_value"]))
    theirs_ll = lifetimes_total_ll(GammaGammaModel, fitter.params_, table)
    ours_ll = lifetimes_total_ll(GammaGammaModel, model.params_, table)
    report("Gamma-Gamma fit", n, ours, theirs, model.log_likelihood_, theirs_ll, ours_ll)


def bench_predictions(n, seed):
    from lifetimes import BetaGeoFitter, GammaGammaFitter

    table = simulate_beta_geo(BGNBD, n, T=(27.0, 39.0), resolution=DAY, random_state=seed)
    table["monetary_value"] = simulate_gamma_gamma(SPEND, table["frequency"], random_state=seed)
    model = BetaGeoModel.from_params(BGNBD, time_unit="W")
    spend = GammaGammaModel.from_params(SPEND, time_unit="W")
    month = 4.345  # lifetimes' weeks per month, used here only to match its output
    annual = 1.01 ** ((365.25 / 7) / month) - 1

    def ours():
        model.expected_purchases(table, 39.0)
        model.probability_alive(table)
        model.probability_no_purchase(table, 39.0)
        spend.expected_spend(table)
        return model.customer_lifetime_value(
            table, spend, horizon=12 * month, period=month, discount_rate=annual
        )

    fitter = BetaGeoFitter()
    fitter.params_ = pd.Series(BGNBD)
    fitter.predict = fitter.conditional_expected_number_of_purchases_up_to_time
    spend_fitter = GammaGammaFitter()
    spend_fitter.params_ = pd.Series({"p": SPEND["p"], "q": SPEND["q"], "v": SPEND["gamma"]})

    def theirs():
        return spend_fitter.customer_lifetime_value(
            fitter,
            table["frequency"],
            table["recency"],
            table["T"],
            table["monetary_value"],
            time=12,
            discount_rate=0.01,
            freq="W",
        )

    value, ours_seconds = timed(ours)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference, theirs_seconds = timed(theirs)
    report("predictions + CLV (12 months)", n, ours_seconds, theirs_seconds)
    gap = np.max(np.abs(value.to_numpy() / reference.to_numpy() - 1))
    print(f"{'':<28} max relative CLV difference {gap:.1e}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bgnbd", type=int, default=1_000_000)
    parser.add_argument("--pareto", type=int, default=100_000)
    parser.add_argument("--pareto-large", type=int, default=1_000_000, help="clv only")
    parser.add_argument("--gamma", type=int, default=1_000_000)
    parser.add_argument("--predict", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args()

    from lifetimes import BetaGeoFitter, ParetoNBDFitter

    bench_transactions(
        "BG/NBD fit",
        simulate_beta_geo,
        BGNBD,
        BetaGeoModel,
        BetaGeoFitter,
        args.bgnbd,
        True,
        args.seed,
    )
    bench_transactions(
        "Pareto/NBD fit",
        simulate_pareto_nbd,
        PARETO,
        ParetoNBDModel,
        ParetoNBDFitter,
        args.pareto,
        True,
        args.seed,
    )
    if args.pareto_large:
        bench_transactions(
            "Pareto/NBD fit (clv only)",
            simulate_pareto_nbd,
            PARETO,
            ParetoNBDModel,
            None,
            args.pareto_large,
            False,
            args.seed,
        )
    bench_gamma_gamma(args.gamma, args.seed)
    bench_predictions(args.predict, args.seed)


if __name__ == "__main__":
    main()
