"""Helpers of the index-contract tests: a scrambled table and the assign-back check."""

from __future__ import annotations

import numpy as np
import pandas as pd

SEED = 11


def shuffled(table: pd.DataFrame, seed: int = SEED) -> pd.DataFrame:
    """``table`` in a random row order, indexed by a permutation of its customer ids."""
    rng = np.random.default_rng(seed)
    result = table.iloc[rng.permutation(len(table))].copy()
    labels = rng.permutation(table["customer_id"].to_numpy())
    assert (labels != result["customer_id"].to_numpy()).mean() > 0.9  # really scrambled
    result.index = pd.Index(labels, name="row")
    result.attrs = dict(table.attrs)
    return result


def check_assigned_back(
    table: pd.DataFrame, predict, name: str = "prediction", *, single_rows: bool = True
) -> None:
    """Assign ``predict(shuffled table)`` back with the idiom and check every row."""
    reference = predict(table.reset_index(drop=True))
    assert isinstance(reference, pd.Series)
    by_customer = pd.Series(reference.to_numpy(), index=table["customer_id"].to_numpy())
    mixed = shuffled(table)
    output = predict(mixed)
    assert isinstance(output, pd.Series) and output.index.equals(mixed.index)
    mixed[name] = output  # the idiom under test
    expected = by_customer.loc[mixed["customer_id"].to_numpy()].to_numpy()
    got = mixed[name].to_numpy()
    if expected.dtype == object:
        assert (got == expected).all()
    else:
        assert not np.isnan(got).any()
        np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12)
    for position in (0, len(mixed) // 2, len(mixed) - 1) if single_rows else ():
        # one-row tables give the same values
        one = mixed.iloc[[position]].drop(columns=[name])
        single = predict(one)
        assert single.index.equals(one.index)
        if expected.dtype == object:
            assert single.iloc[0] == got[position]
        else:
            np.testing.assert_allclose(single.iloc[0], got[position], rtol=1e-9, atol=1e-12)
