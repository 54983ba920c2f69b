{{
    config(
        materialized='incremental',
        incremental_strategy='replace_window',
        unique_key='metric_date',
        on_schema_change='fail',
        window_column='metric_date',
        indexes=[{'columns': ['metric_date'], 'unique': true}],
    )
}}

{%- if is_incremental() %}
    {%- set window_start = incremental_window_start('metric_date') %}
    {#-
        Before the window, the days whose collector runs differ from what the
        model holds: a run landed late, or a rerun of an old day. The runs are
        a row per run, so every day is compared.
    #}
    {%- set run_days_changed %}
        select coalesce(array_agg(distinct changed.changed_date), '{}')
        from (
            select run_days.collection_date as changed_date
            from (
                select
                    collection_date,
                    count(*) as collection_runs,
                    sum(quota_units_used) as quota_units_used
                from {{ ref('stg_youtube__collection_runs') }}
                group by collection_date
            ) as run_days
            left join {{ this }} as built
                on run_days.collection_date = built.metric_date
            where
                (run_days.collection_runs, run_days.quota_units_used)
                is distinct from (built.collection_runs, built.quota_units_used)
            union all
            -- the day's completeness changed (a late snapshot counted)
            select status.metric_date
            from {{ ref('fct_collection_status') }} as status
            left join {{ this }} as built
                on status.metric_date = built.metric_date
            where
                (status.channels_missing, status.is_complete)
                is distinct from (built.channels_missing, built.is_collection_complete)
        ) as changed
        where changed.changed_date < {{ window_start }}
    {%- endset %}
    {%- set late_days = query_value(run_days_changed, 'date[]') %}
    {%- set first_rewritten = rewrite_start(window_start, late_days) %}
{%- else %}
    {%- set window_start = "'-infinity'::date" %}
    {%- set late_days = "'{}'::date[]" %}
    {%- set first_rewritten = window_start %}
{%- endif %}

-- One row per reporting day on which anything landed: the YouTube collector's
-- runs of the collection day (quota, channels and videos collected, channels
-- failed), whether the day's collection is complete (fct_collection_status),
-- and the platform events landed and dead-lettered that day. A daily
-- run rewrites the days of the incremental window (var lookback_days) and any
-- older day a collector run landed for since.
with

collection_runs as (
    select
        run_id,
        collection_date,
        started_at,
        finished_at,
        run_status,
        quota_units_used,
        channels_collected,
        channels_failed,
        videos_collected
    from {{ ref('stg_youtube__collection_runs') }}
    where {{ rewritten('collection_date', window_start, late_days) }}
),

events as (
    select occurred_date
    from {{ ref('stg_events__events') }}
    -- On occurred_at itself, so the raw table's index serves it.
    where
        occurred_at >= {{ reporting_day_start(first_rewritten) }}
        and {{ rewritten('occurred_date', window_start, late_days) }}
),

-- Whether the day's collection is complete is fct_collection_status' to say
-- (docs block collection_status); the runs only say how they went.
collection_status as (
    select
        metric_date,
        channels_expected,
        channels_missing,
        is_complete
    from {{ ref('fct_collection_status') }}
    where
        metric_date >= {{ first_rewritten }}
        and {{ rewritten('metric_date', window_start, late_days) }}
),

dead_letters as (
    select dead_letter_date
    from {{ ref('stg_events__dead_letters') }}
    where
        dead_letter_date >= {{ first_rewritten }}
        and {{ rewritten('dead_letter_date', window_start, late_days) }}
),

collection_days as (
    select
        collection_date as metric_date,
        count(*) as collection_runs,
        count(*) filter (where run_status <> 'complete') as collection_runs_partial,
        (array_agg(run_status order by started_at desc, run_id desc))[1]
            as last_run_status,
        sum(quota_units_used)::bigint as quota_units_used,
        sum(channels_collected)::bigint as channels_collected,
        (array_agg(channels_failed order by started_at desc, run_id desc))[1]
            as channels_failed,
        sum(videos_collected)::bigint as videos_collected,
        min(started_at) as first_run_started_at,
        max(finished_at) as last_run_finished_at
    from collection_runs
    group by collection_date
),

event_days as (
    select
        occurred_date as metric_date,
        count(*) as events_landed
    from events
    group by occurred_date
),

dead_letter_days as (
    select
        dead_letter_date as metric_date,
        count(*) as dead_letters
    from dead_letters
    group by dead_letter_date
),

days as (
    select metric_date from collection_days
    union
    select metric_date from collection_status
    union
    select metric_date from event_days
    union
    select metric_date from dead_letter_days
),

final as (
    select
        days.metric_date,
        coalesce(collection_days.collection_runs, 0) as collection_runs,
        coalesce(collection_days.collection_runs_partial, 0)
            as collection_runs_partial,
        collection_days.last_run_status,
        coalesce(collection_days.quota_units_used, 0) as quota_units_used,
        coalesce(collection_days.channels_collected, 0) as channels_collected,
        collection_days.channels_failed,
        collection_status.channels_expected,
        collection_status.channels_missing,
        collection_status.is_complete as is_collection_complete,
        coalesce(collection_days.videos_collected, 0) as videos_collected,
        collection_days.first_run_started_at,
        collection_days.last_run_finished_at,
        coalesce(event_days.events_landed, 0) as events_landed,
        coalesce(dead_letter_days.dead_letters, 0) as dead_letters,
        round(
            100.0 * coalesce(dead_letter_days.dead_letters, 0)
            / nullif(
                coalesce(event_days.events_landed, 0)
                + coalesce(dead_letter_days.dead_letters, 0),
                0
            ),
            2
        )::numeric(5, 2) as dead_letter_share_pct
    from days
    left join collection_days on days.metric_date = collection_days.metric_date
    left join collection_status on days.metric_date = collection_status.metric_date
    left join event_days on days.metric_date = event_days.metric_date
    left join dead_letter_days on days.metric_date = dead_letter_days.metric_date
    -- Days stored contiguously: daily runs read and replace recent days.
    order by days.metric_date
)

select * from final
