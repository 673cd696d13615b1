"""Features: the transaction contract, customer tables and behavioural features.

Transactions enter through one contract (``customer_id``, ``timestamp``,
``amount``; map your own names with keyword arguments) and are validated once.
See :mod:`clv.features._contract` for the policies on duplicated rows, returns
(negative amounts) and timezone-aware timestamps, and :func:`clean_transactions` to
apply them once to a messy log with every dropped or netted row counted.
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
