-- One row per video the channels' owner reports (channel_basic) ever counted,
-- tracked by the Data API collector or not, with the Pacific day it was
-- published: from the Data API when the collector tracks the video (exact),
-- else the first day the reports counted a view of it, when that day is after
-- the channel's first reported day (a new upload is watched the day it goes
-- up). A video already watched on the channel's first reported day was
-- published before the reports began: its day stays unknown (null).
with

video_days as (
    select * from {{ ref('fct_video_daily_watch_time') }}
),

report_days as (
    select * from {{ ref('stg_youtube_reporting__report_days') }}
    where report_family = 'channel_basic'
),

methodologies as (
    select * from {{ ref('stg_youtube_reporting__views_methodologies') }}
),

tracked_videos as (
    select
        video_id,
        published_at
    from {{ ref('dim_videos') }}
),

channel_starts as (
    select
        channel_id,
        min(metric_date) as first_report_date
    from report_days
    group by channel_id
),

videos as (
    select
        video_id,
        min(channel_id) as channel_id,
        min(metric_date) filter (where views > 0) as first_reported_date,
        max(metric_date) as last_reported_date,
        count(*) as days_reported,
        sum(views) as views,
        sum(watch_time_minutes) as watch_time_minutes
    from video_days
    group by video_id
),

dated as (
    select
        v.*,
        c.first_report_date,
        case
            when t.published_at is not null
                then (t.published_at at time zone 'America/Los_Angeles')::date
            when v.first_reported_date > c.first_report_date
                then v.first_reported_date
        end as published_date,
        case
            when t.published_at is not null then 'data_api'
            when v.first_reported_date > c.first_report_date then 'first_report'
        end as published_date_source
    from videos as v
    inner join channel_starts as c on v.channel_id = c.channel_id
    left join tracked_videos as t on v.video_id = t.video_id
),

final as (
    select
        d.video_id::text as video_id,
        d.channel_id::text as channel_id,
        d.published_date::date as published_date,
        d.published_date_source::text as published_date_source,
        d.first_reported_date::date as first_reported_date,
        d.last_reported_date::date as last_reported_date,
        d.days_reported::integer as days_reported,
        d.views::bigint as views,
        d.watch_time_minutes::numeric(18, 2) as watch_time_minutes,
        -- known only when the reports cover the day it was published
        case
            when d.published_date >= d.first_report_date then coalesce(f.views, 0)
        end::bigint as first_day_views,
        case
            when d.published_date >= d.first_report_date then m.views_methodology
        end::text as first_day_views_methodology
    from dated as d
    left join video_days as f
        on d.video_id = f.video_id and d.published_date = f.metric_date
    left join methodologies as m
        on d.published_date >= m.valid_from_date and d.published_date < m.valid_to_date
)

select * from final
