"""Checkpoints: the suites bound to warehouse tables, run with GX Core 1.x, results kept.

Two checkpoints, each a list of (suite, asset) validations:

- ``raw`` runs before dbt, on the landings of the run day and the
  operational tables (``validation_raw`` stage);
- ``owner`` runs after the owner's sources land (``validation_owner`` stage,
  the DAG's ``owner_sources`` group): per report type of the Reporting API,
  and for the Analytics API's revenue, whether the newest landed day is
  within its expected delay of the run day, and whether the newest day has
  its usual rows (:func:`_owner_sources_query`);
- ``marts`` runs after dbt, on the public marts (``validation_marts`` stage):
  their whole tables, and the run day's rows at every day grain
  (:data:`RUN_DAY_GRAINS`), so a build that wrote nothing for the day fails
  even when every older row is good.

:func:`validate` builds an ephemeral GX context whose one data source is the
warehouse (a PostgreSQL data source, connection from :mod:`ytempire.settings`,
read as ``ytempire_transformer``), adds each suite, a table or query asset, a
validation definition and a GX ``Checkpoint`` with an ``UpdateDataDocsAction``
(Data Docs in ``$YTEMPIRE_DATA_DOCS_DIR``, default ``$YTEMPIRE_LOCAL_DIR/data_docs/gx``),
runs them, makes the site work offline (:mod:`expectations.offline_docs`), then
stores every expectation's outcome in
``analytics.validation_results``, summarises the run in Redis and publishes
each failed expectation on ``alerts``
(:mod:`expectations.results`). GX is imported inside the functions.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import uuid
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from expectations import offline_docs, results
from expectations.suites import SUITES
from ytempire.errors import YTEmpireError
from ytempire.settings import Settings, get_settings
from ytempire.stage_runs import record_stage

CHECKPOINTS = ("raw", "owner", "marts")
STAGE_OF_CHECKPOINT = {
    "raw": "validation_raw",
    "owner": "validation_owner",
    "marts": "validation_marts",
}
DATA_SOURCE = "warehouse"
DOCS_SITE = "ytempire_site"


@dataclass(frozen=True)
class Validation:
    """One suite on one asset: a relation (``schema.table``) or a query of the run day."""

    suite: str
    asset: str
    key_columns: tuple[str, ...]
    relation: str | None = None
    query: Callable[[date, Mapping[str, str]], str] | None = None


def _landing_query(tables: Sequence[tuple[str, str]]) -> Callable[[date, Mapping[str, str]], str]:
    """Per table: the run day's rows, their ratio to the 7 days before, days behind.

    ``tables`` are (relation, day expression) pairs; the run date enters as a
    date literal from a ``date`` object, never from free text.
    """

    def build(run_date: date, relations: Mapping[str, str]) -> str:
        parts = []
        for relation, day in tables:
            actual = relations.get(relation, relation)
            parts.append(f"""
select
    '{relation}'::text as relation,
    coalesce(max(rows) filter (where landed_day = day0), 0) as day_rows,
    coalesce(
        coalesce(max(rows) filter (where landed_day = day0), 0)::float
        / nullif(percentile_cont(0.5) within group (order by rows)
            filter (where landed_day < day0), 0),
        1.0
    ) as row_count_ratio,
    coalesce(day0 - (
        select max({day}) from {actual} where {day} <= day0
    ), 9999) as days_behind
from (select date '{run_date.isoformat()}' as day0) as run
left join (
    select {day} as landed_day, count(*) as rows
    from {actual}
    where {day} between date '{run_date.isoformat()}' - 7 and date '{run_date.isoformat()}'
    group by 1
) as days on true
group by day0""")
        return "\nunion all\n".join(parts)

    return build


def _events_landing_query(run_date: date, relations: Mapping[str, str]) -> str:
    dead = relations.get("raw_events.dead_letters", "raw_events.dead_letters")
    landing = _landing_query([("raw_events.events", "(occurred_at at time zone 'UTC')::date")])(
        run_date, relations
    )
    day = f"date '{run_date.isoformat()}'"
    return f"""
select landing.*,
    coalesce(dead.rows::float / nullif(dead.rows + landing.day_rows, 0), 0)
        as dead_letter_share
from ({landing}) as landing
cross join (
    select count(*) as rows from {dead}
    where (dead_lettered_at at time zone 'UTC')::date = {day}
) as dead"""


# The owner's sources (issue 28): how many days behind the run day the newest landed day
# of each may be. A day's Reporting API reports arrive 20-44 h after it ends, its
# Analytics API revenue 24 h after it ends; the DAG runs at 02:00 Pacific after the
# day, so the newest day is normally one or two days behind (the ~48 h delay); one
# more day is the grace before the source counts as late. The key is the report
# family (YouTube's report type without its version), or ``revenue``.
OWNER_EXPECTED_DAYS_BEHIND = 2
OWNER_GRACE_DAYS = 1
OWNER_MAX_DAYS_BEHIND: dict[str, int] = {
    **dict.fromkeys(
        (
            "channel_basic",
            "channel_traffic_source",
            "channel_device_os",
            "channel_playback_location",
            "channel_demographics",
            "channel_reach_basic",
        ),
        OWNER_EXPECTED_DAYS_BEHIND + OWNER_GRACE_DAYS,
    ),
    "revenue": OWNER_EXPECTED_DAYS_BEHIND + OWNER_GRACE_DAYS,
}
# A family's first reports arrive 48 h after its first job is made: until then (and a
# grace day) no report is not late, it is not due (the landers' ``no_reports_yet``).
OWNER_FIRST_REPORTS_DUE = "72 hours"
# Rows per day (suite owner_rows_per_day): the newest day's rows over the median of the 7
# days before, summed over the channels that delivered the newest day (a day some channels
# have not delivered yet is not short).
_REPORTS = "raw_youtube_reporting.reports"
_JOBS = "raw_youtube_reporting.jobs"
_REPORT_TYPES = "raw_youtube_reporting.report_types"
_REVENUE_DAYS = "raw_youtube_analytics.channel_days"
_REVENUE_VIDEO_DAYS = "raw_youtube_analytics.video_days"


def _owner_sources_query(run_date: date, relations: Mapping[str, str]) -> str:
    """One row per owner source that should be delivering: its freshness and rows per day.

    Sources: each report family with a reporting job made before the run
    day's end (the ledger ``raw_youtube_reporting.reports``, one newest report
    per channel and day), and ``revenue`` once any revenue has landed. Columns:
    ``report_type``, ``newest_day`` (newest day landed, no later than the run
    day: a header-only day counts, it was delivered), ``days_behind`` (run day
    - newest day; 9999 when nothing landed; NULL while the first reports are
    not due yet), ``max_days_behind`` (:data:`OWNER_MAX_DAYS_BEHIND`),
    ``day_rows`` and ``row_count_ratio`` (the rows per day above; 1.0 without history).
    The run date enters as a date literal from a ``date`` object.
    """
    reports = relations.get(_REPORTS, _REPORTS)
    jobs = relations.get(_JOBS, _JOBS)
    types = relations.get(_REPORT_TYPES, _REPORT_TYPES)
    revenue = relations.get(_REVENUE_DAYS, _REVENUE_DAYS)
    videos = relations.get(_REVENUE_VIDEO_DAYS, _REVENUE_VIDEO_DAYS)
    day0 = f"date '{run_date.isoformat()}'"
    seen_at = f"(({day0} + 1)::timestamp + interval '2 hours') at time zone 'America/Los_Angeles'"
    limits = ", ".join(f"('{name}', {days})" for name, days in OWNER_MAX_DAYS_BEHIND.items())
    default_limit = OWNER_EXPECTED_DAYS_BEHIND + OWNER_GRACE_DAYS
    # GX's query asset must start with SELECT
    return f"""
select * from (
with limits (report_type, max_days_behind) as (values {limits}),
expected as (
    select types.report_family as report_type, min(jobs.create_time) as first_job_at
    from (select * from {jobs}) as jobs
    join (select * from {types}) as types using (report_type_id)
    where jobs.create_time < {seen_at}
    group by 1
),
newest_reports as (
    select distinct on (channel_id, report_family, report_date)
        channel_id, report_family as report_type, report_date as day, row_count as rows
    from {reports}
    where report_date between {day0} - 30 and {day0}
    order by channel_id, report_family, report_date, create_time desc
),
revenue_days as (
    -- a channel-day's rows: its videos with revenue figures (the top-videos report)
    select c.channel_id, 'revenue'::text as report_type, c.day, count(v.video_id) as rows
    from (select * from {revenue}) as c
    left join (select * from {videos}) as v using (channel_id, day)
    where c.day between {day0} - 30 and {day0}
    group by 1, 2, 3
),
delivered as (
    select * from newest_reports
    union all
    select * from revenue_days
),
sources as (
    select report_type, first_job_at from expected
    union all
    select 'revenue', null from (select 1 from {revenue} limit 1) as any_revenue
),
newest as (
    select report_type, max(day) as newest_day from delivered group by 1
),
per_channel as (
    select d.report_type, d.channel_id,
        sum(d.rows) filter (where d.day = n.newest_day) as day_rows,
        percentile_cont(0.5) within group (order by d.rows)
            filter (where d.day between n.newest_day - 7 and n.newest_day - 1) as median_rows
    from delivered as d
    join newest as n using (report_type)
    where d.day between n.newest_day - 7 and n.newest_day
    group by 1, 2
),
rows_per_day as (
    select report_type,
        coalesce(sum(day_rows), 0) as day_rows,
        coalesce(
            sum(day_rows)::float
            / nullif(sum(median_rows) filter (where day_rows is not null), 0),
            1.0
        ) as row_count_ratio
    from per_channel
    group by 1
)
select
    s.report_type,
    n.newest_day,
    case
        when n.newest_day is null
            and s.first_job_at > {seen_at} - interval '{OWNER_FIRST_REPORTS_DUE}' then null
        else coalesce({day0} - n.newest_day, 9999)
    end as days_behind,
    coalesce(l.max_days_behind, {default_limit}) as max_days_behind,
    coalesce(r.day_rows, 0) as day_rows,
    coalesce(r.row_count_ratio, 1.0) as row_count_ratio
from sources as s
left join newest as n using (report_type)
left join rows_per_day as r using (report_type)
left join limits as l using (report_type)
) as owner_sources"""


# The public marts with a day grain (``metric_date``): relation -> grain. The
# run day must have at least one row in each after dbt has built it.
RUN_DAY_GRAINS: dict[str, str] = {
    "marts.fct_channel_daily_metrics": "channel-day",
    "marts.fct_video_daily_metrics": "video-day",
    "marts.fct_collection_status": "day",
    "marts.fct_ingestion_daily": "day",
}
# Day-grain marts a good day may leave without rows (model name: not read), and why.
SPARSE_DAY_MARTS: dict[str, str] = {
    "fct_dead_letters_daily": "a row per dead-lettered topic and reason: none on a clean day",
    # The owner's view (Reporting and Analytics APIs): a day's reports and revenue arrive
    # about two days after it, so a run of day D never has D's rows; a network whose owners
    # granted no access has none at all. The DAG's `owner` checkpoint is their gate: the
    # newest landed day of each report type within its delay, and its rows per day.
    **dict.fromkeys(
        (
            "fct_channel_daily_watch_time",
            "fct_video_daily_watch_time",
            "fct_channel_daily_traffic_sources",
            "fct_channel_daily_devices",
            "fct_channel_daily_playback_locations",
            "fct_channel_daily_demographics",
            "fct_channel_daily_demographics_pivoted",
            "fct_channel_daily_reach",
            "fct_video_daily_reach",
        ),
        "the owner's reports arrive ~48 h late: gated per report type by the owner checkpoint",
    ),
    **dict.fromkeys(
        ("fct_channel_daily_revenue_actuals", "fct_video_daily_revenue_actuals"),
        "the owner's revenue arrives ~48 h late: gated by the owner checkpoint",
    ),
}
# Day-grain marts built after the gate runs (model name: not read), and why. The DAG
# refreshes the analysts' materialized views in ``analyst_views``, after ``validate_marts``
# (airflow/dags/ytempire_daily.py): at the gate they still hold the day before.
LATER_DAY_MARTS: dict[str, str] = {
    "mv_channel_revenue_daily": "a materialized view of fct_channel_daily_metrics (checked here), "
    "refreshed by analyst_views after the gate",
    "mv_niche_revenue_daily": "a materialized view summing mv_channel_revenue_daily per niche, "
    "refreshed by analyst_views after the gate",
}


def _run_day_query(run_date: date, relations: Mapping[str, str]) -> str:
    """One row per :data:`RUN_DAY_GRAINS` mart: its rows of the run day (``day_rows``)."""
    day = f"date '{run_date.isoformat()}'"
    return "\nunion all\n".join(
        f"select '{relation}'::text as relation, '{grain}'::text as grain, count(*) as day_rows"
        f" from {relations.get(relation, relation)} where metric_date = {day}"
        for relation, grain in RUN_DAY_GRAINS.items()
    )


VALIDATIONS: dict[str, tuple[Validation, ...]] = {
    "raw": (
        Validation(
            "raw_youtube_landing",
            "raw_youtube_landing",
            ("relation",),
            query=_landing_query(
                [
                    ("raw_youtube.channel_snapshots", "collection_date"),
                    ("raw_youtube.video_snapshots", "collection_date"),
                ]
            ),
        ),
        Validation(
            "raw_events_landing", "raw_events_landing", ("relation",), query=_events_landing_query
        ),
        Validation("raw_youtube_videos", "raw_youtube.videos", ("video_id",), "raw_youtube.videos"),
        Validation("video_data_quality", "ytempire.videos", ("video_id",), "ytempire.videos"),
        Validation(
            "channel_data_quality", "ytempire.channels", ("channel_id",), "ytempire.channels"
        ),
    ),
    "owner": (
        Validation(
            "owner_freshness", "owner_freshness", ("report_type",), query=_owner_sources_query
        ),
        Validation(
            "owner_rows_per_day", "owner_rows_per_day", ("report_type",), query=_owner_sources_query
        ),
    ),
    "marts": (
        Validation(
            "marts_channel_daily",
            "marts.fct_channel_daily_metrics",
            ("channel_id", "metric_date"),
            "marts.fct_channel_daily_metrics",
        ),
        Validation("marts_dim_videos", "marts.dim_videos", ("video_id",), "marts.dim_videos"),
        Validation("marts_run_day", "marts_run_day", ("relation",), query=_run_day_query),
    ),
}


class ValidationFailed(YTEmpireError):
    """Expectations failed; the run's outcomes are in ``run``. Exit status 3."""

    exit_code = 3

    def __init__(self, run: ValidationRun):
        self.run = run
        failed = ", ".join(f"{o.suite_name}.{o.expectation_type}" for o in run.failed[:5])
        more = f" and {len(run.failed) - 5} more" if len(run.failed) > 5 else ""
        super().__init__(
            f"{len(run.failed)} of {len(run.outcomes)} expectations failed in checkpoint "
            f"{run.checkpoint!r} for {run.run_date}: {failed}{more}. Next: read "
            "analytics.validation_results for the rows, or the Data Docs."
        )


@dataclass
class ValidationRun:
    """What one checkpoint run found."""

    run_id: str
    checkpoint: str
    run_date: date
    outcomes: list[results.Outcome] = field(default_factory=list)
    docs_index: Path | None = None
    docs_offline: bool = False  # its pages load every script, style and font from the site

    @property
    def failed(self) -> list[results.Outcome]:
        return [o for o in self.outcomes if not o.success]

    @property
    def success(self) -> bool:
        return not self.failed


def docs_dir(settings: Settings | None = None) -> Path:
    """Where the Data Docs site is built: ``$YTEMPIRE_DATA_DOCS_DIR``, by default
    ``$YTEMPIRE_LOCAL_DIR/data_docs/gx``."""
    return (settings or get_settings()).data_docs_path


def _connection_string(settings: Settings) -> str:
    from sqlalchemy.engine import URL

    role = settings.role("transformer")
    url = URL.create(
        "postgresql+psycopg",
        username=role.user,
        password=role.password,
        host=settings.pg_host,
        port=settings.pg_port,
        database=settings.pg_database,
    )
    return url.render_as_string(hide_password=False)


def _context(settings: Settings, docs: Path) -> Any:
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    # GX logs its temporary docs folder at INFO from a logger of its own level.
    level = logging.getLogger("great_expectations").getEffectiveLevel()
    logging.getLogger("great_expectations.data_context.types.base").setLevel(level)
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    for site, config in dict(context.list_data_docs_sites()).items():
        context.delete_data_docs_site(site)
        folder = Path(config.get("store_backend", {}).get("base_directory", ""))
        if folder.is_relative_to(tempfile.gettempdir()):  # the default site's empty temp dir
            shutil.rmtree(folder, ignore_errors=True)
    context.add_data_docs_site(
        DOCS_SITE,
        {
            "class_name": "SiteBuilder",
            "store_backend": {
                "class_name": "TupleFilesystemStoreBackend",
                "base_directory": str(docs),
            },
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        },
    )
    return context


def _checkpoint(
    context: Any,
    source: Any,
    checkpoint: str,
    validation: Validation,
    run_date: date,
    relations: Mapping[str, str],
) -> Any:
    import great_expectations as gx
    from great_expectations.checkpoint import UpdateDataDocsAction

    if validation.query is not None:
        asset = source.add_query_asset(
            name=validation.asset, query=validation.query(run_date, relations)
        )
    else:
        assert validation.relation is not None
        schema, table = relations.get(validation.relation, validation.relation).split(".")
        with warnings.catch_warnings():
            # One data source reads several schemas, so the schema stays per asset.
            warnings.filterwarnings("ignore", "`schema_name` is deprecated", DeprecationWarning)
            asset = source.add_table_asset(
                name=validation.asset, table_name=table, schema_name=schema
            )
    batch = asset.add_batch_definition_whole_table(f"{validation.asset} whole")
    suite = context.suites.add(SUITES[validation.suite]())
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name=f"{checkpoint}:{validation.suite}", data=batch, suite=suite)
    )
    return context.checkpoints.add(
        gx.Checkpoint(
            name=f"{checkpoint}:{validation.suite}",
            validation_definitions=[definition],
            actions=[UpdateDataDocsAction(name="update_data_docs", site_names=[DOCS_SITE])],
            result_format={
                "result_format": "SUMMARY",
                "partial_unexpected_count": results.SAMPLE_SIZE,
                "unexpected_index_column_names": list(validation.key_columns),
                "return_unexpected_index_query": False,
            },
        )
    )


# Tables a landing creates with its first row: until then they count as empty.
_CREATED_ON_FIRST_ROW = {
    "raw_events.dead_letters": "(select null::timestamptz as dead_lettered_at where false)"
    " as no_dead_letters_yet",
    # the owner's sources: landed by their first run (none where no owner granted access)
    _REPORTS: "(select null::text as channel_id, null::text as report_family,"
    " null::date as report_date, null::bigint as row_count, null::timestamptz as create_time"
    " where false) as no_reports_yet",
    _JOBS: "(select null::text as report_type_id, null::timestamptz as create_time where false)"
    " as no_jobs_yet",
    _REPORT_TYPES: "(select null::text as report_type_id, null::text as report_family where false)"
    " as no_report_types_yet",
    _REVENUE_DAYS: "(select null::text as channel_id, null::date as day where false)"
    " as no_revenue_yet",
    _REVENUE_VIDEO_DAYS: "(select null::text as channel_id, null::date as day,"
    " null::text as video_id where false) as no_video_revenue_yet",
}


def _absent_as_empty(settings: Settings) -> dict[str, str]:
    """Stand-ins for the :data:`_CREATED_ON_FIRST_ROW` tables that do not exist yet."""
    from ytempire.clients import pg_connect

    with pg_connect("loader", settings=settings) as conn:
        return {
            name: empty
            for name, empty in _CREATED_ON_FIRST_ROW.items()
            if conn.execute("select to_regclass(%s)", (name,)).fetchone() == (None,)
        }


def run_checkpoint(
    checkpoint: str,
    run_date: date,
    *,
    suites: Sequence[str] | None = None,
    relations: Mapping[str, str] | None = None,
    settings: Settings | None = None,
    docs: Path | None = None,
) -> ValidationRun:
    """Run ``checkpoint``'s validations (only ``suites`` if given); nothing is stored.

    ``relations`` maps a default relation (``ytempire.videos``) to another
    one to validate instead (tests use it for crafted tables). Raises
    ``YTEmpireError`` for an unknown checkpoint or suite.
    """
    from great_expectations.core.run_identifier import RunIdentifier

    if checkpoint not in VALIDATIONS:
        raise YTEmpireError(f"unknown checkpoint {checkpoint!r}; known: {', '.join(CHECKPOINTS)}")
    chosen = [v for v in VALIDATIONS[checkpoint] if suites is None or v.suite in suites]
    unknown = set(suites or ()) - {v.suite for v in VALIDATIONS[checkpoint]}
    if unknown:
        raise YTEmpireError(
            f"suite(s) {', '.join(sorted(unknown))} are not in checkpoint {checkpoint!r}; "
            f"its suites: {', '.join(v.suite for v in VALIDATIONS[checkpoint])}"
        )
    s = settings or get_settings()
    relations = {**_absent_as_empty(s), **(relations or {})}
    docs = docs or docs_dir(s)
    context = _context(s, docs)
    source = context.data_sources.add_postgres(
        name=DATA_SOURCE, connection_string=_connection_string(s)
    )
    run = ValidationRun(
        run_id=f"{checkpoint}-{run_date.isoformat()}-{uuid.uuid4().hex[:8]}",
        checkpoint=checkpoint,
        run_date=run_date,
        docs_index=docs / "index.html",
    )
    for validation in chosen:
        gx_checkpoint = _checkpoint(context, source, checkpoint, validation, run_date, relations)
        result = gx_checkpoint.run(run_id=RunIdentifier(run_name=run.run_id))
        for validation_result in result.run_results.values():
            run.outcomes.extend(results.outcomes(validation, validation_result))
    run.docs_offline = offline_docs.localize_or_warn(docs, s)
    return run


def validate(
    checkpoint: str,
    run_date: date,
    *,
    suites: Sequence[str] | None = None,
    relations: Mapping[str, str] | None = None,
    settings: Settings | None = None,
    alerts_topic: str | None = None,
    redis_prefix: str | None = None,
) -> ValidationRun:
    """Run a checkpoint for ``run_date``, store, summarise and alert; the Airflow entry point.

    Recorded as stage ``validation_raw`` or ``validation_marts``. Returns the
    run when every expectation passed; raises :class:`ValidationFailed` (exit
    status 3, the stage recorded as failed) after storing and alerting when any
    failed, so a scheduler stops the pipeline on bad data.
    """
    if checkpoint not in STAGE_OF_CHECKPOINT:
        raise YTEmpireError(f"unknown checkpoint {checkpoint!r}; known: {', '.join(CHECKPOINTS)}")
    s = settings or get_settings()
    with record_stage(STAGE_OF_CHECKPOINT[checkpoint], run_date, settings=s) as stage:
        run = run_checkpoint(checkpoint, run_date, suites=suites, relations=relations, settings=s)
        results.store(run.run_id, checkpoint, run_date, run.outcomes, settings=s)
        results.summarise(
            run.run_id, checkpoint, run_date, run.outcomes, settings=s, prefix=redis_prefix
        )
        sent = results.publish_failures(
            run.run_id, checkpoint, run_date, run.outcomes, settings=s, topic=alerts_topic
        )
        stage.details.update(
            run_id=run.run_id,
            evaluated=len(run.outcomes),
            failed=len(run.failed),
            alerts=sent,
        )
        if not run.success:
            raise ValidationFailed(run)
    return run
