"""The daily report on a crafted day, against the real PostgreSQL, Redis, dbt and Chromium.

One module-scoped scenario: a simulated network of six channels over 30 days,
built by the real `ytempire warehouse build` (which records the `dbt_build`
stage from run_results.json). The channels' titles are the family issue 27
names: `$` pairs matplotlib would read as mathtext, TeX, emoji, right-to-left
scripts, a 200-character name and HTML; the page must still draw every chart.
On the last day channel 4 is not collected (its run records why), the raw
validation stage fails, one expectation fails, one anomaly is found on channel
2, and five messages are dead-lettered for two reasons. The tests check each
appears with the right numbers, computed here from the raw tables
independently of the report's queries.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from psycopg.types.json import Jsonb

from reporting import delivery, render
from reporting.collect import gather, source_freshness
from reporting.model import DailyReport
from reporting.queries import channel_issues
from reporting.screenshot import screenshot
from simulation import ids
from simulation.raw_history import NetworkSpec, land_days
from tests.conftest import own_database
from ytempire.clients import pg_connect, redis_client
from ytempire.dbt_runner import target_dir
from ytempire.quota import PACIFIC, quota_day
from ytempire.settings import Settings
from ytempire.stage_runs import record_stage
from ytempire_cli.main import main as cli_main

pytestmark = pytest.mark.services

SPEC = NetworkSpec(channels=6, videos_per_channel_per_day=1)
LAST = 29  # the crafted day's index
DAY = SPEC.day_date(LAST)
FAILED_CHANNEL = 4
ANOMALY_CHANNEL = 2
EMPTY_CHANNEL = 5  # collected, but has no uploads: an issue, not a failure
LONG_CHANNEL = 3
NO_UPLOADS = "uploads playlist: 404 playlistNotFound (no uploads yet)"
COLLECTION_ERROR = "playlistItems.list 404 playlistNotFound for one uploads playlist"
VALIDATION_ERROR = "CheckpointFailed: raw_landings: 1 of 12 expectations failed"
# Each channel's title, landed in its snapshots and the platform's channel table.
TITLES = {
    0: "$$$ MONEY $$$",
    1: "Ba$$in 🎮🔥",
    ANOMALY_CHANNEL: "قناة الطبخ — ערוץ הבישול",
    LONG_CHANNEL: ("A very long channel name " * 8)[:-1] + "!",  # 200 characters
    FAILED_CHANNEL: '<script>alert("x")</script> & co',
    EMPTY_CHANNEL: r"$x^2$ \frac{1}{2} 50% {off}",
}
DEAD_REASONS = {"payload.video_id: missing [missing]": 3, "occurred_at: not a datetime": 2}


@pytest.fixture(scope="module")
def report_settings(test_database: str) -> Iterator[Settings]:
    """A database of the scenario's own (dbt reads its target from the environment).

    The session database is built first (by name): built later, under this
    fixture's environment, it would be this one, dropped and made anew.
    """
    with own_database("report") as scenario:
        yield scenario


def _channel(index: int) -> str:
    return ids.channel_id(index, SPEC.seed)


@pytest.fixture(scope="module")
def crafted(report_settings: Settings) -> dict[str, Any]:
    """Land, build with the CLI, then write the day's pipeline record."""
    with pg_connect("loader", settings=report_settings) as conn:
        land_days(conn, SPEC, 0, LAST, skip=[(FAILED_CHANNEL, LAST)])
        for index, title in TITLES.items():
            for table in ("raw_youtube.channel_snapshots", "ytempire.channels"):
                conn.execute(
                    f"update {table} set title = %s where channel_id = %s",  # type: ignore[arg-type]
                    (title, _channel(index)),
                )
        _write_collection_issues(conn)
        noon = datetime(DAY.year, DAY.month, DAY.day, 20, tzinfo=UTC)  # 12:00 Pacific
        offset = 0
        for reason, count in DEAD_REASONS.items():
            for _ in range(count):
                offset += 1
                conn.execute(
                    "insert into raw_events.dead_letters (kafka_topic, kafka_partition, "
                    "kafka_offset, kafka_timestamp, raw_value, reason, dead_lettered_at) "
                    "values ('video-events', 0, %s, %s, '{}', %s, %s)",
                    (offset, noon, reason, noon),
                )
    cli_main(["warehouse", "build", "--run-date", DAY.isoformat()])
    run_results = (target_dir() / "run_results.json").read_text()
    with record_stage("collection", DAY, settings=report_settings) as run:
        run.details.update(channels_collected=SPEC.channels - 1, channels_failed=1)
    with (
        pytest.raises(RuntimeError),
        record_stage("validation_raw", DAY, settings=report_settings),
    ):
        raise RuntimeError(VALIDATION_ERROR)
    with pg_connect("loader", autocommit=True, settings=report_settings) as loader:
        _write_quality_record(loader)
    return {"run_results": run_results}


# The analytics tables as issue 18 evolves them in sql/30_analytics.sql (columns
# the report reads); every statement is a no-op once that DDL has run.
_QUALITY_DDL = """
alter table analytics.anomalies
    add column if not exists entity_id text not null default '',
    add column if not exists observed_date date;
alter table analytics.quality_results
    add column if not exists run_date date,
    add column if not exists table_name text not null default 'all';
create table if not exists analytics.validation_results (
    run_id text not null, run_date date not null, checkpoint_name text not null,
    suite_name text not null, asset_name text not null, expectation_index integer not null,
    expectation_type text not null, column_name text, success boolean not null,
    observed_value jsonb, unexpected_count bigint, unexpected_sample jsonb,
    exception_message text, validated_at timestamptz not null default now()
);
"""


def _write_collection_issues(conn: Any) -> None:
    issues = {
        _channel(FAILED_CHANNEL): {"status": "failed", "reason": COLLECTION_ERROR},
        _channel(EMPTY_CHANNEL): {"status": "no_uploads", "reason": NO_UPLOADS},
    }
    conn.execute(
        "update raw_youtube.collection_runs set channel_issues = %s, error = %s "
        "where collection_date = %s",
        (Jsonb(issues), f"1 channel(s) failed: {_channel(FAILED_CHANNEL)}", DAY),
    )


def _write_quality_record(conn: Any) -> None:
    """Two validation runs (the later one with a failed expectation), six quality scores
    and one anomaly on the day, as expectations/ and monitoring/ store them."""
    conn.execute(_QUALITY_DDL)
    at = datetime(DAY.year, DAY.month, DAY.day, 21, tzinfo=UTC)
    insert = (
        "insert into analytics.validation_results (run_id, run_date, checkpoint_name, "
        "suite_name, asset_name, expectation_index, expectation_type, column_name, success, "
        "observed_value, unexpected_count, unexpected_sample, validated_at) "
        "values (%s, %s, 'raw', 'channel_data_quality', 'ytempire.channels', %s, %s, "
        "'channel_id', %s, %s, %s, %s, %s)"
    )
    regex, not_null = "expect_column_values_to_match_regex", "expect_column_values_to_not_be_null"
    for run_id, validated_at, regex_ok in (
        ("v-1", at - timedelta(hours=2), True),
        ("v-2", at, False),
    ):
        conn.execute(
            insert,
            (run_id, DAY, 0, not_null, True, None, 0, None, validated_at),
        )
        conn.execute(
            insert,
            (
                run_id,
                DAY,
                1,
                regex,
                regex_ok,
                Jsonb("7 of 6,000 rows"),
                0 if regex_ok else 7,
                None if regex_ok else Jsonb(["UCbad"]),
                validated_at,
            ),
        )
    scores = {
        "accuracy": 97.5,
        "completeness": 83.33,
        "consistency": 100,
        "timeliness": 64.2,
        "uniqueness": 100,
        "validity": 99.1,
    }
    for dimension, score in scores.items():
        conn.execute(
            "insert into analytics.quality_results (run_id, run_date, table_name, checked_at, "
            "dimension, score) values ('q-1', %s, 'all', %s, %s, %s)",
            (DAY, at, dimension, score),
        )
    conn.execute(
        "insert into analytics.anomalies (metric_name, entity_id, observed_date, value, "
        "expected_low, expected_high, method, severity, detected_at) values "
        "('views_daily', %s, %s, 987654, 12000, 31000, 'seasonal_zscore', 'high', %s), "
        "('dead_letter_share', 'raw_events', %s, 0.4, 0, 0.02, 'seasonal_zscore', 'medium', %s)",
        (_channel(ANOMALY_CHANNEL), DAY, at, DAY, at),
    )


@pytest.fixture(scope="module")
def report(crafted: dict[str, Any], report_settings: Settings) -> DailyReport:
    return gather(DAY, settings=report_settings, redis_prefix="test:report:none:")


@pytest.fixture(scope="module")
def text(report: DailyReport) -> str:
    return render.text(report)


@pytest.fixture(scope="module")
def page(report: DailyReport) -> str:
    return render.html(report)


def _raw_views_on_day(settings: Settings) -> int:
    """Network views on DAY from the raw counters: each channel's count minus the day before."""
    with pg_connect("admin", settings=settings) as conn:
        row = conn.execute(
            """
            select sum(today.view_count - before.view_count)
            from raw_youtube.channel_snapshots as today
            join raw_youtube.channel_snapshots as before
                on before.channel_id = today.channel_id
                and before.collection_date = today.collection_date - 1
            where today.collection_date = %s
            """,
            (DAY,),
        ).fetchone()
    assert row is not None
    return int(row[0])


def test_failed_stage_is_the_headline_with_its_error(report: DailyReport, text: str, page: str):
    assert render.headline(report) == f"PIPELINE FAILED on {DAY}: validation_raw"
    stages = {s.stage: s for s in report.stages}
    assert stages["validation_raw"].status == "failed"
    assert stages["validation_raw"].error == f"RuntimeError: {VALIDATION_ERROR}"
    assert stages["collection"].status == "success"
    assert stages["anomaly_detection"].status == "not run"
    assert f"RuntimeError: {VALIDATION_ERROR}" in text
    assert f"validation_raw failed: RuntimeError: {VALIDATION_ERROR}" in page


def test_failed_channel_appears_with_its_reason(report: DailyReport, text: str, page: str):
    assert report.collection is not None
    failed, empty = _channel(FAILED_CHANNEL), _channel(EMPTY_CHANNEL)
    assert [(f.channel_id, f.reason) for f in report.collection.failures] == [
        (failed, COLLECTION_ERROR)
    ]
    assert {i.channel_id: i.status for i in report.collection.issues} == {
        failed: "failed",
        empty: "no_uploads",
    }
    assert report.collection.channels_expected == SPEC.channels
    assert report.collection.channels_collected == SPEC.channels - 1
    assert "channels: 5 collected, 1 failed, 1 with other issues of 6 active" in text
    assert f"failed {failed}: {COLLECTION_ERROR}" in text
    assert f"<td>{failed}</td><td>failed</td><td><bdi>{COLLECTION_ERROR}</bdi></td>" in page
    assert 'id="failed-channel-count">1<' in page


def test_failed_expectation_appears_with_its_counts(report: DailyReport, text: str, page: str):
    # the latest run of the checkpoint counts: v-2, where the regex failed on 7 rows
    assert report.expectations_run == 2
    assert "expectations: 1 failed of 2" in text
    assert (
        "failed channel_data_quality on ytempire.channels: expect_column_values_to_match_regex "
        'on channel_id, 7 unexpected (observed "7 of 6,000 rows"), e.g. ["UCbad"]' in text
    )
    assert "<td>expect_column_values_to_match_regex</td><td>channel_id</td><td class" in page


def test_anomaly_has_its_expected_range_and_links_to_its_channel_series(
    report: DailyReport, text: str, page: str
):
    channel = _channel(ANOMALY_CHANNEL)
    line = f"[high] views_daily of {channel}: 987,654 (expected 12,000 to 31,000; seasonal"
    assert line in text
    assert "[medium] dead_letter_share of raw_events: 0.40 (expected 0 to 0.02; seasonal" in text
    assert f'<a href="#channel-{channel}">{channel}</a>' in page
    section = page[page.index(f'<section id="channel-{channel}">') :]
    assert (
        '<img class="chart" src="data:image/png;base64,' in section[: section.index("</section>")]
    )
    assert [s.channel_id for s in report.channel_series] == [channel]
    assert report.channel_series[0].anomaly_dates == [DAY]
    assert len(report.channel_series[0].points) == 28


def test_network_views_equal_the_raw_counters_differences(
    report: DailyReport, text: str, report_settings: Settings
):
    expected = _raw_views_on_day(report_settings)
    today = report.on_day()
    assert today is not None
    assert today.views == expected
    assert today.channels == SPEC.channels - 1  # the failed channel has no row on the day
    assert f"{DAY}: {expected:,} views" in text
    assert len(report.series) == 28
    assert report.series[0].metric_date == DAY - timedelta(days=27)
    assert today.revenue_usd == pytest.approx(
        today.ad_revenue_usd + today.affiliate_revenue_usd + today.sponsorship_revenue_usd,
        abs=0.05,
    )


def test_dead_letters_by_reason_and_quota(report: DailyReport, text: str):
    assert report.events is not None
    assert dict(report.events.dead_by_reason) == DEAD_REASONS
    assert "5 dead-lettered" in text
    assert report.quota is not None
    assert report.quota.used == SPEC.channels * 3  # the simulated run's recorded units
    assert report.quota.counter_used is None  # no Redis counter under this prefix


def test_quota_left_counts_the_shared_redis_budget(
    crafted: dict[str, Any], report_settings: Settings, redis_prefix: str
):
    redis_client(settings=report_settings).set(f"{redis_prefix}youtube:quota:{DAY}", 40)
    day = gather(DAY, settings=report_settings, redis_prefix=redis_prefix, freshness=False)
    assert day.quota is not None
    assert (day.quota.used, day.quota.counter_used) == (SPEC.channels * 3, 40)
    assert day.quota.left == report_settings.youtube_daily_quota - 40
    assert "(Redis budget counter 40)" in render.text(day)


def test_dbt_counts_come_from_run_results(report: DailyReport, crafted: dict[str, Any]):
    import json

    results = json.loads(crafted["run_results"])["results"]
    models = sum(1 for r in results if r["unique_id"].startswith("model."))
    tests = sum(1 for r in results if r["unique_id"].startswith("test."))
    assert report.dbt is not None
    assert report.dbt.models == {"success": models}
    assert report.dbt.tests == {"pass": tests}


def test_quality_scores_by_dimension(report: DailyReport, text: str):
    assert [(q.dimension, q.score) for q in report.quality][:2] == [
        ("accuracy", 97.5),
        ("completeness", 83.33),
    ]
    assert "  timeliness      64.20" in text


def test_freshness_is_dbts_own_check_as_of_the_end_of_the_day(report: DailyReport, text: str):
    end_of_day = datetime.combine(DAY + timedelta(days=1), time(), tzinfo=PACIFIC)
    assert report.freshness_as_of == end_of_day
    by_source = {f.source: f for f in report.freshness}
    # collected on the (simulated, 2025) day itself: fresh for the day, whatever today is
    assert by_source["youtube.channel_snapshots"].status == "pass"
    assert by_source["youtube.channel_snapshots"].max_loaded_at is not None
    assert "freshness" not in report.notes
    assert f"freshness as of {end_of_day.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC:" in text


def test_a_source_stale_at_the_instant_judged_is_an_error(report: DailyReport):
    # three days on, the newest snapshots are past the source's error_after (54 hours)
    assert report.freshness_as_of is not None
    (then,) = [f for f in report.freshness if f.source == "youtube.channel_snapshots"]
    later = {f.source: f for f in source_freshness(report.freshness_as_of + timedelta(days=3))}
    assert later["youtube.channel_snapshots"].status == "error"
    assert then.age_hours is not None
    assert later["youtube.channel_snapshots"].age_hours == pytest.approx(then.age_hours + 72)


def test_a_day_where_every_stage_failed_or_never_ran_still_reports(
    crafted: dict[str, Any], report_settings: Settings
):
    day = date(2031, 5, 6)
    with (
        pytest.raises(RuntimeError),
        record_stage("collection", day, settings=report_settings),
    ):
        raise RuntimeError("Redis is down at redis://127.0.0.1:6379/0")
    empty = gather(day, settings=report_settings, freshness=False)
    text = render.text(empty)
    page = render.html(empty)
    assert render.headline(empty) == f"PIPELINE FAILED on {day}: collection"
    assert "collection failed: RuntimeError: Redis is down" in page
    assert empty.notes["network"] == "no data for the day"
    assert empty.notes["dbt"] == "not run: no dbt build recorded for the day"
    assert empty.notes["collection"] == "not run: no collection run recorded for the day"
    assert "no figures for the day in the marts" in text
    assert '<img class="chart"' not in page


def test_cli_writes_both_files_records_its_stage_and_skips_mail(
    crafted: dict[str, Any], report_settings: Settings, tmp_path: Path, monkeypatch, capsys
):
    monkeypatch.delenv("AIRFLOW__SMTP__SMTP_HOST", raising=False)
    cli_main(
        ["report", "daily", "--date", DAY.isoformat(), "--out", str(tmp_path), "--no-freshness"]
    )
    html_file = tmp_path / f"daily-report-{DAY}.html"
    text_file = tmp_path / f"daily-report-{DAY}.txt"
    assert f"PIPELINE FAILED on {DAY}: validation_raw" in text_file.read_text()
    assert "<html" in html_file.read_text()
    assert f"report: {html_file}" in capsys.readouterr().out
    with pg_connect("admin", settings=report_settings) as conn:
        row = conn.execute(
            "select status, details ->> 'html', details ->> 'email' "
            "from analytics.pipeline_stage_runs where run_date = %s and stage = 'report'",
            (DAY,),
        ).fetchone()
    assert row == (
        "success",
        str(html_file),
        "email: skipped, Airflow's SMTP is not configured (AIRFLOW__SMTP__SMTP_HOST unset)",
    )


def test_default_day_is_the_latest_day_the_pipeline_ran_not_the_latest_report(
    crafted: dict[str, Any], report_settings: Settings, tmp_path: Path, capsys
):
    later = DAY + timedelta(days=3)  # only a report was recorded on it: nothing ran that day
    with record_stage("report", later, settings=report_settings):
        pass
    cli_main(["report", "daily", "--out", str(tmp_path), "--no-freshness", "--no-email"])
    assert [p.name for p in sorted(tmp_path.iterdir())] == [
        f"daily-report-{DAY}.html",
        f"daily-report-{DAY}.txt",
    ]
    assert f"report: {tmp_path / f'daily-report-{DAY}.html'}" in capsys.readouterr().out


def test_a_future_day_is_refused_and_records_nothing(
    crafted: dict[str, Any], report_settings: Settings, tmp_path: Path, capsys
):
    for future in (date(2030, 1, 1), quota_day() + timedelta(days=1)):
        if future <= quota_day():
            continue  # 2030-01-01 has come: the day after today still checks the rule
        with pytest.raises(SystemExit) as exited:
            cli_main(["report", "daily", "--date", future.isoformat(), "--out", str(tmp_path)])
        assert exited.value.code == 2
        error = capsys.readouterr().err
        assert f"cannot report on {future}: it is after today's business day" in error
        with pg_connect("admin", settings=report_settings) as conn:
            recorded = conn.execute(
                "select count(*) from analytics.pipeline_stage_runs where run_date = %s",
                (future,),
            ).fetchone()
        assert recorded == (0,)
    assert list(tmp_path.iterdir()) == []


def test_mail_goes_through_airflows_smtp_settings(report: DailyReport, tmp_path: Path):
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message

    received: list[Any] = []

    class Keep(Message):
        def handle_message(self, message: Any) -> None:
            received.append(message)

    port = _free_port()
    controller = Controller(Keep(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        files = delivery.write_files(tmp_path, DAY, render.html(report), render.text(report))
        config = delivery.SmtpConfig.from_env(
            {
                "AIRFLOW__SMTP__SMTP_HOST": "127.0.0.1",
                "AIRFLOW__SMTP__SMTP_PORT": str(port),
                "AIRFLOW__SMTP__SMTP_STARTTLS": "False",
                "AIRFLOW__SMTP__SMTP_MAIL_FROM": "reports@ytempire.test",
            }
        )
        outcome = delivery.send_email(
            DAY, render.headline(report), files, ["data-team@ytempire.test"], config
        )
    finally:
        controller.stop()
    assert outcome == f"email: sent to data-team@ytempire.test via 127.0.0.1:{port}"
    assert len(received) == 1
    mail = received[0]
    subject = "".join(mail["Subject"].splitlines())  # unfold the long header
    assert subject == f"YTEmpire daily report {DAY}: PIPELINE FAILED on {DAY}: validation_raw"
    assert mail["From"] == "reports@ytempire.test"
    parts = {p.get_filename(): p for p in mail.walk() if p.get_filename()}
    assert list(parts) == [f"daily-report-{DAY}.html"]


def test_smtp_is_unconfigured_without_a_host():
    assert delivery.SmtpConfig.from_env({"AIRFLOW__SMTP__SMTP_PORT": "587"}) is None
    config = delivery.SmtpConfig.from_env({"AIRFLOW__SMTP__SMTP_HOST": "mail.example.com"})
    assert config == delivery.SmtpConfig(host="mail.example.com")  # Airflow's defaults


def test_recorded_channel_issues_keep_their_own_reason():
    runs = [
        {"error": None, "issues": {"UCb": {"status": "failed", "reason": "playlistNotFound"}}},
        {"error": "quota exhausted", "issues": None},
    ]
    issues = channel_issues(runs, missing=["UCb", "UCc"])
    assert [(i.channel_id, i.status, i.reason) for i in issues] == [
        ("UCb", "failed", "playlistNotFound"),
        ("UCc", "missing", "quota exhausted"),
    ]
    assert channel_issues([], missing=["UCd"])[0].reason == "no snapshot landed for the day"


def test_titles_are_data_on_the_page_and_in_the_summary(report: DailyReport, text: str, page: str):
    shown = {g.channel_id: g.title for g in [*report.top_growth, *report.bottom_growth]}
    assert shown  # the titles came through the marts
    assert len(TITLES[LONG_CHANNEL]) == 200  # the module docstring's 200-character name
    assert shown[_channel(LONG_CHANNEL)] == TITLES[LONG_CHANNEL]
    for channel_id, title in shown.items():
        assert title == TITLES[next(i for i in TITLES if _channel(i) == channel_id)]
        assert f"{channel_id} {render.isolate(title)}" in text
        if "<" not in title:
            assert f"<bdi>{title}</bdi>" in page
    assert "<script>alert" not in page
    assert f"<h4><bdi>{TITLES[ANOMALY_CHANNEL]}</bdi> <small>{_channel(ANOMALY_CHANNEL)}" in page


def test_page_renders_its_charts_in_headless_chromium(page: str, tmp_path: Path):
    html_file = tmp_path / "report.html"
    html_file.write_text(page)
    check = screenshot(html_file, tmp_path / "report.png")
    # network, components, niches, growth, new videos, quality, channel 2's series
    assert check.charts == 7
    assert check.charts_rendered == 7
    assert check.blocked_requests == []
    assert check.title == f"YTEmpire daily report {DAY}"
    assert (tmp_path / "report.png").stat().st_size > 50_000


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
