{{
    config(
        materialized='incremental',
        incremental_strategy='replace_window',
        unique_key=['video_id', 'collection_date'],
        on_schema_change='fail',
        window_column='collection_date',
        indexes=[
            {'columns': ['video_id', 'collection_date'], 'unique': true},
            {'columns': ['collection_date']},
        ],
    )
}}

{%- set events_start = reporting_day_start(
    incremental_window_start('collection_date') ~ ' - ' ~ var('max_gap_days')
) %}

-- YouTube reports no shares; the platform's metrics_update events carry a
-- cumulative share count per video, differenced here like the snapshots.
with

events as (
    select
        youtube_video_id,
        channel_id,
        occurred_date,
        occurred_at,
        payload
    from {{ ref('stg_events__events') }}
    where
        event_type = 'metrics_update'
        and youtube_video_id is not null
        {% if is_incremental() %}
            -- On occurred_at itself, so the raw table's index serves it.
            and occurred_at >= {{ events_start }}
        {% endif %}
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
        coalesce((payload ->> 'shares')::bigint, 0) as share_count
    from events
    order by youtube_video_id asc, occurred_date asc, occurred_at desc
),

flagged as (
    select
        daily_last.video_id,
        daily_last.channel_id,
        daily_last.collection_date,
        daily_last.share_count,
        coalesce(
            videos.published_date
            >= daily_last.collection_date - {{ var('new_entity_days') }},
            true
        ) as starts_from_zero
    from daily_last
    left join videos on daily_last.video_id = videos.video_id
),

differenced as (
    {{ counter_deltas(
        'flagged',
        ['video_id', 'channel_id'],
        'collection_date',
        {'share_count': 'shares_daily'},
    ) }}
),

final as (
    select * from differenced
    {% if is_incremental() %}
        where collection_date >= {{ incremental_window_start('collection_date') }}
    {% endif %}
)

select * from final
