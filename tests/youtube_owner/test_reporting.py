"""The Reporting API lander against the simulated YouTube and the real PostgreSQL.

What a data engineer relies on: jobs are made once per channel and family,
of the version YouTube lists as current; a report lands with its id,
startTime and createTime on every row; a regenerated report replaces its
day exactly once; a header-only day is recorded as no data and not asked
for again; each channel's trouble is its own outcome.
"""

from __future__ import annotations

import json
from datetime import date, timedelta

from ingestion.youtube_reporting import FAMILIES
from ingestion.youtube_reporting.collector import read_report
from simulation.network import Network, RealWorld
from simulation.owner_apis import A2_RETIRED
from simulation.youtube import YouTubeSimulator
from tests.youtube_owner.conftest import at

DAY = date(2025, 2, 1)


def _rows(pg, family: str, channel: str, day: date | None = None) -> list[tuple]:
    where = "channel_id = %s" + (" and date = %s" if day else "")
    args = (channel, day) if day else (channel,)
    return pg.execute(
        f"select report_id, report_row, create_time, views from raw_youtube_reporting.{family} "
        f"where {where} order by report_id, report_row",
        args,
    ).fetchall()


def _ledger(pg, channel: str) -> list[tuple]:
    return pg.execute(
        "select report_family, report_date, report_id, status, row_count "
        "from raw_youtube_reporting.reports where channel_id = %s order by 1, 2, create_time",
        (channel,),
    ).fetchall()


def _csv_views(sim, channel: str, report_type: str, day: date) -> tuple[str, int, int]:
    """(report id, rows, views) of the newest report of a day, as the API serves it."""
    job = next(
        j
        for j in sim.owner.jobs.values()
        if (j.channel_id, j.report_type_id) == (channel, report_type)
    )
    report = max((r for r in sim.owner.reports(job) if r.day == day), key=lambda r: r.create_time)
    table = read_report(sim.owner.csv(report))
    views = sum(table["views"].to_pylist()) if table.num_rows else 0
    return report.id, table.num_rows, views


def test_jobs_first_then_30_days_of_history_48_hours_later(owners, pg_admin):
    own = owners(channels=2, day=DAY)
    first = own.reporting()
    assert (first.reports_landed, first.rows) == (0, 0)
    assert {o.status for items in first.outcomes.values() for o in items} == {"no_reports_yet"}
    jobs = sorted((j.channel_id, j.report_type_id) for j in own.sim.owner.jobs.values())
    # versions come from reportTypes.list: the a3 types, never the retired a2 ones
    assert jobs == sorted(
        (c, t)
        for c in own.channels
        for t in (
            "channel_basic_a3",
            "channel_traffic_source_a3",
            "channel_device_os_a3",
            "channel_playback_location_a3",
            "channel_demographics_a1",
            "channel_reach_basic_a1",
        )
    )
    assert own.reporting().outcomes  # a second run the same hour makes no second job
    assert len(own.sim.owner.jobs) == len(jobs)

    own.sim.set_now(at(DAY + timedelta(days=3)))
    landed = own.reporting(families=("channel_basic",))  # every family: the test below
    assert landed.status == "complete"
    assert not landed.outcomes
    channel = own.channels[0]
    ledger = _ledger(pg_admin, channel)
    days = {d for f, d, *_ in ledger if f == "channel_basic"}
    assert min(days) == DAY - timedelta(days=30)  # the 30 days before the job
    assert len(days) >= 31
    # every row carries its report's provenance, and a day is the newest report's rows
    report_id, rows, views = _csv_views(
        own.sim, channel, "channel_basic_a3", DAY - timedelta(days=5)
    )
    landed_rows = _rows(pg_admin, "channel_basic", channel, DAY - timedelta(days=5))
    assert {r[0] for r in landed_rows} == {report_id}
    assert [r[1] for r in landed_rows] == list(range(1, rows + 1))
    assert all(r[2] is not None for r in landed_rows)
    assert sum(r[3] for r in landed_rows) == views > 0

    calls = own.sim.owner.ledger.count("media.download")
    again = own.reporting(families=("channel_basic",))
    assert (again.reports_landed, again.reports_no_data) == (0, 0)
    assert own.sim.owner.ledger.count("media.download") == calls  # nothing downloaded again


def test_regenerated_report_replaces_its_day_exactly_once(owners, pg_admin):
    own = owners(channels=1, day=DAY)
    own.reporting(families=("channel_basic",))
    own.sim.set_now(at(DAY + timedelta(days=3)))
    own.reporting(families=("channel_basic",))
    channel = own.channels[0]
    day = DAY - timedelta(days=10)
    before = _rows(pg_admin, "channel_basic", channel, day)
    others = [r for r in _rows(pg_admin, "channel_basic", channel) if r not in before]

    own.sim.set_now(at(DAY + timedelta(days=3), hour=18))
    own.sim.owner.regenerate(channel, "channel_basic_a3", day)
    again = own.reporting(families=("channel_basic",))
    assert again.reports_landed == 1
    report_id, rows, views = _csv_views(own.sim, channel, "channel_basic_a3", day)
    after = _rows(pg_admin, "channel_basic", channel, day)
    assert {r[0] for r in after} == {report_id} != {r[0] for r in before}
    assert len(after) == rows  # replaced, not added to
    assert sum(r[3] for r in after) == views
    assert [r for r in _rows(pg_admin, "channel_basic", channel) if r not in after] == others
    statuses = [(d, s) for f, d, _, s, _ in _ledger(pg_admin, channel) if d == day]
    assert statuses == [(day, "landed"), (day, "landed")]  # both reports recorded, newest wins
    assert own.reporting(families=("channel_basic",)).reports_landed == 0


def test_youtube_regenerations_replace_preliminary_figures(owners, pg_admin):
    """YouTube's own regenerations (about 4 % of days): the first report's views were
    preliminary; once the newer report lands, the day holds its figures only."""
    own = owners(channels=6, day=DAY)
    own.reporting(families=("channel_basic",))
    own.sim.set_now(at(DAY + timedelta(days=3)))  # the 30 days of history arrive
    own.reporting(families=("channel_basic",))
    own.sim.set_now(at(DAY + timedelta(days=9)))  # their regenerations too
    own.reporting(families=("channel_basic",))
    twice = pg_admin.execute(
        "select channel_id, report_date, count(*) from raw_youtube_reporting.reports "
        "where channel_id = any(%s) and report_family = 'channel_basic' "
        "group by 1, 2 having count(*) > 1",
        (own.channels,),
    ).fetchall()
    assert twice, "no day was regenerated after it landed"
    for channel, day, _ in twice:
        report_id, rows, views = _csv_views(own.sim, channel, "channel_basic_a3", day)
        landed = _rows(pg_admin, "channel_basic", channel, day)
        assert {r[0] for r in landed} == {report_id}
        assert (len(landed), sum(r[3] for r in landed)) == (rows, views)


def test_a_header_only_day_is_no_data_and_not_asked_for_again(owners, pg_admin):
    quiet = RealWorld(no_uploads=True)  # a channel without videos: every report is header-only
    own = owners(channels=2, day=DAY, real_world={1: quiet})
    own.reporting(families=("channel_basic",))
    own.sim.set_now(at(DAY + timedelta(days=3)))
    own.reporting(families=("channel_basic",))
    busy, empty = own.channels
    ledger = _ledger(pg_admin, empty)
    assert ledger
    assert {(s, n) for *_, s, n in ledger} == {("no_data", 0)}
    assert _rows(pg_admin, "channel_basic", empty) == []
    downloads = own.sim.owner.ledger.count("media.download", empty)
    own.sim.set_now(at(DAY + timedelta(days=3), hour=20))
    own.reporting(families=("channel_basic",))
    assert own.sim.owner.ledger.count("media.download", empty) == downloads

    # a day that had data, regenerated header-only: the day is emptied, in one load
    day = DAY - timedelta(days=3)
    assert _rows(pg_admin, "channel_basic", busy, day)
    own.sim.owner.regenerate(busy, "channel_basic_a3", day, empty=True)
    run = own.reporting(families=("channel_basic",))
    assert run.reports_no_data == 1
    assert _rows(pg_admin, "channel_basic", busy, day) == []
    newest = [(s, n) for _, d, _, s, n in _ledger(pg_admin, busy) if d == day][-1]
    assert newest == ("no_data", 0)
    assert pg_admin.execute(
        "select count(*) from raw_youtube_reporting.channel_basic where _report_is_empty"
    ).fetchone() == (0,)


def test_revoked_token_and_deprecated_type_are_their_channels_alone(owners, pg_admin, new_topic):
    """After a2's retirement (2025-10-31): a channel still has an a2 job, one revoked its grant."""
    from tests.read_topic import read_topic

    day = date(2025, 11, 10)
    own = owners(channels=3, day=day)
    old, revoked, fine = own.channels
    own.sim.owner.create_job(old, "channel_basic_a2", at(date(2025, 10, 1)))
    own.sim.owner.oauth.revoke(revoked)
    topic = new_topic()
    run = own.reporting(families=("channel_basic",), alert_topic=topic)
    statuses = {c: sorted({o.status for o in items}) for c, items in run.outcomes.items()}
    assert statuses[revoked] == ["auth_revoked"]
    assert "report_type_deprecated" in statuses[old]
    assert fine not in statuses or statuses[fine] == ["no_reports_yet"]
    # the old job's reports (days before the retirement) land; a job of a3 is made
    assert {j.report_type_id for j in own.sim.owner.jobs.values() if j.channel_id == old} == {
        "channel_basic_a2",
        "channel_basic_a3",
    }
    landed = pg_admin.execute(
        "select max(date), count(distinct report_type_id) from raw_youtube_reporting.channel_basic "
        "where channel_id = %s",
        (old,),
    ).fetchone()
    assert landed[0] < date(2025, 10, 31)
    assert landed[1] == 1
    assert not [j for j in own.sim.owner.jobs.values() if j.channel_id == revoked]
    alerts = [json.loads(m.value) for m in read_topic(topic, own.settings)]
    assert [(a["channel_id"], a["report_type_id"]) for a in alerts] == [(old, "channel_basic_a2")]
    own.reporting(families=("channel_basic",), alert_topic=topic)
    assert len(read_topic(topic, own.settings)) == 1  # alerted once


def test_every_family_lands_its_typed_columns(owners, pg_admin):
    own = owners(channels=1, day=DAY)
    own.reporting()
    own.sim.set_now(at(DAY + timedelta(days=3)))
    run = own.reporting()
    assert run.status == "complete"
    channel = own.channels[0]
    total = 0
    for family in FAMILIES:
        count = pg_admin.execute(
            f"select count(*), count(distinct (report_id, report_row)), count(distinct date) "
            f"from raw_youtube_reporting.{family} where channel_id = %s",
            (channel,),
        ).fetchone()
        assert count[0] == count[1] > 0, family
        assert count[2] >= 30, family
        total += count[0]
    assert total == run.rows
    types = dict(
        pg_admin.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'raw_youtube_reporting' and table_name = 'channel_traffic_source'"
        ).fetchall()
    )
    assert types["date"] == "date"
    assert types["traffic_source_type"] == "bigint"
    assert types["watch_time_minutes"] == "double precision"
    assert types["create_time"] == "timestamp with time zone"


def test_owners_who_made_their_jobs_a_month_ago_have_a_month_of_daily_reports():
    """What `ytempire simulate youtube --owner-channels N` (the demo) serves: pure, no service."""
    sim = YouTubeSimulator(Network(seed=7, channels=3), day=DAY)
    owners = [c.channel_id for c in sim.network.channels][:2]
    made_at = sim.now - timedelta(days=33)
    assert sim.owner.backdate_jobs(owners, made_at) == 2 * len(FAMILIES)
    assert sim.owner.backdate_jobs(owners, made_at) == 0  # one job per channel and type
    assert {j.channel_id for j in sim.owner.jobs.values()} == set(owners)
    # each family's newest type: a3, not the a2 that YouTube still listed then
    assert "channel_basic_a3" in {j.report_type_id for j in sim.owner.jobs.values()}
    assert made_at < A2_RETIRED
    for job in sim.owner.jobs.values():
        days = {r.day for r in sim.owner.reports(job)}
        month = {made_at.date() + timedelta(days=n) for n in range(30)}
        assert month <= days, (job.report_type_id, sorted(month - days))
