"""A YouTube Data API v3 simulator on loopback, for tests, benchmarks and the demo.

It serves ``channels.list``, ``playlistItems.list``, ``videos.list`` and
``search.list`` on the real paths (``/youtube/v3/<resource>``) with the real
parameters and response shapes (``kind``, ``etag``, ``pageInfo``,
``nextPageToken``; counts as strings), so the unmodified
google-api-python-client built from its bundled discovery document works
against it with only the endpoint overridden::

    build("youtube", "v3", developerKey=key, static_discovery=True,
          client_options={"api_endpoint": simulator.url})

The data come from :class:`~simulation.network.Network`, observed at
the end of the simulator's current day. The simulator counts quota per day
with :data:`ytempire.quota.QUOTA_COSTS`, answers 403 ``quotaExceeded`` past
its daily limit, and can inject faults (5xx, 429, 403 ``rateLimitExceeded``,
403 ``quotaExceeded``, 403 ``playlistItemsNotAccessible``, or a 200 answer
whose first item is malformed) with Google's error bodies, on any call or on
the calls for one channel, playlist or video. The network's real-world
channels (:class:`~simulation.network.RealWorld`) answer as YouTube
does: ``playlistNotFound`` for a channel without uploads, nothing for a
terminated channel, no ``likeCount``/``commentCount`` when hidden or disabled,
``liveBroadcastContent`` and ``P0D`` for streams.

Control endpoints (not part of the YouTube API) live under ``/_sim/``:
``GET /_sim/state``, ``POST /_sim/day`` ``{"day": "YYYY-MM-DD"}``,
``POST /_sim/faults`` (a :class:`Fault` as JSON), ``POST /_sim/reset``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from simulation.network import Channel, Network, day_end
from ytempire.quota import QUOTA_COSTS

API_PREFIX = "/youtube/v3/"
METHODS = {
    "channels": "channels.list",
    "playlistItems": "playlistItems.list",
    "videos": "videos.list",
    "search": "search.list",
}
_PARTS = {
    "channels.list": {"id", "snippet", "contentDetails", "statistics"},
    "playlistItems.list": {"id", "snippet", "contentDetails", "status"},
    "videos.list": {"id", "snippet", "contentDetails", "statistics"},
    "search.list": {"id", "snippet"},
}
_QUOTA_MESSAGE = (
    'The request cannot be completed because you have exceeded your <a href="/youtube/v3/'
    'getting-started#quota">quota</a>.'
)
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
    (400, "badRequest"): ("youtube.parameter", "Bad request.", "INVALID_ARGUMENT"),
    (400, "invalidPageToken"): ("youtube.parameter", "The page token is invalid.", None),
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
    error_info: dict[str, Any] | None = None,
    errors: bool = True,
) -> dict[str, Any]:
    """Google's JSON error body for an HTTP status and an ``errors[].reason``.

    ``error_info`` adds a ``google.rpc.ErrorInfo`` (``reason``, ``domain``,
    ``metadata``) to ``details[]``, the AIP-193 form; ``errors=False`` leaves
    the v3 ``errors[]`` list out.
    """
    domain, default_message, grpc_status = _ERRORS.get(
        (status, reason), ("global", "Backend Error", None)
    )
    text = message or default_message
    error: dict[str, Any] = {"code": status, "message": text}
    if errors:
        error["errors"] = [{"message": text, "domain": domain, "reason": reason}]
    if grpc_status:
        error["status"] = grpc_status
    if error_info is not None:
        error["details"] = [{"@type": ERROR_INFO_TYPE, **error_info}]
    return {"error": error}


class ApiError(Exception):
    def __init__(self, status: int, reason: str, message: str | None = None, **body: Any):
        self.status, self.body = status, error_body(status, reason, message, **body)
        super().__init__(f"{status} {reason}")


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

    def matches(self, method: str, params: dict[str, str]) -> bool:
        if self.method not in ("*", method):
            return False
        named = {*params.get("id", "").split(","), params.get("playlistId", "")}
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


class YouTubeSimulator:
    """The simulator: a network, a current day, a quota ledger and a fault queue."""

    def __init__(
        self,
        network: Network | None = None,
        *,
        day: date | None = None,
        daily_quota: int = 10_000,
        api_key: str | None = None,
    ) -> None:
        self.network = network or Network()
        self.day = day or self.network.epoch
        self.daily_quota = daily_quota
        self.api_key = api_key
        self.ledger = QuotaLedger()
        self.faults: list[Fault] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- control ---------------------------------------------------------------------------

    def set_day(self, day: date) -> None:
        with self._lock:
            self.day = day

    def inject(self, fault: Fault) -> None:
        with self._lock:
            self.faults.append(fault)

    def reset(self) -> None:
        with self._lock:
            self.ledger = QuotaLedger()
            self.faults.clear()

    def state(self) -> dict[str, Any]:
        with self._lock:
            return {
                "day": self.day.isoformat(),
                "channels": len(self.network.channels),
                "quota_used_today": self.ledger.used(self.day),
                "quota_used_total": self.ledger.used(),
                "daily_quota": self.daily_quota,
                "units": {f"{d} {m}": v for (d, m), v in sorted(self.ledger.units.items())},
                "requests": {f"{d} {m}": v for (d, m), v in sorted(self.ledger.requests.items())},
                "pending_faults": [asdict(f) for f in self.faults],
            }

    # --- serving ---------------------------------------------------------------------------

    def handle(self, path: str, query: dict[str, list[str]]) -> dict[str, Any]:
        """Answer one API call (raises :class:`ApiError`); thread-safe."""
        resource = path[len(API_PREFIX) :] if path.startswith(API_PREFIX) else ""
        method = METHODS.get(resource)
        if method is None:
            raise ApiError(404, "notFound")
        params = {k: v[-1] for k, v in query.items()}
        with self._lock:
            if self.api_key is not None and params.get("key") != self.api_key:
                raise ApiError(403, "forbidden")
            if self.ledger.used(self.day) + QUOTA_COSTS[method] > self.daily_quota:
                raise ApiError(403, "quotaExceeded")
            fault = self._take_fault(method, params)
            self.ledger.charge(self.day, method)  # errors cost quota too, as at Google
            if fault is not None and fault.status != 200:
                raise ApiError(
                    fault.status, fault.reason, error_info=fault.error_info, errors=fault.errors
                )
            as_of = day_end(self.day)
            if fault is not None and fault.reason == ENDLESS_PAGES:
                params = {**params, "_endless": "1"}
            body = _RESPONDERS[method](self, params, as_of)
            if fault is not None:
                _flaw(body, fault, params)
            return body

    def _take_fault(self, method: str, params: dict[str, str]) -> Fault | None:
        for fault in self.faults:
            if not fault.matches(method, params):
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


def _flaw(body: dict[str, Any], fault: Fault, params: dict[str, str]) -> None:
    """Give a served answer the flaw a status-200 ``fault`` names."""
    items = body.get("items")
    if fault.reason == REPEAT_PAGING:
        if params.get("pageToken"):
            body["nextPageToken"] = params["pageToken"]
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


def _parts(method: str, params: dict[str, str]) -> set[str]:
    raw = params.get("part")
    if not raw:
        raise ApiError(400, "badRequest", "No filter selected. Expected one of: part")
    parts = {p.strip() for p in raw.split(",") if p.strip()}
    unknown = parts - _PARTS[method]
    if unknown:
        raise ApiError(400, "badRequest", f"'{sorted(unknown)[0]}' is not a valid part")
    return parts


def _ids(params: dict[str, str]) -> list[str]:
    raw = params.get("id")
    if raw is None:
        raise ApiError(400, "badRequest", "No filter selected. Expected one of: id")
    values = [v for v in raw.split(",") if v]
    if len(values) > 50:
        raise ApiError(400, "badRequest", "The request specifies more than 50 ids.")
    return values


def _max_results(params: dict[str, str], default: int = 5) -> int:
    try:
        value = int(params.get("maxResults", default))
    except ValueError:
        raise ApiError(400, "badRequest", "Invalid value for maxResults.") from None
    if not 0 <= value <= 50:
        raise ApiError(400, "badRequest", "maxResults must be between 0 and 50.")
    return value


def _page_token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"EAAa:{offset}".encode()).decode().rstrip("=")


def _offset(params: dict[str, str]) -> int:
    token = params.get("pageToken")
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
        raise ApiError(400, "invalidPageToken") from None


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


def _channels(sim: YouTubeSimulator, params: dict[str, str], as_of: datetime) -> dict:
    parts, wanted = _parts("channels.list", params), _ids(params)
    net = sim.network
    found = [c for c in (net.channel(i) for i in wanted) if c and c.exists_at(as_of)]
    items = [_channel_item(net, c, parts, as_of) for c in found]
    return _list("channel", items, len(items), _max_results(params))


def _channel_item(net: Network, ch: Channel, parts: set[str], as_of: datetime) -> dict:
    item: dict[str, Any] = {"kind": "youtube#channel", "etag": "", "id": ch.channel_id}
    if "snippet" in parts:
        description = f"{ch.niche.title()} videos every day."
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
    item["etag"] = _etag(item)
    return item


def _uploads(sim: YouTubeSimulator, channel: Channel, as_of: datetime) -> list[int]:
    """Upload indexes of a channel, newest first (the uploads playlist's order)."""
    return list(range(sim.network.uploads(channel, as_of) - 1, -1, -1))


def _playlist_items(sim: YouTubeSimulator, params: dict[str, str], as_of: datetime) -> dict:
    parts = _parts("playlistItems.list", params)
    playlist_id = params.get("playlistId")
    if not playlist_id:
        raise ApiError(400, "badRequest", "No filter selected. Expected one of: id, playlistId")
    channel = sim.network.channel("UC" + playlist_id[2:]) if playlist_id.startswith("UU") else None
    uploads = _uploads(sim, channel, as_of) if channel and channel.exists_at(as_of) else []
    # YouTube has no uploads playlist for a channel that never uploaded (nor a gone one)
    if channel is None or not uploads:
        raise ApiError(404, "playlistNotFound")
    per_page, offset = _max_results(params), _offset(params)
    endless = "_endless" in params
    page = uploads[offset % len(uploads) :][:per_page] if endless else uploads[offset:][:per_page]
    items = []
    for position, n in enumerate(page, start=offset):
        video = sim.network.video(channel.index, n)
        item: dict[str, Any] = {
            "kind": "youtube#playlistItem",
            "etag": "",
            "id": base64.urlsafe_b64encode(f"{playlist_id}.{video.video_id}".encode())
            .decode()
            .rstrip("="),
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
        items.append(item)
    extra = {}
    if offset + per_page < len(uploads) or endless:
        extra["nextPageToken"] = _page_token(offset + per_page)
    if offset > 0:
        extra["prevPageToken"] = _page_token(max(0, offset - per_page))
    return _list("playlistItem", items, len(uploads), per_page, **extra)


def _videos(sim: YouTubeSimulator, params: dict[str, str], as_of: datetime) -> dict:
    parts, wanted = _parts("videos.list", params), _ids(params)
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
    item["etag"] = _etag(item)
    return item


def _search(sim: YouTubeSimulator, params: dict[str, str], as_of: datetime) -> dict:
    parts = _parts("search.list", params)
    channel_id = params.get("channelId")
    channel = sim.network.channel(channel_id) if channel_id else None
    per_page, offset = _max_results(params), _offset(params)
    uploads = _uploads(sim, channel, as_of) if channel else []
    items = []
    for n in uploads[offset : offset + per_page]:
        video = sim.network.video(channel.index, n)  # type: ignore[union-attr]
        item: dict[str, Any] = {
            "kind": "youtube#searchResult",
            "etag": "",
            "id": {"kind": "youtube#video", "videoId": video.video_id},
        }
        if "snippet" in parts:
            item["snippet"] = {
                "publishedAt": _ts(video.published_at),
                "channelId": channel.channel_id,  # type: ignore[union-attr]
                "title": video.title,
                "description": video.description,
                "thumbnails": _thumbnails(video.video_id),
                "channelTitle": channel.title,  # type: ignore[union-attr]
                "liveBroadcastContent": video.broadcast_content(as_of),
                "publishTime": _ts(video.published_at),
            }
        item["etag"] = _etag(item)
        items.append(item)
    extra: dict[str, Any] = {}
    if offset + per_page < len(uploads):
        extra["nextPageToken"] = _page_token(offset + per_page)
    extra["regionCode"] = "US"
    return _list("search", items, len(uploads), per_page, **extra)


_RESPONDERS = {
    "channels.list": _channels,
    "playlistItems.list": _playlist_items,
    "videos.list": _videos,
    "search.list": _search,
}


# --- HTTP ----------------------------------------------------------------------------------


def _handler_for(sim: YouTubeSimulator) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "ESF"
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            if url.path == "/_sim/state":
                self._send(200, sim.state())
                return
            try:
                self._send(200, sim.handle(url.path, parse_qs(url.query)))
            except ApiError as exc:
                self._send(exc.status, exc.body)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            try:
                body = json.loads(self.rfile.read(length) or b"{}")
                path = urlsplit(self.path).path
                if path == "/_sim/day":
                    sim.set_day(date.fromisoformat(body["day"]))
                elif path == "/_sim/faults":
                    sim.inject(Fault(**body))
                elif path == "/_sim/reset":
                    sim.reset()
                else:
                    self._send(404, error_body(404, "notFound"))
                    return
            except (ValueError, KeyError, TypeError) as exc:
                self._send(400, error_body(400, "badRequest", f"bad control request: {exc}"))
                return
            self._send(200, sim.state())

        def _send(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler
