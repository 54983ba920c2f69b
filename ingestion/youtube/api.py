"""Calls to the YouTube Data API v3: a reservation before each attempt, bounded retries.

The unmodified google-api-python-client, built from its bundled discovery
document, sends the requests; only the endpoint is configurable (the local
simulator, or Google). Every attempt reserves its units in the shared Redis
budget first (Google charges failed calls too), which is why the client's own
``num_retries`` is not used: its retries would spend quota nobody reserved.

An error is classified from everything Google's JSON error body says
(:func:`google_error`): the ``errors[]`` entries of the v3 APIs (``reason``,
``domain``, e.g. ``quotaExceeded`` / ``youtube.quota``) and the
``google.rpc.ErrorInfo`` entries of ``details[]`` (``reason``, ``domain``,
``metadata``), the AIP-193 form Google's APIs now send beside or instead of
them (https://google.aip.dev/193; the reasons of domain ``googleapis.com`` are
``google.api.ErrorReason``, in ``google/api/error_reason.proto``). The client
library keeps only one of the two lists (``HttpError.error_details`` holds
``details`` when both are present), so it is not read here.

- the day's quota is gone when either list says ``quotaExceeded`` or
  ``dailyLimitExceeded`` (in either spelling, ``QUOTA_EXCEEDED``), or an
  ``ErrorInfo`` says ``RATE_LIMIT_EXCEEDED`` for a per-day quota limit
  (``metadata.quota_limit`` names a ``...PerDay...`` limit): never retried, it
  raises :class:`QuotaExhausted`, as does a spent budget;
- 5xx, 429, ``rateLimitExceeded``/``userRateLimitExceeded``/``backendError``
  and a per-minute ``RATE_LIMIT_EXCEEDED`` are retried with exponential backoff
  and full jitter, at most ``max_attempts`` times in all;
- anything else raises :class:`ApiCallFailed` at once.

:meth:`YouTubeApi.pages` walks a paged listing and never asks for a page
token it has already asked for in that listing (YouTube has been seen to hand
the same ``nextPageToken`` back): it raises :class:`RepeatedPageToken`
instead of spending another unit on a page it has read.
"""

from __future__ import annotations

import itertools
import json
import logging
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import httplib2
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

from ytempire.errors import YTEmpireError
from ytempire.quota import ChannelShare, QuotaBudget, QuotaBudgetExhausted, cost_of

log = logging.getLogger(__name__)

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
# reasons compared case- and underscore-blind: ``quotaExceeded`` (errors[]) is
# ``QUOTA_EXCEEDED`` in ErrorInfo's UPPER_SNAKE_CASE
RETRYABLE_REASONS = frozenset({"ratelimitexceeded", "userratelimitexceeded", "backenderror"})
QUOTA_REASONS = frozenset({"quotaexceeded", "dailylimitexceeded"})
ERROR_INFO_TYPE = "type.googleapis.com/google.rpc.ErrorInfo"


def _folded(reason: str) -> str:
    return reason.replace("_", "").lower()


class QuotaExhausted(YTEmpireError):
    """The day's quota is gone (Google said so, or the shared budget is spent)."""


class ApiCallFailed(YTEmpireError):
    """A call failed for good (not retryable, or retries used up).

    ``status`` is the HTTP status (``None`` for a network error); ``reason``
    and ``domain`` are Google's (:attr:`GoogleError.reason`, ``''`` if none);
    ``retryable`` says the retries were used up on an error that is normally
    transient (5xx, 429, network); :meth:`says` looks a reason up among all
    the causes the body named.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        reason: str = "",
        retryable: bool = False,
        domain: str = "",
        reasons: frozenset[str] = frozenset(),
    ) -> None:
        super().__init__(message)
        self.status, self.reason, self.retryable = status, reason, retryable
        self.domain = domain
        self._reasons = reasons | ({_folded(reason)} if reason else set())

    def says(self, reason: str) -> bool:
        """Whether ``errors[]`` or ``details[]`` named ``reason`` (either spelling)."""
        return _folded(reason) in self._reasons


class RepeatedPageToken(YTEmpireError):
    """A listing handed back a page token it had already been asked with."""

    def __init__(self, method: str, token: str, pages: int):
        self.method, self.token, self.pages = method, token, pages
        super().__init__(
            f"{method} answered page {pages} with nextPageToken {token!r}, a token this "
            f"listing had already asked for (a YouTube paging quirk): the listing stops "
            f"after {pages} page(s) instead of reading a page again"
        )


@dataclass(frozen=True)
class ErrorInfo:
    """One ``google.rpc.ErrorInfo`` of ``details[]``: AIP-193's machine-readable cause."""

    reason: str
    domain: str
    metadata: dict[str, str]


@dataclass(frozen=True)
class GoogleError:
    """What a Google JSON error body says: the ``errors[]`` and ``details[]`` causes."""

    status: int
    message: str = ""
    errors: tuple[tuple[str, str], ...] = ()  # (reason, domain) of each errors[] entry
    error_info: tuple[ErrorInfo, ...] = ()

    @property
    def reason(self) -> str:
        """The first ``errors[].reason`` (YouTube documents these), else the first
        ``ErrorInfo.reason``; ``''`` if the body names none."""
        reasons = [r for r, _ in self.errors if r] + [i.reason for i in self.error_info if i.reason]
        return reasons[0] if reasons else ""

    @property
    def domain(self) -> str:
        domains = [d for r, d in self.errors if r] + [i.domain for i in self.error_info if i.reason]
        return domains[0] if domains else ""

    def folded_reasons(self) -> set[str]:
        return {_folded(r) for r, _ in self.errors if r} | {
            _folded(i.reason) for i in self.error_info if i.reason
        }

    def daily_limit_hit(self) -> bool:
        """An ErrorInfo ``RATE_LIMIT_EXCEEDED`` on a per-day quota limit."""
        return any(
            _folded(i.reason) == "ratelimitexceeded"
            and "perday" in i.metadata.get("quota_limit", "").replace("_", "").lower()
            for i in self.error_info
        )

    def describe(self) -> str:
        """``reason (domain)`` of every cause, for people."""
        causes = [f"{r} ({d})" if d else r for r, d in self.errors if r]
        causes += [f"{i.reason} ({i.domain})" if i.domain else i.reason for i in self.error_info]
        return ", ".join(dict.fromkeys(causes))


def google_error(exc: HttpError) -> GoogleError:
    """Parse ``exc``'s body: both ``error.errors[]`` and the ErrorInfo of ``error.details[]``.

    A body that is not Google's JSON error (an HTML 502 from a proxy) gives a
    :class:`GoogleError` with the status only.
    """
    status = int(exc.status_code or 0)
    try:
        body = json.loads(exc.content.decode("utf-8"))
    except (ValueError, UnicodeDecodeError, AttributeError):
        return GoogleError(status)
    if isinstance(body, list):  # the batch form: a list of error objects
        body = next((b for b in body if isinstance(b, dict)), {})
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return GoogleError(status)
    errors = tuple(
        (str(e.get("reason") or ""), str(e.get("domain") or ""))
        for e in _dicts(error.get("errors"))
    )
    infos = tuple(
        ErrorInfo(
            reason=str(d.get("reason") or ""),
            domain=str(d.get("domain") or ""),
            metadata={str(k): str(v) for k, v in _dict(d.get("metadata")).items()},
        )
        for d in _dicts(error.get("details"))
        if d.get("@type") == ERROR_INFO_TYPE
    )
    return GoogleError(status, str(error.get("message") or ""), errors, infos)


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def error_reason(exc: HttpError) -> str:
    """Google's reason for ``exc`` (:attr:`GoogleError.reason`; ``''`` if none)."""
    return google_error(exc).reason


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter: sleep U(0, min(cap, base * 2**attempt))."""

    max_attempts: int = 5
    base_s: float = 1.0
    cap_s: float = 32.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        return rng.uniform(0, min(self.cap_s, self.base_s * 2**attempt))


def classify(error: GoogleError | HttpError) -> str:
    """'quota', 'retry' or 'fail' for an error answer of the API (see the module docstring)."""
    err = google_error(error) if isinstance(error, HttpError) else error
    reasons = err.folded_reasons()
    if reasons & QUOTA_REASONS or err.daily_limit_hit():
        return "quota"
    if err.status in RETRYABLE_STATUS or reasons & RETRYABLE_REASONS:
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

    def list(
        self, method: str, *, share: ChannelShare | None = None, **params: Any
    ) -> dict[str, Any]:
        """Run ``<resource>.list`` (e.g. ``videos.list``) with ``params``; return the body.

        ``share``: the call is made for one channel and counts against its share
        of the day's budget (:class:`~ytempire.quota.ChannelShareExhausted`).
        """
        resource = method.split(".")[0]
        request = getattr(self.client, resource)().list(**params)
        for attempt in range(self.retry.max_attempts):
            self._reserve(method, share)
            try:
                response: dict[str, Any] = request.execute(num_retries=0)
                return response
            except HttpError as exc:
                err = google_error(exc)
                verdict = classify(err)
                where = f"{method} (HTTP {err.status} {err.describe() or exc.reason})"
                if verdict == "quota":
                    raise QuotaExhausted(f"YouTube said the quota is spent: {where}") from exc
                if verdict == "fail":
                    raise ApiCallFailed(
                        f"{where}: {err.message or exc.reason}",
                        status=err.status,
                        reason=err.reason,
                        domain=err.domain,
                        reasons=frozenset(err.folded_reasons()),
                    ) from exc
                last: Exception = exc
                last_error: GoogleError | None = err
            except (TimeoutError, OSError, httplib2.HttpLib2Error) as exc:
                where, last, last_error = f"{method} (network: {exc})", exc, None
            if attempt + 1 < self.retry.max_attempts:
                pause = self.retry.delay(attempt, self.rng)
                log.warning("youtube: %s; retry %d in %.2fs", where, attempt + 1, pause)
                self.sleep(pause)
        raise ApiCallFailed(
            f"{method} still failing after {self.retry.max_attempts} attempts: {where}. "
            "Next: check the API's status; the next run resumes where this one stopped.",
            status=last_error.status if last_error else None,
            reason=last_error.reason if last_error else "",
            domain=last_error.domain if last_error else "",
            reasons=frozenset(last_error.folded_reasons() if last_error else ()),
            retryable=True,
        ) from last

    def pages(
        self, method: str, *, share: ChannelShare | None = None, **params: Any
    ) -> Iterator[dict[str, Any]]:
        """The bodies of a paged listing, one call per page the caller goes on to read.

        The next page is asked for only when the caller asks for it, with the
        previous body's ``nextPageToken``; a token this listing has already
        asked for raises :class:`RepeatedPageToken` (nothing is spent on it).
        """
        asked: set[str] = set()
        token: str | None = params.pop("pageToken", None)
        for page in itertools.count(1):
            if token is not None:
                if token in asked:
                    raise RepeatedPageToken(method, token, page - 1)
                asked.add(token)
            paging = {"pageToken": token} if token else {}
            body = self.list(method, share=share, **params, **paging)
            yield body
            token = body.get("nextPageToken") or None
            if token is None:
                return

    def _reserve(self, method: str, share: ChannelShare | None = None) -> None:
        try:
            self.budget.reserve(method, self.quota_day, share)
        except QuotaBudgetExhausted as exc:
            raise QuotaExhausted(str(exc)) from exc
        self.units_used += cost_of(method)
        self.calls += 1
