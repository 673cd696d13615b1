"""The purchase engine: one packed-key sort gives the order and sums of a stable sort."""

import numpy as np
import pandas as pd
import pytest

from clv.features import _definitions, _purchases, calibration_holdout_split, rfm_summary
from clv.features._purchases import merged_purchases, run_sums
from tests.conftest import simulated_log


def _events(seed: int, n: int = 400, customers: int = 30, days: int = 60):
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, customers, n) * 3 - 40  # negative and sparse ids
    t = rng.integers(18_000, 18_000 + days, n).astype("float64")
    # one customer with a long same-day burst: a group longer than a chunk
    ids[:25], t[:25] = 7, 18_010.0
    amount = np.round(rng.gamma(2.0, 10.0, n), 2)
    return ids, t, amount


def _same(a, b):
    for name in ("customers", "starts", "stops", "t", "amount"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), strict=True)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("merge", [True, False])
@pytest.mark.parametrize("window", [(-np.inf, 1e9), (18_005.0, 18_040.0)])
def test_packed_keys_equal_the_stable_lexsort_bit_for_bit(monkeypatch, seed, merge, window):
    ids, t, amount = _events(seed)
    options = {"start": window[0], "end": window[1], "merge": merge}
    monkeypatch.setattr(_purchases, "_KEY_BITS", 0)  # every key too wide: stable lexsort
    reference = merged_purchases(ids, t, amount, **options)
    monkeypatch.setattr(_purchases, "_KEY_BITS", 63)
    monkeypatch.setattr(_purchases, "_CHUNK", 16)  # many chunks, one group longer than a chunk
    _same(merged_purchases(ids, t, amount, **options), reference)
    # factorised ids (too wide a range to be their own codes) give the same purchases
    wide = ids.astype("int64") * 2**41
    packed = merged_purchases(wide, t, amount, **options)
    np.testing.assert_array_equal(packed.customers, reference.customers * 2**41)
    np.testing.assert_array_equal(packed.t, reference.t)
    np.testing.assert_array_equal(packed.amount, reference.amount)


def test_purchases_against_a_groupby():
    ids, t, amount = _events(9)
    got = merged_purchases(ids, t, amount, start=-np.inf, end=18_030.0)
    frame = pd.DataFrame({"c": ids, "t": t, "a": amount})
    expected = frame[frame["t"] <= 18_030.0].groupby(["c", "t"], sort=True)["a"].sum()
    np.testing.assert_array_equal(
        np.repeat(got.customers, got.counts), expected.index.get_level_values(0)
    )
    np.testing.assert_array_equal(got.t, expected.index.get_level_values(1))
    np.testing.assert_allclose(got.amount, expected.to_numpy(), rtol=1e-12)
    assert got.counts.sum() == len(expected)


def test_an_empty_window_gives_no_purchase():
    ids, t, amount = _events(1)
    got = merged_purchases(ids, t, amount, start=1e9, end=2e9)
    assert len(got.customers) == len(got.t) == len(got.amount) == 0


def test_run_sums_of_empty_adjacent_and_separate_runs():
    values = np.arange(1.0, 11.0)
    starts = np.array([0, 2, 2, 5, 9])
    stops = np.array([2, 2, 4, 7, 10])
    np.testing.assert_array_equal(run_sums(values, starts, stops), [3.0, 0.0, 7.0, 13.0, 10.0])
    np.testing.assert_array_equal(
        run_sums(values, np.array([0, 3]), np.array([3, 10])), [6.0, 49.0]
    )
    # separate runs that end before the values do: nothing after the last run is summed
    np.testing.assert_array_equal(run_sums(values, np.array([1, 5]), np.array([3, 7])), [5.0, 13.0])
    assert run_sums(values, np.zeros(0, "int64"), np.zeros(0, "int64")).shape == (0,)


@pytest.mark.parametrize("unit", ["W", "M"])
@pytest.mark.parametrize("merge", [True, False])
def test_split_built_in_blocks_of_customers_equals_one_block(monkeypatch, unit, merge):
    log = simulated_log(seed=3)  # some customers start in the holdout: unseen ones in blocks
    options = {"calibration_end": "2020-08-01", "holdout_end": "2021-01-20", "time_unit": unit}
    whole = calibration_holdout_split(log, merge_same_day=merge, **options)
    monkeypatch.setattr(_definitions, "_BLOCK", 7)
    blocks = calibration_holdout_split(log, merge_same_day=merge, **options)
    pd.testing.assert_frame_equal(blocks, whole, check_exact=True)
    assert 7 < len(whole) < log["customer_id"].nunique()


def test_integer_ids_in_a_narrow_range_and_factorised_ids_give_one_table():
    rng = np.random.default_rng(3)
    n = 2_000
    log = pd.DataFrame(
        {
            "customer_id": rng.integers(0, 300, n),
            "timestamp": pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 300, n), "D"),
            "amount": np.round(rng.gamma(2.0, 10.0, n), 2),
        }
    )
    wide = log.assign(customer_id=log["customer_id"] * 10**13)
    names = log.assign(customer_id=log["customer_id"].map("{:05d}".format))
    for function, options in [
        (rfm_summary, {"observation_end": "2023-08-31"}),
        (calibration_holdout_split, {"calibration_end": "2023-06-30", "holdout_end": "2023-10-31"}),
    ]:
        narrow = function(log, **options)
        for other in (wide, names):
            table = function(other, **options)
            pd.testing.assert_frame_equal(
                table.drop(columns="customer_id"), narrow.drop(columns="customer_id")
            )
        assert (function(wide, **options)["customer_id"] == narrow["customer_id"] * 10**13).all()
