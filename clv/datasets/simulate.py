"""Vectorised simulators of customer tables from known model parameters.

Every function draws the customer-level latent quantities of its model, then the
observable summary (``frequency``, ``recency``, ``T``), with a ``random_state`` for
reproducibility. ``T`` may be one number, one value per customer, or a ``(low, high)``
pair drawn uniformly; with ``resolution`` (e.g. ``1 / 7`` for days in weeks) ``T`` is
drawn on that grid and ``recency`` is floored to it, as transaction logs with day
timestamps give.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

__all__ = [
    "simulate_beta_geo",
    "simulate_beta_geo_beta_binom",
    "simulate_gamma_gamma",
    "simulate_modified_beta_geo",
    "simulate_pareto_nbd",
]

TSpec = float | tuple[float, float] | np.ndarray


def _observation_lengths(
    T: TSpec, n: int, resolution: float | None, rng: np.random.Generator
) -> np.ndarray:
    if isinstance(T, tuple):
        low, high = T
        if resolution:
            steps = rng.integers(round(low / resolution), round(high / resolution) + 1, size=n)
            return steps * resolution
        return rng.uniform(low, high, size=n)
    values = np.broadcast_to(np.asarray(T, dtype=np.float64), (n,)).copy()
    return values


def _table(x, t_x, T, resolution) -> pd.DataFrame:
    if resolution:
        t_x = np.minimum(np.floor(t_x / resolution + 1e-9) * resolution, T)
    return pd.DataFrame(
        {
            "customer_id": np.arange(1, len(x) + 1),
            "frequency": x.astype(np.int64),
            "recency": np.where(x > 0, t_x, 0.0),
            "T": T,
        }
    )


def _poisson_history(rate, T, cap, rng):
    """Purchases of a Poisson process stopped after ``cap`` events: (x, t_x)."""
    n_events = rng.poisson(rate * T)
    x = np.minimum(n_events, cap)
    # the x-th of n_events uniform arrival times is T * Beta(x, n_events - x + 1)
    safe_x = np.maximum(x, 1)
    t_x = T * rng.beta(safe_x, np.maximum(n_events, safe_x) - safe_x + 1)
    return x, np.where(x > 0, t_x, 0.0)


def simulate_beta_geo(
    params: Mapping[str, float],
    n_customers: int,
    *,
    T: TSpec = 52.0,
    resolution: float | None = None,
    random_state: int | np.random.Generator | None = None,
) -> pd.DataFrame:
    """Simulate BG/NBD customers (Fader, Hardie & Lee 2005).

    Parameters
    ----------
    params : mapping
        ``r``, ``alpha``, ``a``, ``b``.
    n_customers : int
        Number of customers.
    T : float, (low, high) or array, default 52.0
        Observation length per customer.
    resolution : float, optional
        Time grid of ``T`` and ``recency`` (e.g. ``1 / 7`` for days in weeks).
    random_state : int or numpy.random.Generator, optional
        Seed.

    Returns
    -------
    pandas.DataFrame
        ``customer_id``, ``frequency``, ``recency``, ``T``.
    """
    rng = np.random.default_rng(random_state)
    lengths = _observation_lengths(T, n_customers, resolution, rng)
    rate = rng.gamma(params["r"], 1.0 / params["alpha"], size=n_customers)
    p = rng.beta(params["a"], params["b"], size=n_customers)
    last_purchase = rng.geometric(p)  # drops out after this repeat purchase
    x, t_x = _poisson_history(rate, lengths, last_purchase, rng)
    return _table(x, t_x, lengths, resolution)


def simulate_modified_beta_geo(
    params: Mapping[str, float],
    n_customers: int,
    *,
    T: TSpec = 52.0,
    resolution: float | None = None,
    random_state: int | np.random.Generator | None = None,
) -> pd.DataFrame:
    """Simulate MBG/NBD customers (Batislam et al. 2007): dropout also at time 0.

    Parameters
    ----------
    params : mapping
        ``r``, ``alpha``, ``a``, ``b``.
    n_customers : int
        Number of customers.
    T : float, (low, high) or array, default 52.0
        Observation length per customer.
    resolution : float, optional
        Time grid of ``T`` and ``recency``.
    random_state : int or numpy.random.Generator, optional
        Seed.

    Returns
    -------
    pandas.DataFrame
        ``customer_id``, ``frequency``, ``recency``, ``T``.
    """
    rng = np.random.default_rng(random_state)
    lengths = _observation_lengths(T, n_customers, resolution, rng)
    rate = rng.gamma(params["r"], 1.0 / params["alpha"], size=n_customers)
    p = rng.beta(params["a"], params["b"], size=n_customers)
    cap = rng.geometric(p) - 1
    x, t_x = _poisson_history(rate, lengths, cap, rng)
    return _table(x, t_x, lengths, resolution)


def simulate_pareto_nbd(
    params: Mapping[str, float],
    n_customers: int,
    *,
    T: TSpec = 52.0,
    resolution: float | None = None,
    random_state: int | np.random.Generator | None = None,
) -> pd.DataFrame:
    """Simulate Pareto/NBD customers (Schmittlein, Morrison & Colombo 1987).

    Parameters
    ----------
    params : mapping
        ``r``, ``alpha``, ``s``, ``beta``.
    n_customers : int
        Number of customers.
    T : float, (low, high) or array, default 52.0
        Observation length per customer.
    resolution : float, optional
        Time grid of ``T`` and ``recency``.
    random_state : int or numpy.random.Generator, optional
        Seed.

    Returns
    -------
    pandas.DataFrame
        ``customer_id``, ``frequency``, ``recency``, ``T``.
    """
    rng = np.random.default_rng(random_state)
    lengths = _observation_lengths(T, n_customers, resolution, rng)
    rate = rng.gamma(params["r"], 1.0 / params["alpha"], size=n_customers)
    death_rate = rng.gamma(params["s"], 1.0 / params["beta"], size=n_customers)
    active = np.minimum(rng.exponential(1.0 / death_rate), lengths)
    x = rng.poisson(rate * active)
    t_x = active * rng.beta(np.maximum(x, 1), 1.0)
    return _table(x, np.where(x > 0, t_x, 0.0), lengths, resolution)


def simulate_beta_geo_beta_binom(
    params: Mapping[str, float],
    n_customers: int,
    *,
    n_periods: int = 6,
    random_state: int | np.random.Generator | None = None,
) -> pd.DataFrame:
    """Simulate BG/BB customers (Fader, Hardie & Shang 2010).

    Parameters
    ----------
    params : mapping
        ``alpha``, ``beta``, ``gamma``, ``delta``.
    n_customers : int
        Number of customers.
    n_periods : int, default 6
        Transaction opportunities observed.
    random_state : int or numpy.random.Generator, optional
        Seed.

    Returns
    -------
    pandas.DataFrame
        ``customer_id``, ``frequency``, ``recency``, ``n_periods``.
    """
    rng = np.random.default_rng(random_state)
    p = rng.beta(params["alpha"], params["beta"], size=n_customers)
    theta = rng.beta(params["gamma"], params["delta"], size=n_customers)
    alive_periods = np.minimum(rng.geometric(theta) - 1, n_periods)
    periods = np.arange(1, n_periods + 1)
    bought = (rng.random((n_customers, n_periods)) < p[:, None]) & (
        periods[None, :] <= alive_periods[:, None]
    )
    frequency = bought.sum(axis=1)
    recency = np.where(bought, periods[None, :], 0).max(axis=1)
    return pd.DataFrame(
        {
            "customer_id": np.arange(1, n_customers + 1),
            "frequency": frequency.astype(np.int64),
            "recency": recency.astype(np.int64),
            "n_periods": np.full(n_customers, n_periods, dtype=np.int64),
        }
    )


def simulate_gamma_gamma(
    params: Mapping[str, float],
    frequency: np.ndarray | pd.Series,
    *,
    random_state: int | np.random.Generator | None = None,
) -> np.ndarray:
    """Simulate mean repeat spend under the Gamma-Gamma model (Fader & Hardie 2013).

    Parameters
    ----------
    params : mapping
        ``p``, ``q``, ``gamma`` (lifetimes' ``v`` accepted).
    frequency : array-like of int
        Repeat purchases per customer.
    random_state : int or numpy.random.Generator, optional
        Seed.

    Returns
    -------
    numpy.ndarray
        ``monetary_value``: mean of ``frequency`` Gamma(p, nu) spends, 0 where
        ``frequency`` is 0.
    """
    rng = np.random.default_rng(random_state)
    x = np.asarray(frequency, dtype=np.int64)
    gamma = params["gamma"] if "gamma" in params else params["v"]
    nu = rng.gamma(params["q"], 1.0 / gamma, size=len(x))
    safe = np.maximum(x, 1)
    mean_spend = rng.gamma(params["p"] * safe, 1.0 / (nu * safe))
    return np.where(x > 0, mean_spend, 0.0)
