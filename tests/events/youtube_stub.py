"""A minimal local stand-in for the YouTube Data API's ``videos.list`` (test helper).

Serves ``GET /youtube/v3/videos?part=...&id=...`` with the real response shape
(``youtube#videoListResponse``) for the videos it is given; unknown ids give
an empty ``items`` list, as YouTube does. Runs in a thread on a free port.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


def video_resource(video_id: str, views: int, likes: int, comments: int) -> dict:
    return {
        "kind": "youtube#video",
        "etag": f"etag-{video_id}",
        "id": video_id,
        "contentDetails": {"duration": "PT10M2S", "dimension": "2d", "definition": "hd"},
        "statistics": {
            "viewCount": str(views),
            "likeCount": str(likes),
            "favoriteCount": "0",
            "commentCount": str(comments),
        },
    }


@contextmanager
def youtube_stub(videos: dict[str, dict]) -> Iterator[str]:
    """Serve ``videos`` (id -> resource); yield the root URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urlsplit(self.path)
            if url.path != "/youtube/v3/videos":
                self.send_error(404)
                return
            ids = parse_qs(url.query).get("id", [""])[0].split(",")
            items = [videos[i] for i in ids if i in videos]
            body = json.dumps(
                {
                    "kind": "youtube#videoListResponse",
                    "etag": "stub",
                    "items": items,
                    "pageInfo": {"totalResults": len(items), "resultsPerPage": len(items)},
                }
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
