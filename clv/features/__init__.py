"""Features: the transaction contract, customer tables and behavioural features.

Transactions enter through one contract (``customer_id``, ``timestamp``,
``amount``; map your own names with keyword arguments) and are validated once.
See :mod:`clv.features._policies` for the policies on duplicated rows, returns
(negative amounts) and rows without a customer id, :mod:`clv.features._contract` for
timezone-aware timestamps, and :func:`clean_transactions` to apply the policies once
to a messy log with every dropped or netted row counted.
"""

from clv.features.behaviour import customer_features, training_examples
from clv.features.cleaning import clean_transactions
from clv.features.rfm import calibration_holdout_split, rfm_summary

__all__ = [
    "calibration_holdout_split",
    "clean_transactions",
    "customer_features",
    "rfm_summary",
    "training_examples",
]
