-- The two grains agree (docs block channel_revenue): on every channel-day the
-- channel's tracked views, likes, comments, shares and tracked revenue are
-- the sums of its video rows, and its revenue is tracked + untracked to the
-- cent. A channel-day on one side only is a mismatch too. Returns the
-- channel-days where they differ.
{{ config(meta={'docs_claim': 'channel_revenue'}) }}

with

channel_days as (
    select
        channel_id,
        metric_date,
        tracked_videos,
        tracked_views_daily,
        likes_daily,
        comments_daily,
        shares_daily,
        tracked_revenue_usd,
        untracked_revenue_usd,
        revenue_estimate_usd
    from {{ ref('fct_channel_daily_metrics') }}
),

video_days as (
    select
        channel_id,
        metric_date,
        count(*) as tracked_videos,
        sum(views_daily) as tracked_views_daily,
        sum(likes_daily) as likes_daily,
        sum(comments_daily) as comments_daily,
        sum(shares_daily) as shares_daily,
        sum(revenue_estimate_usd) as tracked_revenue_usd
    from {{ ref('fct_video_daily_metrics') }}
    group by channel_id, metric_date
),

final as (
    select
        coalesce(channel_days.channel_id, video_days.channel_id) as channel_id,
        coalesce(channel_days.metric_date, video_days.metric_date) as metric_date,
        channel_days.tracked_revenue_usd,
        video_days.tracked_revenue_usd as video_revenue_usd
    from channel_days
    full outer join video_days
        on
            channel_days.channel_id = video_days.channel_id
            and channel_days.metric_date = video_days.metric_date
    where
        (
            channel_days.tracked_videos,
            channel_days.tracked_views_daily,
            channel_days.likes_daily,
            channel_days.comments_daily,
            channel_days.shares_daily,
            channel_days.tracked_revenue_usd
        ) is distinct from (
            coalesce(video_days.tracked_videos, 0),
            coalesce(video_days.tracked_views_daily, 0),
            coalesce(video_days.likes_daily, 0),
            coalesce(video_days.comments_daily, 0),
            coalesce(video_days.shares_daily, 0),
            coalesce(video_days.tracked_revenue_usd, 0)
        )
        or channel_days.revenue_estimate_usd
        <> channel_days.tracked_revenue_usd + channel_days.untracked_revenue_usd
)

select * from final
