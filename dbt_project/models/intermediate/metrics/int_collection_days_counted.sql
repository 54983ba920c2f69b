{{
    config(
        materialized='incremental',
        incremental_strategy='replace_window',
        unique_key='collection_date',
        on_schema_change='fail',
        window_column='collection_date',
        indexes=[{'columns': ['collection_date'], 'unique': true}],
    )
}}

{%- if is_incremental() %}
    {%- set window_start = incremental_window_start('collection_date') %}
{%- endif %}

-- Per collection day: what was collected and what was expected (docs block
-- collection_status). A channel is expected on every day up to max_gap_days
-- after its last snapshot; a missed channel's videos are expected as its last
-- collection tracked them.
with

channel_snapshots as (
    select
        channel_id,
        collection_date,
        collected_at
    from {{ ref('stg_youtube__channel_snapshots') }}
    {% if is_incremental() %}
        where collection_date >= {{ window_start }} - {{ var('max_gap_days') }}
    {% endif %}
),

video_snapshots as (
    select
        channel_id,
        collection_date,
        collected_at
    from {{ ref('stg_youtube__video_snapshots') }}
    {% if is_incremental() %}
        where collection_date >= {{ window_start }} - {{ var('max_gap_days') }}
    {% endif %}
),

videos_per_channel_day as (
    select
        channel_id,
        collection_date,
        count(*) as videos_collected,
        max(collected_at) as collected_at
    from video_snapshots
    group by channel_id, collection_date
),

days as (
    select collection_date from channel_snapshots
    union
    select collection_date from videos_per_channel_day
),

-- Each day with the channels expected on it and the channel's newest
-- snapshot on or before it.
expected_channels as (
    select
        days.collection_date,
        channel_snapshots.channel_id,
        max(channel_snapshots.collection_date) as last_collected_date
    from days
    inner join channel_snapshots
        on
            days.collection_date >= channel_snapshots.collection_date
            and days.collection_date
            <= channel_snapshots.collection_date + {{ var('max_gap_days') }}
    group by days.collection_date, channel_snapshots.channel_id
),

channel_status as (
    select
        expected_channels.collection_date,
        expected_channels.channel_id,
        expected_channels.last_collected_date = expected_channels.collection_date
            as is_collected,
        coalesce(tracked.videos_collected, 0) as videos_expected
    from expected_channels
    left join videos_per_channel_day as tracked
        on
            expected_channels.channel_id = tracked.channel_id
            and expected_channels.last_collected_date = tracked.collection_date
),

channel_days as (
    select
        collection_date,
        count(*) as channels_expected,
        count(*) filter (where is_collected) as channels_collected,
        sum(videos_expected) filter (where not is_collected)
            as videos_of_missed_channels
    from channel_status
    group by collection_date
),

video_days as (
    select
        collection_date,
        sum(videos_collected) as videos_collected,
        max(collected_at) as collected_at
    from videos_per_channel_day
    group by collection_date
),

collected_at as (
    select
        collection_date,
        min(collected_at) as first_collected_at,
        max(collected_at) as collected_at
    from channel_snapshots
    group by collection_date
),

final as (
    select
        days.collection_date::date as collection_date,
        least(
            collected_at.first_collected_at, video_days.collected_at
        )::timestamptz as first_collected_at,
        greatest(collected_at.collected_at, video_days.collected_at)::timestamptz
            as collected_at,
        coalesce(channel_days.channels_expected, 0)::integer as channels_expected,
        coalesce(channel_days.channels_collected, 0)::integer as channels_collected,
        (
            coalesce(video_days.videos_collected, 0)
            + coalesce(channel_days.videos_of_missed_channels, 0)
        )::integer as videos_expected,
        coalesce(video_days.videos_collected, 0)::integer as videos_collected
    from days
    left join channel_days on days.collection_date = channel_days.collection_date
    left join video_days on days.collection_date = video_days.collection_date
    left join collected_at on days.collection_date = collected_at.collection_date
    {% if is_incremental() %}
        where days.collection_date >= {{ window_start }}
    {% endif %}
)

select * from final
