"""Data policies on messy logs: what is dropped or netted is counted and warned by class."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from clv.datasets import simulate_messy_log
from clv.errors import (
    DataPolicyWarning,
    DataQualityWarning,
    InvalidDataError,
    InvalidParameterError,
)
from clv.features import clean_transactions, customer_features, rfm_summary


def _log(rows):
    return pd.DataFrame(rows, columns=["customer_id", "timestamp", "amount"])


def _clean(log, **options):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cleaned = clean_transactions(log, **options)
    return cleaned, [w for w in caught if issubclass(w.category, DataPolicyWarning)]


def test_net_by_day_scales_the_purchases_of_the_day_and_never_moves_them():
    log = _log(
        [
            [1, "2024-01-01 10:00", 30.0],
            [1, "2024-01-01 12:00", 10.0],
            [1, "2024-01-01 18:00", -20.0],  # nets against the two purchases of its day
            [1, "2024-01-03 09:00", 25.0],
            [2, "2024-01-02 09:00", 10.0],
            [2, "2024-01-02 10:00", -15.0],  # the whole purchase is cancelled
            [3, "2024-01-05 09:00", 40.0],
            [3, "2024-01-06 09:00", -5.0],  # a return without a purchase that day
        ]
    )
    cleaned, caught = _clean(log, negative_amounts="net")
    out = cleaned.transactions
    assert out["timestamp"].tolist() == [
        "2024-01-01 10:00",
        "2024-01-01 12:00",
        "2024-01-03 09:00",
        "2024-01-05 09:00",
    ]
    np.testing.assert_allclose(out["amount"], [15.0, 5.0, 25.0, 40.0])
    report = cleaned.report
    assert (report.return_rows_netted, report.cancelled_purchase_rows) == (2, 1)
    assert report.unmatched_return_rows == 1 and report.rows == 8
    assert report.rows - report.rows_removed == len(out) == 4
    assert len(caught) == 1 and caught[0].message.counts == {
        "return_rows_netted": 2,
        "cancelled_purchase_rows": 1,
        "unmatched_return_rows": 1,
    }
    assert "2 returns netted" in report.line() and "1 purchase rows cancelled" in report.line()
    # the feature builders net the same way from the raw log
    with pytest.warns(DataPolicyWarning, match="netted against the purchases of their day"):
        direct = rfm_summary(log, observation_end="2024-01-10", negative_amounts="net")
    cleaned_table = rfm_summary(out, observation_end="2024-01-10")
    pd.testing.assert_frame_equal(direct, cleaned_table)
    assert direct.set_index("customer_id").loc[1, "monetary_value"] == 25.0


def test_net_by_invoice_absorbs_a_late_cancellation_into_its_purchase_day():
    log = pd.DataFrame(
        {
            "customer_id": [1, 1, 1, 1],
            "order": ["A", "A", "B", "A"],
            "timestamp": ["2024-01-01", "2024-01-01", "2024-01-04", "2024-01-09"],
            "amount": [30.0, 20.0, 10.0, -20.0],  # A's second line returned 8 days later
        }
    )
    by_invoice, _ = _clean(log, negative_amounts="net", invoice="order")
    np.testing.assert_allclose(by_invoice.transactions["amount"], [18.0, 12.0, 10.0])
    assert by_invoice.transactions["timestamp"].tolist()[:2] == ["2024-01-01", "2024-01-01"]
    assert by_invoice.report.return_rows_netted == 1
    by_day, _ = _clean(log, negative_amounts="net")  # no purchase on 2024-01-09
    assert by_day.report.unmatched_return_rows == 1
    assert by_day.transactions["amount"].sum() == 60.0


def test_rows_without_a_customer_are_refused_or_dropped_with_a_count():
    log = _log([[1.0, "2024-01-01", 5.0], [None, "2024-01-02", 7.0], [2.0, "2024-01-03", 0.0]])
    with pytest.raises(InvalidDataError, match=r"1 rows have a null customer id \(rows 1\)"):
        clean_transactions(log)
    with pytest.raises(InvalidDataError, match="missing_customer_id='drop'"):
        rfm_summary(log, observation_end="2024-01-05")
    cleaned, caught = _clean(log, missing_customer_id="drop")
    assert cleaned.transactions["customer_id"].tolist() == [1, 2]
    assert cleaned.transactions["customer_id"].dtype == np.int64  # float ids made whole again
    assert cleaned.report.missing_customer_rows == 1 and cleaned.report.zero_amount_rows == 1
    assert caught[0].message.counts == {"missing_customer_rows": 1}
    assert issubclass(DataPolicyWarning, DataQualityWarning)
    with pytest.raises(InvalidDataError, match="no row has a customer id"):
        clean_transactions(log.iloc[[1]], missing_customer_id="drop")


def test_returns_refused_or_dropped_and_bad_policies_named():
    log = _log([[1, "2024-01-01", 5.0], [1, "2024-01-02", -5.0], [1, "2024-01-02", 5.0]])
    with pytest.raises(InvalidDataError, match="negative_amounts='drop' or 'net'"):
        clean_transactions(log)
    dropped, caught = _clean(log, negative_amounts="drop", duplicates="drop")
    assert dropped.report.return_rows_dropped == 1 and dropped.report.duplicate_rows == 0
    assert [w.message.counts for w in caught] == [{"return_rows_dropped": 1}]
    with pytest.raises(InvalidParameterError, match="'raise', 'drop' or 'net'"):
        clean_transactions(log, negative_amounts="offset")
    with pytest.raises(InvalidParameterError, match="'missing_customer_id'"):
        clean_transactions(log, missing_customer_id="keep")
    with pytest.raises(InvalidDataError, match="lack column"):
        clean_transactions(log, invoice="order")
    # the warnings are one class a user filters: none escapes an "error" filter on others
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", DataPolicyWarning)
        clean_transactions(log, negative_amounts="drop")


def test_the_messy_simulator_holds_what_real_exports_hold():
    log = simulate_messy_log(300, random_state=4)
    again = simulate_messy_log(300, random_state=4)
    pd.testing.assert_frame_equal(log, again)
    assert log.groupby("invoice").size().max() > 3  # multi-line invoices
    negative = log[log["quantity"] < 0]
    assert len(negative) and set(negative["invoice"]) <= set(
        log.loc[log["quantity"] > 0, "invoice"]
    )
    assert (log["amount"] == 0).sum() > 0 and log["customer_id"].isna().sum() > 0
    per_customer = log.groupby("customer_id")["amount"].sum()
    assert per_customer.max() > 10 * per_customer.median()  # a few bulk buyers
    cleaned, caught = _clean(
        log, invoice="invoice", negative_amounts="net", missing_customer_id="drop"
    )
    report = cleaned.report
    assert (
        report.rows == len(log) and report.missing_customer_rows == log["customer_id"].isna().sum()
    )
    assert (
        report.return_rows_netted + report.unmatched_return_rows
        == ((log["amount"] < 0) & log["customer_id"].notna()).sum()
    )
    assert report.rows - report.rows_removed == len(cleaned.transactions)
    assert (cleaned.transactions["amount"] >= 0).all()
    features = customer_features(cleaned.transactions, as_of="2023-06-30", time_unit="W")
    assert features["customer_id"].is_unique and len(caught) == 2
