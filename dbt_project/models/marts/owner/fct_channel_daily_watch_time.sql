-- One row per channel and day YouTube reported in channel_basic: every video's
-- rows summed, the deleted videos' row included. A day whose newest report was
-- header-only is a row of zeros (report_status no_data): YouTube had nothing
-- to report, which is not a missing day.
with

report_days as (
    select * from {{ ref('stg_youtube_reporting__report_days') }}
    where report_family = 'channel_basic'
),

report_rows as (
    select * from {{ ref('stg_youtube_reporting__channel_basic') }}
),

methodologies as (
    select * from {{ ref('stg_youtube_reporting__views_methodologies') }}
),

channel_days as (
    select
        channel_id,
        metric_date,
        sum(views) as views,
        sum(engaged_views) as engaged_views,
        sum(watch_time_minutes) as watch_time_minutes,
        sum(average_view_duration_pct * views) as pct_x_views,
        sum(views) filter (
            where average_view_duration_pct is not null
        ) as views_with_pct,
        sum(views) filter (where video_id is null) as deleted_video_views,
        count(distinct video_id) as videos_viewed,
        sum(red_views) as red_views,
        sum(likes) as likes,
        sum(comments) as comments,
        sum(shares) as shares,
        sum(subscribers_gained) as subscribers_gained,
        sum(subscribers_lost) as subscribers_lost
    from report_rows
    group by channel_id, metric_date
),

final as (
    select
        d.channel_id::text as channel_id,
        d.metric_date::date as metric_date,
        d.report_status::text as report_status,
        coalesce(c.views, 0)::bigint as views,
        coalesce(c.engaged_views, 0)::bigint as engaged_views,
        round(coalesce(c.watch_time_minutes, 0)::numeric, 2)::numeric(18, 2)
            as watch_time_minutes,
        round(
            (c.watch_time_minutes * 60 / nullif(c.views, 0))::numeric, 1
        )::numeric(12, 1)
            as average_view_duration_seconds,
        round((c.pct_x_views / nullif(c.views_with_pct, 0))::numeric, 2)::numeric(8, 2)
            as average_view_duration_pct,
        coalesce(c.deleted_video_views, 0)::bigint as deleted_video_views,
        coalesce(c.videos_viewed, 0)::integer as videos_viewed,
        coalesce(c.red_views, 0)::bigint as red_views,
        coalesce(c.likes, 0)::bigint as likes,
        coalesce(c.comments, 0)::bigint as comments,
        coalesce(c.shares, 0)::bigint as shares,
        coalesce(c.subscribers_gained, 0)::bigint as subscribers_gained,
        coalesce(c.subscribers_lost, 0)::bigint as subscribers_lost,
        (coalesce(c.subscribers_gained, 0) - coalesce(c.subscribers_lost, 0))::bigint
            as subscribers_net,
        m.views_methodology::text as views_methodology,
        (d.metric_date = m.valid_from_date)::boolean as is_views_methodology_change,
        d.reports_landed::integer as reports_landed
    from report_days as d
    left join channel_days as c
        on d.channel_id = c.channel_id and d.metric_date = c.metric_date
    inner join methodologies as m
        on d.metric_date >= m.valid_from_date and d.metric_date < m.valid_to_date
)

select * from final
