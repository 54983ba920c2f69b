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
    {#-
        The lookback window, and before it the days the differenced snapshots
        rewrote since (a late snapshot) with the max_gap_days after each: a
        channel is expected that long after its snapshot.
    #}
    {%- set window_start = incremental_window_start('collection_date') %}
    {%- set late_days = rebuilt_days(
        [
            (ref('int_channel_snapshots_differenced'), 'collection_date'),
            (ref('int_video_snapshots_differenced'), 'collection_date'),
        ],
        before=window_start,
        span=var('max_gap_days'),
    ) %}
    {%- set first_read = rewrite_start(window_start, late_days, var('max_gap_days')) %}
{%- endif %}

-- Per collection day: what was collected and what was expected (docs block
-- collection_status), the one definition of a complete day. A channel is
-- expected on every day up to max_gap_days after its last snapshot and on a
-- day the collector failed it, not on a day it found the channel gone; a
-- missed channel's videos are expected as its last collection tracked them.
-- Counted from the differenced snapshots, which hold one row per landed
-- snapshot.
with

channel_snapshots as (
    select
        channel_id,
        collection_date,
        collected_at
    from {{ ref('int_channel_snapshots_differenced') }}
    {% if is_incremental() %}
        where
            collection_date >= {{ first_read }}
            and (
                {{ rewritten('collection_date', window_start, late_days) }}
                or {{ precedes_rewritten('collection_date', window_start, late_days) }}
            )
    {% endif %}
),

video_snapshots as (
    select
        channel_id,
        collection_date,
        collected_at
    from {{ ref('int_video_snapshots_differenced') }}
    {% if is_incremental() %}
        where
            collection_date >= {{ first_read }}
            and (
                {{ rewritten('collection_date', window_start, late_days) }}
                or {{ precedes_rewritten('collection_date', window_start, late_days) }}
            )
    {% endif %}
),

-- What the collector said of the day: the channels its newest run of the
-- day still failed, and those it found gone from YouTube (not_found, gone)
-- in any run of the day.
newest_runs as (
    select distinct on (collection_date)
        collection_date,
        run_id
    from {{ ref('stg_youtube__collection_runs') }}
    {% if is_incremental() %}
        where {{ rewritten('collection_date', window_start, late_days) }}
    {% endif %}
    order by collection_date asc, started_at desc, run_id desc
),

run_issues as (
    select
        run_id,
        collection_date,
        channel_id,
        issue_status
    from {{ ref('stg_youtube__collection_run_issues') }}
    {% if is_incremental() %}
        where {{ rewritten('collection_date', window_start, late_days) }}
    {% endif %}
),

channel_issues as (
    select
        run_issues.collection_date,
        run_issues.channel_id,
        bool_or(run_issues.issue_status in ('not_found', 'gone')) as is_reported_gone,
        bool_or(
            run_issues.issue_status = 'failed'
            and run_issues.run_id = newest_runs.run_id
        ) as is_failing
    from run_issues
    left join newest_runs on run_issues.collection_date = newest_runs.collection_date
    group by run_issues.collection_date, run_issues.channel_id
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
    union
    select collection_date from newest_runs
),

-- Each day with the channels tracked on it (a snapshot within max_gap_days up
-- to it) and the channel's newest snapshot on or before it.
tracked_channels as (
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

-- Expected: tracked, or failing (a channel may fail on its first day), and not
-- reported gone without a snapshot that day.
channel_status as (
    select
        coalesce(tracked_channels.collection_date, channel_issues.collection_date)
            as collection_date,
        coalesce(
            tracked_channels.last_collected_date = tracked_channels.collection_date,
            false
        ) as is_collected,
        coalesce(channel_issues.is_failing, false) as is_failing,
        (
            coalesce(channel_issues.is_reported_gone, false)
            and not coalesce(
                tracked_channels.last_collected_date = tracked_channels.collection_date,
                false
            )
        ) as is_gone,
        coalesce(tracked.videos_collected, 0) as videos_expected
    from tracked_channels
    full outer join channel_issues
        on
            tracked_channels.collection_date = channel_issues.collection_date
            and tracked_channels.channel_id = channel_issues.channel_id
    left join videos_per_channel_day as tracked
        on
            tracked_channels.channel_id = tracked.channel_id
            and tracked_channels.last_collected_date = tracked.collection_date
),

channel_days as (
    select
        collection_date,
        count(*) filter (where not is_gone) as channels_expected,
        count(*) filter (where is_collected) as channels_collected,
        count(*) filter (where is_failing) as channels_failed,
        sum(videos_expected) filter (where not is_collected and not is_gone)
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
        coalesce(channel_days.channels_failed, 0)::integer as channels_failed,
        (
            coalesce(video_days.videos_collected, 0)
            + coalesce(channel_days.videos_of_missed_channels, 0)
        )::integer as videos_expected,
        coalesce(video_days.videos_collected, 0)::integer as videos_collected,
        {{ built_at() }} as built_at
    from days
    left join channel_days on days.collection_date = channel_days.collection_date
    left join video_days on days.collection_date = video_days.collection_date
    left join collected_at on days.collection_date = collected_at.collection_date
    {% if is_incremental() %}
        where {{ rewritten('days.collection_date', window_start, late_days) }}
    {% endif %}
)

select * from final
