"""The six-dimension scores on crafted tables equal hand-computed values (real PostgreSQL),
their history, the low-quality alert (real Kafka) and the Prometheus exporter."""

from __future__ import annotations

import threading
import urllib.request
from datetime import date

import pytest
from prometheus_client.parser import text_string_to_metric_families

from monitoring.metrics import make_server
from monitoring.scores import TableSpec, compute, severity

RUN_DAY = date(2025, 6, 1)
METRICS_PORT = 18431

VIDEOS = TableSpec(
    "crafted_scores.videos",
    "(t.created_at at time zone 'UTC')::date",
    ("video_id",),
    completeness=("t.video_id is not null", "t.title is not null"),
    accuracy=("t.quality_score between 0 and 100",),
    consistency=(
        "exists (select from crafted_scores.channels as c where c.channel_id = t.channel_id)",
    ),
    validity=("t.status in ('active', 'paused')",),
    landed_at="to_timestamp(t._dlt_load_id::double precision)",
    due_at="t.created_at",
    sla_hours=1.0,
)
CHANNELS = TableSpec(
    "crafted_scores.channels",
    None,
    ("channel_id",),
    completeness=("t.channel_id is not null",),
    validity=("t.channel_id like 'c%%'",),
)
STALE = TableSpec(
    "crafted_scores.stale",
    None,
    ("id",),
    completeness=("t.title is not null",),
    validity=("t.title is not null",),
)

# (video_id, channel_id, title, quality_score, status, landing lag in hours)
ROWS = [
    ("v1", "c1", "t", 50, "active", 1.5),  # late: timeliness 50
    ("v2", "c1", None, 50, "active", 3.0),  # no title; very late: timeliness 0
    ("v3", "c1", None, 50, "active", 1.0),  # no title; on the SLA: 100
    ("v4", "c1", "t", 150, "active", 0.5),  # score out of range
    ("v5", "c1", "t", None, "active", 0.5),  # score missing: not checked for accuracy
    ("v6", "c9", "t", 50, "active", 0.5),  # channel c9 does not exist
    ("v7", "c1", "t", 50, "deleted", 0.5),  # status outside the domain
    ("v8", "c1", "t", 50, None, 0.5),  # status missing: not checked for validity
    ("v8", "c1", "t", 50, "paused", 0.5),  # duplicate key
    (None, "c1", "t", 50, "active", 0.5),  # no key
]
# Hand-computed from ROWS (10 rows on the run day; the row of another day is out of scope):
EXPECTED_VIDEOS = {
    "completeness": 85.00,  # 9 ids + 8 titles present of 20
    "accuracy": 88.89,  # 8 of 9 scores checked are in 0..100
    "consistency": 90.00,  # 9 of 10 channels exist
    "validity": 88.89,  # 8 of 9 statuses checked are in the domain
    "uniqueness": 80.00,  # 8 distinct non-null ids over 10 rows
    "timeliness": 85.00,  # (8 x 100 + 50 + 0) / 10
}
EXPECTED_VIDEOS_OVERALL = (
    0.20 * 85 + 0.25 * 88.89 + 0.20 * 90 + 0.15 * 85 + 0.10 * 80 + 0.10 * 88.89
)
EXPECTED_CHANNELS = {"completeness": 100.0, "uniqueness": 100.0, "validity": 66.67}
EXPECTED_CHANNELS_OVERALL = (0.20 * 100 + 0.10 * 100 + 0.10 * 66.67) / 0.40
EXPECTED_ALL = {
    "completeness": (85 + 100) / 2,
    "accuracy": 88.89,
    "consistency": 90.0,
    "timeliness": 85.0,
    "uniqueness": (80 + 100) / 2,
    "validity": (88.89 + 66.67) / 2,
}


@pytest.fixture(scope="module")
def crafted(settings, test_database):
    from ytempire.clients import pg_connect

    with pg_connect("admin", autocommit=True, settings=settings) as conn:
        conn.execute("drop schema if exists crafted_scores cascade")
        conn.execute("create schema crafted_scores")
        conn.execute(
            "create table crafted_scores.videos (video_id text, channel_id text, title text, "
            "quality_score numeric, status text, created_at timestamptz, _dlt_load_id text)"
        )
        conn.execute("create table crafted_scores.channels (channel_id text)")
        conn.execute("create table crafted_scores.stale (id int, title text)")
        conn.execute("insert into crafted_scores.channels values ('c1'), ('c2'), ('x3')")
        conn.execute("insert into crafted_scores.stale values (1, null), (2, null)")
        created = "2025-06-01 10:00:00+00"
        for video, channel, title, score, status, lag in ROWS:
            conn.execute(
                "insert into crafted_scores.videos values (%s, %s, %s, %s, %s, %s, "
                "(extract(epoch from %s::timestamptz) + %s * 3600)::text)",
                (video, channel, title, score, status, created, created, lag),
            )
        # Another day: out of the run's scope, however bad.
        conn.execute(
            "insert into crafted_scores.videos values "
            "('v1', 'zz', null, 999, 'bad', '2025-05-31 10:00+00', '0')"
        )
        conn.execute("grant usage on schema crafted_scores to ytempire_transformer")
        conn.execute("grant select on all tables in schema crafted_scores to ytempire_transformer")
    yield
    with pg_connect("admin", autocommit=True, settings=settings) as conn:
        conn.execute("drop schema crafted_scores cascade")


def test_scores_equal_hand_computed_values_and_are_stored(
    crafted, settings, loader, new_topic, read_topic
):
    topic = new_topic("alerts")
    run = compute(RUN_DAY, [VIDEOS, CHANNELS], settings=settings, topic=topic)

    for dimension, value in EXPECTED_VIDEOS.items():
        assert run.score("crafted_scores.videos", dimension) == pytest.approx(value, abs=0.006)
    assert run.score("crafted_scores.videos", "overall") == pytest.approx(
        EXPECTED_VIDEOS_OVERALL, abs=0.006
    )
    for dimension, value in EXPECTED_CHANNELS.items():
        assert run.score("crafted_scores.channels", dimension) == pytest.approx(value, abs=0.006)
    assert run.score("crafted_scores.channels", "accuracy") is None  # no rule: does not apply
    assert run.score("crafted_scores.channels", "timeliness") is None  # no landing time
    assert run.score("crafted_scores.channels", "overall") == pytest.approx(
        EXPECTED_CHANNELS_OVERALL, abs=0.006
    )
    for dimension, value in EXPECTED_ALL.items():
        assert run.score("all", dimension) == pytest.approx(value, abs=0.006)
    expected_overall = sum(
        w * EXPECTED_ALL[d]
        for d, w in {
            "completeness": 0.2,
            "accuracy": 0.25,
            "consistency": 0.2,
            "timeliness": 0.15,
            "uniqueness": 0.1,
            "validity": 0.1,
        }.items()
    )
    assert run.overall == pytest.approx(expected_overall, abs=0.006)
    assert run.alert is None  # 88.25 is not below 85
    assert read_topic(topic) == []

    stored = dict(
        ((table, dimension), float(score))
        for table, dimension, score in loader(
            "select table_name, dimension, score from analytics.quality_results where run_id = %s",
            (run.run_id,),
        )
    )
    assert stored[("crafted_scores.videos", "uniqueness")] == 80.0
    assert stored[("all", "overall")] == pytest.approx(run.overall)
    assert ("crafted_scores.channels", "timeliness") not in stored
    assert loader(
        "select status, details->>'overall' from analytics.pipeline_stage_runs "
        "where stage = 'quality_scores' and run_date = %s order by started_at desc limit 1",
        (RUN_DAY,),
    ) == [("success", str(run.overall))]


def test_low_score_alerts_with_its_severity(crafted, settings, new_topic, read_topic):
    topic = new_topic("alerts")
    run = compute(RUN_DAY, [STALE], settings=settings, topic=topic)
    # completeness 0, validity 0, uniqueness 100 -> (0.2 x 0 + 0.1 x 100 + 0.1 x 0) / 0.4 = 25
    assert run.overall == pytest.approx(25.0)
    [alert] = read_topic(topic)
    assert alert["type"] == "low_data_quality"
    assert alert["severity"] == "high"
    assert alert["score"] == pytest.approx(25.0)
    assert alert["tables_below_threshold"] == {"crafted_scores.stale": 25.0}


@pytest.mark.parametrize(
    ("score", "expected"),
    [(85.0, None), (84.99, "medium"), (70.0, "medium"), (69.99, "high"), (None, None)],
)
def test_alert_thresholds(score, expected):
    assert severity(score) == expected


def test_prometheus_exporter_serves_the_latest_scores(crafted, settings):
    run = compute(RUN_DAY, [VIDEOS, CHANNELS], settings=settings, topic="unused-no-alert")
    server = make_server("127.0.0.1", METRICS_PORT, settings)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{METRICS_PORT}/metrics", timeout=30) as r:
            body = r.read().decode()
    finally:
        server.shutdown()
        server.server_close()
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(body)
        for s in family.samples
    }
    key = ("ytempire_data_quality_ratio", (("dimension", "overall"), ("table", "all")))
    assert samples[key] == pytest.approx(run.overall / 100)
    key = (
        "ytempire_data_quality_ratio",
        (("dimension", "uniqueness"), ("table", "crafted_scores.videos")),
    )
    assert samples[key] == pytest.approx(0.80)
    assert ("ytempire_data_quality_last_run_timestamp_seconds", ()) in samples
