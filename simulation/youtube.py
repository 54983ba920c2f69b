"""The simulated YouTube on loopback: the Data API v3, and the owner's APIs beside it.

One server answers, on the real paths and with the real shapes, what the
warehouse talks to, so the unmodified google-api-python-client built from its
bundled discovery documents works against it with only the endpoint
overridden::

    build("youtube", "v3", developerKey=key, static_discovery=True,
          client_options={"api_endpoint": simulator.url})

- the Data API v3 (``/youtube/v3/...``): ``channels.list``,
  ``playlistItems.list``, ``videos.list`` and ``search.list``, served here;
- the Reporting API v1 (``/v1/...``), the Analytics API v2 (``/v2/reports``)
  and the OAuth 2.0 token endpoint (``/token``), served by
  :mod:`simulation.owner_apis` from the same network.

The Data API is held to its discovery document (:mod:`simulation.discovery`):
``part`` is required and repeated (``part=a&part=b`` is ``part=a,b``), as is
``id``; ``maxResults`` and every enum are checked against the document's range
and values; ``fields`` selects what an answer holds; every part of a resource
is accepted (the owner-only ones are 403 to an API key), and the errors carry
Google's documented reason, domain and location
(developers.google.com/youtube/v3/docs/errors and .../core_errors). A request
needs the API key (403 ``forbidden`` without one, 400 ``badRequest`` with
another) or an OAuth access token the simulator issued.

The data come from :class:`~simulation.network.Network`, observed at the end
of the simulator's current day. The simulator counts quota per day with
:data:`ytempire.quota.QUOTA_COSTS` (refused and invalid calls cost quota too,
as at Google), answers 403 ``quotaExceeded`` past its daily limit, and can
inject faults (5xx, 429, 403 ``rateLimitExceeded``, 403 ``quotaExceeded``,
403 ``playlistItemsNotAccessible``, or a 200 answer whose first item is
malformed) with Google's error bodies, on any call or on the calls for one
channel, playlist or video. The network's real-world channels
(:class:`~simulation.network.RealWorld`) answer as YouTube does:
``playlistNotFound`` for a channel without uploads, nothing for a terminated
channel, no ``likeCount``/``commentCount`` when hidden or disabled,
``liveBroadcastContent``, ``liveStreamingDetails`` and ``P0D`` for streams.

Control endpoints (not part of any Google API) live under ``/_sim/``:
``GET /_sim/state``, ``POST /_sim/day`` ``{"day": "YYYY-MM-DD"}``,
``POST /_sim/now`` ``{"now": "<RFC 3339>"}``, ``POST /_sim/faults`` (a
:class:`Fault` as JSON), ``POST /_sim/reset``, and the owner APIs' controls
(:mod:`simulation.owner_apis`).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import threading
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from simulation import discovery
from simulation.discovery import ParameterProblem
from simulation.network import Channel, Network, day_end
from ytempire.quota import QUOTA_COSTS

API_PREFIX = "/youtube/v3/"
DATA_API_SCOPE = "https://www.googleapis.com/auth/youtube.readonly"
SERVICE = ("youtube", "v3")
METHODS = {
    "channels": "channels.list",
    "playlistItems": "playlistItems.list",
    "videos": "videos.list",
    "search": "search.list",
}
_RESOURCES = {  # method -> (resource schema, list response schema)
    "channels.list": ("Channel", "ChannelListResponse"),
    "playlistItems.list": ("PlaylistItem", "PlaylistItemListResponse"),
    "videos.list": ("Video", "VideoListResponse"),
    "search.list": ("SearchResult", "SearchListResponse"),
}
# the filters of each method, one of which a request must name (the API reference's "Filters")
_FILTERS = {
    "channels.list": ("categoryId", "forHandle", "forUsername", "id", "managedByMe", "mine"),
    "playlistItems.list": ("id", "playlistId"),
    "videos.list": ("chart", "id", "myRating"),
}
_VIDEO_ONLY_SEARCH_FILTERS = (
    "eventType",
    "videoCaption",
    "videoCategoryId",
    "videoDefinition",
    "videoDimension",
    "videoDuration",
    "videoEmbeddable",
    "videoLicense",
    "videoPaidProductPlacement",
    "videoSyndicated",
    "videoType",
)
_SEARCH_TYPES = ("channel", "playlist", "video")
_OWNER_ONLY = "can only be retrieved by the video owner"  # the schema's words for such parts
_QUOTA_MESSAGE = (
    'The request cannot be completed because you have exceeded your <a href="/youtube/v3/'
    'getting-started#quota">quota</a>.'
)
_GRPC_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ALREADY_EXISTS",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}
# status, reason -> (domain, message, grpc status): the bodies Google returns
_ERRORS: dict[tuple[int, str], tuple[str, str, str | None]] = {
    (403, "quotaExceeded"): ("youtube.quota", _QUOTA_MESSAGE, None),
    (403, "rateLimitExceeded"): ("usageLimits", "Rate Limit Exceeded", None),
    (429, "rateLimitExceeded"): (
        "global",
        "Resource has been exhausted (e.g. check quota).",
        "RESOURCE_EXHAUSTED",
    ),
    (500, "backendError"): ("global", "Internal error encountered.", "INTERNAL"),
    (503, "backendError"): ("global", "The service is currently unavailable.", "UNAVAILABLE"),
    (400, "badRequest"): ("global", "Bad request.", "INVALID_ARGUMENT"),
    (400, "invalidPageToken"): ("youtube.parameter", "The page token is invalid.", None),
    (400, "missingRequiredParameter"): ("youtube.parameter", "No filter selected.", None),
    (400, "unknownPart"): ("youtube.part", "Unknown part.", None),
    (400, "invalidSearchFilter"): (
        "youtube.search",
        "Invalid combination of search filters and/or restrictions.",
        None,
    ),
    (400, "required"): ("global", "Required parameter.", None),
    (400, "invalidParameter"): ("global", "Invalid parameter value.", None),
    (401, "authError"): (
        "global",
        "Request had invalid authentication credentials. Expected OAuth 2 access token, login "
        "cookie or other valid authentication credential.",
        "UNAUTHENTICATED",
    ),
    (403, "forbidden"): (
        "global",
        "The request is missing a valid API key.",
        "PERMISSION_DENIED",
    ),
    (404, "notFound"): ("global", "Not Found", None),
    (404, "playlistNotFound"): (
        "youtube.playlistItem",
        "The playlist identified with the request's <code>playlistId</code> parameter "
        "cannot be found.",
        None,
    ),
    (403, "playlistItemsNotAccessible"): (
        "youtube.playlistItem",
        "The request is not properly authorized to retrieve the specified playlist.",
        None,
    ),
}
# Fault reasons with status 200: the answer is served, with one flaw
MALFORMED = "malformedItem"  # its first item is broken
MISSING_FIELD = "missingField"  # its first item lacks ``Fault.field`` (a dotted path)
REPEAT_PAGING = "repeatPageToken"  # nextPageToken is the token it was asked with
ENDLESS_PAGES = "endlessPages"  # always a fresh nextPageToken; past the end, pages start over
ERROR_INFO_TYPE = "type.googleapis.com/google.rpc.ErrorInfo"
_DEFAULT_REASON = {403: "rateLimitExceeded", 429: "rateLimitExceeded", 500: "backendError"}


def error_body(
    status: int,
    reason: str,
    message: str | None = None,
    *,
    domain: str | None = None,
    location: str | None = None,
    location_type: str = "parameter",
    details: list[dict[str, Any]] | None = None,
    error_info: dict[str, Any] | None = None,
    errors: bool = True,
) -> dict[str, Any]:
    """Google's JSON error body for an HTTP status and an ``errors[].reason``.

    ``location`` names the parameter (or header) at fault, as Google's bodies
    do for a missing, unknown or invalid one. ``error_info`` adds a
    ``google.rpc.ErrorInfo`` (``reason``, ``domain``, ``metadata``) to
    ``details[]``, the AIP-193 form; ``errors=False`` leaves the v3
    ``errors[]`` list out.
    """
    known_domain, default_message, grpc_status = _ERRORS.get(
        (status, reason), ("global", "Backend Error", _GRPC_STATUS.get(status))
    )
    text = message or default_message
    entry: dict[str, Any] = {"message": text, "domain": domain or known_domain, "reason": reason}
    if location is not None:
        entry.update(location=location, locationType=location_type)
    error: dict[str, Any] = {"code": status, "message": text}
    if errors:
        error["errors"] = [entry]
    if grpc_status:
        error["status"] = grpc_status
    details = list(details or [])
    if error_info is not None:
        details.append({"@type": ERROR_INFO_TYPE, **error_info})
    if details:
        error["details"] = details
    return {"error": error}


class ApiError(Exception):
    """An error answer: its HTTP status and Google's body (see :func:`error_body`)."""

    def __init__(self, status: int, reason: str, message: str | None = None, **where: Any):
        self.status, self.body = status, error_body(status, reason, message, **where)
        super().__init__(f"{status} {reason}")


def parameter_error(problem: ParameterProblem) -> ApiError:
    """The Data API's answer to a parameter its discovery document refuses."""
    reason = "required" if problem.kind == "required" else "invalidParameter"
    return ApiError(400, reason, problem.message, domain="global", location=problem.name)


@dataclass
class Fault:
    """Answer the next ``times`` matching calls with an error, after skipping ``after``.

    ``target`` (a channel, playlist or video id) limits the fault to the calls
    that name it in ``id`` or ``playlistId``. ``error_info`` adds an AIP-193
    ``ErrorInfo`` to the error body's ``details[]`` (``errors=False``: without
    ``errors[]``). Status 200 answers with one flaw, by reason:
    :data:`MALFORMED` breaks the first item (no ``snippet``, an unparseable
    ``contentDetails``), as a corrupt page would; :data:`MISSING_FIELD` removes
    ``field`` (dotted paths, comma-separated) from the first item; :data:`REPEAT_PAGING`
    hands back the page token it was asked with as ``nextPageToken``;
    :data:`ENDLESS_PAGES` always gives a fresh ``nextPageToken``, its pages
    starting over past the end.
    """

    status: int
    reason: str = ""
    method: str = "*"
    times: int = 1
    after: int = 0
    target: str = ""
    error_info: dict[str, Any] | None = None
    errors: bool = True
    field: str = ""

    def matches(self, method: str, query: dict[str, list[str]]) -> bool:
        if self.method not in ("*", method):
            return False
        named = {*discovery.values(query, "id"), *discovery.values(query, "playlistId")}
        return not self.target or self.target in named

    def __post_init__(self) -> None:
        self.reason = self.reason or _DEFAULT_REASON.get(self.status, "backendError")


@dataclass
class QuotaLedger:
    """Units and requests the simulator served, per simulated day and method."""

    units: Counter[tuple[str, str]] = field(default_factory=Counter)
    requests: Counter[tuple[str, str]] = field(default_factory=Counter)

    def charge(self, day: date, method: str) -> None:
        self.units[(day.isoformat(), method)] += QUOTA_COSTS[method]
        self.requests[(day.isoformat(), method)] += 1

    def used(self, day: date | None = None) -> int:
        return sum(v for (d, _), v in self.units.items() if day is None or d == day.isoformat())

    def calls(self, method: str | None = None) -> int:
        return sum(v for (_, m), v in self.requests.items() if method in (None, m))


@dataclass(frozen=True)
class Request:
    """One HTTP request as the simulators see it."""

    method: str  # GET, POST, DELETE
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: bytes = b""
    base_url: str = ""  # scheme://host:port/ the client called

    def bearer(self) -> str | None:
        auth = self.headers.get("authorization", "")
        return auth[7:].strip() if auth.lower().startswith("bearer ") else None


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str = "application/json; charset=UTF-8"
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, payload: Any) -> Response:
        return cls(status, json.dumps(payload).encode())


class YouTubeSimulator:
    """The simulator: a network, a clock, the Data API's quota ledger and faults, the owner APIs."""

    def __init__(
        self,
        network: Network | None = None,
        *,
        day: date | None = None,
        daily_quota: int = 10_000,
        api_key: str | None = None,
    ) -> None:
        """``api_key``: the one key the Data API accepts (default: the configured
        ``YTEMPIRE_YOUTUBE_API_KEY``, so the warehouse's own settings work)."""
        from simulation.owner_apis import OwnerApis  # the owner's APIs share this server

        if api_key is None:
            from ytempire.settings import get_settings

            api_key = get_settings().youtube_api_key
        self.network = network or Network()
        self.day = day or self.network.epoch
        self.now = day_end(self.day)
        self.daily_quota = daily_quota
        self.api_key = api_key
        self.ledger = QuotaLedger()
        self.faults: list[Fault] = []
        self._lock = threading.RLock()
        self.owner = OwnerApis(self)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- control ---------------------------------------------------------------------------

    def set_day(self, day: date) -> None:
        """Serve ``day``: the Data API's counters at its end, the owner APIs' clock there too."""
        with self._lock:
            self.day, self.now = day, day_end(day)

    def set_now(self, now: datetime) -> None:
        """Set the clock to an instant (UTC); the Data API serves the end of its UTC day."""
        with self._lock:
            self.now = now.astimezone(UTC)
            self.day = self.now.date()

    def inject(self, fault: Fault) -> None:
        with self._lock:
            self.faults.append(fault)

    def reset(self) -> None:
        with self._lock:
            self.ledger = QuotaLedger()
            self.faults.clear()
            self.owner.reset()

    def state(self) -> dict[str, Any]:
        with self._lock:
            return {
                "day": self.day.isoformat(),
                "now": _ts(self.now),
                "channels": len(self.network.channels),
                "quota_used_today": self.ledger.used(self.day),
                "quota_used_total": self.ledger.used(),
                "daily_quota": self.daily_quota,
                "units": {f"{d} {m}": v for (d, m), v in sorted(self.ledger.units.items())},
                "requests": {f"{d} {m}": v for (d, m), v in sorted(self.ledger.requests.items())},
                "pending_faults": [asdict(f) for f in self.faults],
                "owner": self.owner.state(),
            }

    # --- serving ---------------------------------------------------------------------------

    def dispatch(self, request: Request) -> Response:
        """Answer one HTTP request of any of the simulated APIs; thread-safe."""
        if request.path.startswith(API_PREFIX):
            if request.method != "GET":
                return Response.json(404, error_body(404, "notFound"))
            try:
                return Response.json(200, self.handle(request.path, request.query, request.headers))
            except ApiError as exc:
                return Response.json(exc.status, exc.body)
        return self.owner.dispatch(request)

    def handle(
        self,
        path: str,
        query: dict[str, list[str]],
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """Answer one Data API call (raises :class:`ApiError`); thread-safe."""
        resource = path[len(API_PREFIX) :] if path.startswith(API_PREFIX) else ""
        method = METHODS.get(resource)
        if method is None:
            raise ApiError(404, "notFound")
        with self._lock:
            self._authorize(query, headers or {})
            if self.ledger.used(self.day) + QUOTA_COSTS[method] > self.daily_quota:
                raise ApiError(403, "quotaExceeded")
            fault = self._take_fault(method, query)
            self.ledger.charge(self.day, method)  # errors cost quota too, as at Google
            if fault is not None and fault.status != 200:
                raise ApiError(
                    fault.status, fault.reason, error_info=fault.error_info, errors=fault.errors
                )
            try:
                discovery.check_parameters(discovery.method(*SERVICE, method), query)
                selection = _fields(method, query)
            except ParameterProblem as problem:
                raise parameter_error(problem) from None
            if fault is not None and fault.reason == ENDLESS_PAGES:
                query = {**query, "_endless": ["1"]}  # after the check: not a real parameter
            body = _RESPONDERS[method](self, query, day_end(self.day))
            if fault is not None:
                _flaw(body, fault, query)
            return dict(discovery.select_fields(body, selection))

    def _authorize(self, query: dict[str, list[str]], headers: dict[str, str]) -> None:
        """An API key or an access token this simulator issued; Google's answers otherwise."""
        token = headers.get("authorization", "")
        if token.lower().startswith("bearer "):  # the owners' grants hold no Data API scope
            self.owner.oauth.check_token(token[7:].strip(), scope=DATA_API_SCOPE)
            return
        key = query.get("key", [""])[-1]
        if not key:
            raise ApiError(403, "forbidden")
        if key != self.api_key:
            raise ApiError(
                400,
                "badRequest",
                "API key not valid. Please pass a valid API key.",
                details=[
                    {
                        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                        "reason": "API_KEY_INVALID",
                        "domain": "googleapis.com",
                        "metadata": {"service": "youtube.googleapis.com"},
                    }
                ],
            )

    def _take_fault(self, method: str, query: dict[str, list[str]]) -> Fault | None:
        for fault in self.faults:
            if not fault.matches(method, query):
                continue
            if fault.after > 0:
                fault.after -= 1
                return None
            fault.times -= 1
            if fault.times <= 0:
                self.faults.remove(fault)
            return fault
        return None

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve in a background thread; return the base URL (``http://host:port/``)."""
        self._server = ThreadingHTTPServer((host, port), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="youtube-simulator", daemon=True
        )
        self._thread.start()
        return self.url

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the simulator is not serving; call start() first")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> YouTubeSimulator:
        if self._server is None:
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --- responses -----------------------------------------------------------------------------


def _flaw(body: dict[str, Any], fault: Fault, query: dict[str, list[str]]) -> None:
    """Give a served answer the flaw a status-200 ``fault`` names."""
    items = body.get("items")
    if fault.reason == REPEAT_PAGING:
        if token := query.get("pageToken", [""])[-1]:
            body["nextPageToken"] = token
    elif fault.reason == MISSING_FIELD and items:
        for path in fault.field.split(","):
            *parents, last = path.strip().split(".")
            node = items[0]
            for key in parents:
                node = node.get(key, {})
            node.pop(last, None)
    elif fault.reason == MALFORMED and items:
        items[0] = _malformed(items[0])


def _malformed(item: dict[str, Any]) -> dict[str, Any]:
    """``item`` as a corrupt answer holds it: ids kept, no snippet, unparseable details."""
    return {
        "kind": item.get("kind"),
        "etag": item.get("etag"),
        "id": item.get("id"),
        "contentDetails": {"duration": "PT-broken", "videoPublishedAt": "yesterday"},
    }


def _etag(payload: object) -> str:
    digest = hashlib.sha1(json.dumps(payload, sort_keys=True, default=str).encode()).digest()  # noqa: S324
    return base64.urlsafe_b64encode(digest).decode()[:27]


def _ts(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def _fields(method: str, query: dict[str, list[str]]) -> discovery.Selection | None:
    raw = query.get("fields", [""])[-1]
    if not raw:
        return None
    try:
        selection = discovery.parse_fields(raw)
    except ValueError as exc:
        raise ParameterProblem("fields", "fields", str(exc)) from None
    discovery.check_fields(selection, *SERVICE, _RESOURCES[method][1])
    return selection


def _parts(method: str, query: dict[str, list[str]], owner_allowed: bool = False) -> set[str]:
    """The requested parts: each must be a part of the resource (its schema's properties)."""
    parts = discovery.values(query, "part")
    schema = discovery.document(*SERVICE)["schemas"][_RESOURCES[method][0]]["properties"]
    for part in parts:
        if part in ("kind", "etag") or part not in schema:
            raise ApiError(400, "unknownPart", f"'{part}'", location="part")
        if _OWNER_ONLY in schema[part].get("description", "") and not owner_allowed:
            raise ApiError(
                403,
                "forbidden",
                "The request is not properly authorized to access video file or processing "
                "information. Note that the fileDetails, processingDetails, and suggestions "
                "parts are only available to that video's owner.",
                domain="youtube.video",
            )
    return set(parts)


def _require_filter(method: str, query: dict[str, list[str]]) -> None:
    filters = _FILTERS[method]
    if not any(query.get(name, [""])[-1] for name in filters):
        raise ApiError(
            400,
            "missingRequiredParameter",
            f"No filter selected. Expected one of: {', '.join(filters)}",
            location="parameters.",
            location_type="other",
        )


def _ids(query: dict[str, list[str]]) -> list[str]:
    values = discovery.values(query, "id")
    if len(values) > 50:
        raise ApiError(400, "badRequest", "The request specifies more than 50 ids.", location="id")
    return values


def _max_results(query: dict[str, list[str]], default: int = 5) -> int:
    """``maxResults`` (its range was checked against the discovery document)."""
    return int(query.get("maxResults", [str(default)])[-1] or default)


def _page_token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"EAAa:{offset}".encode()).decode().rstrip("=")


def _offset(query: dict[str, list[str]]) -> int:
    token = query.get("pageToken", [""])[-1]
    if not token:
        return 0
    try:
        prefix, value = (
            base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode().split(":")
        )
        if prefix != "EAAa":
            raise ValueError(prefix)
        return int(value)
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "invalidPageToken", location="pageToken") from None


def _list(kind: str, items: list[dict[str, Any]], total: int, per_page: int, **extra: Any) -> dict:
    body: dict[str, Any] = {"kind": f"youtube#{kind}ListResponse", "etag": ""}
    body.update(extra)
    body["pageInfo"] = {"totalResults": total, "resultsPerPage": per_page}
    body["items"] = items
    body["etag"] = _etag(items)
    return body


def _thumbnails(key: str) -> dict[str, Any]:
    return {
        size: {"url": f"https://i.ytimg.com/vi/{key}/{name}.jpg", "width": w, "height": h}
        for size, name, w, h in (
            ("default", "default", 120, 90),
            ("medium", "mqdefault", 320, 180),
            ("high", "hqdefault", 480, 360),
        )
    }


def _topic_category(niche: str) -> str:
    return f"https://en.wikipedia.org/wiki/{niche.title()}"


def _channels(sim: YouTubeSimulator, query: dict[str, list[str]], as_of: datetime) -> dict:
    parts = _parts("channels.list", query)
    _require_filter("channels.list", query)
    wanted = _ids(query)
    net = sim.network
    found = [c for c in (net.channel(i) for i in wanted) if c and c.exists_at(as_of)]
    items = [_channel_item(net, c, parts, as_of) for c in found]
    return _list("channel", items, len(items), _max_results(query))


def _channel_item(net: Network, ch: Channel, parts: set[str], as_of: datetime) -> dict:
    item: dict[str, Any] = {"kind": "youtube#channel", "etag": "", "id": ch.channel_id}
    description = f"{ch.niche.title()} videos every day."
    if "snippet" in parts:
        item["snippet"] = {
            "title": ch.title,
            "description": description,
            "customUrl": "@" + ch.title.lower().replace(" ", ""),
            "publishedAt": _ts(ch.published_at),
            "thumbnails": _thumbnails(ch.channel_id),
            "localized": {"title": ch.title, "description": description},
            "country": ch.country,
        }
    if "contentDetails" in parts:
        item["contentDetails"] = {
            "relatedPlaylists": {"likes": "", "uploads": ch.uploads_playlist_id}
        }
    if "statistics" in parts:
        views, subscribers, videos = net.channel_totals(ch, as_of)
        stats: dict[str, Any] = {"viewCount": str(views)}
        if not ch.hidden_subscriber_count:
            stats["subscriberCount"] = str(subscribers)
        stats["hiddenSubscriberCount"] = ch.hidden_subscriber_count
        stats["videoCount"] = str(videos)
        item["statistics"] = stats
    if "status" in parts:
        item["status"] = {
            "privacyStatus": "public",
            "isLinked": True,
            "longUploadsStatus": "allowed",
            "madeForKids": False,
        }
    if "brandingSettings" in parts:
        item["brandingSettings"] = {
            "channel": {
                "title": ch.title,
                "description": description,
                "keywords": f"{ch.niche} daily",
                "country": ch.country,
            },
            "image": {
                "bannerExternalUrl": f"https://yt3.googleusercontent.com/banner-{ch.channel_id}"
            },
        }
    if "topicDetails" in parts:
        item["topicDetails"] = {"topicCategories": [_topic_category(ch.niche)]}
    item["etag"] = _etag(item)
    return item


def _uploads(sim: YouTubeSimulator, channel: Channel, as_of: datetime) -> list[int]:
    """Upload indexes of a channel, newest first (the uploads playlist's order)."""
    return list(range(sim.network.uploads(channel, as_of) - 1, -1, -1))


def _playlist_item_id(playlist_id: str, video_id: str) -> str:
    return base64.urlsafe_b64encode(f"{playlist_id}.{video_id}".encode()).decode().rstrip("=")


def _playlist_item_key(item_id: str) -> tuple[str, str] | None:
    try:
        raw = base64.urlsafe_b64decode(item_id + "=" * (-len(item_id) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    playlist_id, _, video_id = raw.partition(".")
    return (playlist_id, video_id) if video_id else None


def _playlist_items(sim: YouTubeSimulator, query: dict[str, list[str]], as_of: datetime) -> dict:
    parts = _parts("playlistItems.list", query)
    _require_filter("playlistItems.list", query)
    if query.get("id", [""])[-1]:
        return _playlist_items_by_id(sim, parts, _ids(query), as_of)
    playlist_id = query["playlistId"][-1]
    channel = sim.network.channel("UC" + playlist_id[2:]) if playlist_id.startswith("UU") else None
    uploads = _uploads(sim, channel, as_of) if channel and channel.exists_at(as_of) else []
    # YouTube has no uploads playlist for a channel that never uploaded (nor a gone one)
    if channel is None or not uploads:
        raise ApiError(404, "playlistNotFound", location="playlistId")
    per_page, offset = _max_results(query), _offset(query)
    endless = "_endless" in query
    page = uploads[offset % len(uploads) :][:per_page] if endless else uploads[offset:][:per_page]
    items = [
        _playlist_item(sim, channel, playlist_id, n, position, parts)
        for position, n in enumerate(page, start=offset)
    ]
    extra = {}
    if offset + per_page < len(uploads) or endless:
        extra["nextPageToken"] = _page_token(offset + per_page)
    if offset > 0:
        extra["prevPageToken"] = _page_token(max(0, offset - per_page))
    return _list("playlistItem", items, len(uploads), per_page, **extra)


def _playlist_items_by_id(
    sim: YouTubeSimulator, parts: set[str], wanted: list[str], as_of: datetime
) -> dict:
    items = []
    for item_id in wanted:
        key = _playlist_item_key(item_id)
        located = sim.network.locate(key[1], as_of) if key else None
        if key is None or located is None:
            continue
        channel = sim.network.channels[located[0]]
        if key[0] != channel.uploads_playlist_id or not channel.exists_at(as_of):
            continue
        position = sim.network.uploads(channel, as_of) - 1 - located[1]
        items.append(_playlist_item(sim, channel, key[0], located[1], position, parts))
    return _list("playlistItem", items, len(items), len(items))


def _playlist_item(
    sim: YouTubeSimulator, channel: Channel, playlist_id: str, n: int, position: int, parts: set
) -> dict[str, Any]:
    video = sim.network.video(channel.index, n)
    item: dict[str, Any] = {
        "kind": "youtube#playlistItem",
        "etag": "",
        "id": _playlist_item_id(playlist_id, video.video_id),
    }
    if "snippet" in parts:
        item["snippet"] = {
            "publishedAt": _ts(video.published_at),
            "channelId": channel.channel_id,
            "title": video.title,
            "description": video.description,
            "thumbnails": _thumbnails(video.video_id),
            "channelTitle": channel.title,
            "playlistId": playlist_id,
            "position": position,
            "resourceId": {"kind": "youtube#video", "videoId": video.video_id},
            "videoOwnerChannelTitle": channel.title,
            "videoOwnerChannelId": channel.channel_id,
        }
    if "contentDetails" in parts:
        item["contentDetails"] = {
            "videoId": video.video_id,
            "videoPublishedAt": _ts(video.published_at),
        }
    if "status" in parts:
        item["status"] = {"privacyStatus": "public"}
    item["etag"] = _etag(item)
    return item


def _videos(sim: YouTubeSimulator, query: dict[str, list[str]], as_of: datetime) -> dict:
    parts = _parts("videos.list", query)
    _require_filter("videos.list", query)
    wanted = _ids(query)
    net = sim.network
    items = []
    for video_id in wanted:
        located = net.locate(video_id, as_of)
        if located is not None and net.channels[located[0]].exists_at(as_of):
            items.append(_video_item(net, *located, parts, as_of))
    return _list("video", items, len(items), len(items))


def _video_item(net: Network, ch_index: int, n: int, parts: set[str], as_of: datetime) -> dict:
    video, channel = net.video(ch_index, n), net.channels[ch_index]
    item: dict[str, Any] = {"kind": "youtube#video", "etag": "", "id": video.video_id}
    if "snippet" in parts:
        item["snippet"] = {
            "publishedAt": _ts(video.published_at),
            "channelId": channel.channel_id,
            "title": video.title,
            "description": video.description,
            "thumbnails": _thumbnails(video.video_id),
            "channelTitle": channel.title,
            "tags": list(video.tags),
            "categoryId": channel.category_id,
            "liveBroadcastContent": video.broadcast_content(as_of),
            "defaultAudioLanguage": "en",
            "localized": {"title": video.title, "description": video.description},
        }
    if "contentDetails" in parts:
        item["contentDetails"] = {
            "duration": video.duration_at(as_of),
            "dimension": "2d",
            "definition": video.definition,
            "caption": "false",
            "licensedContent": True,
            "contentRating": {},
            "projection": "rectangular",
        }
    if "statistics" in parts:
        counters, traits = net.counters(video, as_of), channel.real_world
        stats = {"viewCount": str(counters.views)}
        if not traits.hides_like_count:  # hidden likes: the field is absent
            stats["likeCount"] = str(counters.likes)
        stats["favoriteCount"] = "0"
        if not traits.comments_disabled:  # comments disabled: absent too
            stats["commentCount"] = str(counters.comments)
        item["statistics"] = stats
    if "status" in parts:
        item["status"] = {
            "uploadStatus": "processed",
            "privacyStatus": "public",
            "license": "youtube",
            "embeddable": True,
            "publicStatsViewable": True,
            "madeForKids": False,
        }
    if "liveStreamingDetails" in parts and video.live_starts_at is not None:
        item["liveStreamingDetails"] = _live_details(video, as_of)
    if "player" in parts:
        item["player"] = {
            "embedHtml": f'<iframe width="480" height="270" src="//www.youtube.com/embed/'
            f'{video.video_id}" frameborder="0" allowfullscreen></iframe>'
        }
    if "topicDetails" in parts:
        item["topicDetails"] = {"topicCategories": [_topic_category(channel.niche)]}
    if "paidProductPlacementDetails" in parts:
        item["paidProductPlacementDetails"] = {"hasPaidProductPlacement": False}
    if "recordingDetails" in parts:
        item["recordingDetails"] = {}
    item["etag"] = _etag(item)
    return item


def _live_details(video: Any, as_of: datetime) -> dict[str, Any]:
    """A broadcast's ``liveStreamingDetails``: scheduled, then actual start and end."""
    from datetime import timedelta

    starts = video.live_starts_at
    ends = starts + timedelta(seconds=video.duration_seconds)
    details: dict[str, Any] = {"scheduledStartTime": _ts(starts)}
    if as_of >= starts:
        details["actualStartTime"] = _ts(starts)
    if as_of >= ends:
        details["actualEndTime"] = _ts(ends)
    elif as_of >= starts:
        details["concurrentViewers"] = str(max(1, int(video.total_views / 200)))
    return details


def _search(sim: YouTubeSimulator, query: dict[str, list[str]], as_of: datetime) -> dict:
    parts = _parts("search.list", query)
    kinds = discovery.values(query, "type") or list(_SEARCH_TYPES)
    unknown = [k for k in kinds if k not in _SEARCH_TYPES]
    if unknown:
        raise ApiError(
            400, "invalidSearchFilter", f"Invalid type: '{unknown[0]}'.", location="type"
        )
    video_only = [f for f in _VIDEO_ONLY_SEARCH_FILTERS if query.get(f, [""])[-1]]
    if video_only and kinds != ["video"]:
        raise ApiError(
            400,
            "invalidSearchFilter",
            f"The {video_only[0]} parameter can only be used when the type parameter is video.",
            location=video_only[0],
        )
    channel_id = query.get("channelId", [""])[-1]
    channel = sim.network.channel(channel_id) if channel_id else None
    results: list[tuple[str, int]] = []  # (kind, upload index or -1 for the channel)
    if channel and channel.exists_at(as_of):
        if "channel" in kinds:
            results.append(("channel", -1))
        if "video" in kinds:
            results += [("video", n) for n in _uploads(sim, channel, as_of)]
    per_page, offset = _max_results(query), _offset(query)
    items = [
        _search_item(sim, channel, kind, n, parts, as_of)  # type: ignore[arg-type]
        for kind, n in results[offset : offset + per_page]
    ]
    extra: dict[str, Any] = {}
    if offset + per_page < len(results):
        extra["nextPageToken"] = _page_token(offset + per_page)
    extra["regionCode"] = "US"
    return _list("search", items, len(results), per_page, **extra)


def _search_item(
    sim: YouTubeSimulator, channel: Channel, kind: str, n: int, parts: set[str], as_of: datetime
) -> dict[str, Any]:
    item: dict[str, Any] = {"kind": "youtube#searchResult", "etag": ""}
    if kind == "channel":
        item["id"] = {"kind": "youtube#channel", "channelId": channel.channel_id}
        if "snippet" in parts:
            item["snippet"] = {
                "publishedAt": _ts(channel.published_at),
                "channelId": channel.channel_id,
                "title": channel.title,
                "description": f"{channel.niche.title()} videos every day.",
                "thumbnails": _thumbnails(channel.channel_id),
                "channelTitle": channel.title,
                "liveBroadcastContent": "none",
            }
    else:
        video = sim.network.video(channel.index, n)
        item["id"] = {"kind": "youtube#video", "videoId": video.video_id}
        if "snippet" in parts:
            item["snippet"] = {
                "publishedAt": _ts(video.published_at),
                "channelId": channel.channel_id,
                "title": video.title,
                "description": video.description,
                "thumbnails": _thumbnails(video.video_id),
                "channelTitle": channel.title,
                "liveBroadcastContent": video.broadcast_content(as_of),
            }
    item["etag"] = _etag(item)
    return item


_RESPONDERS = {
    "channels.list": _channels,
    "playlistItems.list": _playlist_items,
    "videos.list": _videos,
    "search.list": _search,
}


# --- HTTP ----------------------------------------------------------------------------------

_CONTROL_POSTS = ("/_sim/day", "/_sim/now", "/_sim/faults", "/_sim/reset")


def _handler_for(sim: YouTubeSimulator) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "ESF"
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def do_DELETE(self) -> None:
            self._serve("DELETE")

        def _serve(self, verb: str) -> None:
            url = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            if url.path == "/_sim/state" and verb == "GET":
                self._send(Response.json(200, sim.state()))
                return
            if url.path in _CONTROL_POSTS and verb == "POST":
                self._send(self._control(url.path, body))
                return
            host = self.headers.get("Host") or sim.url.removeprefix("http://").rstrip("/")
            request = Request(
                method=verb,
                path=url.path,
                query=parse_qs(url.query, keep_blank_values=True),
                headers={k.lower(): v for k, v in self.headers.items()},
                body=body,
                base_url=f"http://{host}/",
            )
            try:
                response = sim.dispatch(request)
            except Exception as exc:  # a simulator bug: say so as Google's 500 would
                response = Response.json(500, error_body(500, "backendError", repr(exc)))
            self._send(response, gzip_ok="gzip" in request.headers.get("accept-encoding", ""))

        def _control(self, path: str, body: bytes) -> Response:
            try:
                payload = json.loads(body or b"{}")
                if path == "/_sim/day":
                    sim.set_day(date.fromisoformat(payload["day"]))
                elif path == "/_sim/now":
                    sim.set_now(datetime.fromisoformat(payload["now"].replace("Z", "+00:00")))
                elif path == "/_sim/faults":
                    sim.inject(Fault(**payload))
                else:
                    sim.reset()
            except (ValueError, KeyError, TypeError) as exc:
                return Response.json(
                    400, error_body(400, "badRequest", f"bad control request: {exc}")
                )
            return Response.json(200, sim.state())

        def _send(self, response: Response, gzip_ok: bool = False) -> None:
            data = response.body
            headers = dict(response.headers)
            if gzip_ok and headers.pop("x-sim-gzip", "") == "1":
                data = gzip.compress(data)
                headers["Content-Encoding"] = "gzip"
            headers.pop("x-sim-gzip", None)
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler
