"""The analyst's surface, end to end: dbt_project/analyses/ run as role analyst.

A crafted network with answers worked out by hand (below) is landed in a
database of its own and built with `dbt build`; each analysis is compiled by
dbt and run as the read-only ``analyst`` role against the real PostgreSQL.
The module also checks the surface itself: exactly the models documented
``access: public`` are readable by the analyst, every readable column carries
its documented comment, and the CPM override check fails on a niche no channel
has.

The network: three channels over five days from Monday 2025-03-03, one video
each, published on the first day (so it counts from zero while the channel's
first day is its baseline). Per day a video gains ``views`` views and
``likes``; the channel's counter gains them plus ``catalog`` views of its
untracked catalog. Gamma is not collected on day 3.

    channel  niche    CPM   views  likes  catalog  subscribers   cost  quality
    Alpha    tech     3.00  10000  300    5000     1000 +10/day  2.00  90
    Beta     finance  4.50   2000  120    1000     5000 -10/day  1.00  70
    Gamma    gaming   1.60    500    5       0      300          0.50  50

Alpha's video: engagement 3.00 % -> x1.2, CPM 3.60, ad 36.00 + affiliate 3.60
= 39.60 a day (10,000 views is not above the sponsorship threshold). Its
catalog from day 1: 5,000 views at 3.60 = 18.00 + 1.80 = 19.80, so 59.40 a day;
day 0 is the channel's baseline: 39.60. Beta: 6.00 % -> x1.5, CPM 6.75: 14.85
a day, catalog 6.75 + 0.675 = 7.43, so 22.28. Gamma: 1.00 % -> x1, CPM 1.60:
0.88 a day, 1.76 on day 4 (two days of views), no catalog.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import psycopg
import pytest

from simulation import ids
from simulation.raw_history import create_raw_indexes, create_raw_tables
from tests.conftest import own_database
from ytempire.clients import pg_connect, pg_conninfo
from ytempire.dbt_runner import run_dbt, target_dir
from ytempire.errors import YTEmpireError
from ytempire.settings import Settings

pytestmark = pytest.mark.services

START = date(2025, 3, 3)
DAYS = 5
MISSING = (2, 3)  # (channel, day) not collected
NETWORK = (
    # title, niche, views, likes, catalog, subscribers, per day, cost, quality
    ("Alpha", "tech", 10_000, 300, 5_000, 1_000, 10, "2.00", 90),
    ("Beta", "finance", 2_000, 120, 1_000, 5_000, -10, "1.00", 70),
    ("Gamma", "gaming", 500, 5, 0, 300, 0, "0.50", 50),
)
ALPHA, BETA, GAMMA = (ids.channel_id(index) for index in range(3))
PUBLIC_MODELS = {
    "fct_channel_daily_metrics",
    "fct_video_daily_metrics",
    "dim_channels",
    "dim_videos",
    "fct_collection_status",
    "collection_freshness",
    "mv_channel_performance",
    "mv_video_analytics",
    "mv_channel_revenue_daily",
    "mv_niche_revenue_daily",
    "fct_ingestion_daily",
    "fct_dead_letters_daily",
    "fct_video_daily_watch_time",
    "fct_channel_daily_watch_time",
    "fct_channel_daily_revenue_actuals",
    "fct_video_daily_revenue_actuals",
    "fct_niche_cpm_calibration",
    "fct_channel_daily_traffic_sources",
    "fct_channel_daily_devices",
    "fct_channel_daily_playback_locations",
    "fct_channel_daily_demographics",
    "fct_channel_daily_demographics_pivoted",
    "fct_channel_daily_reach",
    "fct_video_daily_reach",
    "dim_reported_videos",
}


def _day(day: int) -> date:
    return START + timedelta(days=day)


def _land(conn: psycopg.Connection[Any]) -> None:
    """The crafted network's raw and operational rows (see the module docstring)."""
    create_raw_tables(conn)
    create_raw_indexes(conn)
    for index, (title, niche, views, likes, catalog, subs, subs_step, cost, quality) in enumerate(
        NETWORK
    ):
        channel = ids.channel_id(index)
        video = ids.youtube_video_id(index, 0)
        published = f"{START} 18:00+00"
        conn.execute(
            "insert into ytempire.channels (channel_id, title, niche, created_at) "
            "values (%s, %s, %s, '2020-01-01')",
            (channel, title, niche),
        )
        conn.execute(
            "insert into ytempire.videos (video_id, channel_id, title, status, "
            "youtube_video_id, duration_seconds, quality_score, generation_cost_usd, "
            "published_at) values (%s, %s, %s, 'published', %s, 300, %s, %s, %s)",
            (
                ids.platform_video_id(index, 0),
                channel,
                f"{title} 1",
                video,
                quality,
                cost,
                published,
            ),
        )
        conn.execute(
            "insert into raw_youtube.videos (video_id, channel_id, title, published_at, "
            "duration_seconds, duration_iso, category_id, definition, first_seen_date, "
            "_dlt_load_id, _dlt_id) values (%s, %s, %s, %s, 300, 'PT5M', '22', 'hd', %s, "
            "'load', %s)",
            (video, channel, f"{title} 1", published, START, f"v{index}"),
        )
        for day in range(DAYS):
            if (index, day) == MISSING:
                continue
            collected = f"{_day(day)} 20:00+00"
            video_views = views * (day + 1)
            conn.execute(
                "insert into raw_youtube.channel_snapshots (channel_id, collection_date, "
                "collected_at, title, published_at, country, subscriber_count, view_count, "
                "video_count, hidden_subscriber_count, _dlt_load_id, _dlt_id) values "
                "(%s, %s, %s, %s, '2020-01-01', 'US', %s, %s, 1, false, 'load', %s)",
                (
                    channel,
                    _day(day),
                    collected,
                    title,
                    subs + subs_step * day,
                    100_000 + video_views + catalog * day,
                    f"c{index}-{day}",
                ),
            )
            conn.execute(
                "insert into raw_youtube.video_snapshots (video_id, collection_date, "
                "channel_id, collected_at, view_count, like_count, comment_count, "
                "_dlt_load_id, _dlt_id) values (%s, %s, %s, %s, %s, %s, 0, 'load', %s)",
                (
                    video,
                    _day(day),
                    channel,
                    collected,
                    video_views,
                    likes * (day + 1),
                    f"s{index}-{day}",
                ),
            )


@pytest.fixture(scope="module")
def analyses_settings(test_database: str) -> Iterator[Settings]:
    """A database of this module's own, landed and built once."""
    with own_database("analyses") as settings:
        with pg_connect("loader", settings=settings) as conn:
            _land(conn)
        run_dbt("build")
        run_dbt("compile", "--select", "path:analyses")
        yield settings


def _compiled(name: str) -> str:
    return (target_dir() / "compiled" / "ytempire" / "analyses" / name).read_text()


def _analysis(settings: Settings, name: str) -> list[dict[str, Any]]:
    """The rows of one compiled analysis, run as the analyst."""
    with pg_connect("analyst", settings=settings) as conn, conn.cursor() as cur:
        cur.execute(_compiled(f"{name}.sql"))  # type: ignore[arg-type]
        names = [column.name for column in cur.description or []]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def _pick(rows: list[dict[str, Any]], *names: str) -> list[tuple[Any, ...]]:
    """The named columns of each row, in order."""
    return [tuple(row[name] for name in names) for row in rows]


ANALYSES = (
    "top_channels_by_revenue_7d",
    "revenue_by_niche_daily",
    "network_revenue_weekly",
    "revenue_per_generation_cost",
    "subscriber_growth",
    "quality_score_vs_views",
    "incomplete_or_not_final",
)


@pytest.mark.parametrize("name", ANALYSES)
def test_each_analysis_uses_at_most_two_joins(analyses_settings: Settings, name: str) -> None:
    code = re.sub(r"--[^\n]*", "", _compiled(f"{name}.sql"))  # comments may say "join"
    assert "select" in code
    assert len(re.findall(r"\bjoin\b", code, re.IGNORECASE)) <= 2


def test_top_channels_by_revenue_7d(analyses_settings: Settings) -> None:
    rows = _analysis(analyses_settings, "top_channels_by_revenue_7d")
    assert _pick(
        rows, "channel_title", "niche", "revenue_7d_usd", "views_7d", "engagement_rate_7d_pct"
    ) == [
        ("Alpha", "tech", Decimal("277.20"), 60_000, Decimal("3.00")),
        ("Beta", "finance", Decimal("103.97"), 12_000, Decimal("6.00")),
        ("Gamma", "gaming", Decimal("4.40"), 2_000, Decimal("1.00")),
    ]


def test_revenue_by_niche_daily(analyses_settings: Settings) -> None:
    rows = {
        (r["metric_date"], r["niche"]): r
        for r in _analysis(analyses_settings, "revenue_by_niche_daily")
    }
    assert len(rows) == 3 * DAYS - 1  # Gamma's day 3 was not collected
    tech_baseline = rows[(_day(0), "tech")]
    assert (
        tech_baseline["ad_revenue_usd"],
        tech_baseline["affiliate_revenue_usd"],
        tech_baseline["untracked_revenue_usd"],
        tech_baseline["revenue_estimate_usd"],
        tech_baseline["is_final"],
    ) == (Decimal("36.0000"), Decimal("3.6000"), Decimal("0.00"), Decimal("39.60"), True)
    finance = rows[(_day(1), "finance")]
    assert (
        finance["ad_revenue_usd"],
        finance["affiliate_revenue_usd"],
        finance["sponsorship_revenue_usd"],
        finance["tracked_revenue_usd"],
        finance["untracked_revenue_usd"],
        finance["revenue_estimate_usd"],
        finance["is_final"],
    ) == (
        Decimal("20.2500"),
        Decimal("2.0250"),
        Decimal("0.0000"),
        Decimal("14.85"),
        Decimal("7.43"),
        Decimal("22.28"),
        False,
    )
    assert rows[(_day(4), "gaming")]["revenue_estimate_usd"] == Decimal("1.76")
    assert (_day(3), "gaming") not in rows


def test_network_revenue_weekly(analyses_settings: Settings) -> None:
    """The five days are one week (Monday 2025-03-03 on): the network's revenue in one row."""
    rows = _analysis(analyses_settings, "network_revenue_weekly")
    assert _pick(
        rows,
        "week_start_date",
        "metric_days",
        "channel_days",
        "tracked_revenue_usd",
        "untracked_revenue_usd",
        "revenue_estimate_usd",
        "is_final",
    ) == [
        (
            START,
            DAYS,
            3 * DAYS - 1,  # Gamma's day 3 was not collected
            Decimal("276.65"),  # 5 x 39.60 + 5 x 14.85 + 4.40
            4 * (Decimal("19.80") + Decimal("7.43")),  # no catalog on the baseline day
            Decimal("385.57"),  # 277.20 + 103.97 + 4.40
            False,
        )
    ]


def test_revenue_per_generation_cost(analyses_settings: Settings) -> None:
    rows = _analysis(analyses_settings, "revenue_per_generation_cost")
    assert _pick(rows, "niche", "channel_id", "revenue_usd", "revenue_per_cost_usd") == [
        ("finance", None, Decimal("74.25"), Decimal("74.25")),
        ("finance", BETA, Decimal("74.25"), Decimal("74.25")),
        ("gaming", None, Decimal("4.40"), Decimal("8.80")),
        ("gaming", GAMMA, Decimal("4.40"), Decimal("8.80")),
        ("tech", None, Decimal("198.00"), Decimal("99.00")),
        ("tech", ALPHA, Decimal("198.00"), Decimal("99.00")),
    ]


def test_subscriber_growth(analyses_settings: Settings) -> None:
    rows = _analysis(analyses_settings, "subscriber_growth")
    assert _pick(
        rows,
        "channel_title",
        "days_since_previous",
        "subscribers",
        "subscribers_daily",
        "subscriber_growth_pct",
        "has_lost_subscribers",
    ) == [
        ("Beta", 1, 4_960, -10, Decimal("-0.20"), True),
        ("Gamma", 2, 300, 0, Decimal("0.00"), False),
        ("Alpha", 1, 1_040, 10, Decimal("0.97"), False),
    ]
    assert {r["metric_date"] for r in rows} == {_day(4)}


def test_quality_score_vs_views(analyses_settings: Settings) -> None:
    rows = _analysis(analyses_settings, "quality_score_vs_views")
    assert _pick(
        rows, "quality_band_start", "videos", "views_mean", "views_median", "revenue_mean_usd"
    ) == [
        (50, 1, Decimal("2500.0"), 2_500, Decimal("4.40")),
        (70, 1, Decimal("10000.0"), 10_000, Decimal("74.25")),
        (90, 1, Decimal("50000.0"), 50_000, Decimal("198.00")),
    ]


def test_incomplete_or_not_final(analyses_settings: Settings) -> None:
    rows = _analysis(analyses_settings, "incomplete_or_not_final")
    assert _pick(
        rows,
        "metric_date",
        "is_complete",
        "is_final",
        "channels_expected",
        "channels_collected",
        "videos_expected",
        "videos_collected",
        "missing_channel_id",
    ) == [
        (_day(1), True, False, 3, 3, 3, 3, None),
        (_day(2), True, False, 3, 3, 3, 3, None),
        (_day(3), False, False, 3, 2, 3, 2, GAMMA),
        (_day(4), True, False, 3, 3, 3, 3, None),
    ]


def test_channel_revenue_is_its_videos_plus_the_catalog(analyses_settings: Settings) -> None:
    """Both grains, summed over the network: one revenue, and one engagement population."""
    with pg_connect("analyst", settings=analyses_settings) as conn:
        row = conn.execute(
            "select (select sum(revenue_estimate_usd) from marts.fct_channel_daily_metrics),"
            " (select sum(untracked_revenue_usd) from marts.fct_channel_daily_metrics),"
            " (select sum(revenue_estimate_usd) from marts.fct_video_daily_metrics),"
            " (select sum(likes_daily)::numeric / sum(tracked_views_daily) * 100"
            "  from marts.fct_channel_daily_metrics),"
            " (select sum(likes_daily)::numeric / sum(views_daily) * 100"
            "  from marts.fct_video_daily_metrics)"
        ).fetchone()
    assert row is not None
    channel, catalog, videos, channel_engagement, video_engagement = row
    assert channel == Decimal("385.57")  # 277.20 + 103.97 + 4.40
    assert catalog == 4 * (Decimal("19.80") + Decimal("7.43"))
    assert videos == channel - catalog
    assert channel_engagement == video_engagement


def test_point_in_time_niche_is_found_for_every_day(analyses_settings: Settings) -> None:
    with pg_connect("analyst", settings=analyses_settings) as conn:
        rows = conn.execute(
            "select count(*), count(versions.niche) from marts.fct_channel_daily_metrics as f"
            " left join marts.dim_channels as versions on f.channel_id = versions.channel_id"
            " and f.metric_date >= versions.valid_from_date"
            " and f.metric_date < versions.valid_to_date"
        ).fetchone()
    assert rows == (3 * DAYS - 1, 3 * DAYS - 1)


def _manifest_models() -> dict[str, dict[str, Any]]:
    manifest = json.loads((target_dir() / "manifest.json").read_text())
    return {
        node["name"]: node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
    }


def test_analyst_reads_exactly_the_documented_public_marts(
    analyses_settings: Settings,
) -> None:
    models = _manifest_models()
    public = {name for name, node in models.items() if node["access"] == "public"}
    granted = {
        name
        for name, node in models.items()
        if "analyst" in node["config"].get("grants", {}).get("select", [])
    }
    with pg_connect("admin", settings=analyses_settings) as conn:
        readable = {
            (schema, name)
            for schema, name in conn.execute(
                "select n.nspname, c.relname from pg_class as c"
                " join pg_namespace as n on n.oid = c.relnamespace"
                " where c.relkind in ('r', 'v', 'm', 'p', 'f')"
                " and n.nspname not in ('pg_catalog', 'information_schema')"
                " and has_table_privilege('analyst', c.oid, 'select')"
            ).fetchall()
        }
    assert public == granted == PUBLIC_MODELS
    assert readable == {("marts", name) for name in PUBLIC_MODELS}


def test_every_readable_column_carries_its_documented_comment(
    analyses_settings: Settings,
) -> None:
    models = _manifest_models()
    with pg_connect("analyst", settings=analyses_settings) as conn:
        comments = {
            (table, column): comment
            for table, column, comment in conn.execute(
                "select c.relname, a.attname, col_description(c.oid, a.attnum)"
                " from pg_class as c join pg_namespace as n on n.oid = c.relnamespace"
                " join pg_attribute as a on a.attrelid = c.oid"
                " where n.nspname = 'marts' and a.attnum > 0 and not a.attisdropped"
                " and has_table_privilege(c.oid, 'select')"
            ).fetchall()
        }
    expected = {
        (name, column): _plain(spec["description"])
        for name in PUBLIC_MODELS
        for column, spec in models[name]["columns"].items()
    }
    assert {key: (value or "").strip() for key, value in comments.items()} == expected
    # the notes for dbt readers stay on the docs site
    noted = [key for key, spec in expected.items() if "[dbt:" in spec]
    assert noted == []
    rate = models["fct_channel_daily_metrics"]["columns"]["engagement_rate_pct"]["description"]
    assert "[dbt: macro `engagement_rate`.]" in rate


def _plain(description: str) -> str:
    """The analyst's words of a description (macro plain_description): no `[dbt: ...]` notes."""
    return " ".join(re.sub(r"\s*\[dbt:[^\]]*\]", "", description).split())


def _psql(settings: Settings, *commands: str) -> list[list[str]]:
    """Run psql's own commands as the analyst; each output row split on ``|``."""
    result = subprocess.run(
        [
            "psql",
            "-X",
            "-A",
            "-t",
            "-v",
            "ON_ERROR_STOP=1",
            pg_conninfo("analyst", settings=settings),
        ]
        + [arg for command in commands for arg in ("-c", command)],
        capture_output=True,
        text=True,
        check=True,
    )
    return [line.split("|") for line in result.stdout.splitlines() if line]


def test_the_analyst_lands_in_the_marts_it_reads(analyses_settings: Settings) -> None:
    """psql as the analyst: its search_path is marts, and marts lists what it may read."""
    ((search_path,),) = _psql(analyses_settings, "show search_path")
    assert search_path == "marts"
    views = {row[1] for row in _psql(analyses_settings, "\\dm")}
    assert views == {
        "mv_channel_performance",
        "mv_video_analytics",
        "mv_channel_revenue_daily",
        "mv_niche_revenue_daily",
    }
    listed = {
        row[1]
        for command in ("\\dt marts.*", "\\dv marts.*", "\\dm marts.*")
        for row in _psql(analyses_settings, command)
    }
    assert listed == PUBLIC_MODELS
    # unqualified names resolve, and everything listed can be read
    counts = _psql(analyses_settings, *(f"select count(*) from {name}" for name in sorted(listed)))
    assert len(counts) == len(PUBLIC_MODELS)


def test_the_marts_analysts_do_not_read_live_apart(analyses_settings: Settings) -> None:
    models = _manifest_models()
    internal = {
        name: node["schema"]
        for name, node in models.items()
        if node["fqn"][1] == "marts" and node["access"] != "public"
    }
    assert internal
    assert set(internal.values()) == {"marts_internal"}
    for name in internal:
        with (
            pg_connect("analyst", settings=analyses_settings) as conn,
            pytest.raises(psycopg.errors.InsufficientPrivilege),
        ):
            conn.execute(f"select 1 from marts_internal.{name} limit 1")


def test_relation_comments_are_plain_words_too(analyses_settings: Settings) -> None:
    models = _manifest_models()
    rows = _psql(
        analyses_settings,
        "select c.relname, obj_description(c.oid, 'pg_class') from pg_class as c"
        " join pg_namespace as n on n.oid = c.relnamespace where n.nspname = 'marts'"
        " and c.relkind in ('r', 'v', 'm')",
    )
    comments = {name: comment for name, comment in rows}
    assert comments == {name: _plain(models[name]["description"]) for name in PUBLIC_MODELS}


def test_override_seed_check_fails_on_a_niche_no_channel_has(
    analyses_settings: Settings,
) -> None:
    """Gamma leaves `gaming`: the shipped gaming override now configures nothing.

    At severity error (var cpm_override_check_severity) the check fails; at the
    default, warn, it passes with the override named in the log.
    """
    check = ("test", "--select", "assert_cpm_overrides_match_channels")
    strict = ("--vars", '{"cpm_override_check_severity": "error"}')
    run_dbt(*check, *strict)  # every override matches a channel
    with pg_connect("loader", settings=analyses_settings) as conn:
        conn.execute(
            "update ytempire.channels set niche = 'cooking' where channel_id = %s", (GAMMA,)
        )
    try:
        with pytest.raises(YTEmpireError, match="dbt test"):
            run_dbt(*check, *strict)
        result = run_dbt(*check)
        # The run's result also holds the on-run-end hook (retired relations).
        tests = [r for r in result.result if r.node.resource_type == "test"]
        assert [str(r.status) for r in tests] == ["warn"]
    finally:
        with pg_connect("loader", settings=analyses_settings) as conn:
            conn.execute(
                "update ytempire.channels set niche = 'gaming' where channel_id = %s", (GAMMA,)
            )
