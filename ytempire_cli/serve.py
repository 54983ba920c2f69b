"""``ytempire serve``: HTTP endpoints."""

from __future__ import annotations

import click


@click.group()
def serve() -> None:
    """Serve HTTP endpoints."""


@serve.command("webhook")
@click.option("--host", default=None, help="Listen address (default: YTEMPIRE_WEBHOOK_HOST).")
@click.option("--port", default=None, type=int, help="Port (default: YTEMPIRE_WEBHOOK_PORT).")
def webhook(host: str | None, port: int | None) -> None:
    """POST /webhooks/video-uploaded (HMAC-signed with YTEMPIRE_WEBHOOK_SECRET); GET /healthz.

    Timeouts and the connection limit come from YTEMPIRE_WEBHOOK_* (see .env.example).
    Runs until SIGTERM/Ctrl-C; `ytempire services start webhook` runs it as a service.
    """
    from platform_services.webhook import serve
    from ytempire.settings import get_settings

    s = get_settings()
    serve(host or s.webhook_host, port or s.webhook_port)


@serve.command("metrics")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option(
    "--port",
    default=9108,
    show_default=True,
    type=int,
    envvar="YTEMPIRE_METRICS_PORT",
    show_envvar=True,
)
def metrics(host: str, port: int) -> None:
    """Prometheus /metrics: data-quality scores, expectation results, open anomaly episodes."""
    from monitoring.metrics import make_server

    server = make_server(host, port)
    click.echo(f"serving Prometheus metrics on http://{host}:{port}/metrics")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
