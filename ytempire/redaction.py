"""Secrets out of everything the warehouse prints, logs, stores or sends.

Two functions, used wherever a URL, a DSN or a driver's error text leaves the
process (a CLI line, a log record, an HTTP body, a stage row, a report, a
Kafka side message):

* :func:`redact_url` -- one URL or libpq DSN with its password replaced::

      redis://:s3cret@127.0.0.1:6379/0                 -> redis://:***@127.0.0.1:6379/0
      postgresql+psycopg://airflow:s3cret@h:5432/air   -> postgresql+psycopg://airflow:***@h:5432/air
      host=h port=5432 user=loader password=s3cret      -> host=h port=5432 user=loader password=***
      https://youtube.googleapis.com/v3/videos?id=x&key=AIza...  -> ...?id=x&key=***

* :func:`redact_text` -- free text (an exception's message from redis-py,
  psycopg, kafka-python or googleapiclient, a log line) with every URL and DSN
  in it redacted as above, ``password=``/``secret=``/``token=`` pairs redacted,
  and every configured secret's value (verbatim or percent-encoded) replaced.

The configured secrets (:func:`configured_secrets`) are the values of the
environment variables whose names say they hold one (``*PASSWORD*``,
``*SECRET*``, ``*TOKEN*``, ``*API_KEY``, ``*JWT*``, ``*FERNET*``), the
password inside ``YTEMPIRE_REDIS_URL`` (or any ``YTEMPIRE_*_URL``), the secret
fields of the :class:`~ytempire.settings.Settings` given (tests replace
settings without touching the environment), and values a process registered
(:func:`register_secret`, e.g. a password generated at installation and read
from a file). A public default (a :class:`~ytempire.settings.Settings` default
such as ``loader``, or one of :data:`PUBLIC_DEFAULTS`) is in the repository
and is not searched for verbatim, so a message naming role ``ytempire_loader``
stays readable; a value shorter than :data:`MIN_VERBATIM` characters is
searched for only as a whole token. Passwords inside other URLs are removed
wherever the URL appears (the structural rules above), not searched for alone.

The text ``***`` (:data:`REDACTED`) replaces what was removed; the rest of
the text is left as it was, so an error still names the host and port.

:func:`install_log_redaction` makes every log record of the process pass
through :func:`redact_text` (its message, arguments and traceback), whichever
library emitted it; ``ytempire``'s logging setup installs it.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable
from dataclasses import fields
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote, urlsplit

if TYPE_CHECKING:
    from ytempire.settings import Settings

REDACTED = "***"
# A configured secret shorter than this is matched only as a whole token.
MIN_VERBATIM = 6

# scheme://user:password@host -- the password runs to the last "@" before the host
# (an unencoded "@" in a password is common in hand-written URLs).
_URL_USERINFO = re.compile(
    r"(?P<head>\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s:/@'\"<>]*:)(?P<secret>[^\s/'\"<>]*)@"
)
# ?key=... &access_token=... in a URL's query string
_QUERY_SECRET = re.compile(
    r"(?P<head>[?&;](?:key|api_?key|access_token|refresh_token|token|password|passwd|pwd|"
    r"secret|client_secret|sig|signature)=)(?P<secret>[^&\s#'\"<>:;,)]*)",
    re.IGNORECASE,
)
# libpq's password=... (possibly quoted), and NAME_PASSWORD=... / "secret": "..." pairs
_PAIR_SECRET = re.compile(
    r"(?P<head>\b[\w.\-]*(?:password|passwd|secret|token|api_?key)['\"]?\s*[=:]\s*)"
    r"(?!\*\*\*)(?P<secret>'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|[^\s,;&'\"}<>]+)",
    re.IGNORECASE,
)
# Environment variable names that hold a secret.
_SECRET_NAME = re.compile(r"PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|JWT|FERNET", re.I)
_NOT_SECRET_NAME = re.compile(r"KEY_PREFIX|_FILE$|_PATH$|_CMD$|_TTL|_HOST$|_PORT$", re.I)
_OUR_URL_NAME = re.compile(r"^YTEMPIRE_\w*_URL$")
# The local stack's documented defaults outside Settings (orchestration.airflow_local,
# docker-compose.yml): public words, kept readable in messages.
PUBLIC_DEFAULTS = frozenset({"airflow", "admin", "postgres"})

_registered: set[str] = set()


def _quoted_secret(match: re.Match[str]) -> str:
    secret = match.group("secret")
    if secret[:1] in "'\"" and len(secret) >= 2 and secret[-1] == secret[0]:
        return f"{match.group('head')}{secret[0]}{REDACTED}{secret[0]}"
    return f"{match.group('head')}{REDACTED}" if secret else match.group(0)


def _redact_structure(text: str) -> str:
    """Passwords in URLs' userinfo, secret query parameters and ``password=`` pairs."""
    text = _URL_USERINFO.sub(
        lambda m: f"{m.group('head')}{REDACTED}@" if m.group("secret") else m.group(0), text
    )
    text = _QUERY_SECRET.sub(_quoted_secret, text)
    return _PAIR_SECRET.sub(_quoted_secret, text)


def redact_url(url: str) -> str:
    """``url`` (a URL or a libpq key=value DSN) with its password and secret parameters
    replaced by ``***``; anything else (scheme, user, host, port, path) is kept."""
    return _redact_structure(url)


def _url_password(value: str) -> str | None:
    try:
        password = urlsplit(value.strip()).password
    except ValueError:
        return None
    return unquote(password) if password else None


def _public_defaults() -> frozenset[str]:
    from ytempire.settings import env_variables

    return PUBLIC_DEFAULTS | {str(default) for default, _ in env_variables().values()}


def _settings_secrets(settings: Settings) -> set[str]:
    found: set[str] = set()
    for f in fields(settings):
        value, env = getattr(settings, f.name), f.metadata.get("env", "")
        if not isinstance(value, str):
            continue
        if _SECRET_NAME.search(env) and not _NOT_SECRET_NAME.search(env):
            found.add(value)
        elif _OUR_URL_NAME.match(env) and (password := _url_password(value)):
            found.add(password)
    return found


@lru_cache(maxsize=8)
def _environment_secrets(items: frozenset[tuple[str, str]]) -> frozenset[str]:
    found: set[str] = set()
    for name, value in items:
        if not value or _NOT_SECRET_NAME.search(name):
            continue
        if _SECRET_NAME.search(name):
            found.add(value)
        elif _OUR_URL_NAME.match(name) and (password := _url_password(value)):
            found.add(password)
    return frozenset(found)


def register_secret(value: str) -> None:
    """Hide ``value`` in everything this process redacts from now on (a generated password
    read from a file, a token fetched at run time)."""
    if value and value.strip():
        _registered.add(value)


def configured_secrets(settings: Settings | None = None) -> frozenset[str]:
    """The secret values this process knows (environment, ``settings``, registered), less
    the public defaults."""
    found = set(_environment_secrets(frozenset(os.environ.items()))) | _registered
    if settings is not None:
        found |= _settings_secrets(settings)
    public = _public_defaults()
    return frozenset(s for s in found if s.strip() and s not in public)


@lru_cache(maxsize=32)
def _secrets_pattern(secrets: frozenset[str]) -> re.Pattern[str] | None:
    alternatives: list[str] = []
    for secret in sorted(secrets, key=len, reverse=True):
        for form in dict.fromkeys((secret, quote(secret, safe=""), quote(secret))):
            if len(form) >= MIN_VERBATIM:
                alternatives.append(re.escape(form))
            else:
                alternatives.append(rf"(?<![A-Za-z0-9_]){re.escape(form)}(?![A-Za-z0-9_])")
    return re.compile("|".join(alternatives)) if alternatives else None


def redact_text(text: str, settings: Settings | None = None, *, secrets: Iterable[str] = ()) -> str:
    """``text`` with every URL/DSN password, secret pair and known secret value replaced.

    ``settings``: also hide the secrets of these settings (default: the
    environment's only); ``secrets``: further values to hide.
    """
    if not text:
        return text
    known = configured_secrets(settings) | {s for s in secrets if s and s.strip()}
    pattern = _secrets_pattern(frozenset(known))
    if pattern is not None:
        text = pattern.sub(REDACTED, text)
    return _redact_structure(text)


def redact_error(exc: BaseException, settings: Settings | None = None) -> str:
    """``"<ExceptionType>: <message>"`` with the message redacted (for stage rows, logs)."""
    return redact_text(f"{type(exc).__name__}: {exc}", settings)


# --- logging ------------------------------------------------------------------------------


class _RedactingRecordFactory:
    """Wraps the process's log record factory: each record leaves it already redacted."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record: logging.LogRecord = self.inner(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a malformed call: leave it to the handler to report
            return record
        record.msg, record.args = redact_text(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = redact_text(logging.Formatter().formatException(record.exc_info))
        return record


def install_log_redaction() -> None:
    """Redact every log record this process creates from now on (idempotent)."""
    factory = logging.getLogRecordFactory()
    if not isinstance(factory, _RedactingRecordFactory):
        logging.setLogRecordFactory(_RedactingRecordFactory(factory))
