"""Merged purchases as numpy arrays, built on one sort of packed integer keys.

Every feature definition starts from the same step: keep the events of a time
window, order them by customer then time, and merge the events of one customer at
one time into one purchase (amounts summed). :func:`merged_purchases` does that
with the fewest passes over the log:

- customer codes: integer ids whose range fits the key are used as they are
  (``id - min``: no factorisation, no hash); other ids are factorised with sorted
  uniques, so codes follow the id order either way;
- one ``np.sort`` of an int64 key packing (customer code, day, row), in place. The
  row in the low bits makes the order stable without a stable (merge) sort, and
  lets the amounts be gathered in that order;
- the sorted keys are read in chunks that end on purchase boundaries, so that no
  temporary is as long as the log, and each purchase's amount is the
  ``np.add.reduceat`` of its rows in row order (bit for bit the sums of a stable
  sort).

Times that are not whole days (``merge_same_day=False``), and keys that do not fit
63 bits, take a stable ``np.lexsort`` instead: the same order, more slowly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

_CHUNK = 1 << 20
"""Rows per chunk when building and reading keys (8 MB of int64)."""

_KEY_BITS = 63


@dataclass(frozen=True)
class Purchases:
    """Purchases sorted by customer then time, one run of purchases per customer.

    Attributes
    ----------
    customers : numpy.ndarray
        The customer ids, sorted, one per run.
    starts, stops : numpy.ndarray
        Customer ``i``'s purchases are ``t[starts[i]:stops[i]]`` (int64).
    t : numpy.ndarray
        Purchase times in days (float64).
    amount : numpy.ndarray or None
        Spend of each purchase (the sum of its merged events), or None without amounts.
    """

    customers: np.ndarray
    starts: np.ndarray
    stops: np.ndarray
    t: np.ndarray
    amount: np.ndarray | None

    @property
    def counts(self) -> np.ndarray:
        """Number of purchases of each customer (int64)."""
        return self.stops - self.starts

    def select(self, keep: np.ndarray | slice, starts: np.ndarray, stops: np.ndarray) -> Purchases:
        """Keep the customers at ``keep`` (positions or a slice), with new run bounds (given for all)."""
        return Purchases(self.customers[keep], starts[keep], stops[keep], self.t, self.amount)


def run_sums(values: np.ndarray, starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
    """Sum ``values[starts[i]:stops[i]]`` for every run (non-overlapping, in order); 0.0 if empty.

    Each sum is ``np.add.reduceat`` over the run alone: it does not depend on what
    lies between runs.
    """
    filled = stops > starts
    every = bool(filled.all())  # then no copies of the bounds
    lo, hi = (starts, stops) if every else (starts[filled], stops[filled])
    if len(lo) == 0:
        return np.zeros(len(starts), dtype="float64")
    # one reduceat over the runs' span only (its last segment ends at the span's end)
    adjacent = np.array_equal(lo[1:], hi[:-1])
    if adjacent:
        bounds = lo
    else:  # every other segment is a gap between runs
        bounds = np.empty(2 * len(lo) - 1, dtype="int64")
        bounds[0::2], bounds[1::2] = lo, hi[:-1]
    first = int(lo[0])
    sums = np.add.reduceat(values[first : hi[-1]], bounds - first if first else bounds)
    sums = sums if adjacent else sums[0::2]
    if every:
        return sums
    out = np.zeros(len(starts), dtype="float64")
    out[filled] = sums
    return out


def merged_purchases(
    ids: np.ndarray,
    t: np.ndarray,
    amount: np.ndarray | None,
    *,
    start: float,
    end: float,
    merge: bool = True,
) -> Purchases:
    """Merge the events (ids, float64 days ``t``, amounts or None) in ``(start, end]``.

    ``start`` may be ``-inf``. ``merge=False`` keeps every event as a purchase
    (identical times included), ordered by time then row.
    """
    inside = t <= end
    if start != -np.inf:
        inside &= t > start
    n_inside = int(np.count_nonzero(inside))
    if n_inside == 0:
        empty = np.zeros(0, dtype="int64")
        return Purchases(
            ids[:0], empty, empty, np.zeros(0), None if amount is None else np.zeros(0)
        )
    if n_inside == len(t):
        inside = None
    codes, offset, n_codes, uniques = _customer_codes(ids, inside)
    days = _whole_day_span(t, inside)
    row_bits = _bits(len(t))
    if days is not None and _bits(n_codes) + _bits(days[1]) + row_bits <= _KEY_BITS:
        key = _packed_keys(codes, offset, t, days, row_bits, inside, n_inside)
        key.sort()
        n_groups, sums = _read_groups(key, row_bits, amount, merge)
        starts, first_codes, time = _runs_and_days(key[:n_groups], days)
    else:
        order = _stable_order(codes, t, inside)
        customer = codes[order] - offset
        time = t[order]
        sums = None if amount is None else amount[order]
        if merge:
            firsts = np.flatnonzero(_changes(customer) | _changes(time))
            customer, time = customer[firsts], time[firsts]
            sums = None if sums is None else np.add.reduceat(sums, firsts)
        starts = np.flatnonzero(_changes(customer))
        first_codes = customer[starts]
    bounds = np.append(starts, len(time))
    if uniques is None:
        customers = (first_codes + offset).astype(ids.dtype, copy=False)
    else:
        customers = uniques.take(first_codes)
    return Purchases(customers, bounds[:-1], bounds[1:], time, sums)


def _bits(count: int) -> int:
    """Bits that hold the values 0 .. count - 1."""
    return max(1, (int(count) - 1).bit_length())


def _changes(values: np.ndarray) -> np.ndarray:
    """Mark where a value differs from the one before (and the first value)."""
    change = np.empty(len(values), dtype=bool)
    change[:1] = True
    np.not_equal(values[1:], values[:-1], out=change[1:])
    return change


def _customer_codes(
    ids: np.ndarray, inside: np.ndarray | None
) -> tuple[np.ndarray, int, int, np.ndarray | None]:
    """Integer codes that sort like the ids: ``(codes, offset, n_codes, uniques)``.

    Integer ids in a narrow range are their own codes (``code = id - offset``,
    ``uniques`` None): no factorisation, no sort. Other ids are factorised with
    sorted uniques (offset 0), over the events inside the window only.
    """
    if ids.dtype.kind in "iu":
        low, high = int(ids.min()), int(ids.max())
        if high - low < 2**40 and -(2**62) < low and high < 2**62:
            return ids, low, high - low + 1, None
    chosen = ids if inside is None else ids[inside]
    codes, uniques = pd.factorize(chosen, sort=True)
    if inside is not None:
        full = np.zeros(len(ids), dtype=codes.dtype)
        full[inside] = codes
        codes = full
    return codes, 0, len(uniques), np.asarray(uniques)


def _whole_day_span(t: np.ndarray, inside: np.ndarray | None) -> tuple[int, int] | None:
    """``(first day, number of days)`` when every time inside is a whole day, else None."""
    if inside is None:
        low, high = t.min(), t.max()
    else:
        low = np.min(t, where=inside, initial=np.inf)
        high = np.max(t, where=inside, initial=-np.inf)
    if not (np.isfinite(low) and np.isfinite(high)):
        return None
    for a in range(0, len(t), _CHUNK):
        part = t[a : a + _CHUNK]
        if inside is not None:
            part = part[inside[a : a + _CHUNK]]
        if not np.array_equal(part, np.floor(part)):
            return None
    return int(low), int(high) - int(low) + 1


def _packed_keys(
    codes: np.ndarray,
    offset: int,
    t: np.ndarray,
    days: tuple[int, int],
    row_bits: int,
    inside: np.ndarray | None,
    n_inside: int,
) -> np.ndarray:
    """``((code * n_days + day) << row_bits) | row`` for the events inside, chunk by chunk."""
    key = np.empty(n_inside, dtype="int64")
    first_day, n_days = days
    filled = 0
    for a in range(0, len(t), _CHUNK):
        b = min(a + _CHUNK, len(t))
        part = codes[a:b].astype("int64")
        part -= offset
        part *= n_days
        part += t[a:b].astype("int64")
        part -= first_day
        part <<= row_bits
        part |= np.arange(a, b, dtype="int64")
        if inside is not None:
            part = part[inside[a:b]]
        key[filled : filled + len(part)] = part
        filled += len(part)
    return key


def _read_groups(
    key: np.ndarray, row_bits: int, amount: np.ndarray | None, merge: bool
) -> tuple[int, np.ndarray | None]:
    """Write the purchase groups (``code * n_days + day``) of sorted keys over ``key``.

    Returns their number and amounts. Reads ``key`` in chunks that end where a group
    ends, so that every group's amount is one ``reduceat`` over its rows, gathered in
    key (row) order; a chunk is read before its groups are written (at or before it).
    """
    n = len(key)
    row_mask = np.int64((1 << row_bits) - 1)
    # preallocated at the most; the pages of an unused tail are never touched
    sums = None if amount is None else np.empty(n, dtype="float64")
    filled = a = 0
    while a < n:
        b = min(a + _CHUNK, n)
        if b < n:  # end the chunk at the first row of the group that b falls in
            group = int(key[b]) >> row_bits
            b = a + int(np.searchsorted(key[a:], group << row_bits))
            if b <= a:  # a group longer than a chunk: end after it
                b = a + int(np.searchsorted(key[a:], (group + 1) << row_bits))
        part = key[a:b] >> row_bits
        firsts = np.flatnonzero(_changes(part)) if merge else slice(None)
        count = len(part) if not merge else len(firsts)
        if sums is not None:
            values = amount[key[a:b] & row_mask]
            sums[filled : filled + count] = np.add.reduceat(values, firsts) if merge else values
        key[filled : filled + count] = part[firsts]
        filled += count
        a = b
    return filled, None if sums is None else sums[:filled]


def _runs_and_days(
    groups: np.ndarray, days: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(run starts, their customer codes, purchase days)`` of sorted purchase groups.

    The days (float64) are written over ``groups``, chunk by chunk: no new log-sized array.
    """
    first_day, n_days = days
    time = groups.view("float64")
    starts, codes, previous = [], [], -1
    for a in range(0, len(groups), _CHUNK):
        part = groups[a : a + _CHUNK]
        code = part // n_days
        new = _changes(code)
        new[0] = code[0] != previous
        at = np.flatnonzero(new)
        starts.append(at + a)
        codes.append(code[at])
        previous = code[-1]
        part -= code * n_days
        part += first_day
        time[a : a + _CHUNK] = part  # whole days: exact
    return np.concatenate(starts), np.concatenate(codes), time


def _stable_order(codes: np.ndarray, t: np.ndarray, inside: np.ndarray | None) -> np.ndarray:
    """Positions of the events inside, ordered by (code, time, row): a stable lexsort."""
    if inside is None:
        return np.lexsort((t, codes))
    rows = np.flatnonzero(inside)
    return rows[np.lexsort((t[rows], codes[rows]))]
