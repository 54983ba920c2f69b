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
    from streaming.webhook import serve

    serve(host, port)
