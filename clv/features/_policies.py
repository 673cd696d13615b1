"""Data policies for messy transaction logs, each counted out loud.

Real logs hold rows without a customer id, returns and cancelled invoices
(negative amounts), exact duplicate lines and $0 lines. The contract
(:func:`clv.features._contract.prepare_transactions`) applies one documented policy
to each and records what it did in a :class:`PolicyReport`; every policy that drops,
nets or leaves out rows also emits a :class:`clv.errors.DataPolicyWarning` with the
counts (filter it by class).

Rows without a customer id (``missing_customer_id``)
    ``"raise"`` (default) or ``"drop"``: dropped and counted.
Returns (``negative_amounts``)
    ``"raise"`` (default), ``"drop"`` (the return rows are dropped), or ``"net"``:
    a return is netted against the purchases of its group -- the customer's calendar
    day, or the customer's invoice when an ``invoice`` column is mapped (a
    cancellation line carries the invoice number of what it cancels, whatever its
    date). Netting never moves a purchase in time: the purchase lines of the group
    keep their timestamps and their amounts are scaled so that they sum to the net;
    when the net is 0 or less the purchase was cancelled and its lines are removed;
    a return with no purchase in its group (a return of an earlier day's purchase
    without an invoice to tie it) is dropped. All three are counted.
Exact duplicates (``duplicates``)
    Kept by default (line items); ``"drop"`` drops and counts them, ``"raise"`` refuses them.
$0 lines
    Purchases (free samples, vouchers): kept and counted, never warned.
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass, fields
from typing import Literal

import numpy as np
import pandas as pd

from clv._validation import check_choice
from clv.errors import (
    DataPolicyWarning,
    InvalidDataError,
    describe_examples,
)

MissingCustomerPolicy = Literal["raise", "drop"]
#: The defaults: nothing is dropped or netted (bad rows are refused).
DEFAULT_POLICIES = {
    "invoice": None,
    "missing_customer_id": "raise",
    "negative_amounts": "raise",
    "duplicates": "keep",
}
NEGATIVE_AMOUNT_POLICIES = ("raise", "drop", "net")
MISSING_CUSTOMER_POLICIES = ("raise", "drop")


#: The counts :meth:`PolicyReport.line` shows, in order, and how it words them.
_LINE = (
    ("missing_customer_rows", "without a customer id dropped"),
    ("duplicate_rows", "exact duplicates dropped"),
    ("return_rows_dropped", "returns dropped"),
    ("return_rows_netted", "returns netted into their purchases"),
    ("cancelled_purchase_rows", "purchase rows cancelled by returns"),
    ("unmatched_return_rows", "returns without a purchase dropped"),
    ("zero_amount_rows", "$0 rows kept as purchases"),
)


@dataclass
class PolicyReport:
    """What the data policies did to one transaction log, in rows.

    Attributes
    ----------
    rows : int
        Rows read.
    missing_customer_rows : int
        Rows without a customer id, dropped (``missing_customer_id="drop"``).
    duplicate_rows : int
        Exact duplicates of earlier rows, dropped (``duplicates="drop"``).
    return_rows_dropped : int
        Return rows dropped (``negative_amounts="drop"``).
    return_rows_netted : int
        Return rows netted into the purchases of their day or invoice
        (``negative_amounts="net"``).
    cancelled_purchase_rows : int
        Purchase rows removed because their day or invoice netted to 0 or less.
    unmatched_return_rows : int
        Return rows with no purchase in their day or invoice, dropped.
    zero_amount_rows : int
        $0 rows, kept as purchases.
    """

    rows: int = 0
    missing_customer_rows: int = 0
    duplicate_rows: int = 0
    return_rows_dropped: int = 0
    return_rows_netted: int = 0
    cancelled_purchase_rows: int = 0
    unmatched_return_rows: int = 0
    zero_amount_rows: int = 0

    def merged(self, other: PolicyReport) -> PolicyReport:
        """Return the sum of two reports (for logs scored piece by piece)."""
        return PolicyReport(
            **{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)}
        )

    def as_dict(self) -> dict[str, int]:
        """Return the counts by name."""
        return {key: int(value) for key, value in asdict(self).items()}

    @property
    def rows_removed(self) -> int:
        """Rows of the log that no model sees (every count but the $0 lines)."""
        return (
            self.missing_customer_rows
            + self.duplicate_rows
            + self.return_rows_dropped
            + self.return_rows_netted
            + self.cancelled_purchase_rows
            + self.unmatched_return_rows
        )

    def line(self) -> str:
        """One line for the command line, e.g. ``data: 1,000 rows; ...``.

        Returns
        -------
        str
            Every non-zero count, or that nothing was dropped.
        """
        parts = [f"{getattr(self, name):,} {text}" for name, text in _LINE if getattr(self, name)]
        detail = "; ".join(parts) if parts else "nothing dropped or netted"
        return f"data: {self.rows:,} rows, {self.rows - self.rows_removed:,} used; {detail}"


def check_policies(negative_amounts: object, missing_customer_id: object) -> None:
    """Raise :class:`~clv.errors.InvalidParameterError` for an unknown policy."""
    check_choice("negative_amounts", negative_amounts, NEGATIVE_AMOUNT_POLICIES)
    check_choice("missing_customer_id", missing_customer_id, MISSING_CUSTOMER_POLICIES)


def data_policies(
    invoice: str | None, missing_customer_id: str, negative_amounts: str, duplicates: str
) -> dict[str, str | None]:
    """Return the four data policies as the keyword arguments of ``clean_transactions``."""
    return {
        "invoice": invoice,
        "missing_customer_id": missing_customer_id,
        "negative_amounts": negative_amounts,
        "duplicates": duplicates,
    }


def announce(message: str, counts: dict[str, int], warn: bool, stacklevel: int = 4) -> None:
    """Emit a :class:`~clv.errors.DataPolicyWarning` (unless ``warn`` is False)."""
    if warn:
        warnings.warn(DataPolicyWarning(message, counts), stacklevel=stacklevel)


def refuse_or_drop(
    message: str, count: int, refusal: str | None, counter: str, report: PolicyReport, warn: bool
) -> None:
    """Raise ``message + refusal`` if the policy refuses the rows; else count and announce them."""
    if refusal is not None:
        raise InvalidDataError(message + refusal)
    setattr(report, counter, count)
    announce(message + "; they were dropped.", {counter: count}, warn, stacklevel=5)


def net_returns(
    customers: np.ndarray, t: np.ndarray, amounts: np.ndarray, invoices: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
    """Net every return against the purchases of its day (or invoice, where given).

    Returns the rows kept (purchase rows of groups with a positive net, every row of
    groups without a return), the netted amounts and the counts by name.
    """
    day = np.floor(t)
    keys: list[object] = [pd.Series(customers)]
    if invoices is None:
        keys.append(pd.Series(day))
    else:
        missing = pd.isna(invoices)
        keys.append(pd.Series(invoices).astype(object).where(~missing, None))
        keys.append(pd.Series(np.where(missing, day, np.nan)))
    group = (
        pd.DataFrame({str(k): key for k, key in enumerate(keys)})
        .groupby([str(k) for k in range(len(keys))], sort=False, dropna=False)
        .ngroup()
        .to_numpy()
    )
    size = int(group.max()) + 1 if len(group) else 0
    returns = amounts < 0
    purchases = ~returns
    n_returns = np.bincount(group, weights=returns, minlength=size)
    n_purchases = np.bincount(group, weights=purchases, minlength=size)
    bought = np.bincount(group, weights=np.where(purchases, amounts, 0.0), minlength=size)
    returned = np.bincount(group, weights=np.where(returns, amounts, 0.0), minlength=size)
    net = bought + returned
    touched = (n_returns > 0)[group]
    matched = (n_purchases > 0)[group]
    positive = (net > 0)[group]
    keep = ~touched | (purchases & positive)
    scale = np.where(bought > 0, net / np.where(bought > 0, bought, 1.0), 1.0)[group]
    netted = np.where(touched & purchases, amounts * scale, amounts)
    counts = {
        "return_rows_netted": int((returns & matched).sum()),
        "cancelled_purchase_rows": int((touched & purchases & ~positive).sum()),
        "unmatched_return_rows": int((returns & ~matched).sum()),
    }
    return keep, netted, counts


def apply_return_policy(
    events: pd.DataFrame,
    amount: str,
    policy: str,
    invoice: str | None,
    report: PolicyReport,
    *,
    warn: bool,
) -> pd.DataFrame:
    """Refuse, drop or net the returns (negative amounts) of ``events``."""
    amounts = events["amount"].to_numpy()
    negative = amounts < 0
    if not negative.any():
        return events
    count = int(negative.sum())
    customers = events["customer_id"]
    message = (
        f"Column '{amount}': {count} rows have a negative amount "
        f"(returns; customers {describe_examples(pd.unique(customers.to_numpy()[negative]))})"
    )
    if policy != "net":
        refusal = ". Remove returns first or pass negative_amounts='drop' or 'net'."
        refuse_or_drop(
            message,
            count,
            refusal if policy == "raise" else None,
            "return_rows_dropped",
            report,
            warn,
        )
        kept = events.loc[~negative]
    else:
        keep, netted, counts = net_returns(
            customers.to_numpy(),
            events["t"].to_numpy(),
            amounts,
            None if invoice is None else events[invoice].to_numpy(),
        )
        report.return_rows_netted = counts["return_rows_netted"]
        report.cancelled_purchase_rows = counts["cancelled_purchase_rows"]
        report.unmatched_return_rows = counts["unmatched_return_rows"]
        group = "invoice" if invoice is not None else "day"
        announce(
            f"{message}; netted against the purchases of their {group}: "
            f"{counts['return_rows_netted']} netted, {counts['cancelled_purchase_rows']} "
            f"purchase rows cancelled (net <= 0), {counts['unmatched_return_rows']} returns "
            f"without a purchase in their {group} dropped.",
            counts,
            warn,
        )
        kept = events.assign(**{"amount": netted}).loc[keep]
    if kept.empty:
        raise InvalidDataError(
            f"The transaction log is empty after applying {policy!r} to returns."
        )
    return kept
