-- One row per video and day of the channels' channel_basic reports: the
-- report's rows (by live_or_on_demand, subscribed status and country) summed.
-- Averages do not add: the day's average view duration is its minutes over its
-- views, and its average percentage viewed the rows' percentages weighted by
-- their views. The rows of deleted videos (no video id) count at the channel
-- grain only.
with

report_rows as (
    select * from {{ ref('stg_youtube_reporting__channel_basic') }}
    where video_id is not null
),

methodologies as (
    select * from {{ ref('stg_youtube_reporting__views_methodologies') }}
),

video_days as (
    select
        video_id,
        metric_date,
        min(channel_id) as channel_id,
        sum(views) as views,
        sum(engaged_views) as engaged_views,
        sum(watch_time_minutes) as watch_time_minutes,
        sum(average_view_duration_pct * views) as pct_x_views,
        sum(views) filter (
            where average_view_duration_pct is not null
        ) as views_with_pct,
        sum(red_views) as red_views,
        sum(likes) as likes,
        sum(comments) as comments,
        sum(shares) as shares,
        sum(subscribers_gained) as subscribers_gained,
        sum(subscribers_lost) as subscribers_lost
    from report_rows
    group by video_id, metric_date
),

final as (
    select
        v.video_id::text as video_id,
        v.metric_date::date as metric_date,
        v.channel_id::text as channel_id,
        v.views::bigint as views,
        v.engaged_views::bigint as engaged_views,
        round(v.watch_time_minutes::numeric, 2)::numeric(18, 2) as watch_time_minutes,
        round(
            (v.watch_time_minutes * 60 / nullif(v.views, 0))::numeric, 1
        )::numeric(12, 1)
            as average_view_duration_seconds,
        round((v.pct_x_views / nullif(v.views_with_pct, 0))::numeric, 2)::numeric(8, 2)
            as average_view_duration_pct,
        v.red_views::bigint as red_views,
        v.likes::bigint as likes,
        v.comments::bigint as comments,
        v.shares::bigint as shares,
        v.subscribers_gained::bigint as subscribers_gained,
        v.subscribers_lost::bigint as subscribers_lost,
        m.views_methodology::text as views_methodology
    from video_days as v
    inner join methodologies as m
        on v.metric_date >= m.valid_from_date and v.metric_date < m.valid_to_date
)

select * from final
