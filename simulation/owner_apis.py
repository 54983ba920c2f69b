"""The owner's APIs on the simulator's server: OAuth 2.0, the Reporting API and the Analytics API.

Served beside the Data API by :class:`simulation.youtube.YouTubeSimulator`,
from the same network and clock, on the real paths, so google-auth and the
stock client (``build("youtubereporting", "v1")``,
``build("youtubeAnalytics", "v2")``) talk to them unmodified:

- ``POST /token`` (Google's ``oauth2.googleapis.com/token``): the
  ``refresh_token`` grant. Each channel's owner granted a refresh token
  (:meth:`OAuth.grant`) for ``yt-analytics.readonly``, and
  ``yt-analytics-monetary.readonly`` where the channel earns; a revoked one
  answers 400 ``invalid_grant`` ("Token has been expired or revoked."), an
  unknown client 401 ``invalid_client``. Access tokens last 3599 s. A call
  without one is 401 (``required``, location ``Authorization``), with a
  bad one 401 ``authError``, without the scope 403 ``insufficientPermissions``.
- the Reporting API v1 (``/v1/reportTypes``, ``/v1/jobs[/{id}]``,
  ``/v1/jobs/{id}/reports[/{id}]``, ``/v1/media/{resourceName}``):
  :data:`CATALOGUE` lists the current channel report types and the ``a2``
  versions YouTube retired on 2025-10-31 (``deprecateTime``; listed for 30
  days after it, no reports after it, no new jobs for them). One job per
  channel and type (a second is 409 ``ALREADY_EXISTS``). A job's first
  reports arrive 48 h after it is created, with the 30 days before its
  creation (kept 30 days); then one report per Pacific day, 20-44 h after
  the day ends (kept 60 days). About :data:`REGENERATED_SHARE` of the days
  are regenerated 2-4 days later: a new report, same ``startTime``, newer
  ``createTime``, and the first one's views were preliminary
  (:func:`simulation.owner_model.preliminary`). A day without activity is a
  header-only CSV. ``media.download`` serves the CSV, gzip-compressed when
  the client accepts it; ``jobs.reports.list`` filters by ``createdAfter``,
  ``startTimeAtOrAfter`` and ``startTimeBefore`` and pages.
- the Analytics API v2 (``GET /v2/reports``, ``reports.query``):
  ``ids=channel==MINE`` (or the channel's own id), ``dimensions`` ``day``
  or ``video`` (the top-videos report: ``sort`` by a descending metric and
  ``maxResults`` <= 200 required, ``adImpressions`` refused; ``video,day``
  is not a supported query), the metrics of :data:`METRICS`. Monetary
  metrics need the monetary scope and a channel in the Partner Program:
  otherwise 403 ``forbidden``. A day has no row until 24 h after its end,
  then partial revenue until it settles 72 h after it
  (:func:`simulation.owner_model.settled_share`).

Controls under ``/_sim/owner/`` (JSON bodies): ``grant`` ``{"channel_id",
"monetary"}`` (returns the refresh token), ``revoke`` ``{"channel_id"}``,
``job`` ``{"channel_id", "report_type_id", "create_time"}`` (a job made
earlier), ``regenerate`` ``{"channel_id", "report_type_id", "day",
"empty"}`` (a new report of a day now, header-only if ``empty``),
``monetized`` ``{"channel_id", "monetized"}``, ``faults`` (an
:class:`OwnerFault`), ``download_delay`` ``{"seconds"}``.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import secrets
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from operator import itemgetter
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, quote

import pyarrow as pa
import pyarrow.csv as pacsv

from simulation import discovery, owner_model
from simulation.discovery import ParameterProblem
from simulation.network import PACIFIC, pacific_start
from simulation.youtube import ApiError, Request, Response, error_body

if TYPE_CHECKING:
    from simulation.youtube import YouTubeSimulator

ANALYTICS_SCOPE = "https://www.googleapis.com/auth/yt-analytics.readonly"
MONETARY_SCOPE = "https://www.googleapis.com/auth/yt-analytics-monetary.readonly"
DEFAULT_CLIENT_ID = "ytempire-simulator.apps.googleusercontent.com"
DEFAULT_CLIENT_SECRET = "simulator-secret"  # noqa: S105 (the simulator's own client, not a secret)
ACCESS_TOKEN_SECONDS = 3599

REPORTING = ("youtubereporting", "v1")
ANALYTICS = ("youtubeAnalytics", "v2")
FIRST_REPORT_AFTER = timedelta(hours=48)
HISTORY_DAYS = 30
KEPT = timedelta(days=60)
KEPT_HISTORY = timedelta(days=30)
REGENERATED_SHARE = 0.04
DEPRECATED_LISTED_FOR = timedelta(days=30)
A2_RETIRED = datetime(2025, 10, 31, 7, tzinfo=UTC)  # midnight Pacific (PDT)

_DIMS = ("date", "channel_id", "video_id", "live_or_on_demand", "subscribed_status", "country_code")
_VIEW_METRICS = (
    "engaged_views",
    "views",
    "watch_time_minutes",
    "average_view_duration_seconds",
    "average_view_duration_percentage",
    "red_views",
    "red_watch_time_minutes",
)
_BASIC_METRICS = (
    "engaged_views", "views", "comments", "likes", "dislikes", "videos_added_to_playlists",
    "videos_removed_from_playlists", "shares", "watch_time_minutes",
    "average_view_duration_seconds", "average_view_duration_percentage",
    "annotation_click_through_rate", "annotation_close_rate", "annotation_impressions",
    "annotation_clickable_impressions", "annotation_closable_impressions", "annotation_clicks",
    "annotation_closes", "card_click_rate", "card_teaser_click_rate", "card_impressions",
    "card_teaser_impressions", "card_clicks", "card_teaser_clicks", "subscribers_gained",
    "subscribers_lost", "red_views", "red_watch_time_minutes",
)  # fmt: skip


@dataclass(frozen=True)
class ReportType:
    """A report type of the catalogue: its id, family, version and CSV columns."""

    id: str
    name: str
    columns: tuple[str, ...]
    deprecate_time: datetime | None = None

    @property
    def family(self) -> str:
        return self.id.rsplit("_", 1)[0]


def _without(columns: tuple[str, ...], *names: str) -> tuple[str, ...]:
    return tuple(c for c in columns if c not in names)


_TRAFFIC = (*_DIMS, "traffic_source_type", "traffic_source_detail", *_VIEW_METRICS)
_DEVICE = (*_DIMS, "device_type", "operating_system", *_VIEW_METRICS)
_PLAYBACK = (*_DIMS, "playback_location_type", "playback_location_detail", *_VIEW_METRICS)
CATALOGUE: tuple[ReportType, ...] = (
    ReportType("channel_basic_a3", "User activity", (*_DIMS, *_BASIC_METRICS)),
    ReportType("channel_traffic_source_a3", "Traffic sources", _TRAFFIC),
    ReportType("channel_device_os_a3", "Device type and operating system", _DEVICE),
    ReportType("channel_playback_location_a3", "Playback locations", _PLAYBACK),
    ReportType(
        "channel_demographics_a1",
        "Viewer demographics",
        (*_DIMS, "age_group", "gender", "views_percentage"),
    ),
    ReportType(
        "channel_reach_basic_a1",
        "Reach: thumbnail impressions",
        (
            "date",
            "channel_id",
            "video_id",
            "video_thumbnail_impressions",
            "video_thumbnail_impressions_ctr",
        ),
    ),
    # retired on 2025-10-31: the a3 versions add engaged_views
    ReportType(
        "channel_basic_a2",
        "User activity",
        (*_DIMS, *_without(_BASIC_METRICS, "engaged_views")),
        A2_RETIRED,
    ),
    ReportType(
        "channel_traffic_source_a2",
        "Traffic sources",
        _without(_TRAFFIC, "engaged_views"),
        A2_RETIRED,
    ),
    ReportType(
        "channel_device_os_a2",
        "Device type and operating system",
        _without(_DEVICE, "engaged_views"),
        A2_RETIRED,
    ),
    ReportType(
        "channel_playback_location_a2",
        "Playback locations",
        _without(_PLAYBACK, "engaged_views"),
        A2_RETIRED,
    ),
)
_TYPES = {t.id: t for t in CATALOGUE}

# Analytics API metrics served: name -> dataType
METRICS = {
    "views": "INTEGER",
    "engagedViews": "INTEGER",
    "redViews": "INTEGER",
    "estimatedMinutesWatched": "INTEGER",
    "estimatedRedMinutesWatched": "INTEGER",
    "averageViewDuration": "INTEGER",
    "likes": "INTEGER",
    "dislikes": "INTEGER",
    "comments": "INTEGER",
    "shares": "INTEGER",
    "subscribersGained": "INTEGER",
    "subscribersLost": "INTEGER",
    "estimatedRevenue": "FLOAT",
    "estimatedAdRevenue": "FLOAT",
    "grossRevenue": "FLOAT",
    "estimatedRedPartnerRevenue": "FLOAT",
    "monetizedPlaybacks": "INTEGER",
    "playbackBasedCpm": "FLOAT",
    "adImpressions": "INTEGER",
    "cpm": "FLOAT",
}
MONETARY_METRICS = frozenset(
    {
        "estimatedRevenue",
        "estimatedAdRevenue",
        "grossRevenue",
        "estimatedRedPartnerRevenue",
        "monetizedPlaybacks",
        "playbackBasedCpm",
        "adImpressions",
        "cpm",
    }
)
TOP_VIDEOS_MAX_RESULTS = 200
_NOT_SUPPORTED = (
    "The query is not supported. Check the documentation at "
    "https://developers.google.com/youtube/analytics/v2/available_reports for a list of "
    "supported queries."
)


def _ts(value: datetime) -> str:
    """RFC 3339 "Zulu", microseconds when there are any (the API's format)."""
    utc = value.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S") + (
        f".{utc.microsecond:06d}Z" if utc.microsecond else "Z"
    )


def _parse_time(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError(f"{value!r} has no time zone")
    return parsed.astimezone(UTC)


def _digits(*parts: object, length: int = 10) -> str:
    digest = hashlib.sha256(":".join(str(p) for p in parts).encode()).digest()
    return str(int.from_bytes(digest[:8], "big"))[:length].rjust(length, "1")


def _unit(*parts: object) -> float:
    digest = hashlib.blake2b(":".join(str(p) for p in parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


# --- OAuth ------------------------------------------------------------------------------------


@dataclass
class Grant:
    """A channel owner's consent: the refresh token's channel and scopes."""

    channel_id: str
    scopes: tuple[str, ...]
    revoked: bool = False


class OAuth:
    """Refresh tokens per channel, access tokens they buy, and the checks every API makes.

    A channel's refresh token is derived from the network's seed, so a
    simulator in another process and the token store written by
    ``ytempire simulate youtube --owner-tokens`` agree without talking.
    """

    def __init__(
        self,
        network: Any,
        client_id: str = DEFAULT_CLIENT_ID,
        client_secret: str = DEFAULT_CLIENT_SECRET,
    ) -> None:
        self.network = network
        self.client_id, self.client_secret = client_id, client_secret
        self.grants: dict[str, Grant] = {}
        self.revoked: set[str] = set()
        self._access: dict[str, tuple[Grant, float]] = {}
        self.refreshes: Counter[str] = Counter()  # channel -> token refreshes

    def refresh_token(self, channel_id: str, monetary: bool) -> str:
        """The refresh token the channel's owner granted, with or without the monetary scope."""
        digest = hashlib.sha256(f"{self.network.seed}:{channel_id}:{monetary}".encode()).digest()
        return "1//sim-" + base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def grant(self, channel_id: str, monetary: bool = True) -> str:
        """Register (idempotently) and return a channel owner's refresh token."""
        token = self.refresh_token(channel_id, monetary)
        scopes = (ANALYTICS_SCOPE, MONETARY_SCOPE) if monetary else (ANALYTICS_SCOPE,)
        self.grants.setdefault(token, Grant(channel_id, scopes))
        return token

    def _find(self, token: str) -> Grant | None:
        if token not in self.grants:  # a grant written by another process of this network
            for channel in self.network.channels:
                for monetary in (True, False):
                    if self.refresh_token(channel.channel_id, monetary) == token:
                        self.grant(channel.channel_id, monetary)
        grant = self.grants.get(token)
        if grant is not None and grant.channel_id in self.revoked:
            grant.revoked = True
        return grant

    def revoke(self, channel_id: str) -> None:
        """The owner withdrew consent: its refresh and access tokens stop working."""
        self.revoked.add(channel_id)
        for grant in self.grants.values():
            if grant.channel_id == channel_id:
                grant.revoked = True

    def token(self, body: bytes) -> Response:
        """``POST /token``: Google's OAuth 2.0 token endpoint, refresh_token grant."""
        form = {k: v[-1] for k, v in parse_qs(body.decode()).items()}
        if form.get("grant_type") != "refresh_token" or not form.get("refresh_token"):
            return _oauth_error(400, "invalid_request", "Missing required parameter: refresh_token")
        if (form.get("client_id"), form.get("client_secret")) != (
            self.client_id,
            self.client_secret,
        ):
            return _oauth_error(401, "invalid_client", "The OAuth client was not found.")
        grant = self._find(form["refresh_token"])
        if grant is None or grant.revoked:
            return _oauth_error(400, "invalid_grant", "Token has been expired or revoked.")
        access = "ya29.sim-" + secrets.token_urlsafe(32)
        self._access[access] = (grant, time.time() + ACCESS_TOKEN_SECONDS)
        self.refreshes[grant.channel_id] += 1
        payload = {
            "access_token": access,
            "expires_in": ACCESS_TOKEN_SECONDS,
            "scope": " ".join(grant.scopes),
            "token_type": "Bearer",
        }
        return Response.json(200, payload)

    def check_token(self, token: str | None, scope: str | None) -> Grant:
        """The grant behind an access token; raise Google's 401/403 otherwise.

        ``scope``: one the grant must hold (None: any of this API's)."""
        if not token:
            raise ApiError(
                401,
                "required",
                "Request is missing required authentication credential. Expected OAuth 2 access "
                "token, login cookie or other valid authentication credential.",
                location="Authorization",
                location_type="header",
            )
        found = self._access.get(token)
        if found is None or found[1] < time.time() or found[0].revoked:
            raise ApiError(401, "authError", location="Authorization", location_type="header")
        grant = found[0]
        if scope is not None and scope not in grant.scopes:
            raise ApiError(
                403, "insufficientPermissions", "Request had insufficient authentication scopes."
            )
        return grant


def _oauth_error(status: int, error: str, description: str) -> Response:
    return Response.json(status, {"error": error, "error_description": description})


# --- faults and the call ledger -------------------------------------------------------------


@dataclass
class OwnerFault:
    """Answer the next ``times`` calls of ``method`` (``*``: any owner API call) for ``channel_id``
    (empty: any channel) with ``status``/``reason``, after skipping ``after`` of them."""

    status: int
    reason: str = "backendError"
    method: str = "*"
    channel_id: str = ""
    times: int = 1
    after: int = 0

    def matches(self, method: str, channel_id: str) -> bool:
        return self.method in ("*", method) and self.channel_id in ("", channel_id)


# --- the APIs -----------------------------------------------------------------------------------


@dataclass
class Job:
    id: str
    channel_id: str
    report_type_id: str
    name: str
    create_time: datetime

    def resource(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "reportTypeId": self.report_type_id,
            "name": self.name,
            "createTime": _ts(self.create_time),
        }


@dataclass(frozen=True)
class Report:
    """One report instance of a job: a Pacific day's data as of ``create_time``."""

    id: str
    job: Job
    day: date
    create_time: datetime
    final: bool  # False: a first version YouTube later regenerated (preliminary views)
    empty: bool = False  # forced header-only

    @property
    def start_time(self) -> datetime:
        return pacific_start(self.day)

    def resource(self, base_url: str) -> dict[str, Any]:
        return {
            "id": self.id,
            "jobId": self.job.id,
            "startTime": _ts(self.start_time),
            "endTime": _ts(pacific_start(self.day + timedelta(days=1))),
            "createTime": _ts(self.create_time),
            "downloadUrl": f"{base_url}v1/media/{quote(self.resource_name)}?alt=media",
        }

    @property
    def resource_name(self) -> str:
        return f"CHANNEL/{self.job.channel_id}/jobs/{self.job.id}/reports/{self.id}"


@dataclass
class _Forced:
    """A report made by the ``regenerate`` control."""

    channel_id: str
    report_type_id: str
    day: date
    create_time: datetime
    empty: bool


@dataclass
class OwnerLedger:
    """Owner API calls served, per (method, channel)."""

    calls: Counter[tuple[str, str]] = field(default_factory=Counter)
    downloads_started: int = 0
    downloads_finished: int = 0
    bytes_sent: int = 0

    def count(self, method: str | None = None, channel_id: str | None = None) -> int:
        return sum(
            n for (m, c), n in self.calls.items() if method in (None, m) and channel_id in (None, c)
        )


class OwnerApis:
    """OAuth, Reporting and Analytics for one :class:`~simulation.youtube.YouTubeSimulator`."""

    def __init__(self, sim: YouTubeSimulator) -> None:
        self.sim = sim
        self.oauth = OAuth(sim.network)
        self.jobs: dict[str, Job] = {}
        self.forced: list[_Forced] = []
        self.faults: list[OwnerFault] = []
        self.monetized: dict[str, bool] = {}  # overrides of the model's Partner Program trait
        self.ledger = OwnerLedger()
        self.download_delay_s = 0.0
        self._lock = threading.RLock()

    @property
    def network(self) -> Any:
        return self.sim.network

    @property
    def now(self) -> datetime:
        return self.sim.now

    def reset(self) -> None:
        with self._lock:
            self.ledger = OwnerLedger()
            self.faults.clear()

    def state(self) -> dict[str, Any]:
        with self._lock:
            return {
                "jobs": len(self.jobs),
                "grants": len(self.oauth.grants),
                "calls": {f"{m} {c}": n for (m, c), n in sorted(self.ledger.calls.items())},
                "downloads_started": self.ledger.downloads_started,
                "downloads_finished": self.ledger.downloads_finished,
                "pending_faults": [asdict(f) for f in self.faults],
            }

    def is_monetized(self, channel_id: str) -> bool:
        if channel_id in self.monetized:
            return self.monetized[channel_id]
        channel = self.network.channel(channel_id)
        return (
            channel is not None and owner_model.owner_traits(self.network, channel.index).monetized
        )

    # --- routing ------------------------------------------------------------------------------

    def dispatch(self, request: Request) -> Response:
        path = request.path
        if path.startswith("/_sim/owner/") and request.method == "POST":
            return self._control(path.removeprefix("/_sim/owner/"), request.body)
        if path == "/token" and request.method == "POST":
            return self._faulted("token", "", lambda: self.oauth.token(request.body))
        try:
            if path.startswith("/v1/"):
                return self._reporting(request)
            if path == "/v2/reports" and request.method == "GET":
                return self._analytics(request)
        except ApiError as exc:
            return Response.json(exc.status, exc.body)
        return Response.json(404, error_body(404, "notFound", "Requested entity was not found."))

    def _faulted(self, method: str, channel_id: str, answer: Any) -> Response:
        with self._lock:
            self.ledger.calls[(method, channel_id)] += 1
            fault = self._take_fault(method, channel_id)
        if fault is not None:
            return Response.json(fault.status, error_body(fault.status, fault.reason))
        result: Response = answer()
        return result

    def _take_fault(self, method: str, channel_id: str) -> OwnerFault | None:
        for fault in self.faults:
            if not fault.matches(method, channel_id):
                continue
            if fault.after > 0:
                fault.after -= 1
                return None
            fault.times -= 1
            if fault.times <= 0:
                self.faults.remove(fault)
            return fault
        return None

    def _control(self, name: str, body: bytes) -> Response:
        try:
            payload = json.loads(body or b"{}")
            with self._lock:
                result = self._apply_control(name, payload)
        except (ValueError, KeyError, TypeError) as exc:
            return Response.json(400, error_body(400, "badRequest", f"bad control request: {exc}"))
        return Response.json(200, result)

    def _apply_control(self, name: str, payload: dict[str, Any]) -> dict[str, Any]:
        if name == "grant":
            token = self.oauth.grant(payload["channel_id"], bool(payload.get("monetary", True)))
            return {"refresh_token": token}
        if name == "revoke":
            self.oauth.revoke(payload["channel_id"])
        elif name == "job":
            job = self.create_job(
                payload["channel_id"],
                payload["report_type_id"],
                _parse_time(payload["create_time"]) if "create_time" in payload else None,
            )
            return job.resource()
        elif name == "regenerate":
            self.regenerate(
                payload["channel_id"],
                payload["report_type_id"],
                date.fromisoformat(payload["day"]),
                empty=bool(payload.get("empty", False)),
            )
        elif name == "monetized":
            self.monetized[payload["channel_id"]] = bool(payload["monetized"])
        elif name == "faults":
            self.faults.append(OwnerFault(**payload))
        elif name == "download_delay":
            self.download_delay_s = float(payload["seconds"])
        else:
            raise KeyError(f"no control {name!r}")
        return self.state()

    # --- controls (also called directly by tests) -----------------------------------------

    def create_job(
        self, channel_id: str, report_type_id: str, create_time: datetime | None = None
    ) -> Job:
        """A job, as ``jobs.create`` makes it (``create_time`` in the past: made earlier)."""
        with self._lock:
            for job in self.jobs.values():
                if (job.channel_id, job.report_type_id) == (channel_id, report_type_id):
                    raise ApiError(
                        409,
                        "alreadyExists",
                        f"A job for report type {report_type_id} already exists.",
                    )
            when = create_time or self.now
            job_id = f"{_digits('job', channel_id, report_type_id, when.isoformat(), length=8)}-sim"
            job = Job(job_id, channel_id, report_type_id, f"ytempire {report_type_id}", when)
            self.jobs[job_id] = job
            return job

    def backdate_jobs(self, channel_ids: list[str], create_time: datetime) -> int:
        """Jobs of each family's newest report type, made at ``create_time`` for each channel
        that has none of that type yet (owners who set up reporting before the warehouse);
        how many were made."""
        made = 0
        newest: dict[str, ReportType] = {}
        for t in CATALOGUE:
            listed = t.deprecate_time is None or create_time < t.deprecate_time
            if listed and (t.family not in newest or t.id > newest[t.family].id):
                newest[t.family] = t
        current = list(newest.values())
        for channel_id in channel_ids:
            for report_type in current:
                try:
                    self.create_job(channel_id, report_type.id, create_time)
                except ApiError:  # 409: the channel has one already
                    continue
                made += 1
        return made

    def regenerate(
        self, channel_id: str, report_type_id: str, day: date, *, empty: bool = False
    ) -> None:
        """YouTube regenerates a day now: a new report with a newer ``createTime``."""
        with self._lock:
            self.forced.append(_Forced(channel_id, report_type_id, day, self.now, empty))

    # --- Reporting API ------------------------------------------------------------------------

    def _reporting(self, request: Request) -> Response:
        parts = request.path.strip("/").split("/")[1:]  # after "v1"
        if parts[:1] == ["media"] and request.method == "GET":
            return self._download(request, "/".join(parts[1:]))
        grant = self.oauth.check_token(request.bearer(), None)
        channel = grant.channel_id
        if parts == ["reportTypes"] and request.method == "GET":
            return self._faulted("reportTypes.list", channel, lambda: self._report_types(request))
        if parts == ["jobs"] and request.method == "GET":
            return self._faulted("jobs.list", channel, lambda: self._list_jobs(request, channel))
        if parts == ["jobs"] and request.method == "POST":
            return self._faulted("jobs.create", channel, lambda: self._create(request, channel))
        if len(parts) == 2 and parts[0] == "jobs":
            job = self._job(parts[1], channel)
            if request.method == "GET":
                return self._faulted(
                    "jobs.get", channel, lambda: Response.json(200, job.resource())
                )
            if request.method == "DELETE":
                return self._faulted("jobs.delete", channel, lambda: self._delete(job))
        if (
            len(parts) == 3
            and parts[0] == "jobs"
            and parts[2] == "reports"
            and request.method == "GET"
        ):
            job = self._job(parts[1], channel)
            return self._faulted(
                "jobs.reports.list", channel, lambda: self._list_reports(request, job)
            )
        if (
            len(parts) == 4
            and parts[0] == "jobs"
            and parts[2] == "reports"
            and request.method == "GET"
        ):
            job = self._job(parts[1], channel)
            report = self._report(job, parts[3])
            return self._faulted(
                "jobs.reports.get",
                channel,
                lambda: Response.json(200, report.resource(request.base_url)),
            )
        raise ApiError(404, "notFound", "Requested entity was not found.")

    def _check(self, name: str, request: Request) -> None:
        try:
            discovery.check_parameters(discovery.method(*REPORTING, name), request.query)
        except ParameterProblem as problem:
            raise ApiError(
                400,
                "invalid",
                f"Invalid value at '{problem.name}': {problem.message}",
                location=problem.name,
            ) from None

    def _report_types(self, request: Request) -> Response:
        self._check("reportTypes.list", request)
        listed = [
            t
            for t in CATALOGUE
            if t.deprecate_time is None or self.now < t.deprecate_time + DEPRECATED_LISTED_FOR
        ]
        items = []
        for t in listed:
            item: dict[str, Any] = {"id": t.id, "name": t.name}
            if t.deprecate_time is not None:
                item["deprecateTime"] = _ts(t.deprecate_time)
            item["systemManaged"] = False
            items.append(item)
        return Response.json(200, _page(request, "reportTypes", items))

    def _list_jobs(self, request: Request, channel_id: str) -> Response:
        self._check("jobs.list", request)
        with self._lock:
            jobs = sorted(
                (j for j in self.jobs.values() if j.channel_id == channel_id),
                key=lambda j: j.create_time,
            )
        return Response.json(200, _page(request, "jobs", [j.resource() for j in jobs]))

    def _create(self, request: Request, channel_id: str) -> Response:
        self._check("jobs.create", request)
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            raise ApiError(400, "badRequest", "Invalid JSON payload received.") from None
        type_id = body.get("reportTypeId", "")
        report_type = _TYPES.get(type_id)
        if report_type is None:
            raise ApiError(
                400, "badRequest", f"Invalid report type: '{type_id}'.", location="reportTypeId"
            )
        if report_type.deprecate_time is not None and self.now >= report_type.deprecate_time:
            raise ApiError(
                400,
                "failedPrecondition",
                f"Report type {type_id} is deprecated since {_ts(report_type.deprecate_time)}.",
            )
        job = self.create_job(channel_id, type_id)
        if body.get("name"):
            job.name = str(body["name"])
        return Response.json(200, job.resource())

    def _delete(self, job: Job) -> Response:
        with self._lock:
            self.jobs.pop(job.id, None)
        return Response.json(200, {})

    def _job(self, job_id: str, channel_id: str) -> Job:
        job = self.jobs.get(job_id)
        if job is None or job.channel_id != channel_id:
            raise ApiError(404, "notFound", "Requested entity was not found.")
        return job

    def reports(self, job: Job) -> list[Report]:
        """Every report of ``job`` that exists and is kept at the simulator's now."""
        now = self.now
        report_type = _TYPES[job.report_type_id]
        first = job.create_time.astimezone(PACIFIC).date() - timedelta(days=HISTORY_DAYS)
        out: list[Report] = []
        day = first
        while pacific_start(day + timedelta(days=1)) < now:
            if (
                report_type.deprecate_time is not None
                and pacific_start(day) >= report_type.deprecate_time
            ):
                break
            out += self._day_reports(job, day)
            day += timedelta(days=1)
        with self._lock:
            forced = [
                f
                for f in self.forced
                if (f.channel_id, f.report_type_id) == (job.channel_id, job.report_type_id)
            ]
        for f in forced:
            if f.create_time >= job.create_time:
                out.append(
                    Report(
                        _digits("forced", job.id, f.day, f.create_time),
                        job,
                        f.day,
                        f.create_time,
                        True,
                        f.empty,
                    )
                )
        return [r for r in out if r.create_time <= now and now < r.create_time + self._kept(r)]

    def _kept(self, report: Report) -> timedelta:
        return (
            KEPT_HISTORY if report.start_time < report.job.create_time - timedelta(days=1) else KEPT
        )

    def _day_reports(self, job: Job, day: date) -> list[Report]:
        family = _TYPES[job.report_type_id].family
        day_end = pacific_start(day + timedelta(days=1))
        lag = timedelta(hours=20 + 24 * _unit("lag", job.channel_id, family, day))
        history = day_end <= job.create_time
        # the first batch (the 30 days before the job) arrives together, a minute apart
        first_day = job.create_time.astimezone(PACIFIC).date() - timedelta(days=HISTORY_DAYS)
        ready = job.create_time + FIRST_REPORT_AFTER + timedelta(minutes=(day - first_day).days)
        create = max(ready, day_end + lag) if not history else ready
        regenerated = _unit("regenerated", job.channel_id, family, day) < REGENERATED_SHARE
        first = Report(_digits("report", job.id, day, 0), job, day, create, not regenerated)
        if not regenerated:
            return [first]
        later = create + timedelta(days=2 + 2 * _unit("regen-lag", job.id, day))
        return [first, Report(_digits("report", job.id, day, 1), job, day, later, True)]

    def _report(self, job: Job, report_id: str) -> Report:
        for report in self.reports(job):
            if report.id == report_id:
                return report
        raise ApiError(404, "notFound", "Requested entity was not found.")

    def _list_reports(self, request: Request, job: Job) -> Response:
        self._check("jobs.reports.list", request)
        bounds = {}
        for name in ("createdAfter", "startTimeAtOrAfter", "startTimeBefore"):
            raw = request.query.get(name, [""])[-1]
            if raw:
                try:
                    bounds[name] = _parse_time(raw)
                except ValueError:
                    raise ApiError(
                        400,
                        "invalid",
                        f"Invalid value at '{name}' (type.googleapis.com/google.protobuf."
                        f"Timestamp), Field '{name}', Invalid time format: {raw}",
                        location=name,
                    ) from None
        reports = [
            r
            for r in self.reports(job)
            if ("createdAfter" not in bounds or r.create_time > bounds["createdAfter"])
            and ("startTimeAtOrAfter" not in bounds or r.start_time >= bounds["startTimeAtOrAfter"])
            and ("startTimeBefore" not in bounds or r.start_time < bounds["startTimeBefore"])
        ]
        reports.sort(key=lambda r: (r.create_time, r.id), reverse=True)
        return Response.json(
            200, _page(request, "reports", [r.resource(request.base_url) for r in reports])
        )

    def _download(self, request: Request, resource_name: str) -> Response:
        grant = self.oauth.check_token(request.bearer(), None)
        names = resource_name.split("/")
        if len(names) != 6 or names[0] != "CHANNEL" or names[2] != "jobs" or names[4] != "reports":
            raise ApiError(404, "notFound", "Requested entity was not found.")
        if names[1] != grant.channel_id:
            raise ApiError(403, "forbidden", "The caller does not have permission")
        job = self._job(names[3], grant.channel_id)
        report = self._report(job, names[5])

        def serve() -> Response:
            with self._lock:
                self.ledger.downloads_started += 1
            if self.download_delay_s:
                time.sleep(self.download_delay_s)
            data = self.csv(report)
            with self._lock:
                self.ledger.downloads_finished += 1
                self.ledger.bytes_sent += len(data)
            return Response(200, data, "application/octet-stream", {"x-sim-gzip": "1"})

        return self._faulted("media.download", grant.channel_id, serve)

    def csv(self, report: Report) -> bytes:
        """The report's CSV: its type's columns, a row per combination of dimensions."""
        report_type = _TYPES[report.job.report_type_id]
        channel = self.network.channel(report.job.channel_id)
        columns: owner_model.Columns = {}
        if channel is not None and not report.empty:
            columns = owner_model.family_columns(
                self.network, channel.index, report_type.family, report.day
            )
            if columns and not report.final:
                columns = owner_model.preliminary(columns, self.network, report.id)
        count = owner_model.row_count(columns)
        if not count:
            return (",".join(report_type.columns) + "\n").encode()
        table = pa.table(
            {
                name: pa.array(columns[name]) if name in columns else pa.array([0] * count)
                for name in report_type.columns
            }
        )
        out = io.BytesIO()
        out.write((",".join(report_type.columns) + "\n").encode())  # YouTube's header: unquoted
        pacsv.write_csv(table, out, pacsv.WriteOptions(include_header=False, quoting_style="none"))
        return out.getvalue()

    # --- Analytics API ------------------------------------------------------------------------

    def _analytics(self, request: Request) -> Response:
        grant = self.oauth.check_token(request.bearer(), None)
        return self._faulted("reports.query", grant.channel_id, lambda: self._query(request, grant))

    def _query(self, request: Request, grant: Grant) -> Response:
        target = discovery.method(*ANALYTICS, "reports.query")
        required = tuple(
            name
            for name, spec in target.parameters.items()
            if "required: true" in spec.get("description", "")
        )
        try:
            discovery.check_parameters(target, request.query, also_required=required)
        except ParameterProblem as problem:
            reason = "required" if problem.kind == "required" else "invalid"
            message = "Required" if problem.kind == "required" else problem.message
            raise ApiError(400, reason, message) from None
        q = {k: v[-1] for k, v in request.query.items()}
        if q["ids"] not in ("channel==MINE", f"channel=={grant.channel_id}"):
            raise ApiError(403, "forbidden", "Forbidden")
        metrics = discovery.values(request.query, "metrics")
        dimensions = discovery.values(request.query, "dimensions")
        for name in metrics:
            if name not in METRICS:
                raise ApiError(
                    400,
                    "badRequest",
                    f"Unknown identifier ({name}) given in field parameters.metrics.",
                )
        for name in dimensions:
            if name not in ("day", "video"):
                raise ApiError(
                    400,
                    "badRequest",
                    f"Unknown identifier ({name}) given in field parameters.dimensions.",
                )
        try:
            start, end = date.fromisoformat(q["startDate"]), date.fromisoformat(q["endDate"])
        except ValueError as exc:
            raise ApiError(400, "badRequest", f"Invalid date: {exc}") from None
        if start > end:
            raise ApiError(400, "badRequest", "The start date must not be after the end date.")
        sort = discovery.values(request.query, "sort")
        max_results = int(q.get("maxResults") or 0)
        if dimensions == ["video"]:
            ok = (
                sort and sort[0].startswith("-") and sort[0][1:] in metrics
                and 0 < max_results <= TOP_VIDEOS_MAX_RESULTS and "adImpressions" not in metrics
            )  # fmt: skip
            if not ok:
                raise ApiError(400, "badRequest", _NOT_SUPPORTED)
        elif dimensions not in ([], ["day"]) or any(
            s.lstrip("-") not in ("day", *metrics) for s in sort
        ):
            raise ApiError(400, "badRequest", _NOT_SUPPORTED)
        if MONETARY_METRICS.intersection(metrics):
            if MONETARY_SCOPE not in grant.scopes:
                raise ApiError(
                    403,
                    "insufficientPermissions",
                    "Request had insufficient authentication scopes.",
                )
            if not self.is_monetized(grant.channel_id):
                raise ApiError(403, "forbidden", "Forbidden")
        channel = self.network.channel(grant.channel_id)
        rows = self._rows(channel.index if channel else -1, start, end, dimensions, metrics)
        if sort:
            for key in reversed(sort):
                column = (dimensions + metrics).index(key.lstrip("-"))
                rows.sort(key=itemgetter(column), reverse=key.startswith("-"))
        first = int(q.get("startIndex") or 1) - 1
        rows = rows[first : first + max_results] if max_results else rows[first:]
        headers = [{"name": d, "columnType": "DIMENSION", "dataType": "STRING"} for d in dimensions]
        headers += [{"name": m, "columnType": "METRIC", "dataType": METRICS[m]} for m in metrics]
        body: dict[str, Any] = {"kind": "youtubeAnalytics#resultTable", "columnHeaders": headers}
        if rows:
            body["rows"] = rows
        return Response.json(200, body)

    def _rows(
        self, channel_index: int, start: date, end: date, dimensions: list[str], metrics: list[str]
    ) -> list[list[Any]]:
        groups: dict[tuple[str, ...], list[tuple[owner_model.VideoDay, owner_model.Revenue]]] = {}
        day = start
        while channel_index >= 0 and day <= end:
            share = owner_model.settled_share(day, self.now)
            if share is not None:
                for vd in owner_model.video_days(self.network, channel_index, day):
                    if dimensions == ["video"] and vd.video_id is None:
                        continue
                    revenue = owner_model.video_revenue(
                        self.network, channel_index, vd, day
                    ).scaled(share)
                    key = tuple(
                        day.isoformat() if d == "day" else str(vd.video_id) for d in dimensions
                    )
                    groups.setdefault(key, []).append((vd, revenue))
            day += timedelta(days=1)
        if not dimensions and not groups:
            return []
        return [
            list(key) + [values[name] for name in metrics]
            for key, values in ((k, _metrics(items)) for k, items in sorted(groups.items()))
        ]


def _metrics(items: list[tuple[owner_model.VideoDay, owner_model.Revenue]]) -> dict[str, Any]:
    """Every metric of a group of video-days, by its API name (summed once per group)."""
    days = [vd for vd, _ in items]
    revenue = owner_model.NO_REVENUE
    for _, r in items:
        revenue = revenue + r
    views = sum(v.views for v in days)
    minutes = sum(v.watch_time_minutes for v in days)
    return {
        "views": views,
        "engagedViews": sum(v.engaged_views for v in days),
        "redViews": sum(v.red_views for v in days),
        "estimatedMinutesWatched": round(minutes),
        "estimatedRedMinutesWatched": round(
            sum(v.watch_time_minutes * v.red_views / v.views for v in days if v.views)
        ),
        "averageViewDuration": round(minutes * 60 / views) if views else 0,
        "likes": sum(v.likes for v in days),
        "dislikes": sum(v.dislikes for v in days),
        "comments": sum(v.comments for v in days),
        "shares": sum(v.shares for v in days),
        "subscribersGained": sum(v.subscribers_gained for v in days),
        "subscribersLost": sum(v.subscribers_lost for v in days),
        "estimatedRevenue": round(revenue.estimated_revenue, 3),
        "estimatedAdRevenue": round(revenue.estimated_ad_revenue, 3),
        "grossRevenue": round(revenue.gross_revenue, 3),
        "estimatedRedPartnerRevenue": round(revenue.estimated_red_partner_revenue, 3),
        "monetizedPlaybacks": revenue.monetized_playbacks,
        "playbackBasedCpm": revenue.playback_based_cpm,
        "adImpressions": revenue.ad_impressions,
        "cpm": revenue.cpm,
    }


def _page(request: Request, key: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    """A page of ``items`` by ``pageSize`` (default 50) and ``pageToken``."""
    size = int(request.query.get("pageSize", ["0"])[-1] or 0) or 50
    token = request.query.get("pageToken", [""])[-1]
    try:
        offset = (
            int(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()) if token else 0
        )
    except ValueError:
        raise ApiError(400, "invalid", "Invalid page token.", location="pageToken") from None
    body: dict[str, Any] = {}
    if items[offset : offset + size]:
        body[key] = items[offset : offset + size]
    if offset + size < len(items):
        body["nextPageToken"] = (
            base64.urlsafe_b64encode(str(offset + size).encode()).decode().rstrip("=")
        )
    return body


def owner_grants(network: Any) -> list[tuple[str, str, bool]]:
    """(channel_id, refresh_token, monetary) of every channel, as its owner grants access:
    with the monetary scope where the channel earns (the Partner Program)."""
    oauth = OAuth(network)
    out = []
    for channel in network.channels:
        monetary = owner_model.owner_traits(network, channel.index).monetized
        out.append(
            (channel.channel_id, oauth.refresh_token(channel.channel_id, monetary), monetary)
        )
    return out
