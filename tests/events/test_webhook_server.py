"""The webhook served by uvicorn on loopback: slow clients are cut, connections are limited.

Real sockets against the real server (in a thread of the test process). The
verdicts wait on what the server does -- a 408 or 503 and the connection's
end -- with generous upper bounds that only fail a hung server.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

import pytest
import uvicorn

from platform_services.webhook import create_app, server_config

pytestmark = pytest.mark.services

BOUND_S = 60.0  # a hung test fails after this; a working server answers far sooner


@contextmanager
def served(settings, **limits: int) -> Iterator[tuple[int, object]]:
    s = replace(settings, **limits)
    app = create_app(s)
    config = server_config(app, "127.0.0.1", 0, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + BOUND_S
    while not (server.started and server.servers):
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield port, app.state.counters
    finally:
        server.should_exit = True
        thread.join(BOUND_S)


def read_until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    sock.settimeout(BOUND_S)
    data = b""
    while chunk := sock.recv(4096):
        data += chunk
    return data


def test_a_client_trickling_its_headers_is_cut_and_counted(settings):
    with served(settings, webhook_header_timeout_s=1) as (port, counters):
        sock = socket.create_connection(("127.0.0.1", port))
        sock.sendall(b"POST /webhooks/video-uploaded HTTP/1.1\r\nHost: x\r\n")
        answer = read_until_closed(sock)  # never sends the blank line ending the head
        sock.close()
        assert answer.startswith(b"HTTP/1.1 408 Request Timeout")
        assert b"not received within 1 s" in answer
        assert counters.value("ytempire_webhook_clients_cut_total", reason="header_timeout") == 1


def test_a_client_that_connects_and_sends_nothing_is_cut(settings):
    with served(settings, webhook_header_timeout_s=1) as (port, counters):
        sock = socket.create_connection(("127.0.0.1", port))
        assert read_until_closed(sock).startswith(b"HTTP/1.1 408")
        sock.close()
        assert counters.value("ytempire_webhook_clients_cut_total", reason="header_timeout") == 1


def test_a_client_stalling_its_body_is_cut_and_counted(settings):
    with served(settings, webhook_body_timeout_s=1) as (port, counters):
        sock = socket.create_connection(("127.0.0.1", port))
        sock.sendall(
            b"POST /webhooks/video-uploaded HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/json\r\nX-YTEmpire-Delivery: stalled-body-1\r\n"
            b'Content-Length: 100\r\n\r\n{"event'
        )
        answer = read_until_closed(sock)
        sock.close()
        assert answer.startswith(b"HTTP/1.1 408")
        assert b"the body was not received within 1 s" in answer
        assert counters.value("ytempire_webhook_clients_cut_total", reason="body_timeout") == 1


def test_connections_beyond_the_limit_are_refused_and_counted(settings):
    limit = 3
    with served(settings, webhook_max_connections=limit, webhook_header_timeout_s=300) as (
        port,
        counters,
    ):
        held = [socket.create_connection(("127.0.0.1", port)) for _ in range(limit)]
        extra = socket.create_connection(("127.0.0.1", port))
        answer = read_until_closed(extra)
        extra.close()
        assert answer.startswith(b"HTTP/1.1 503 Service Unavailable")
        assert counters.value("ytempire_webhook_clients_cut_total", reason="over_limit") == 1
        for sock in held:
            sock.close()
