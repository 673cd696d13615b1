"""Loaders for the data bundled with clv (no network access)."""

from __future__ import annotations

import gzip
from importlib import resources

import pandas as pd

_DATA = "clv.datasets.data"


def _read_cdnow(name: str, columns: list[str]) -> pd.DataFrame:
    with resources.files(_DATA).joinpath(name).open("rb") as raw, gzip.open(raw, "rt") as text:
        return pd.read_csv(text, sep=r"\s+", header=None, names=columns, dtype={"date": str})


def load_cdnow(full: bool = False) -> pd.DataFrame:
    """Load CDNOW transactions: the 1/10 sample or the full master file.

    The customers who made their first purchase at CDNOW in the first quarter of
    1997, followed through June 1998 (Fader, Hardie & Lee 2005). The sample holds
    2,357 customers and 6,919 rows; the master file 23,570 customers and 69,659 rows.

    Parameters
    ----------
    full : bool, default False
        Load the full master file instead of the 1/10 sample.

    Returns
    -------
    pandas.DataFrame
        Columns ``customer_id`` (int; in the sample, the published 1..2357 ids),
        ``timestamp`` (datetime64), ``amount`` (float, dollars) and ``quantity``
        (int, number of CDs), one row per transaction line.

    Notes
    -----
    Source: the files shipped in the ``lifetimes`` 0.11.3 wheel
    (``lifetimes/datasets/CDNOW_sample.txt`` and ``CDNOW_master.txt``), MIT licence,
    copyright Cameron Davidson-Pilon; see ``clv/datasets/data/LICENSE-lifetimes.txt``.
    """
    if full:
        raw = _read_cdnow(
            "CDNOW_master.txt.gz", ["customer_id", "date", "quantity", "amount"]
        ).iloc[1:]
    else:
        raw = _read_cdnow(
            "CDNOW_sample.txt.gz", ["master_id", "customer_id", "date", "quantity", "amount"]
        )
    return pd.DataFrame(
        {
            "customer_id": raw["customer_id"].astype("int64").to_numpy(),
            "timestamp": pd.to_datetime(raw["date"], format="%Y%m%d").to_numpy(),
            "amount": raw["amount"].astype("float64").to_numpy(),
            "quantity": raw["quantity"].astype("int64").to_numpy(),
        }
    )


def load_donations() -> pd.DataFrame:
    """Load the donations data of Fader, Hardie & Shang (2010) for the BG/BB model.

    11,104 first-time supporters of a non-profit organisation in 1995, observed over
    the six annual opportunities 1996-2001, as (frequency, recency, n_periods) patterns.

    Returns
    -------
    pandas.DataFrame
        Columns ``frequency`` (repeat donations), ``recency`` (period of the last
        donation, 0 if none), ``n_periods`` (opportunities observed, 6) and ``count``
        (customers with that pattern): 22 rows.

    Notes
    -----
    Source: ``lifetimes/datasets/donations.csv`` of the ``lifetimes`` 0.11.3 wheel,
    MIT licence.
    """
    with resources.files(_DATA).joinpath("donations.csv").open("r") as handle:
        raw = pd.read_csv(handle)
    return pd.DataFrame(
        {
            "frequency": raw["frequency"].astype("int64"),
            "recency": raw["recency"].astype("int64"),
            "n_periods": raw["periods"].astype("int64"),
            "count": raw["weights"].astype("int64"),
        }
    )
