"""``ytempire serve``: HTTP endpoints."""

from __future__ import annotations

import click


@click.group()
def serve() -> None:
    """Serve HTTP endpoints."""


@serve.command("webhook")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8088, show_default=True, type=int)
def webhook(host: str, port: int) -> None:
    """POST /webhooks/video-uploaded (HMAC-signed with YTEMPIRE_WEBHOOK_SECRET).

    Timeouts and the connection limit come from YTEMPIRE_WEBHOOK_* (see .env.example).
    """
    from platform_services.webhook import serve

    serve(host, port)


@serve.command("metrics")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=9108, show_default=True, type=int)
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
