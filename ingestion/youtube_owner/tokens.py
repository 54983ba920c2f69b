"""The channels' OAuth credentials: a token store outside the repository, read with google-auth.

The Reporting and Analytics APIs answer a channel's owner only, so each
channel's owner grants the warehouse a refresh token once (Google's OAuth
consent for ``yt-analytics.readonly``, plus ``yt-analytics-monetary.readonly``
where the channel earns). The store keeps them in one JSON file
(``YTEMPIRE_YOUTUBE_TOKEN_STORE_PATH``, default ``.local/youtube_tokens.json``,
git-ignored like all of ``.local/``), written atomically with mode 0600::

    {
      "client": {"client_id": "...", "client_secret": "..."},
      "channels": {
        "UC...": {"refresh_token": "1//...", "scopes": ["https://..."], "granted_at": "..."}
      }
    }

Nothing here logs, prints or repeats a secret: the store's and a token's
``repr`` name the channel and scopes only, and the errors name the file and
the channel.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from google.oauth2.credentials import Credentials

from ytempire.errors import YTEmpireError

ANALYTICS_SCOPE = "https://www.googleapis.com/auth/yt-analytics.readonly"
MONETARY_SCOPE = "https://www.googleapis.com/auth/yt-analytics-monetary.readonly"


class TokenStoreError(YTEmpireError):
    """The token store cannot be read or written."""


@dataclass(frozen=True)
class OAuthClient:
    """The warehouse's OAuth client (a Google Cloud "Desktop" or "Web" client)."""

    client_id: str
    client_secret: str = field(repr=False)


@dataclass(frozen=True)
class ChannelToken:
    """One channel owner's grant: its refresh token and the scopes it covers."""

    channel_id: str
    refresh_token: str = field(repr=False)
    scopes: tuple[str, ...] = (ANALYTICS_SCOPE,)
    granted_at: str = ""

    @property
    def monetary(self) -> bool:
        return MONETARY_SCOPE in self.scopes


@dataclass
class TokenStore:
    """The JSON token store at ``path`` (see the module docstring)."""

    path: Path

    def __repr__(self) -> str:
        return f"TokenStore({str(self.path)!r})"

    def _read(self) -> dict[str, Any]:
        if not self.path.exists():
            return {"client": None, "channels": {}}
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError) as exc:
            raise TokenStoreError(
                f"the YouTube token store {self.path} cannot be read ({type(exc).__name__}). "
                "Next: restore it from a backup, or grant the channels again."
            ) from None
        if not isinstance(data, dict) or not isinstance(data.get("channels", {}), dict):
            raise TokenStoreError(f"the YouTube token store {self.path} is not a token store")
        data.setdefault("channels", {})
        return data

    def client(self) -> OAuthClient | None:
        raw = self._read().get("client")
        if not raw:
            return None
        return OAuthClient(str(raw["client_id"]), str(raw["client_secret"]))

    def channels(self) -> dict[str, ChannelToken]:
        """Channel id -> its grant."""
        out = {}
        for channel_id, raw in self._read()["channels"].items():
            out[channel_id] = ChannelToken(
                channel_id,
                str(raw["refresh_token"]),
                tuple(raw.get("scopes") or (ANALYTICS_SCOPE,)),
                str(raw.get("granted_at", "")),
            )
        return out

    def set_client(self, client: OAuthClient) -> None:
        data = self._read()
        data["client"] = {"client_id": client.client_id, "client_secret": client.client_secret}
        self._write(data)

    def put(self, tokens: list[ChannelToken]) -> None:
        """Add or replace channels' grants (one atomic write)."""
        data = self._read()
        now = datetime.now(UTC).isoformat(timespec="seconds")
        for token in tokens:
            data["channels"][token.channel_id] = {
                "refresh_token": token.refresh_token,
                "scopes": list(token.scopes),
                "granted_at": token.granted_at or now,
            }
        self._write(data)

    def remove(self, channel_id: str) -> bool:
        data = self._read()
        found = data["channels"].pop(channel_id, None) is not None
        if found:
            self._write(data)
        return found

    def _write(self, data: dict[str, Any]) -> None:
        """Write a temporary file of mode 0600 beside the store, then rename it over the store."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd, tmp = tempfile.mkstemp(prefix=".tokens-", dir=self.path.parent)
            with os.fdopen(fd, "w") as f:  # mkstemp makes it 0600
                json.dump(data, f, indent=2, sort_keys=True)
            os.replace(tmp, self.path)
        except OSError as exc:
            raise TokenStoreError(
                f"the YouTube token store {self.path} cannot be written ({exc.strerror})"
            ) from None


def credentials(token: ChannelToken, client: OAuthClient, token_uri: str) -> Credentials:
    """google-auth credentials that refresh ``token`` at ``token_uri`` when a call needs one."""
    return Credentials(
        token=None,
        refresh_token=token.refresh_token,
        token_uri=token_uri,
        client_id=client.client_id,
        client_secret=client.client_secret,
        scopes=list(token.scopes),
    )
