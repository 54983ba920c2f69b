"""``ytempire youtube-owner``: the channels' OAuth grants for the Reporting and Analytics APIs.

The grants live in the token store (``YTEMPIRE_YOUTUBE_TOKEN_STORE_PATH``, default
``.local/youtube_tokens.json``, mode 0600). Secrets are read from standard
input, never from the command line (which the shell history and ``ps``
keep), and never printed.
"""

from __future__ import annotations

import sys

import click


def _store() -> object:
    from ingestion.youtube_owner.tokens import TokenStore
    from ytempire.settings import get_settings

    return TokenStore(get_settings().youtube_token_store_path)


@click.group("youtube-owner")
def youtube_owner() -> None:
    """Manage the channels' OAuth grants (the owner's APIs)."""


@youtube_owner.command("client")
@click.option("--client-id", required=True, help="The Google Cloud OAuth client's id.")
def client(client_id: str) -> None:
    """Set the OAuth client; its secret is read from standard input."""
    from ingestion.youtube_owner.tokens import OAuthClient, TokenStore

    secret = sys.stdin.readline().strip()
    if not secret:
        raise click.UsageError("give the client secret on standard input")
    store = _store()
    assert isinstance(store, TokenStore)
    store.set_client(OAuthClient(client_id, secret))
    click.echo(f"OAuth client {client_id} saved in {store.path}")


@youtube_owner.command("grant")
@click.option("--channel", "channel_id", required=True, help="The channel (UC...) that granted.")
@click.option(
    "--monetary/--no-monetary",
    default=True,
    show_default=True,
    help="Whether the grant includes yt-analytics-monetary.readonly (channels that earn).",
)
def grant(channel_id: str, monetary: bool) -> None:
    """Store a channel's refresh token, read from standard input."""
    from ingestion.youtube_owner.tokens import (
        ANALYTICS_SCOPE,
        MONETARY_SCOPE,
        ChannelToken,
        TokenStore,
    )

    token = sys.stdin.readline().strip()
    if not token:
        raise click.UsageError("give the channel's refresh token on standard input")
    scopes = (ANALYTICS_SCOPE, MONETARY_SCOPE) if monetary else (ANALYTICS_SCOPE,)
    store = _store()
    assert isinstance(store, TokenStore)
    store.put([ChannelToken(channel_id, token, scopes)])
    click.echo(f"grant of {channel_id} saved in {store.path}")


@youtube_owner.command("revoke")
@click.option("--channel", "channel_id", required=True)
def revoke(channel_id: str) -> None:
    """Forget a channel's grant (revoke it at Google too: myaccount.google.com/permissions)."""
    from ingestion.youtube_owner.tokens import TokenStore

    store = _store()
    assert isinstance(store, TokenStore)
    found = store.remove(channel_id)
    click.echo(f"{channel_id}: {'forgotten' if found else 'no grant was stored'}")


@youtube_owner.command("tokens")
def tokens() -> None:
    """List the stored grants: channel, scopes, when granted (no secret)."""
    from ingestion.youtube_owner.tokens import TokenStore

    store = _store()
    assert isinstance(store, TokenStore)
    held = store.channels()
    client_ = store.client()
    click.echo(
        f"{store.path}: client {client_.client_id if client_ else '(none)'}, {len(held)} grants"
    )
    for channel_id, token in sorted(held.items()):
        scope = "analytics + monetary" if token.monetary else "analytics"
        click.echo(f"  {channel_id}  {scope:<20}  {token.granted_at}")
