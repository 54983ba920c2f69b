"""The owner's sources in the daily run: the ``owner_sources`` stages and the ``owner`` gate.

Against the simulated YouTube and the real PostgreSQL, for the smallest
network that shows each claim (three channels, one report family): the
stages land what is available whatever day the run is for, count each
channel's outcome and fail none of them; the ``owner`` checkpoint passes a
report type that is not due yet or fresh, fails one whose newest landed day is
later than its expected delay, naming it, and fails a newest day short of its
usual rows. The checkpoint reads this test's channels only (the session
database holds other tests' landings), through ``relations``. Only the
channels whose owner granted access are landed: the others are
``no_credentials`` without a call, and a network where no owner granted any
is ``no_grants``, not a failure.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from expectations.checkpoints import run_checkpoint
from orchestration.owner import as_of, land_owner_reports, land_owner_revenue
from simulation.owner_apis import HISTORY_DAYS
from simulation.owner_model import owner_traits
from tests.youtube_owner.conftest import NO_WAIT, at

DAY = date(2025, 2, 1)
FAMILY = ("channel_basic",)


def _options(own: Any, lander: str) -> dict[str, Any]:
    return {
        "settings": own.settings,
        "channels": own.channels,
        "pipeline_name": f"{lander}_{own.name}",
        "redis_prefix": own.redis_prefix,
        "retry": NO_WAIT,
        "pipelines_dir": own.pipelines_dir,
    }


def _only(own: Any, pg: Any, short_day: date | None = None) -> dict[str, str]:
    """The owner tables restricted to this test's channels (``short_day``'s rows cut to a
    tenth); those not created yet are left to the checkpoint's stand-ins."""
    ids = ", ".join(f"'{c}'" for c in own.channels)
    rows = (
        "row_count"
        if short_day is None
        else (f"case when report_date = date '{short_day}' then row_count / 10 else row_count end")
    )
    tables = {
        "raw_youtube_reporting.reports": "(select channel_id, report_family, report_date, "
        f"{rows} as row_count, create_time from raw_youtube_reporting.reports "
        f"where channel_id in ({ids})) as mine",
        "raw_youtube_reporting.jobs": "(select * from raw_youtube_reporting.jobs "
        f"where channel_id in ({ids})) as mine",
        "raw_youtube_analytics.channel_days": "(select * from raw_youtube_analytics.channel_days "
        f"where channel_id in ({ids})) as mine",
        "raw_youtube_analytics.video_days": "(select * from raw_youtube_analytics.video_days "
        f"where channel_id in ({ids})) as mine",
    }
    return {
        name: mine
        for name, mine in tables.items()
        if pg.execute("select to_regclass(%s)", (name,)).fetchone() != (None,)
    }


def _why(run: Any) -> list[tuple[Any, ...]]:
    return [
        (o.suite_name, o.expectation_type, o.observed_value, o.unexpected_rows, o.exception_message)
        for o in run.failed
    ]


def _failed_types(run: Any) -> dict[str, set[str]]:
    """suite -> the report types its failed expectations name."""
    out: dict[str, set[str]] = {}
    for outcome in run.failed:
        out.setdefault(outcome.suite_name, set()).update(
            row["report_type"] for row in outcome.unexpected_rows
        )
    return out


def test_as_of_is_the_end_of_the_runs_interval_never_later_than_now():
    end = as_of(DAY, now=at(DAY + timedelta(days=30)))
    assert end.isoformat() == "2025-02-02T10:00:00+00:00"  # 02:00 PST the day after
    assert as_of(DAY, now=at(DAY)) == at(DAY)


def test_the_daily_stages_count_outcomes_and_the_gate_names_a_late_report_type(owners, pg_admin):
    own = owners(channels=3, day=DAY)
    revoked = own.channels[2]
    own.sim.owner.oauth.revoke(revoked)
    net = own.sim.network
    earning = [c.channel_id for c in net.channels if owner_traits(net, c.index).monetized]

    first = land_owner_reports(
        DAY, now=own.sim.now, families=FAMILY, alert_topic=None, **_options(own, "rep")
    )
    # jobs made, their first reports 48 h away: no failure, each channel's outcome counted
    assert (first["status"], first["landed"]) == ("complete", 0)
    assert first["outcomes"] == {"auth_revoked": 1, "no_reports_yet": 2}
    assert first["channels_with_outcomes"][revoked] == ["auth_revoked"]
    stage = pg_admin.execute(
        "select status, details -> 'outcomes' from analytics.pipeline_stage_runs "
        "where stage = 'owner_reports' and run_date = %s order by stage_run_id desc limit 1",
        (DAY,),
    ).fetchone()
    assert stage == ("success", {"auth_revoked": 1, "no_reports_yet": 2})
    # not due yet: the first reports are not late
    due = run_checkpoint("owner", DAY, relations=_only(own, pg_admin), settings=own.settings)
    assert due.success, _why(due)

    later = DAY + timedelta(days=3)
    own.sim.set_now(at(later))
    landed = land_owner_reports(
        later, now=own.sim.now, families=FAMILY, alert_topic=None, **_options(own, "rep")
    )
    assert landed["landed"] + landed["no_data"] >= 2 * 30  # two channels' 30 days of history
    assert landed["outcomes"] == {"auth_revoked": 1}
    revenue = land_owner_revenue(later, now=own.sim.now, **_options(own, "ana"))
    assert revenue["channel_days"] > 0
    assert revenue["outcomes"]["auth_revoked"] == 1
    assert revenue["outcomes"].get("not_monetized", 0) == len(
        [c for c in own.channels[:2] if c not in earning]
    )
    fresh = run_checkpoint("owner", later, relations=_only(own, pg_admin), settings=own.settings)
    assert fresh.success, _why(fresh)
    assert len(fresh.outcomes) == 3  # two freshness rules and one of rows per day, evaluated

    # a week without landing: both sources are late, each named
    late = later + timedelta(days=7)
    stale = run_checkpoint("owner", late, relations=_only(own, pg_admin), settings=own.settings)
    assert _failed_types(stale) == {"owner_freshness": {"channel_basic", "revenue"}}, _why(stale)

    # the newest landed day holds a tenth of its usual rows: rows per day names the type
    newest = pg_admin.execute(
        "select max(report_date) from raw_youtube_reporting.reports "
        "where channel_id = any(%s) and report_date <= %s",
        (own.channels, later),
    ).fetchone()[0]
    short = run_checkpoint(
        "owner", later, relations=_only(own, pg_admin, short_day=newest), settings=own.settings
    )
    assert _failed_types(short) == {"owner_rows_per_day": {"channel_basic"}}, _why(short)


def _stage_run(pg: Any, stage: str) -> tuple[Any, ...]:
    return pg.execute(
        "select status, details -> 'status', details -> 'outcomes' "
        "from analytics.pipeline_stage_runs where stage = %s and run_date = %s "
        "order by stage_run_id desc limit 1",
        (stage, DAY),
    ).fetchone()


def test_a_channel_without_a_grant_is_no_credentials_without_a_call_and_the_others_land(
    owners, pg_admin
):
    own = owners(channels=2, day=DAY)
    ungranted, *granted = own.channels
    own.store.remove(ungranted)
    # the granted owners made their jobs a month ago: their daily reports are out
    own.sim.owner.backdate_jobs(granted, own.sim.now - timedelta(days=HISTORY_DAYS + 3))

    landed = land_owner_reports(
        DAY, now=own.sim.now, families=FAMILY, alert_topic=None, **_options(own, "rep")
    )
    assert (landed["status"], landed["channels"]) == ("complete", 2)
    assert landed["outcomes"] == {"no_credentials": 1}
    assert landed["channels_with_outcomes"] == {ungranted: ["no_credentials"]}
    assert own.sim.owner.ledger.count(channel_id=ungranted) == 0
    assert own.sim.owner.ledger.count(channel_id=granted[0]) > 0
    days = dict(
        pg_admin.execute(
            "select channel_id, count(distinct report_date) from raw_youtube_reporting.reports "
            "where channel_id = any(%s) group by 1",
            (own.channels,),
        ).fetchall()
    )
    assert list(days) == granted
    assert days[granted[0]] >= 30, days  # a month of daily reports


def test_a_network_where_no_owner_granted_access_is_no_grants_and_fails_nothing(owners, pg_admin):
    own = owners(channels=2, day=DAY)
    for channel in own.channels:
        own.store.remove(channel)

    reports = land_owner_reports(DAY, now=own.sim.now, alert_topic=None, **_options(own, "rep"))
    revenue = land_owner_revenue(DAY, now=own.sim.now, **_options(own, "ana"))
    for details in (reports, revenue):
        assert (details["status"], details["api_calls"]) == ("no_grants", 0)
        assert details["outcomes"] == {"no_credentials": 2}
    assert own.sim.owner.ledger.count() == 0  # not even a token refresh
    assert not own.pipelines_dir.exists()  # no dlt load was started
    assert _stage_run(pg_admin, "owner_reports") == (
        "success",
        "no_grants",
        {"no_credentials": 2},
    )
    assert _stage_run(pg_admin, "owner_revenue")[:2] == ("success", "no_grants")
