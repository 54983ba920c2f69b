"""Anomaly detection against the real PostgreSQL and Kafka: memory, episodes, alerts.

A simulated network with labelled anomalies is landed into
``analytics.metric_observations`` (its own dates, 2024, so no other test's
series share its days); the detector then scores it day by day.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, timedelta

import pytest

from monitoring.anomalies import detect_day
from simulation.anomalies import land_observations, simulate_series
from ytempire.clients import pg_connect

START = date(2024, 1, 1)
DAYS = 70
FIRST_SCORED = 35
RESTART_AFTER = 52

_SNAPSHOT = """
select a.metric_name, a.entity_id, a.observed_date, round(a.z_score::numeric, 6), a.severity,
    e.first_date, e.last_date
from analytics.anomalies as a
inner join analytics.anomaly_episodes as e using (episode_id)
where a.observed_date between %s and %s
order by 1, 2, 3
"""


@pytest.fixture(scope="module")
def network(settings, test_database):
    net = simulate_series(12, DAYS, start_date=START, seed=4242, first_day=40)
    with pg_connect("loader", settings=settings) as conn:
        land_observations(conn, net)
    return net


def _days(first: int, last: int) -> list[date]:
    return [START + timedelta(days=d) for d in range(first, last)]


def _reset(loader) -> None:
    loader(
        "delete from analytics.anomalies where observed_date between %s and %s",
        (START, START + timedelta(days=DAYS)),
    )
    loader(
        "delete from analytics.anomaly_episodes where first_date between %s and %s",
        (START, START + timedelta(days=DAYS)),
    )


def _snapshot(loader):
    return loader(_SNAPSHOT, (START, START + timedelta(days=DAYS)))


def _episodes(loader):
    return loader(
        "select metric_name, entity_id, first_date, last_date, alerted_at is not null "
        "from analytics.anomaly_episodes where first_date between %s and %s order by 1, 2, 3",
        (START, START + timedelta(days=DAYS)),
    )


def test_restarted_detector_flags_what_an_uninterrupted_one_flags(
    network, settings, loader, new_topic, read_topic
):
    _reset(loader)
    straight_topic = new_topic("anomaly-alerts")
    for day in _days(FIRST_SCORED, DAYS):
        detect_day(day, settings=settings, topic=straight_topic)
    uninterrupted, straight_episodes = _snapshot(loader), _episodes(loader)

    _reset(loader)
    restarted_topic = new_topic("anomaly-alerts")
    for day in _days(FIRST_SCORED, RESTART_AFTER):
        detect_day(day, settings=settings, topic=restarted_topic)
    # A new process carries on: only the warehouse remembers the first half.
    second_half = [d.isoformat() for d in _days(RESTART_AFTER, DAYS)]
    script = (
        "import sys, datetime\n"
        "from monitoring.anomalies import detect_day\n"
        "for day in sys.argv[2:]:\n"
        "    detect_day(datetime.date.fromisoformat(day), topic=sys.argv[1])\n"
    )
    subprocess.run(
        [sys.executable, "-c", script, restarted_topic, *second_half],
        check=True,
        env=os.environ.copy(),
        timeout=600,
    )
    assert _snapshot(loader) == uninterrupted
    assert _episodes(loader) == straight_episodes

    # Every labelled anomaly is flagged on its series during its days.
    flagged = {(m, e, d) for m, e, d, *_ in uninterrupted}
    for label in network.labels:
        days = {START + timedelta(days=d) for d in range(label.first_day, label.last_day + 1)}
        assert any((label.metric, label.channel_id, d) in flagged for d in days), label

    # One alert per episode, in both runs, with severity and expected range.
    for topic in (straight_topic, restarted_topic):
        alerts = read_topic(topic)
        keys = sorted((a["metric_name"], a["entity_id"], a["episode_first_date"]) for a in alerts)
        assert keys == sorted((m, e, f.isoformat()) for m, e, f, _, _ in straight_episodes)
        assert all(a["severity"] in ("medium", "high") for a in alerts)
        assert all(a["expected_range"][0] < a["expected_range"][1] for a in alerts)
    assert any(last > first for _, _, first, last, _ in straight_episodes), (
        "a multi-day anomaly (collapse, stall) should make one episode of several days"
    )
    assert len(uninterrupted) > len(straight_episodes)


def test_rerunning_days_repeats_no_alert_and_no_row(
    network, settings, loader, new_topic, read_topic
):
    _reset(loader)
    topic = new_topic("anomaly-alerts")
    days = _days(FIRST_SCORED, DAYS)
    for day in days:
        detect_day(day, settings=settings, topic=topic)
    first_alerts, first_rows = len(read_topic(topic)), _snapshot(loader)
    assert first_alerts > 0
    for day in days:
        run = detect_day(day, settings=settings, topic=topic)
        assert run.alerts_sent == 0
        assert all(not d.is_new_episode for d in run.detections)
    assert len(read_topic(topic)) == first_alerts
    assert _snapshot(loader) == first_rows
