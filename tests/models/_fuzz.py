"""Random small transaction logs and the checks the fuzz test applies to every model.

Shared by ``tests/models/test_fuzz.py``; deterministic for a given seed.
"""

from __future__ import annotations

import datetime as dt
import warnings

import numpy as np
import pandas as pd
from scipy.optimize import minimize

from clv.errors import CLVError, CLVWarning
from clv.features import rfm_summary
from clv.models import (
    BetaGeoBetaBinomModel,
    BetaGeoModel,
    GammaGammaModel,
    ModifiedBetaGeoModel,
    ParetoNBDModel,
)

TRANSACTION_MODELS = (BetaGeoModel, ModifiedBetaGeoModel, ParetoNBDModel)
START = pd.Timestamp("2021-03-01")
BOX = 25.0  # the fits search log-parameters in [-25, 25]


def random_log(seed: int) -> tuple[pd.DataFrame, pd.Timestamp, str]:
    """A small transaction log with ties, same-day purchases and extreme amounts.

    Returns the log, the observation end and the time unit.
    """
    rng = np.random.default_rng(seed)
    n_customers = int(rng.integers(1, 30))
    span = int(rng.choice([3, 30, 200, 800]))
    scale = 10.0 ** rng.uniform(-9.0, 12.0)  # amounts from 1e-9 to 1e12
    spread = float(rng.choice([0.0, 0.1, 1.0, 3.0]))
    rows = []
    for customer in range(n_customers):
        first = int(rng.integers(0, span))
        purchases = int(rng.geometric(rng.choice([0.05, 0.3, 0.8])))
        days = first + rng.integers(0, max(span - first, 1), size=purchases)
        days[0] = first
        if rng.random() < 0.3:  # the same-day purchases and exact ties
            days = np.concatenate([days, days[: int(rng.integers(1, len(days) + 1))]])
        seconds = rng.integers(0, 86_400, size=len(days))
        amounts = scale * np.exp(spread * rng.standard_normal(len(days)))
        for day, second, amount in zip(days, seconds, amounts, strict=True):
            rows.append(
                (customer, START + pd.Timedelta(days=int(day), seconds=int(second)), amount)
            )
    ids = [row[0] for row in rows]
    kind = int(rng.integers(0, 4))
    if kind == 1:
        ids = [f"c{i:03d}" for i in ids]
    elif kind == 2:
        ids = [int(i) * 1_000_003 + 7 for i in ids]
    elif kind == 3:  # mixed types in one column: ints and strings
        ids = [i if i % 2 else f"c{i}" for i in ids]
    stamps = pd.Series([row[1] for row in rows])
    style = int(rng.integers(0, 4))
    if style == 0:
        stamps = stamps.dt.strftime("%Y-%m-%d %H:%M:%S")
    elif style == 1:
        stamps = pd.Series([dt.datetime.fromisoformat(str(s)) for s in stamps], dtype=object)
    elif style == 2:
        stamps = stamps.dt.tz_localize(
            "America/New_York", ambiguous=False, nonexistent="shift_forward"
        )
    log = pd.DataFrame({"customer_id": ids, "timestamp": stamps, "amount": [r[2] for r in rows]})
    log = log.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    end = START + pd.Timedelta(days=span + int(rng.integers(0, 60)))
    unit = "W" if rng.random() < 0.5 else "D"
    return log, end, unit


def discrete_table(table: pd.DataFrame, period: float) -> pd.DataFrame:
    """BG/BB patterns from a customer table: opportunities of ``period`` time units."""
    n = np.floor(table["T"].to_numpy() / period).astype(np.int64)
    t_x = np.minimum(np.floor(table["recency"].to_numpy() / period).astype(np.int64), n)
    x = np.minimum(table["frequency"].to_numpy(), t_x)
    t_x = np.where(x > 0, t_x, 0)
    return pd.DataFrame({"frequency": x, "recency": t_x, "n_periods": n})


def negative_log_likelihood(model, table: pd.DataFrame):
    """``log-params -> (-LL, gradient)`` by the per-customer evaluator, and the box's centre.

    The box is the fit's domain, exp(+-25), in the caller's units (Gamma-Gamma's fit
    works on rescaled spends: its centre is shifted).
    """
    arrays, _ = model._prediction_table(table)
    data = model._prepare_data({name: arrays[name] for name in model.data_columns})
    weights = np.ones(len(next(iter(data.values()))))
    shift = model._rescaled(data, weights)[1]

    def negative(log_params: np.ndarray) -> tuple[float, np.ndarray]:
        if np.any(np.abs(log_params - shift) > BOX):
            return 1e300, np.zeros_like(log_params)
        params = np.exp(log_params)
        with np.errstate(all="ignore"):
            ll, grad = model._log_likelihood_rows(params, data)
            value, gradient = -float(np.sum(ll)), -grad.sum(axis=0) * params
        if not (np.isfinite(value) and np.all(np.isfinite(gradient))):
            return 1e300, np.zeros_like(log_params)
        return value, gradient

    return negative, shift


def second_opinion(model, table: pd.DataFrame, tolerance: float = 0.0) -> float:
    """Improvement of the log-likelihood found by SciPy started at the model's optimum.

    L-BFGS-B with the per-customer gradient, then (unless it already gained more than
    ``tolerance``) Nelder-Mead, at most 200 evaluations, until its simplex is within
    1e-6 in log-parameters and log-likelihood (1000 times finer than the fuzz test's
    tolerance); on the log-parameters, scored by the per-customer evaluator (not the
    sufficient statistics the fit uses).
    """
    negative, shift = negative_log_likelihood(model, table)
    start = np.log(model.params_.to_numpy())
    base = negative(start)[0]
    bounds = [(low - BOX, low + BOX) for low in shift]
    polish = minimize(negative, start, jac=True, method="L-BFGS-B", bounds=bounds)
    if base - polish.fun > tolerance > 0.0:
        return base - polish.fun
    simplex = np.vstack([polish.x, polish.x + 0.05 * np.eye(len(start))])
    best = minimize(
        lambda v: negative(v)[0],
        polish.x,
        method="Nelder-Mead",
        bounds=bounds,
        options={"initial_simplex": simplex, "xatol": 1e-6, "fatol": 1e-6, "maxfev": 200},
    )
    return base - min(best.fun, polish.fun)


def check_values(values, what: str, low: float = 0.0, high: float = np.inf) -> list[str]:
    array = np.asarray(values, dtype=np.float64)
    bad = ~np.isfinite(array) | (array < low) | (array > high)
    if bad.any():
        return [f"{what}: {int(bad.sum())} bad value(s), e.g. {array[bad][:3]}"]
    return []


def check_transaction_model(model, table: pd.DataFrame) -> list[str]:
    """Every prediction of a fitted transaction model is finite and in range."""
    problems: list[str] = []
    horizons = [1, 39] if model.discrete_time else [0.5, 39.0, 1e4]
    for h in horizons:
        problems += check_values(
            model.probability_no_purchase(table, h), f"probability_no_purchase({h})", 0.0, 1.0
        )
    # expected_purchases(h) is a column of the curve (the same computation): once
    problems += check_values(model.expected_purchases(table, horizons[-1]), "expected_purchases")
    problems += check_values(model.expected_purchases_curve(table, horizons), "curve")
    problems += check_values(model.probability_alive(table), "probability_alive", 0.0, 1.0)
    h = horizons[1]  # the later-time checks at 39 (CLV discounts period by period)
    problems += check_values(
        model.probability_alive(table, horizon=h), "probability_alive(later)", 0.0, 1.0
    )
    problems += check_values(
        model.probability_of_n_purchases(table, h, [0, 1, 5]), "P(n purchases)", 0.0, 1.0
    )
    problems += check_values(
        model.probability_of_n_purchases_new_customer(h, [0, 3]), "P(n) new customer", 0.0, 1.0
    )
    rate = 0.0 if model.discrete_time else 0.1
    for discounting in ("discrete", "continuous"):
        value = model.customer_lifetime_value(
            table, 1.0, horizon=h, discount_rate=rate, discounting=discounting
        )
        problems += check_values(value, f"customer_lifetime_value({discounting})")
    problems += check_values(
        model.expected_purchases_new_customer(np.array(horizons, dtype=float)), "new_customer"
    )
    return problems


def run_seed(
    seed: int,
    *,
    check_optimum: bool = True,
    tolerance: float = 1e-3,
) -> list[str]:
    """Everything the fuzz test asserts for one random log; returns the problems found."""
    problems: list[str] = []
    log, end, unit = random_log(seed)
    try:
        table = rfm_summary(log, observation_end=end, time_unit=unit)
    except CLVError:
        return problems
    fits = [(cls(), table) for cls in TRANSACTION_MODELS]
    fits.append((BetaGeoBetaBinomModel(), discrete_table(table, 7.0 if unit == "D" else 1.0)))
    repeat = table[table["frequency"] > 0]
    if len(repeat):
        fits.append((GammaGammaModel(), repeat))
    for model, data in fits:
        name = type(model).__name__
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                model.fit(data)
            except CLVError:
                continue
            except Exception as error:  # noqa: BLE001 - the finding to report
                problems.append(f"seed {seed} {name}.fit: {type(error).__name__}: {error}")
                continue
        warned = any(issubclass(w.category, CLVWarning) for w in caught)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                if isinstance(model, GammaGammaModel):
                    found = []
                    try:
                        found = check_values(model.expected_spend(data), "expected_spend")
                    except CLVError:
                        pass
                else:
                    found = check_transaction_model(model, data)
        except CLVError:
            found = []
        except Exception as error:  # noqa: BLE001
            found = [f"predict: {type(error).__name__}: {error}"]
        problems += [f"seed {seed} {name} {dict(model.params_.round(6))}: {p}" for p in found]
        if check_optimum and not warned:
            gain = second_opinion(model, data, tolerance)
            if gain > tolerance:
                problems.append(
                    f"seed {seed} {name}: second optimiser gained {gain:.3g} "
                    f"(ll {model.log_likelihood_:.6g}, params {dict(model.params_)})"
                )
    return problems
