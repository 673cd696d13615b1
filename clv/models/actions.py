"""Segments that carry an action, and the customer lists to act on.

Each segment of :class:`clv.models.segments.SegmentRules` gets a plain name and a
recommended action, taken from the CLV literature's standard playbook (keep and reward
the most valuable; win back valuable customers who drift away; grow the middle by
upselling and cross-selling; serve the low-value cheaply and reactivate or let go
those who lapse; e.g. Kumar & Reinartz, *Customer Relationship Management*, ch. 5 and
Gupta & Lehmann, *Managing Customers as Investments*, ch. 6). Users replace any of
them, and the segment thresholds, in a config file (:func:`load_segment_config`).

**Value at risk** of a customer is ``clv x churn_probability``: the customer's value
weighted by the probability of no purchase over the horizon. Summed over a segment it
is the value that segment stands to lose if nothing is done, on that measure; the
action lists rank customers by it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from clv.errors import InvalidDataError, InvalidParameterError
from clv.models.segments import SEGMENTS, SegmentRules

__all__ = [
    "DEFAULT_ACTIONS",
    "action_array",
    "action_lists",
    "actions_for",
    "load_segment_config",
    "segment_actions",
    "segment_settings",
]

#: segment -> (plain name, recommended action)
DEFAULT_ACTIONS: dict[str, tuple[str, str]] = {
    "high value": (
        "Best customers",
        "Keep and reward: loyalty perks and premium offers; no blanket discounts.",
    ),
    "high value at risk": (
        "Valuable, drifting away",
        "Win back now: personal outreach and a retention offer; retention pays most here.",
    ),
    "medium value": (
        "Growing middle",
        "Upsell and cross-sell: next product, bundles, tier upgrades.",
    ),
    "medium value at risk": (
        "Middle, at risk",
        "Re-engage with a targeted offer that costs less than the value at risk.",
    ),
    "low value": (
        "Low value, active",
        "Serve at low cost (automated, digital channels); watch for growth.",
    ),
    "low value at risk": (
        "Low value, lapsing",
        "Reactivate cheaply with one low-cost nudge, or let go.",
    ),
}

#: columns of an action list, in CRM-import order
ACTION_LIST_COLUMNS = (
    "customer_id",
    "segment",
    "segment_name",
    "action",
    "clv",
    "value_at_risk",
    "probability_alive",
    "expected_purchases",
    "last_purchase",
)


def _merged(actions: Mapping[str, Any] | None) -> dict[str, tuple[str, str]]:
    merged = dict(DEFAULT_ACTIONS)
    for segment, entry in (actions or {}).items():
        if segment not in SEGMENTS:
            raise InvalidParameterError(
                f"Unknown segment {segment!r} in the actions; segments are {list(SEGMENTS)}."
            )
        name, action = merged[segment]
        if isinstance(entry, str):
            action = entry
        elif isinstance(entry, Mapping) and set(entry) <= {"name", "action"}:
            name, action = str(entry.get("name", name)), str(entry.get("action", action))
        else:
            raise InvalidParameterError(
                f"The action of {segment!r} must be a text or a table with 'name' and "
                f"'action'; got {entry!r}."
            )
        merged[segment] = (name, action)
    return merged


def action_array(segments: np.ndarray, actions: Mapping[str, Any] | None = None) -> np.ndarray:
    """Recommended action of each segment name, for many rows at once.

    Parameters
    ----------
    segments : numpy.ndarray
        Segment names (from :meth:`SegmentRules.assign_arrays`).
    actions : mapping, optional
        Overrides of :data:`DEFAULT_ACTIONS`.

    Returns
    -------
    numpy.ndarray
        The action texts (object array), one per row.
    """
    table = _merged(actions)
    # hashing the (few distinct) names: 5x faster than a Categorical of text on pandas 3
    codes, names = pd.factorize(np.asarray(segments, dtype=object), use_na_sentinel=False)
    unknown = np.array([name not in table for name in names], dtype=bool)
    if unknown.any():
        count = int(unknown[codes].sum())
        raise InvalidDataError(f"{count} row(s) have an unknown segment.")
    return np.asarray([table[name][1] for name in names], dtype=object)[codes]


def actions_for(segments: pd.Series, actions: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Plain name and action of each customer's segment.

    Parameters
    ----------
    segments : pandas.Series
        Segment names (from :meth:`SegmentRules.assign`).
    actions : mapping, optional
        Overrides of :data:`DEFAULT_ACTIONS`: segment -> action text, or -> ``{"name":
        ..., "action": ...}``.

    Returns
    -------
    pandas.DataFrame
        ``segment_name`` and ``action``, indexed like ``segments``.
    """
    table = _merged(actions)
    unknown = ~segments.isin(list(table))
    if unknown.any():
        raise InvalidDataError(
            f"{int(unknown.sum())} row(s) have an unknown segment "
            f"(e.g. {segments[unknown].iloc[0]!r})."
        )
    return pd.DataFrame(
        {
            "segment_name": segments.map(lambda s: table[s][0]),
            "action": segments.map(lambda s: table[s][1]),
        },
        index=segments.index,
    )


def _rule_text(segment: str, rules: SegmentRules | None) -> str:
    if rules is None:
        return ""
    tier, at_risk = segment.removesuffix(" at risk"), segment.endswith(" at risk")
    high, medium = rules.high_threshold_, rules.medium_threshold_
    value = {
        "high value": f"CLV > {high:,.2f}",
        "medium value": f"{medium:,.2f} < CLV <= {high:,.2f}",
        "low value": f"CLV <= {medium:,.2f}",
    }[tier]
    sign = ">=" if at_risk else "<"
    return f"{value}, P(no purchase) {sign} {rules.churn_threshold:g}"


def segment_actions(
    predictions: pd.DataFrame,
    *,
    rules: SegmentRules | None = None,
    actions: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Summarise each segment for a marketer: name, action, rule, size, value, risk.

    Parameters
    ----------
    predictions : pandas.DataFrame
        One row per customer with ``clv``, ``churn_probability`` and ``segment``.
    rules : SegmentRules, optional
        The fitted rules, to state each segment's thresholds.
    actions : mapping, optional
        Overrides of :data:`DEFAULT_ACTIONS`.

    Returns
    -------
    pandas.DataFrame
        Indexed by segment (in :data:`SEGMENTS` order, those present): ``name``,
        ``action``, ``rule``, ``customers``, ``share_customers``, ``total_clv``,
        ``share_clv``, ``mean_clv``, ``value_at_risk``.
    """
    for column in ("clv", "churn_probability", "segment"):
        if column not in predictions.columns:
            raise InvalidDataError(f"The predictions are missing column {column!r}.")
    clv = predictions["clv"].to_numpy(dtype=np.float64)
    risk = clv * predictions["churn_probability"].to_numpy(dtype=np.float64)
    frame = pd.DataFrame({"segment": predictions["segment"].to_numpy(), "clv": clv, "risk": risk})
    grouped = frame.groupby("segment", sort=False)
    table = pd.DataFrame(
        {
            "customers": grouped.size(),
            "total_clv": grouped["clv"].sum(),
            "mean_clv": grouped["clv"].mean(),
            "value_at_risk": grouped["risk"].sum(),
        }
    )
    table = table.loc[[s for s in SEGMENTS if s in table.index]]
    merged = _merged(actions)
    total = float(clv.sum())
    table.insert(0, "rule", [_rule_text(s, rules) for s in table.index])
    table.insert(0, "action", [merged[s][1] for s in table.index])
    table.insert(0, "name", [merged[s][0] for s in table.index])
    table.insert(4, "share_customers", table["customers"] / len(frame))
    table.insert(6, "share_clv", table["total_clv"] / total if total > 0 else np.nan)
    table.index.name = "segment"
    return table


def action_lists(
    scores: pd.DataFrame,
    *,
    segments: list[str] | None = None,
    actions: Mapping[str, Any] | None = None,
    top: int | None = None,
) -> dict[str, pd.DataFrame]:
    """List the customers to act on, per segment, ranked by value at risk.

    Parameters
    ----------
    scores : pandas.DataFrame
        Scored customers with ``customer_id``, ``segment``, ``clv``,
        ``churn_probability``, ``probability_alive``, ``expected_purchases`` and
        optionally ``last_purchase`` (a date).
    segments : list of str, optional
        The segments to list (default: every segment present).
    actions : mapping, optional
        Overrides of :data:`DEFAULT_ACTIONS`.
    top : int, optional
        Keep only the first ``top`` customers of each list.

    Returns
    -------
    dict of str to pandas.DataFrame
        One list per segment with the columns of :data:`ACTION_LIST_COLUMNS`
        (``last_purchase`` when given), highest value at risk first.
    """
    needed = {"customer_id", "segment", "clv", "churn_probability"}
    missing = sorted(needed - set(scores.columns))
    if missing:
        raise InvalidDataError(f"The scores are missing column(s) {missing}.")
    wanted = list(segments) if segments is not None else [s for s in SEGMENTS]
    unknown = [s for s in wanted if s not in SEGMENTS]
    if unknown:
        raise InvalidParameterError(f"Unknown segment(s) {unknown}; segments are {list(SEGMENTS)}.")
    frame = scores.assign(value_at_risk=scores["clv"] * scores["churn_probability"])
    frame = pd.concat([frame, actions_for(frame["segment"], actions)], axis=1)
    columns = [c for c in ACTION_LIST_COLUMNS if c in frame.columns]
    lists = {}
    for segment in wanted:
        rows = frame[frame["segment"] == segment]
        if rows.empty:
            continue
        ranked = rows.sort_values(["value_at_risk", "customer_id"], ascending=[False, True])
        lists[segment] = ranked[columns].head(top).reset_index(drop=True)
    return lists


def _toml(text: str) -> dict[str, Any]:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]
    return tomllib.loads(text)


def load_segment_config(path: str | Path) -> tuple[SegmentRules, dict[str, Any]]:
    """Read segment thresholds and actions from a TOML or JSON file.

    The file may hold ``high_share``, ``medium_share``, ``churn_threshold`` (the
    :class:`SegmentRules` parameters) and an ``actions`` table of segment -> text or
    ``{name, action}``, at the top level or under ``[segments]``.

    Parameters
    ----------
    path : str or pathlib.Path
        A ``.toml`` or ``.json`` file.

    Returns
    -------
    tuple of (SegmentRules, dict)
        Unfitted rules with the file's parameters, and the action overrides.
    """
    path = Path(path)
    try:
        text = path.read_text()
        data = json.loads(text) if path.suffix == ".json" else _toml(text)
    except (OSError, ValueError) as error:
        raise InvalidParameterError(f"Cannot read the segment config {path}: {error}") from None
    return segment_settings(data.get("segments", data), where=str(path))


def segment_settings(
    settings: Mapping[str, Any] | None, *, where: str = "the segment settings"
) -> tuple[SegmentRules, dict[str, Any]]:
    """Check segment settings (``high_share``, ..., ``actions``) and split them.

    Parameters
    ----------
    settings : mapping or None
        The :class:`SegmentRules` parameters and an ``actions`` table (see
        :func:`load_segment_config`); ``None`` for the defaults.
    where : str
        Named in error messages.

    Returns
    -------
    tuple of (SegmentRules, dict)
        Unfitted rules and the action overrides.
    """
    data = dict(settings or {})
    known = {"high_share", "medium_share", "churn_threshold", "actions"}
    extra = sorted(set(data) - known)
    if extra:
        raise InvalidParameterError(f"Unknown key(s) {extra} in {where}; known: {sorted(known)}.")
    actions = dict(data.get("actions", {}))
    _merged(actions)  # validate now, not at scoring time
    rules = SegmentRules(**{k: v for k, v in data.items() if k != "actions"})
    rules._check_params()
    return rules, actions
