"""``clv score``: every customer of a transaction file, scored (:mod:`clv.serving.batch`).

Only typer is imported here; MLflow, pandas and the scoring code load when the
command runs, so ``import clv.cli`` stays light.
"""

from __future__ import annotations

import inspect
import time
from typing import Annotated, Any

import typer

from clv._cli_output import segment_rules_line, table_text
from clv.cli.options import (
    DateFormatOption,
    DuplicatesOption,
    InvoiceOption,
    MissingCustomerIdOption,
    NegativeAmountsOption,
    StoreOption,
)
from clv.errors import InvalidParameterError

__all__ = ["score"]


class _Bars:
    """One terminal progress bar per phase ("reading", then "scoring")."""

    def __init__(self) -> None:
        self.phase: str | None = None
        self.bar: Any = None
        self.done = 0

    def __call__(self, phase: str, done: int, total: int) -> None:
        if phase != self.phase:
            self.close()
            self.phase = phase
            self.bar = typer.progressbar(length=max(total, 1), label=f"{phase:8s}", file=None)
            self.bar.__enter__()
            self.done = 0
        if total > self.bar.length:
            self.bar.length = total
        self.bar.update(max(0, done - self.done))
        self.done = done

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


def score(
    transactions: Annotated[
        str, typer.Argument(help="Transaction log: a .csv or .parquet file.", show_default=False)
    ],
    model_uri: Annotated[
        str,
        typer.Option(
            "--model-uri",
            help="Model to score with, e.g. models:/clv@champion.",
            show_default=False,
        ),
    ],
    as_of: Annotated[
        str,
        typer.Option(
            "--as-of", help="Build features from transactions up to this day.", show_default=False
        ),
    ],
    horizon: Annotated[
        float,
        typer.Option(
            "--horizon", help="Prediction horizon in the model's time unit.", show_default=False
        ),
    ],
    output: Annotated[
        str,
        typer.Option(
            "--output", help="Scores file: .parquet or .csv (by extension).", show_default=False
        ),
    ],
    engine: Annotated[str, typer.Option("--engine", help="local or spark.")] = "local",
    tracking_uri: StoreOption = None,
    discount_rate: Annotated[
        float | None,
        typer.Option(
            "--discount-rate",
            help="Annual discount rate. [default: the model's]",
            show_default=False,
        ),
    ] = None,
    margin: Annotated[
        float | None,
        typer.Option(
            "--margin",
            help="Share of spend that is profit, in [0, 1]: clv is profit (1 = revenue). "
            "[default: the model's]",
            show_default=False,
        ),
    ] = None,
    interval: Annotated[
        float | None,
        typer.Option(
            "--interval",
            help="Also write prediction intervals at this level, e.g. 0.9: purchases_lower, "
            "purchases_upper, clv_lower, clv_upper (BTYD models).",
            show_default=False,
        ),
    ] = None,
    customer_id: Annotated[
        str, typer.Option("--customer-id", help="Customer id column.")
    ] = "customer_id",
    timestamp: Annotated[str, typer.Option("--timestamp", help="Timestamp column.")] = "timestamp",
    amount: Annotated[str, typer.Option("--amount", help="Amount column.")] = "amount",
    chunk_customers: Annotated[
        int, typer.Option("--chunk-customers", help="Customers held in memory at once.")
    ] = 500_000,
    invoice: InvoiceOption = None,
    missing_customer_id: MissingCustomerIdOption = "raise",
    negative_amounts: NegativeAmountsOption = "raise",
    duplicates: DuplicatesOption = "keep",
    date_format: DateFormatOption = None,
    actions: Annotated[
        str | None,
        typer.Option(
            "--actions",
            help="Also write the action lists here: one CSV per segment, customers ranked "
            "by value at risk (clv x churn probability).",
            show_default=False,
        ),
    ] = None,
    action_segments: Annotated[
        str | None,
        typer.Option(
            "--action-segments",
            help='Segments to list, comma-separated (e.g. "high value at risk"). '
            "[default: every segment]",
            show_default=False,
        ),
    ] = None,
    action_top: Annotated[
        int | None,
        typer.Option(
            "--action-top", help="At most this many customers per list.", show_default=False
        ),
    ] = None,
) -> None:
    """Score every customer of a transaction file and print the per-segment summary."""
    from clv.serving.batch import check_paths

    check_paths(transactions, output)  # before any engine starts: never score over the input
    wanted = _action_segments(action_segments)
    options: dict[str, Any] = {
        "model_uri": model_uri,
        "as_of": as_of,
        "horizon": horizon,
        "output": output,
        "discount_rate": discount_rate,
        "margin": margin,
        "tracking_uri": tracking_uri,
        "customer_id": customer_id,
        "timestamp": timestamp,
        "amount": amount,
        "chunk_customers": chunk_customers,
    }
    from clv.features._policies import DEFAULT_POLICIES, data_policies

    policies = data_policies(invoice, missing_customer_id, negative_amounts, duplicates)
    if engine == "spark" and policies != DEFAULT_POLICIES:
        raise InvalidParameterError(
            "--engine spark applies the default data policies only (--invoice, "
            "--missing-customer-id, --negative-amounts, --duplicates are for --engine local)."
        )
    if date_format is not None:
        options["date_format"] = date_format
    if interval is not None:
        from clv.mlflow_model.intervals import check_interval

        options["interval"] = check_interval(interval)
    if engine == "local":
        from clv.serving.batch import score_file

        options.update(policies)
    elif engine == "spark":
        from clv.serving.spark import score_file  # type: ignore[no-redef]
    else:
        raise InvalidParameterError(f"--engine must be 'local' or 'spark'. Got {engine!r}.")
    if date_format is not None and "date_format" not in inspect.signature(score_file).parameters:
        raise InvalidParameterError(f"--date-format is not supported with --engine {engine}.")
    if interval is not None and "interval" not in inspect.signature(score_file).parameters:
        raise InvalidParameterError(f"--interval is not supported with --engine {engine}.")
    bars = _Bars()
    started = time.perf_counter()
    try:
        summary = score_file(transactions, progress=bars, **options)
    finally:
        bars.close()
    elapsed = time.perf_counter() - started
    attrs = summary.attrs
    if attrs.get("swept"):
        typer.echo(
            f"removed {attrs['swept']} work folder(s) left next to {output} by killed earlier runs"
        )
    typer.echo(
        f"scored {attrs.get('n_customers', int(summary['count'].sum())):,} customers with "
        f"{attrs.get('model_uri', model_uri)} (version {attrs.get('model_version', '?')}) "
        f"as of {as_of}, horizon {horizon:g}, in {elapsed:.1f} s -> {output}"
    )
    if attrs.get("data_report") is not None:
        typer.echo(attrs["data_report"].line())
    if "margin" in attrs:
        from clv.mlflow_model.margin import describe_margin

        typer.echo(describe_margin(attrs["margin"]))
    if interval is not None:
        typer.echo(
            f"intervals: {interval:.0%} prediction intervals of purchases and clv "
            "(purchases_lower, purchases_upper, clv_lower, clv_upper)"
        )
    table = summary.copy()
    table["share"] = table["count"] / max(int(table["count"].sum()), 1)
    formats = {"count": "{:,}", "share": "{:.1%}", "total_clv": "{:,.2f}", "mean_clv": "{:,.2f}"}
    typer.echo(table_text(table[["count", "share", "total_clv", "mean_clv"]], formats))
    if attrs.get("segment_rules") is not None:
        typer.echo(segment_rules_line(attrs["segment_rules"]))
    if actions is not None:
        from clv.serving.action_export import write_action_lists

        written = write_action_lists(
            output,
            transactions,
            actions,
            as_of=as_of,
            segments=wanted,
            top=action_top,
            actions=(attrs.get("segment_rules") or {}).get("actions"),
            customer_id=customer_id,
            timestamp=timestamp,
            date_format=date_format,
        )
        typer.echo(
            f"wrote {len(written)} action list(s) to {actions}: "
            + ", ".join(p.name for p in written.values())
        )


def _action_segments(text: str | None) -> list[str] | None:
    """Parse ``--action-segments`` early, so a typo fails before any scoring."""
    if text is None:
        return None
    from clv.models.segments import SEGMENTS

    names = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [name for name in names if name not in SEGMENTS]
    if unknown or not names:
        raise InvalidParameterError(
            f"Unknown segment(s) {unknown} in --action-segments; segments are {list(SEGMENTS)}."
        )
    return names
