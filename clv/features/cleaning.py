"""Clean a messy transaction log once, with every policy counted.

:func:`clean_transactions` applies the data policies (:mod:`clv.features._policies`)
to a whole log and returns the canonical log every feature builder takes with its
default policies, plus the :class:`PolicyReport` (``clv train`` and ``clv score``
print ``report.line()``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from clv.features._contract import (
    AMOUNT,
    CUSTOMER_ID,
    TIMESTAMP,
    DuplicatesPolicy,
    NegativeAmountsPolicy,
    prepare_transactions,
)
from clv.features._policies import MissingCustomerPolicy, PolicyReport

__all__ = ["CleanedTransactions", "PolicyReport", "clean_transactions"]


@dataclass(frozen=True)
class CleanedTransactions:
    """A log after the data policies, and what they did.

    Attributes
    ----------
    transactions : pandas.DataFrame
        ``customer_id``, ``timestamp`` (as given), ``amount`` (netted where returns
        were netted), one row per kept row, in the original order, index 0..n-1.
    report : PolicyReport
        The counts (``report.line()`` is one line for a log or a terminal).
    """

    transactions: pd.DataFrame
    report: PolicyReport


def clean_transactions(
    transactions: pd.DataFrame,
    *,
    customer_id: str = CUSTOMER_ID,
    timestamp: str = TIMESTAMP,
    amount: str = AMOUNT,
    invoice: str | None = None,
    missing_customer_id: MissingCustomerPolicy = "raise",
    negative_amounts: NegativeAmountsPolicy = "raise",
    duplicates: DuplicatesPolicy = "keep",
    warn: bool = True,
) -> CleanedTransactions:
    """Apply the data policies to a transaction log and count what they did.

    Parameters
    ----------
    transactions : pandas.DataFrame
        The raw log, with the caller's column names.
    customer_id, timestamp, amount : str
        The caller's names of the contract columns.
    invoice : str, optional
        Invoice (order) column: with ``negative_amounts="net"`` a return is netted
        within its invoice (cancellation lines carry the invoice they cancel)
        instead of within its calendar day.
    missing_customer_id : {"raise", "drop"}, default "raise"
        Rows without a customer id: refused, or dropped and counted.
    negative_amounts : {"raise", "drop", "net"}, default "raise"
        Returns: refused, dropped, or netted against the purchases of their day or
        invoice (never moving a purchase in time); see :mod:`clv.features._policies`.
    duplicates : {"keep", "drop", "raise"}, default "keep"
        Exact duplicate rows.
    warn : bool, default True
        Emit a :class:`~clv.errors.DataPolicyWarning` per policy that dropped or
        netted rows.

    Returns
    -------
    CleanedTransactions
        The canonical log and the :class:`PolicyReport`.

    Raises
    ------
    clv.errors.InvalidDataError
        If the log breaks the contract in a way no chosen policy handles.

    Examples
    --------
    >>> import pandas as pd
    >>> log = pd.DataFrame({"customer_id": [1, 1, None], "amount": [30.0, -10.0, 5.0],
    ...                     "timestamp": ["2024-01-02", "2024-01-02", "2024-01-03"]})
    >>> cleaned = clean_transactions(log, negative_amounts="net",
    ...                              missing_customer_id="drop", warn=False)
    >>> cleaned.transactions["amount"].tolist()
    [20.0]
    >>> cleaned.report.line()
    'data: 3 rows, 1 used; 1 without a customer id dropped; 1 returns netted into their purchases'
    """
    prepared = prepare_transactions(
        transactions,
        customer_id=customer_id,
        timestamp=timestamp,
        amount=amount,
        merge_same_day=False,
        duplicates=duplicates,
        negative_amounts=negative_amounts,
        require_amount=True,
        invoice=invoice,
        missing_customer_id=missing_customer_id,
        warn=warn,
    )
    rows = slice(None) if prepared.rows is None else prepared.rows  # None: every row kept
    ids = transactions[customer_id].iloc[rows].reset_index(drop=True)
    if ids.dtype.kind == "f" and np.all(ids.to_numpy() == np.round(ids.to_numpy())):
        ids = ids.astype(np.int64)  # integer ids read as float because some were missing
    log = pd.DataFrame(
        {
            CUSTOMER_ID: ids,
            TIMESTAMP: transactions[timestamp].iloc[rows].reset_index(drop=True),
            AMOUNT: prepared.events[AMOUNT].to_numpy(),
        }
    )
    return CleanedTransactions(transactions=log, report=prepared.report)
