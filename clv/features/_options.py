"""The transaction-log options every feature function takes, as one object.

:func:`clv.features.rfm_summary`, :func:`clv.features.calibration_holdout_split`,
:func:`clv.features.customer_features` and :func:`clv.features.training_examples`
keep their keyword arguments; each builds one :class:`LogOptions` from them and hands
it on (to the Spark buckets too) instead of repeating the six names.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import pandas as pd

from clv.errors import InvalidDataError
from clv.features._contract import (
    AMOUNT,
    CUSTOMER_ID,
    TIMESTAMP,
    DuplicatesPolicy,
    NegativeAmountsPolicy,
    PreparedTransactions,
    prepare_transactions,
)

__all__ = ["LogOptions"]


@dataclass(frozen=True)
class LogOptions:
    """A log's column names and data policies (see :func:`prepare_transactions`)."""

    customer_id: str = CUSTOMER_ID
    timestamp: str = TIMESTAMP
    amount: str | None = AMOUNT
    merge_same_day: bool = True
    duplicates: DuplicatesPolicy = "keep"
    negative_amounts: NegativeAmountsPolicy = "raise"

    def prepare(
        self, transactions: pd.DataFrame | PreparedTransactions, *, require_amount: bool = False
    ) -> PreparedTransactions:
        """Validate ``transactions`` with these options (:func:`prepare_transactions`).

        A log validated already (a :class:`PreparedTransactions`, as
        :func:`clv.training.compare.compare_models` hands its candidates) is returned as is.
        """
        if isinstance(transactions, PreparedTransactions):
            if require_amount and not transactions.has_amount:
                raise InvalidDataError("The transaction log has no amounts.")
            return transactions
        return prepare_transactions(transactions, require_amount=require_amount, **asdict(self))
