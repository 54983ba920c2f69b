{{
    config(
        materialized='incremental',
        incremental_strategy='replace_window',
        unique_key=['video_id', 'collection_date'],
        on_schema_change='fail',
        window_column='collection_date',
        indexes=[
            {'columns': ['collection_date', 'video_id'], 'unique': true},
        ],
    )
}}

{%- if is_incremental() %}
    {%- set events_start = reporting_day_start(
        incremental_window_start('collection_date')
    ) %}
{%- endif %}

-- YouTube reports no shares; the platform's metrics_update events carry a
-- cumulative share count per video, differenced here like the snapshots.
with

-- Narrow rows from the start: the share count is read out of the jsonb
-- payload here, so the sort that picks each day's last report never carries
-- the payload.
events as (
    select
        youtube_video_id,
        channel_id,
        occurred_date,
        occurred_at,
        coalesce((payload ->> 'shares')::bigint, 0) as share_count
    from {{ ref('stg_events__events') }}
    where
        event_type = 'metrics_update'
        {% if is_incremental() %}
            -- On occurred_at itself, so the raw table's index serves it.
            and occurred_at >= {{ events_start }}
        {% endif %}
        and youtube_video_id is not null
),

videos as (
    select
        video_id,
        published_date
    from {{ ref('stg_youtube__videos') }}
),

-- The last report of each day is that day's cumulative value.
daily_last as (
    select distinct on (youtube_video_id, occurred_date)
        youtube_video_id as video_id,
        channel_id,
        occurred_date as collection_date,
        share_count
    from events
    order by youtube_video_id asc, occurred_date asc, occurred_at desc
),

{% if is_incremental() %}
    -- Only days from the first one whose share counts changed are rewritten.
    changes as (
        select {{ first_changed_date(
            'daily_last',
            this,
            'collection_date',
            ['video_id', 'channel_id', 'share_count'],
            incremental_window_start('collection_date'),
        ) }} as changed_from
    ),

    to_difference as (
        {{ with_stored_previous(
            'daily_last',
            ['video_id', 'channel_id'],
            'collection_date',
            ['video_id', 'channel_id', 'collection_date', 'share_count'],
            '(select changes.changed_from from changes)',
        ) }}
    ),
{% endif %}

-- A video published within new_entity_days (or not yet described by the
-- collector) counts from zero; looked up only for a video's first report.
{%- set starts_from_zero = video_starts_from_zero('true') %}

differenced as (
    {{ counter_deltas(
        'to_difference' if is_incremental() else 'daily_last',
        ['video_id', 'channel_id'],
        'collection_date',
        {'share_count': 'shares_daily'},
        starts_from_zero,
    ) }}
),

final as (
    select
        *,
        {{ built_at() }} as built_at
    from differenced
    {% if is_incremental() %}
        where collection_date >= (select changes.changed_from from changes)
    {% else %}
        -- Days stored contiguously: daily runs read and replace recent days.
        order by collection_date, video_id
    {% endif %}
)

select * from final
