"""The transaction-log options every feature function takes, as one object.

:func:`clv.features.rfm_summary`, :func:`clv.features.calibration_holdout_split`,
:func:`clv.features.customer_features` and :func:`clv.features.training_examples`
keep their keyword arguments: :func:`with_log_options` gives them the six keywords
once and hands them on as one :class:`LogOptions` (to the Spark buckets too).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields

import pandas as pd

from clv._validation import check_time_unit
from clv.errors import InvalidDataError
from clv.features import _contract as contract

__all__ = ["LogOptions", "with_log_options"]


@dataclass(frozen=True)
class LogOptions:
    """A log's column names and data policies (see :func:`prepare_transactions`)."""

    customer_id: str = contract.CUSTOMER_ID
    timestamp: str = contract.TIMESTAMP
    amount: str | None = contract.AMOUNT
    merge_same_day: bool = True
    duplicates: contract.DuplicatesPolicy = "keep"
    negative_amounts: contract.NegativeAmountsPolicy = "raise"

    def prepare(
        self,
        transactions: pd.DataFrame | contract.PreparedTransactions,
        *,
        require_amount: bool = False,
    ) -> contract.PreparedTransactions:
        """Validate ``transactions`` with these options (:func:`prepare_transactions`).

        A log validated already (a :class:`PreparedTransactions`, as
        :func:`clv.training.compare.compare_models` hands its candidates) is returned as is.
        """
        if isinstance(transactions, contract.PreparedTransactions):
            if require_amount and not transactions.has_amount:
                raise InvalidDataError("The transaction log has no amounts.")
            return transactions
        return contract.prepare_transactions(
            transactions, require_amount=require_amount, **asdict(self)
        )


_KEYWORDS = [
    inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, default=f.default, annotation=f.type)
    for f in fields(LogOptions)
]


def with_log_options(function: Callable[..., pd.DataFrame]) -> Callable[..., pd.DataFrame]:
    """Give a feature function taking ``time_unit`` and ``options`` the six log keywords.

    The public signature lists :class:`LogOptions`' fields (with their defaults) in
    place of ``options``; a call checks ``time_unit`` and passes them on as one object.
    """
    signature = inspect.signature(function)
    kept = [p for p in signature.parameters.values() if p.name != "options"]
    public = signature.replace(parameters=[*kept, *_KEYWORDS])

    @functools.wraps(function)
    def call(*args: object, **kwargs: object) -> pd.DataFrame:
        bound = public.bind(*args, **kwargs)
        bound.apply_defaults()
        given = bound.arguments
        options = LogOptions(**{p.name: given.pop(p.name) for p in _KEYWORDS})
        check_time_unit(given["time_unit"], "DWM")
        return function(**given, options=options)

    call.__signature__ = public
    return call
