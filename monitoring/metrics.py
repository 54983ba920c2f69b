"""Prometheus metrics of data quality, read from the warehouse at each scrape.

``ytempire serve metrics`` serves ``/metrics`` (prometheus-client's WSGI app)
with one custom collector: the server keeps no state, so a restart loses
nothing and every replica reports the same figures.

The server (:func:`make_server`) answers ``/metrics`` only (any other path is
404), one thread per connection (prometheus-client's ``ThreadingWSGIServer``)
with a listen backlog of :data:`LISTEN_BACKLOG`, so a burst of scrapes is
queued rather than reset; a client has :data:`CLIENT_TIMEOUT_S` seconds per
read or write before its connection is cut, so a slow or stalled client holds
one thread, never the server. Scrapes that arrive while the warehouse is being
read share that read (:class:`QualityCollector`), and each read's queries
stop after :data:`STATEMENT_TIMEOUT_MS`: 200 concurrent scrapes cost one or
two reads, not 200 connections. Metric families (labels are bounded sets,
never channel or video ids):

- ``ytempire_data_quality_ratio{table, dimension}``: the latest scorecard,
  0-1 (dimension ``overall`` is the weighted score; table ``all`` the network);
- ``ytempire_data_quality_last_run_timestamp_seconds``: when it was computed;
- ``ytempire_expectations_evaluated{checkpoint, suite}`` and
  ``ytempire_expectations_failed{checkpoint, suite}``: the latest validation run;
- ``ytempire_anomaly_episodes_open{metric}``: episodes flagged on the latest
  detected day or the day before, per metric.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector, CollectorRegistry

from ytempire.clients import pg_connect
from ytempire.settings import Settings

_LATEST_SCORES = """
select table_name, dimension, score::float / 100, extract(epoch from checked_at)
from analytics.quality_results
where run_id = (
    select run_id from analytics.quality_results order by checked_at desc, run_id limit 1
)
"""
_LATEST_VALIDATIONS = """
select distinct on (checkpoint_name, suite_name) checkpoint_name, suite_name, run_id
from analytics.validation_results
order by checkpoint_name, suite_name, validated_at desc
"""
_VALIDATION_COUNTS = """
select count(*), count(*) filter (where not success)
from analytics.validation_results
where run_id = %s and suite_name = %s
"""
_OPEN_EPISODES = """
select metric_name, count(*)
from analytics.anomaly_episodes
where last_date >= (select max(last_date) - 1 from analytics.anomaly_episodes)
group by metric_name
"""


PATH = "/metrics"
# Seconds a client has for each read or write of its connection before it is cut.
CLIENT_TIMEOUT_S = 10
# Connections the kernel queues while every thread is busy accepting.
LISTEN_BACKLOG = 512
# A scrape's queries stop after this (the warehouse under a long lock never hangs scrapes).
STATEMENT_TIMEOUT_MS = 10_000


class QualityCollector(Collector):
    """Reads the latest quality, validation and anomaly state for every scrape.

    Concurrent scrapes share one read: a scrape waits for the read in
    progress and takes a result whose read started after the scrape arrived
    (so it is never staler than the scrape), else it reads itself.
    """

    def __init__(self, settings: Settings | None = None):
        self.settings = settings
        self._lock = threading.Lock()
        self._families: list[Any] = []
        self._read_started = float("-inf")

    def collect(self) -> Iterator[Any]:
        arrived = time.monotonic()
        with self._lock:
            if self._read_started < arrived:
                started = time.monotonic()
                self._families = list(self._read())
                self._read_started = started
            families = self._families
        yield from families

    def _read(self) -> Iterator[Any]:
        with pg_connect("transformer", settings=self.settings) as conn:
            conn.execute(f"set statement_timeout = {STATEMENT_TIMEOUT_MS}")
            scores = conn.execute(_LATEST_SCORES).fetchall()
            validations = []
            for checkpoint, suite, run in conn.execute(_LATEST_VALIDATIONS).fetchall():
                counts = conn.execute(_VALIDATION_COUNTS, (run, suite)).fetchone()
                assert counts is not None  # an aggregate always returns a row
                validations.append((checkpoint, suite, *counts))
            episodes = conn.execute(_OPEN_EPISODES).fetchall()
        yield _gauge(
            "ytempire_data_quality_ratio",
            "Latest data-quality score per table and dimension (0-1).",
            ["table", "dimension"],
            [((table, dimension), ratio) for table, dimension, ratio, _ in scores],
        )
        yield _gauge(
            "ytempire_data_quality_last_run_timestamp_seconds",
            "Unix time of the latest data-quality scorecard.",
            [],
            [((), float(scores[0][3]))] if scores else [],
        )
        yield _gauge(
            "ytempire_expectations_evaluated",
            "Expectations evaluated in the latest validation run of a suite.",
            ["checkpoint", "suite"],
            [((checkpoint, suite), total) for checkpoint, suite, total, _ in validations],
        )
        yield _gauge(
            "ytempire_expectations_failed",
            "Expectations failed in the latest validation run of a suite.",
            ["checkpoint", "suite"],
            [((checkpoint, suite), bad) for checkpoint, suite, _, bad in validations],
        )
        yield _gauge(
            "ytempire_anomaly_episodes_open",
            "Anomaly episodes flagged on the latest detected day or the day before.",
            ["metric"],
            [((metric,), count) for metric, count in episodes],
        )


def _gauge(
    name: str, documentation: str, labels: list[str], samples: list[tuple[tuple[Any, ...], Any]]
) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation, labels=labels)
    for values, value in samples:
        family.add_metric([str(v) for v in values], float(value))
    return family


def registry(settings: Settings | None = None) -> CollectorRegistry:
    """A registry holding only the quality collector (no process metrics)."""
    reg = CollectorRegistry(auto_describe=False)
    reg.register(QualityCollector(settings))
    return reg


def metrics_only(app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
    """``app`` on ``/metrics``; 404 on any other path (prometheus-client answers every path)."""

    def dispatch(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == PATH:
            return app(environ, start_response)
        body = f"not found: Prometheus metrics are served on {PATH}\n".encode()
        start_response(
            "404 Not Found",
            [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))],
        )
        return [body]

    return dispatch


def make_server(host: str, port: int, settings: Settings | None = None) -> Any:
    """A threaded WSGI server of ``/metrics``; call ``serve_forever()`` (``shutdown()`` stops
    it). Port 0 picks a free one (``server.server_port``)."""
    from wsgiref.simple_server import WSGIRequestHandler
    from wsgiref.simple_server import make_server as wsgi_server

    from prometheus_client import make_wsgi_app
    from prometheus_client.exposition import ThreadingWSGIServer

    class Server(ThreadingWSGIServer):
        request_queue_size = LISTEN_BACKLOG

        def handle_error(self, request: Any, client_address: Any) -> None:
            """A client cut for its timeout, or gone, is routine: no traceback for it."""
            if isinstance(sys.exc_info()[1], TimeoutError | ConnectionError):
                return
            super().handle_error(request, client_address)

    class QuietHandler(WSGIRequestHandler):
        timeout = CLIENT_TIMEOUT_S  # socketserver sets it on the connection's socket

        def log_message(self, format: str, *args: Any) -> None:
            """Scrapes every 15 s would flood the log; errors still surface."""

    app = metrics_only(make_wsgi_app(registry(settings)))
    return wsgi_server(host, port, app, server_class=Server, handler_class=QuietHandler)
