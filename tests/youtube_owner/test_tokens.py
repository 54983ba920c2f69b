"""The token store and ``ytempire youtube-owner``: grants kept private, secrets never shown.

No service: a token store in a temporary folder, the command line in a child process.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys

from ingestion.youtube_owner.tokens import MONETARY_SCOPE, ChannelToken, OAuthClient, TokenStore
from tests.cli import run_ytempire

SECRET = "1//refresh-secret-value"


def test_store_is_private_atomic_and_never_shows_a_secret(tmp_path):
    store = TokenStore(tmp_path / "deep" / "tokens.json")
    store.set_client(OAuthClient("client.apps.googleusercontent.com", "client-secret-value"))
    store.put([ChannelToken("UC" + "a" * 22, SECRET, ("x", MONETARY_SCOPE))])
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.path.parent.stat().st_mode) == 0o700
    assert [p.name for p in store.path.parent.iterdir()] == ["tokens.json"]  # no temp file left
    token = store.channels()["UC" + "a" * 22]
    assert token.monetary
    assert SECRET not in repr(token)
    assert "client-secret-value" not in repr(store.client())
    assert store.remove("UC" + "a" * 22)
    assert store.channels() == {}


def test_a_broken_store_is_named_not_dumped(tmp_path):
    path = tmp_path / "tokens.json"
    path.write_text('{"channels": {"UC": {"refresh_token": "' + SECRET)  # truncated
    done = run_ytempire("youtube-owner", "tokens", YTEMPIRE_YOUTUBE_TOKEN_STORE_PATH=str(path))
    assert done.returncode != 0
    assert str(path) in done.stderr + done.stdout
    assert SECRET not in done.stderr + done.stdout


def test_grants_are_read_from_stdin_and_never_printed(tmp_path):
    path = tmp_path / "tokens.json"
    env = {"YTEMPIRE_YOUTUBE_TOKEN_STORE_PATH": str(path)}
    channel = "UC" + "b" * 22
    client = subprocess.run(
        [
            sys.executable,
            "-m",
            "ytempire_cli.main",
            "youtube-owner",
            "client",
            "--client-id",
            "cid",
        ],
        input="client-secret-value\n",
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=120,
        check=False,
    )
    assert client.returncode == 0, client.stderr
    grant = subprocess.run(
        [sys.executable, "-m", "ytempire_cli.main", "youtube-owner", "grant", "--channel", channel],
        input=SECRET + "\n",
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=120,
        check=False,
    )
    assert grant.returncode == 0, grant.stderr
    listed = run_ytempire("youtube-owner", "tokens", **env)
    assert channel in listed.stdout
    assert "analytics + monetary" in listed.stdout
    for done in (client, grant, listed):
        assert SECRET not in done.stdout + done.stderr
        assert "client-secret-value" not in done.stdout + done.stderr
    assert json.loads(path.read_text())["channels"][channel]["refresh_token"] == SECRET
