"""The page of ``clv report``: the gathered run rendered with a Jinja2 template.

The page opens with the decisions (headline, segments and actions with their value at
risk, the new-customer value and payback, the retention what-if) and gives the model
evidence second (the chosen model's plots first, then the comparison, the registry,
the settings, the diagnostics and the other plots). The template is
``clv/training/templates/report.html.j2``; Jinja2 escapes every text taken from the
store. The page is self-contained: styles inline, plots as ``data:`` URIs, no script.
"""

from __future__ import annotations

import base64
import math
from typing import Any

import pandas as pd

from clv._validation import TIME_UNIT_NAMES
from clv.errors import InvalidParameterError
from clv.training.compare import DISPLAY, format_number

__all__ = ["TIME_UNIT_NAMES", "duration", "number", "render_page"]


_SETTINGS = (
    ("calibration_end", "Calibration end"),
    ("holdout_end", "Holdout end"),
    ("time_unit", "Time unit"),
    ("horizon", "Horizon"),
    ("discount_rate", "Annual discount rate"),
    ("margin", "Margin (share of spend that is profit)"),
    ("n_transactions", "Transactions"),
    ("n_customers", "Customers"),
    ("kinds", "Candidates"),
    ("gate_metric", "Gate metric"),
    ("dataset_digest", "Dataset digest"),
)


def _figure(figure: float) -> str:
    if figure.is_integer() and abs(figure) < 1e15:
        return f"{int(figure):,}"
    return f"{figure:,.4g}" if abs(figure) < 1e4 else f"{figure:,.0f}"


def number(value: object) -> str:
    """Format a number for a table: thousands separated, 4 significant digits."""
    if isinstance(value, bool) or value is None:
        return "" if value is None else str(value)
    return format_number(value, _figure)


def _money(value: object, currency: str) -> str:
    figure = float(value)  # type: ignore[arg-type]
    if math.isnan(figure):
        return "n/a"
    text = f"{figure:,.2f}" if abs(figure) < 100 else f"{figure:,.0f}"
    if not currency:
        return text
    return f"{currency} {text}" if currency[-1].isalpha() else f"{currency}{text}"


def _percent(value: object) -> str:
    figure = float(value)  # type: ignore[arg-type]
    return "n/a" if math.isnan(figure) else f"{100 * figure:.1f} %"


def _cell(text: object, numeric: bool = False) -> dict[str, Any]:
    return {"text": str(text), "numeric": numeric}


def _frame_table(
    frame: pd.DataFrame, index_name: str, *, best: str | None = None, mark: str = ""
) -> dict[str, Any]:
    rows = []
    for label, row in frame.iterrows():
        chosen = best is not None and str(label) == str(best)
        cells = [_cell(f"{label}{mark if chosen else ''}")]
        for value in row:
            numeric = isinstance(value, int | float) and not isinstance(value, bool)
            cells.append(_cell(number(value) if numeric else value, numeric))
        rows.append({"cells": cells, "css": "best" if chosen else ""})
    return {"headers": [index_name, *map(str, frame.columns)], "rows": rows}


def _count_histogram(diagnostics: pd.DataFrame | None) -> dict[str, Any] | None:
    """Tabulate the customers by holdout purchases (clv.training.model_diagnostics)."""
    histogram = None if diagnostics is None else diagnostics.attrs.get("count_histogram")
    return None if histogram is None else _frame_table(histogram, "Holdout purchases")


def _pairs_table(items: list[tuple[str, object]]) -> dict[str, Any]:
    return {
        "headers": ["", ""],
        "rows": [{"cells": [_cell(k), _cell(v)], "css": ""} for k, v in items],
    }


def duration(value: object, unit: str) -> str:
    """Format a length of time with its unit spelled out (``39 weeks``)."""
    return f"{number(value)} {TIME_UNIT_NAMES.get(unit, unit + ' units')}"


def _headline(decisions, params, currency, acquisition_cost) -> list[dict[str, str]]:
    head = decisions["headline"]["value"]
    unit = str(head.get("time_unit") or params.get("time_unit", ""))
    horizon = duration(head["horizon"], unit)
    measure = str(head.get("measure", "revenue"))
    total = float(head["total_clv"])
    risk = float(head["value_at_risk"])
    cards = [
        {"label": "customers", "value": number(head["customers"])},
        {"label": f"total {measure} CLV over {horizon}", "value": _money(total, currency)},
        {
            "label": f"value at risk ({_percent(risk / total if total else math.nan)} of it)",
            "value": _money(risk, currency),
        },
    ]
    if "new_customer_value" in head:
        cards.append(
            {
                "label": f"a new customer's {measure} over {horizon}: the most an "
                "acquisition may cost and still pay back",
                "value": _money(head["new_customer_value"], currency),
            }
        )
        if acquisition_cost is not None:
            curve = decisions["new_customer"]["cumulative_value"]
            reached = curve[curve >= acquisition_cost]
            cards.append(
                {
                    "label": f"payback time of an acquisition cost of "
                    f"{_money(acquisition_cost, currency)}",
                    "value": (
                        duration(reached.index[0], unit) if len(reached) else "not within horizon"
                    ),
                }
            )
        gain = float(head["retention_gain"])
        cards.append(
            {
                "label": f"more CLV if dropout of {head['retention_target']} were "
                f"{_percent(float(head['retention_reduction']))} lower",
                "value": ("+" if gain >= 0 else "") + _money(gain, currency),
            }
        )
    return cards


def _segments_table(segments: pd.DataFrame, currency: str) -> dict[str, Any]:
    headers = [
        "Segment",
        "Name",
        "Action",
        "Rule",
        "Customers",
        "Share of customers",
        "Total CLV",
        "Share of CLV",
        "Mean CLV",
        "Value at risk",
    ]
    rows = []
    for segment, row in segments.iterrows():
        cells = [_cell(segment), _cell(row["name"]), _cell(row["action"]), _cell(row["rule"])]
        cells += [
            _cell(number(row["customers"]), True),
            _cell(_percent(row["share_customers"]), True),
            _cell(_money(row["total_clv"], currency), True),
            _cell(_percent(row["share_clv"]), True),
            _cell(_money(row["mean_clv"], currency), True),
            _cell(_money(row["value_at_risk"], currency), True),
        ]
        rows.append({"cells": cells, "css": "risk" if str(segment).endswith("at risk") else ""})
    return {"headers": headers, "rows": rows}


def _new_customer(decisions, unit, currency) -> dict[str, Any] | None:
    if "new_customer" not in decisions:
        return None
    curve = decisions["new_customer"]["cumulative_value"]
    picks = sorted({curve.index[round(k * (len(curve) - 1) / 4)] for k in range(5)})
    rows = [
        {
            "cells": [_cell(duration(t, unit)), _cell(_money(curve.loc[t], currency), True)],
            "css": "",
        }
        for t in picks
    ]
    return {"headers": ["Time since acquisition", "Cumulative value"], "rows": rows}


def _retention(decisions, currency) -> dict[str, Any] | None:
    if "retention" not in decisions:
        return None
    head = decisions["headline"]["value"]
    frame = decisions["retention"]
    rows = []
    for segment, row in frame.iterrows():
        cells = [
            _cell(segment),
            _cell(number(row["customers"]), True),
            _cell(number(row["targeted"]), True),
            _cell(_money(row["clv"], currency), True),
            _cell(_money(row["clv_scenario"], currency), True),
            _cell(_money(row["gain"], currency), True),
            _cell(f"{float(row['gain_pct']):+.2f} %", True),
        ]
        rows.append({"cells": cells, "css": ""})
    headers = ["Segment", "Customers", "Targeted", "CLV", "CLV if kept", "Gain", "Gain %"]
    target, reduction = head["retention_target"], _percent(float(head["retention_reduction"]))
    return {"table": {"headers": headers, "rows": rows}, "target": target, "reduction": reduction}


def _figures(images, best: str) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    chosen, other = [], []
    for title, png in images:
        figure = {"title": title, "data": base64.b64encode(png).decode("ascii")}
        first = title.startswith(f"{best}: ") or title == "clv by segment"
        (chosen if first else other).append(figure)
    return chosen, other


def render_page(data: Any, *, currency: str = "", acquisition_cost: float | None = None) -> str:
    """Render the report of a gathered training run.

    Parameters
    ----------
    data : clv.training.report.ReportData
        From :func:`clv.training.report.collect_report`.
    currency : str, default ""
        Shown with every amount (e.g. ``"USD"`` or ``"$"``).
    acquisition_cost : float, optional
        Cost of acquiring a customer: the headline then states its payback time.

    Returns
    -------
    str
        The HTML document.
    """
    import jinja2

    if acquisition_cost is not None and not (
        isinstance(acquisition_cost, int | float) and acquisition_cost >= 0
    ):
        raise InvalidParameterError(
            f"The acquisition cost must be a number >= 0; got {acquisition_cost!r}."
        )
    params, tags, decisions = data.params, data.tags, data.decisions
    unit = params.get("time_unit", "")
    settings = [
        (label, duration(params[name], unit) if name == "horizon" else params[name])
        for name, label in _SETTINGS
        if name in params
    ]
    registry = [("Chosen model", data.best_model)]
    model_name = tags.get("clv.registered_model")
    if model_name:
        registry += [
            ("Registered model", model_name),
            ("New version", tags.get("clv.registered_version", "?")),
            ("Gate decision", tags.get("clv.gate_decision", "?")),
            ("Reason", tags.get("clv.gate_reason", "")),
            ("Champion before", tags.get("clv.previous_champion", "none")),
        ]
        registry += [
            (f"{model_name}@{alias} now", f"version {version}")
            for alias, version in sorted(data.aliases.items())
        ]
    comparison = data.comparison.rename(
        columns={name: label for name, (label, _) in DISPLAY.items()}
    )
    if "segments" in decisions:
        segments = _segments_table(decisions["segments"], currency)
    elif data.segments is not None:
        segments = _frame_table(data.segments, "Segment")
    else:
        segments = None
    chosen, other = _figures(data.images, data.best_model)
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("clv.training", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    page = environment.get_template("report.html.j2").render(
        run_name=data.run_name,
        subtitle=(
            f"Run {data.run_id} of experiment {data.experiment}, started {data.start_time}; "
            f"store {data.tracking_uri}."
        ),
        headline=_headline(decisions, params, currency, acquisition_cost) if decisions else [],
        segments=segments,
        segments_note=data.segments_note,
        new_customer=_new_customer(decisions, unit, currency),
        retention=_retention(decisions, currency),
        chosen_figures=chosen,
        comparison=_frame_table(comparison, "Model", best=data.best_model, mark=" (chosen)"),
        registry=_pairs_table(registry),
        settings=_pairs_table(settings),
        diagnostics=(
            _frame_table(data.diagnostics, "Model") if data.diagnostics is not None else None
        ),
        count_histogram=_count_histogram(data.diagnostics),
        other_figures=other,
    )
    return page.strip() + "\n"
