"""Calls to the owner's APIs: each channel's credentials, the API's own budget, bounded retries.

The stock google-api-python-client, built from its bundled discovery
document, sends the requests through google-auth's ``AuthorizedHttp``, which
refreshes the channel's access token at the token endpoint when it needs one.
Every attempt reserves a request in the API's own Redis budget first
(:class:`ytempire.quota.QuotaBudget`, ``youtube_reporting`` or
``youtube_analytics``: never the Data API's units).

What Google answers becomes one of:

- a result;
- a retry (tenacity: exponential backoff with full jitter, at most
  ``max_attempts`` attempts in all) for 429, 5xx, ``rateLimitExceeded``,
  ``backendError``, a network error or a token refresh Google calls
  retryable;
- :class:`AuthRevoked` for ``invalid_grant`` at the token endpoint (the
  owner revoked the grant, or it expired): the channel's outcome is
  ``auth_revoked`` and nothing more is asked for it;
- :class:`QuotaExhausted` when the budget is spent or Google says
  ``quotaExceeded``: the run stops and lands what it has;
- :class:`OwnerApiError` for anything else, with Google's status, reason
  and message (the caller decides what it means for the channel).
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import google_auth_httplib2
import httplib2
from google.auth.exceptions import RefreshError, TransportError
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_random_exponential

from ytempire.errors import YTEmpireError
from ytempire.quota import QuotaBudget, QuotaBudgetExhausted

log = logging.getLogger(__name__)

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
RETRYABLE_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded", "backendError"})
QUOTA_REASONS = frozenset({"quotaExceeded", "dailyLimitExceeded"})


class OwnerApiError(YTEmpireError):
    """A call that failed for good: Google's HTTP ``status``, ``reason`` and message."""

    def __init__(self, message: str, *, status: int | None = None, reason: str = "") -> None:
        super().__init__(message)
        self.status, self.reason = status, reason


class AuthRevoked(OwnerApiError):
    """The channel's refresh token was revoked or expired (``invalid_grant``)."""


class QuotaExhausted(YTEmpireError):
    """The API's budget for the day is spent (ours, or Google says so)."""


@dataclass(frozen=True)
class RetryPolicy:
    """At most ``max_attempts`` attempts, sleeping U(0, min(cap, base * 2**n)) between them."""

    max_attempts: int = 5
    base_s: float = 1.0
    cap_s: float = 32.0


def google_error(exc: HttpError) -> tuple[str, str]:
    """(reason, message) of a Google error body: ``errors[0].reason``, else its ``status``."""
    try:
        body = json.loads(exc.content or b"{}").get("error", {})
    except (ValueError, AttributeError):
        return "", str(exc.reason or "")
    if not isinstance(body, dict):
        return "", str(body)
    errors = body.get("errors") or [{}]
    reason = str(errors[0].get("reason") or body.get("status") or "")
    return reason, str(body.get("message") or exc.reason or "")


def _transient(exc: BaseException) -> bool:
    if isinstance(exc, HttpError):
        reason, _ = google_error(exc)
        return exc.status_code in RETRYABLE_STATUS or reason in RETRYABLE_REASONS
    if isinstance(exc, RefreshError):
        return bool(getattr(exc, "retryable", False))
    return isinstance(exc, TransportError | TimeoutError | OSError | httplib2.HttpLib2Error)


def revoked(exc: RefreshError) -> bool:
    """Whether google-auth's refresh failed with ``invalid_grant``."""
    details = exc.args[1] if len(exc.args) > 1 else None
    if isinstance(details, dict) and details.get("error") == "invalid_grant":
        return True
    return str(exc.args[0] if exc.args else "").startswith("invalid_grant")


def build_client(
    service: str, version: str, api_url: str, credentials: Any, timeout_s: float = 60.0
) -> Any:
    """The stock client of ``service`` (bundled discovery document) for one channel's
    credentials, pointed at ``api_url``."""
    http = google_auth_httplib2.AuthorizedHttp(credentials, http=httplib2.Http(timeout=timeout_s))
    return build(
        service,
        version,
        http=http,
        static_discovery=True,
        cache_discovery=False,
        client_options={"api_endpoint": api_url},
    )


@dataclass
class OwnerApi:
    """One lander's access to an owner API, charged to ``budget`` on ``quota_day``."""

    budget: QuotaBudget
    quota_day: date
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    sleep: Callable[[float], None] = time.sleep
    calls: Counter[tuple[str, str]] = field(default_factory=Counter)  # (method, channel) -> n

    def execute(self, method: str, request: Any, channel_id: str) -> Any:
        """Run a prepared request of ``method`` (e.g. ``jobs.reports.list``) for a channel."""
        where = f"{method} for {channel_id}"
        try:
            for attempt in Retrying(
                stop=stop_after_attempt(self.retry.max_attempts),
                wait=wait_random_exponential(multiplier=self.retry.base_s, max=self.retry.cap_s),
                retry=retry_if_exception(_transient),
                sleep=self.sleep,
                before_sleep=lambda state: log.warning(
                    "%s: %s; retry %d",
                    where,
                    _describe(state.outcome.exception() if state.outcome else None),
                    state.attempt_number,
                ),
                reraise=True,
            ):
                with attempt:
                    self._reserve(method)
                    self.calls[(method, channel_id)] += 1
                    return request.execute(num_retries=0)
        except HttpError as exc:
            reason, message = google_error(exc)
            if reason in QUOTA_REASONS:
                raise QuotaExhausted(f"Google answered {reason} to {where}: {message}") from exc
            retried = " after every retry" if _transient(exc) else ""
            raise OwnerApiError(
                f"{where}: HTTP {exc.status_code} {reason or exc.reason}{retried}: {message}",
                status=exc.status_code,
                reason=reason,
            ) from exc
        except RefreshError as exc:
            if revoked(exc):
                raise AuthRevoked(
                    f"{where}: the channel's refresh token was revoked or has expired "
                    "(invalid_grant). Next: its owner grants access again "
                    "(`ytempire youtube-owner grant`).",
                    status=400,
                    reason="invalid_grant",
                ) from exc
            raise OwnerApiError(f"{where}: token refresh failed: {_describe(exc)}") from exc
        except (TransportError, TimeoutError, OSError, httplib2.HttpLib2Error) as exc:
            raise OwnerApiError(
                f"{where}: network error after every retry: {_describe(exc)}"
            ) from exc
        raise AssertionError("unreachable: tenacity re-raises the last failure")

    def _reserve(self, method: str) -> None:
        try:
            self.budget.reserve(method, self.quota_day)
        except QuotaBudgetExhausted as exc:
            raise QuotaExhausted(str(exc)) from exc

    def count(self, channel_id: str | None = None) -> int:
        return sum(n for (_, c), n in self.calls.items() if channel_id in (None, c))


def _describe(exc: BaseException | None) -> str:
    """An exception in one line, without its arguments' payloads (no token can leak)."""
    if exc is None:
        return "unknown error"
    if isinstance(exc, HttpError):
        reason, message = google_error(exc)
        return f"HTTP {exc.status_code} {reason}: {message}"
    if isinstance(exc, RefreshError):
        return str(exc.args[0]) if exc.args else "RefreshError"
    return f"{type(exc).__name__}: {exc}"
