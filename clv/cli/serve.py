"""``clv serve``: a registered model over HTTP (:mod:`clv.serving.server`)."""

from __future__ import annotations

from typing import Annotated

import typer

from clv.cli.options import StoreOption

__all__ = ["serve"]


def serve(
    model_uri: Annotated[
        str,
        typer.Option(
            "--model-uri", help="Model to serve, e.g. models:/clv@champion.", show_default=False
        ),
    ],
    host: Annotated[
        str, typer.Option("--host", help="Interface to listen on (loopback by default).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port.")] = 5000,
    workers: Annotated[
        int, typer.Option("--workers", help="Processes serving requests (uvicorn workers).")
    ] = 1,
    tracking_uri: StoreOption = None,
    server: Annotated[
        str,
        typer.Option(
            "--server",
            help="clv: clv's own app (MLflow's request formats, clean 4xx errors, limits); "
            "mlflow: plain `mlflow models serve` on the same pinned version.",
        ),
    ] = "clv",
    allow_remote: Annotated[
        bool,
        typer.Option(
            "--allow-remote",
            help="Allow a --host that is not loopback: the endpoint has no authentication, "
            "so put it behind a proxy that authenticates.",
        ),
    ] = False,
) -> None:
    """Serve a registered model over HTTP: /ping, /health, /version, /invocations."""
    from clv.serving.server import serve as run_server

    run_server(
        model_uri,
        host=host,
        port=port,
        workers=workers,
        tracking_uri=tracking_uri,
        server=server,
        allow_remote=allow_remote,
        progress=lambda message: typer.echo(message, err=True),
    )
