"""The redaction helper (issue 25, "secrets never leave their place"): pure cases.

Every shape a secret takes in this project's outputs: a URL's userinfo (Redis,
SQLAlchemy), a libpq DSN's ``password=``, an API key in a query string (the
Google client's error text quotes the request URI), a configured value inside
a driver's message, and a log record (message, arguments, traceback).
"""

from __future__ import annotations

import logging
from dataclasses import replace

import pytest

from ytempire.errors import ServiceUnavailable
from ytempire.redaction import (
    REDACTED,
    configured_secrets,
    install_log_redaction,
    redact_error,
    redact_text,
    redact_url,
    register_secret,
)
from ytempire.settings import Settings

URLS = [
    ("redis://:s3cr3t-pw@127.0.0.1:6379/0", "redis://:***@127.0.0.1:6379/0"),
    ("rediss://default:s3cr3t-pw@cache:6380/1", "rediss://default:***@cache:6380/1"),
    ("redis://user:p@ss@word@h:1/0", "redis://user:***@h:1/0"),
    (
        "postgresql+psycopg://airflow:Pw%2F1@127.0.0.1:5432/airflow",
        "postgresql+psycopg://airflow:***@127.0.0.1:5432/airflow",
    ),
    (
        "host=127.0.0.1 port=5432 user=ytempire_loader password=s3cr3t dbname=w",
        "host=127.0.0.1 port=5432 user=ytempire_loader password=*** dbname=w",
    ),
    ("host=h password='with space' dbname=w", "host=h password='***' dbname=w"),
    (
        "https://youtube.googleapis.com/youtube/v3/videos?id=x&key=AIzaSyA-secret&alt=json",
        "https://youtube.googleapis.com/youtube/v3/videos?id=x&key=***&alt=json",
    ),
    ("http://127.0.0.1:8085/?access_token=ya29.secret", "http://127.0.0.1:8085/?access_token=***"),
]
KEPT = [
    "redis://127.0.0.1:6379/0",
    "127.0.0.1:9092,127.0.0.2:9092",
    "http://127.0.0.1:8085/",
    "Error 111 connecting to 127.0.0.1:6379. Connection refused.",
    'password authentication failed for user "ytempire_loader"',
    "check the secret and the signing scheme",
]


@pytest.mark.parametrize(("url", "expected"), URLS)
def test_a_url_or_dsn_loses_its_password_and_keeps_the_rest(url, expected):
    assert redact_url(url) == expected
    assert redact_text(f"could not reach {url}: refused") == f"could not reach {expected}: refused"


@pytest.mark.parametrize("text", KEPT)
def test_text_without_secrets_is_unchanged(text):
    assert redact_text(text) == text


def test_pairs_in_free_text_are_redacted():
    text = 'YTEMPIRE_WEBHOOK_SECRET=abc123 and {"password": "x1", "n": 1} api_key: k-9'
    assert redact_text(text) == (
        'YTEMPIRE_WEBHOOK_SECRET=*** and {"password": "***", "n": 1} api_key: ***'
    )


def test_configured_secrets_are_found_verbatim_and_percent_encoded(monkeypatch):
    monkeypatch.setenv("YTEMPIRE_PG_LOADER_PASSWORD", "Loader-Pw-9")
    monkeypatch.setenv("YTEMPIRE_REDIS_URL", "redis://:R3d%40s-pw@h:1/0")
    monkeypatch.setenv("AIRFLOW__API_AUTH__JWT_SECRET", "jwt-Secret-77")
    monkeypatch.setenv("YTEMPIRE_REDIS_KEY_PREFIX", "prefixvalue:")  # not a secret
    assert {"Loader-Pw-9", "R3d@s-pw", "jwt-Secret-77"} <= configured_secrets()
    assert "prefixvalue:" not in configured_secrets()
    text = "auth Loader-Pw-9 / R3d@s-pw / R3d%40s-pw / jwt-Secret-77 on prefixvalue:x"
    assert redact_text(text) == "auth *** / *** / *** / *** on prefixvalue:x"


def test_public_defaults_stay_readable(monkeypatch):
    # documented defaults are in the repository: hiding them would only garble messages
    monkeypatch.setenv("YTEMPIRE_PG_LOADER_PASSWORD", "loader")
    monkeypatch.setenv("YTEMPIRE_AIRFLOW_PG_PASSWORD", "airflow")
    text = "role ytempire_loader may not read the airflow database"
    assert redact_text(text) == text


def test_a_short_secret_is_matched_as_a_whole_token_only(monkeypatch):
    monkeypatch.setenv("YTEMPIRE_PG_ANALYST_PASSWORD", "ab1")
    assert redact_text("pw ab1 in tab1e") == "pw *** in tab1e"


def test_secrets_of_given_settings_and_registered_values_are_redacted():
    s = replace(
        Settings(),
        webhook_secret="whsec-given-1",
        youtube_api_key="AIzaGiven-2",
        redis_url="redis://:given-redis-3@h:1/0",
    )
    text = "whsec-given-1 AIzaGiven-2 given-redis-3"
    assert redact_text(text, s) == f"{REDACTED} {REDACTED} {REDACTED}"
    register_secret("generated-admin-pw-4")
    assert redact_text("login generated-admin-pw-4") == "login ***"


def test_service_unavailable_never_quotes_a_password():
    exc = ServiceUnavailable(
        "Redis",
        "redis://:hunter2-pw@127.0.0.1:1/0",
        ConnectionError("Error connecting to redis://:hunter2-pw@127.0.0.1:1/0"),
    )
    assert "hunter2-pw" not in str(exc)
    assert exc.where == "redis://:***@127.0.0.1:1/0"
    assert "Redis is down or unreachable at redis://:***@127.0.0.1:1/0" in str(exc)


def test_redact_error_names_the_type():
    error = ValueError("bad dsn host=h password=zz9-secret")
    assert redact_error(error) == "ValueError: bad dsn host=h password=***"


def test_log_records_are_redacted_with_their_arguments_and_tracebacks(caplog):
    install_log_redaction()
    install_log_redaction()  # idempotent
    log = logging.getLogger("tests.redaction")
    with caplog.at_level(logging.INFO, logger="tests.redaction"):
        log.info("connecting to %s", "redis://:log-secret-1@h:1/0")
        try:
            raise RuntimeError("lost postgresql://u:log-secret-2@h/db")
        except RuntimeError:
            log.exception("failed")
    text = caplog.text + "".join(r.exc_text or "" for r in caplog.records)
    assert "log-secret-1" not in text
    assert "log-secret-2" not in text
    assert "redis://:***@h:1/0" in text
    assert "postgresql://u:***@h/db" in text
