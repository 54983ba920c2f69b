"""Prometheus metrics of data quality, read from the warehouse at each scrape.

``ytempire serve metrics`` serves ``/metrics`` (prometheus-client's WSGI app)
with one custom collector: the server keeps no state, so a restart loses
nothing and every replica reports the same figures. Metric families (labels
are bounded sets, never channel or video ids):

- ``ytempire_data_quality_ratio{table, dimension}``: the latest scorecard,
  0-1 (dimension ``overall`` is the weighted score; table ``all`` the network);
- ``ytempire_data_quality_last_run_timestamp_seconds``: when it was computed;
- ``ytempire_expectations_evaluated{checkpoint, suite}`` and
  ``ytempire_expectations_failed{checkpoint, suite}``: the latest validation run;
- ``ytempire_anomaly_episodes_open{metric}``: episodes flagged on the latest
  detected day or the day before, per metric.
"""

from __future__ import annotations

from collections.abc import Iterator
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


class QualityCollector(Collector):
    """Reads the latest quality, validation and anomaly state on every scrape."""

    def __init__(self, settings: Settings | None = None):
        self.settings = settings

    def collect(self) -> Iterator[Any]:
        with pg_connect("transformer", settings=self.settings) as conn:
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


def make_server(host: str, port: int, settings: Settings | None = None) -> Any:
    """A wsgiref server for ``/metrics``; call ``serve_forever()`` (``shutdown()`` stops it)."""
    from wsgiref.simple_server import WSGIRequestHandler
    from wsgiref.simple_server import make_server as wsgi_server

    from prometheus_client import make_wsgi_app

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            """Scrapes every 15 s would flood the log; errors still surface."""

    return wsgi_server(host, port, make_wsgi_app(registry(settings)), handler_class=QuietHandler)
