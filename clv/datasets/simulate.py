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
    "simulate_messy_log",
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


def _beta_geo(
    params: Mapping[str, float],
    n_customers: int,
    T: TSpec,
    resolution: float | None,
    random_state: int | np.random.Generator | None,
    *,
    at_start: bool,
) -> pd.DataFrame:
    """BG/NBD customers; ``at_start``: MBG/NBD's dropout also at time 0."""
    rng = np.random.default_rng(random_state)
    lengths = _observation_lengths(T, n_customers, resolution, rng)
    rate = rng.gamma(params["r"], 1.0 / params["alpha"], size=n_customers)
    p = rng.beta(params["a"], params["b"], size=n_customers)
    last_purchase = rng.geometric(p) - int(at_start)  # drops out after this repeat purchase
    x, t_x = _poisson_history(rate, lengths, last_purchase, rng)
    return _table(x, t_x, lengths, resolution)


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
    return _beta_geo(params, n_customers, T, resolution, random_state, at_start=False)


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
    return _beta_geo(params, n_customers, T, resolution, random_state, at_start=True)


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


def simulate_messy_log(
    n_customers: int = 1000,
    *,
    start: str = "2022-01-01",
    days: int = 730,
    guest_share: float = 0.03,
    cancelled_share: float = 0.04,
    zero_line_share: float = 0.03,
    n_bulk_buyers: int = 5,
    random_state: int | np.random.Generator | None = None,
) -> pd.DataFrame:
    """Simulate a realistic, messy line-item transaction log (an online shop's export).

    Customers buy as BG/NBD customers do (a gamma-distributed daily rate, a
    beta-distributed chance of leaving after each purchase, first purchases spread
    over the first two thirds of the period). What real exports hold, on purpose:

    * multi-line invoices: every purchase is an invoice of one or more lines (same
      timestamp), ``amount = quantity * unit_price``;
    * $0 lines (free samples, vouchers): a share ``zero_line_share`` of the lines;
    * cancelled invoices: a share ``cancelled_share`` of the invoices is cancelled
      in full or in part by lines with negative quantities under the same invoice
      number, the same day or up to two weeks later;
    * rows without a customer (guest checkouts): ``guest_share`` of the invoices
      have no ``customer_id``;
    * a few bulk buyers (``n_bulk_buyers``): eight times the rate, ten times the
      quantities;
    * integer customer ids, stored as floats when a CSV round trip meets the
      missing ones (as in the UCI Online Retail export).

    Parameters
    ----------
    n_customers : int, default 1000
        Customers with an id.
    start : str, default "2022-01-01"
        First day of the log.
    days : int, default 730
        Length of the log in days.
    guest_share, cancelled_share, zero_line_share : float
        Shares of guest invoices, cancelled invoices and $0 lines.
    n_bulk_buyers : int, default 5
        Customers with much larger and more frequent orders.
    random_state : int or numpy.random.Generator, optional
        Seed.

    Returns
    -------
    pandas.DataFrame
        ``invoice``, ``customer_id`` (nullable ``Int64``), ``timestamp``,
        ``quantity``, ``unit_price``, ``amount``, sorted by timestamp.
    """
    rng = np.random.default_rng(random_state)
    origin = pd.Timestamp(start)
    rate = rng.gamma(0.6, 1.0 / 25.0, n_customers)  # purchases per day while active
    dropout = rng.beta(1.0, 5.0, n_customers)
    bulk = np.zeros(n_customers, dtype=bool)
    bulk[rng.choice(n_customers, size=min(n_bulk_buyers, n_customers), replace=False)] = True
    rate = np.where(bulk, rate * 8.0 + 0.05, rate)
    customer, day = [], []
    for i in range(n_customers):
        t = float(rng.integers(0, max(1, 2 * days // 3)))
        while t < days:
            customer.append(i + 1)
            day.append(int(t))
            if not bulk[i] and rng.random() < dropout[i]:
                break
            t += rng.exponential(1.0 / rate[i])
    n_guest = int(round(guest_share * len(customer) / max(1e-9, 1.0 - guest_share)))
    customer += [0] * n_guest  # 0 = no customer id
    day += rng.integers(0, days, n_guest).tolist()
    invoice_customer = np.array(customer)
    invoice_day = np.array(day)
    n_invoices = len(invoice_customer)
    seconds = rng.integers(8 * 3600, 22 * 3600, n_invoices)
    stamps = origin + pd.to_timedelta(invoice_day * 86_400 + seconds, unit="s")
    is_bulk = np.concatenate([bulk, [False]])[
        np.where(invoice_customer > 0, invoice_customer - 1, -1)
    ]
    lines = 1 + rng.poisson(np.where(is_bulk, 4.0, 1.2))
    line_invoice = np.repeat(np.arange(n_invoices), lines)
    quantity = 1 + rng.poisson(np.where(is_bulk[line_invoice], 10.0, 0.8))
    price = np.round(rng.gamma(2.0, 6.0, len(line_invoice)) + 0.5, 2)
    price = np.where(rng.random(len(line_invoice)) < zero_line_share, 0.0, price)
    frame = pd.DataFrame(
        {
            "invoice": line_invoice,
            "timestamp": stamps[line_invoice],
            "quantity": quantity,
            "unit_price": price,
        }
    )
    cancelled = np.flatnonzero(rng.random(n_invoices) < cancelled_share)
    full = rng.random(len(cancelled)) < 0.6
    delay = pd.to_timedelta(rng.integers(0, 15, len(cancelled)) * 86_400 + 3600, unit="s")
    returns = []
    for k, number in enumerate(cancelled):
        rows = frame[frame["invoice"] == number]
        if not full[k]:
            rows = rows.iloc[[int(rng.integers(len(rows)))]]
        rows = rows.assign(
            quantity=-(rows["quantity"] if full[k] else np.maximum(1, rows["quantity"] // 2)),
            timestamp=min(
                rows["timestamp"].iloc[0] + delay[k],
                origin + pd.Timedelta(days=days) - pd.Timedelta(seconds=1),
            ),
        )
        returns.append(rows)
    frame = pd.concat([frame, *returns], ignore_index=True)
    owner = invoice_customer[frame["invoice"].to_numpy()]
    frame.insert(1, "customer_id", pd.array(np.where(owner > 0, owner, 0), dtype="Int64"))
    frame.loc[owner == 0, "customer_id"] = pd.NA
    frame["amount"] = np.round(frame["quantity"] * frame["unit_price"], 2)
    frame["invoice"] = [f"INV{number:07d}" for number in frame["invoice"]]
    return frame.sort_values(["timestamp", "invoice"], kind="stable").reset_index(drop=True)
