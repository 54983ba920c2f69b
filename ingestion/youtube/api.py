"""Calls to the YouTube Data API v3: a reservation before each attempt, bounded retries.

The unmodified google-api-python-client, built from its bundled discovery
document, sends the requests; only the endpoint is configurable (the local
simulator, or Google). Every attempt reserves its units in the shared Redis
budget first (Google charges failed calls too), which is why the client's own
``num_retries`` is not used: its retries would spend quota nobody reserved.

- 5xx, 429 and 403 ``rateLimitExceeded``/``userRateLimitExceeded`` are
  retried with exponential backoff and full jitter, at most ``max_attempts``
  times in all;
- 403 ``quotaExceeded``/``dailyLimitExceeded`` is never retried: it raises
  :class:`QuotaExhausted`, as does a spent budget;
- anything else raises :class:`ApiCallFailed` at once.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import httplib2
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

from ytempire.errors import YTEmpireError
from ytempire.quota import QuotaBudget, QuotaBudgetExhausted, cost_of

log = logging.getLogger(__name__)

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
RETRYABLE_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded", "backendError"})
QUOTA_REASONS = frozenset({"quotaExceeded", "dailyLimitExceeded"})


class QuotaExhausted(YTEmpireError):
    """The day's quota is gone (Google said so, or the shared budget is spent)."""


class ApiCallFailed(YTEmpireError):
    """A call failed for good (not retryable, or retries used up).

    ``status`` and ``reason`` are Google's (HTTP status, ``errors[].reason``;
    ``None``/``''`` for a network error); ``retryable`` says the retries were
    used up on an error that is normally transient (5xx, 429, network).
    """

    def __init__(
        self, message: str, *, status: int | None = None, reason: str = "", retryable: bool = False
    ) -> None:
        super().__init__(message)
        self.status, self.reason, self.retryable = status, reason, retryable


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter: sleep U(0, min(cap, base * 2**attempt))."""

    max_attempts: int = 5
    base_s: float = 1.0
    cap_s: float = 32.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        return rng.uniform(0, min(self.cap_s, self.base_s * 2**attempt))


def error_reason(exc: HttpError) -> str:
    """The first ``errors[].reason`` of a Google error body ('' if none)."""
    details = exc.error_details if isinstance(exc.error_details, list) else []
    for detail in details:
        if isinstance(detail, dict) and detail.get("reason"):
            return str(detail["reason"])
    return ""


def classify(exc: HttpError) -> str:
    """'quota', 'retry' or 'fail' for an HTTP error from the API."""
    reason = error_reason(exc)
    if exc.status_code == 403 and reason in QUOTA_REASONS:
        return "quota"
    if exc.status_code in RETRYABLE_STATUS:
        return "retry"
    if exc.status_code == 403 and reason in RETRYABLE_REASONS:
        return "retry"
    return "fail"


def build_client(api_url: str, api_key: str, timeout_s: float = 30.0) -> Any:
    """The stock client from the bundled discovery document, pointed at ``api_url``."""
    return build(
        "youtube",
        "v3",
        developerKey=api_key,
        static_discovery=True,
        cache_discovery=False,
        client_options={"api_endpoint": api_url},
        http=httplib2.Http(timeout=timeout_s),
    )


@dataclass
class YouTubeApi:
    """One collector's access to the API, charged to ``budget`` on ``quota_day``."""

    client: Any
    budget: QuotaBudget
    quota_day: date
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random = field(default_factory=random.Random)
    units_used: int = 0
    calls: int = 0

    def list(self, method: str, **params: Any) -> dict[str, Any]:
        """Run ``<resource>.list`` (e.g. ``videos.list``) with ``params``; return the body."""
        resource = method.split(".")[0]
        request = getattr(self.client, resource)().list(**params)
        for attempt in range(self.retry.max_attempts):
            self._reserve(method)
            try:
                response: dict[str, Any] = request.execute(num_retries=0)
                return response
            except HttpError as exc:
                verdict = classify(exc)
                where = f"{method} (HTTP {exc.status_code} {error_reason(exc) or exc.reason})"
                if verdict == "quota":
                    raise QuotaExhausted(f"YouTube answered quotaExceeded to {where}") from exc
                if verdict == "fail":
                    raise ApiCallFailed(
                        f"{where}: {exc.reason}",
                        status=exc.status_code,
                        reason=error_reason(exc),
                    ) from exc
                last: Exception = exc
            except (TimeoutError, OSError, httplib2.HttpLib2Error) as exc:
                where, last = f"{method} (network: {exc})", exc
            if attempt + 1 < self.retry.max_attempts:
                pause = self.retry.delay(attempt, self.rng)
                log.warning("youtube: %s; retry %d in %.2fs", where, attempt + 1, pause)
                self.sleep(pause)
        raise ApiCallFailed(
            f"{method} still failing after {self.retry.max_attempts} attempts: {where}. "
            "Next: check the API's status; the next run resumes where this one stopped.",
            status=last.status_code if isinstance(last, HttpError) else None,
            reason=error_reason(last) if isinstance(last, HttpError) else "",
            retryable=True,
        ) from last

    def _reserve(self, method: str) -> None:
        try:
            self.budget.reserve(method, self.quota_day)
        except QuotaBudgetExhausted as exc:
            raise QuotaExhausted(str(exc)) from exc
        self.units_used += cost_of(method)
        self.calls += 1
