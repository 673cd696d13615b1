"""``clv demo``, ``clv train``, ``clv promote`` and ``clv report``: training and its runs.

Only typer is imported here; the training code loads when a command runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from clv._cli_output import table_text
from clv.cli.options import (
    DateFormatOption,
    DuplicatesOption,
    InvoiceOption,
    MissingCustomerIdOption,
    NegativeAmountsOption,
    TrackingUriOption,
)
from clv.errors import CLVError

if TYPE_CHECKING:
    from clv.training.result import TrainingResult

__all__ = ["demo", "promote", "report", "train_command"]


def demo(
    tracking_uri: Annotated[
        str | None,
        typer.Option("--tracking-uri", help="MLflow store (default: sqlite:///mlflow.db here)."),
    ] = None,
) -> None:
    """Run the main job on the bundled CDNOW data: features, training, registry."""
    from clv.datasets import load_cdnow
    from clv.features import calibration_holdout_split

    transactions = load_cdnow()
    table = calibration_holdout_split(
        transactions, calibration_end="1997-09-30", holdout_end="1998-06-30", time_unit="W"
    )
    typer.echo(
        f"CDNOW sample: {len(transactions):,} transactions, {len(table):,} customers "
        "(calibration to 1997-09-30, holdout to 1998-06-30, weeks)"
    )
    summary = table[["frequency", "recency", "T", "monetary_value", "holdout_frequency"]]
    typer.echo(table_text(summary.describe(), dict.fromkeys(summary.columns, "{:,.2f}")))
    typer.echo(
        f"repeat purchases: calibration {int(table['frequency'].sum()):,}, "
        f"holdout {int(table['holdout_frequency'].sum()):,}; "
        f"customers without a repeat purchase: {int((table['frequency'] == 0).sum()):,}"
    )
    from clv.training.train import train as run_training

    typer.echo("")
    typer.echo("Training every model on CDNOW and tracking it in MLflow:")
    result = run_training(
        transactions,
        calibration_end="1997-09-30",
        holdout_end="1998-06-30",
        time_unit="W",
        tracking_uri=tracking_uri,
        source="clv.datasets.load_cdnow()",
        progress=_progress,
    )
    _print_training_summary(result)
    typer.echo("")
    typer.echo("next:")
    typer.echo("  clv report --output report.html          # the run as one HTML page")
    typer.echo("  clv serve --model-uri models:/clv@champion   # an endpoint on 127.0.0.1:5000")
    typer.echo(
        "  clv score transactions.csv --model-uri models:/clv@champion "
        "--as-of 1998-06-30 --horizon 52 --output scores.parquet"
    )


def _progress(message: str) -> None:
    typer.echo(f"  - {message}")


def _print_training_summary(result: TrainingResult) -> None:
    typer.echo("")
    typer.echo(result.summary())


def train_command(
    transactions: Annotated[
        str, typer.Argument(help="Transaction log: a .csv or .parquet file.", show_default=False)
    ],
    calibration_end: Annotated[
        str | None, typer.Option("--calibration-end", help="Last day of the calibration period.")
    ] = None,
    holdout_end: Annotated[
        str | None, typer.Option("--holdout-end", help="Last day of the holdout period.")
    ] = None,
    time_unit: Annotated[
        str | None,
        typer.Option(
            "--time-unit", help="D (days), W (weeks) or M (calendar months). [default: W]"
        ),
    ] = None,
    tracking_uri: TrackingUriOption = None,
    experiment: Annotated[
        str | None, typer.Option("--experiment", help="MLflow experiment. [default: clv]")
    ] = None,
    model_name: Annotated[
        str | None, typer.Option("--model-name", help="Registered model. [default: clv]")
    ] = None,
    customer_id: Annotated[
        str | None, typer.Option("--customer-id", help="Customer id column. [default: customer_id]")
    ] = None,
    timestamp: Annotated[
        str | None, typer.Option("--timestamp", help="Timestamp column. [default: timestamp]")
    ] = None,
    amount: Annotated[
        str | None, typer.Option("--amount", help="Amount column. [default: amount]")
    ] = None,
    date_format: DateFormatOption = None,
    invoice: InvoiceOption = None,
    missing_customer_id: MissingCustomerIdOption = None,
    negative_amounts: NegativeAmountsOption = None,
    duplicates: DuplicatesOption = None,
    margin: Annotated[
        float | None,
        typer.Option(
            "--margin",
            help="Share of spend that is profit, in [0, 1]: the served clv is profit "
            "(1 = revenue). [default: 1]",
            show_default=False,
        ),
    ] = None,
    config: Annotated[
        str | None,
        typer.Option(
            "--config",
            help="TOML or JSON file with any of these settings (and kinds, horizon, "
            "discount_rate, margin); options given here win.",
        ),
    ] = None,
) -> None:
    """Train every model, track the runs in MLflow, register the best and gate it."""
    from clv.features.io import read_transactions
    from clv.training.preflight import TRAINING_SETTINGS, check_training_settings
    from clv.training.train import load_config
    from clv.training.train import train as run_training

    settings = load_config(config) if config is not None else {}
    given = {
        "calibration_end": calibration_end,
        "holdout_end": holdout_end,
        "time_unit": time_unit,
        "tracking_uri": tracking_uri,
        "experiment": experiment,
        "model_name": model_name,
        "customer_id": customer_id,
        "timestamp": timestamp,
        "amount": amount,
        "date_format": date_format,
        "invoice": invoice,
        "missing_customer_id": missing_customer_id,
        "negative_amounts": negative_amounts,
        "duplicates": duplicates,
        "margin": margin,
    }
    settings.update({key: value for key, value in given.items() if value is not None})
    for required in ("calibration_end", "holdout_end"):
        if required not in settings:
            raise CLVError(
                f"Missing --{required.replace('_', '-')} (give it as an option or in --config)."
            )
    date_format = settings.pop("date_format", None)
    # before reading the log, training or any MLflow run
    check_training_settings(**{k: v for k, v in settings.items() if k in TRAINING_SETTINGS})
    from clv.models.actions import segment_settings

    segment_settings(settings.get("segments"), where=f"'segments' of {config}")
    log = read_transactions(
        transactions,
        customer_id=settings.get("customer_id", "customer_id"),
        timestamp=settings.get("timestamp", "timestamp"),
        date_format=date_format,
    )
    _progress(f"read {len(log):,} rows from {transactions}")
    result = run_training(log, source=str(transactions), progress=_progress, **settings)
    _print_training_summary(result)


def promote(
    name: Annotated[str, typer.Argument(help="Registered model name.", show_default=False)],
    version: Annotated[str, typer.Argument(help="Version to make champion.", show_default=False)],
    tracking_uri: TrackingUriOption = None,
) -> None:
    """Move the champion alias of NAME to VERSION by hand (overrides the gate)."""
    from clv.training.registry import promote as promote_version

    previous = promote_version(name, version, tracking_uri=tracking_uri)
    before = f"was version {previous}" if previous is not None else "there was none"
    typer.echo(f"{name}@champion -> version {version} ({before})")


def report(
    run_id: Annotated[
        str | None,
        typer.Option("--run-id", help="Training run. [default: the latest of --experiment]"),
    ] = None,
    experiment: Annotated[
        str, typer.Option("--experiment", help="Experiment searched without --run-id.")
    ] = "clv",
    tracking_uri: TrackingUriOption = None,
    output: Annotated[str, typer.Option("--output", help="HTML file to write.")] = "report.html",
    currency: Annotated[
        str, typer.Option("--currency", help="Shown with every amount, e.g. USD or $.")
    ] = "",
    acquisition_cost: Annotated[
        float | None,
        typer.Option("--acquisition-cost", help="Cost of winning a customer: its payback time."),
    ] = None,
) -> None:
    """Write a self-contained HTML report of a training run: decisions first, then evidence."""
    from clv.training.report import write_report

    path = write_report(
        output,
        run_id,
        experiment=experiment,
        tracking_uri=tracking_uri,
        currency=currency,
        acquisition_cost=acquisition_cost,
    )
    typer.echo(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")
