{{
    config(
        indexes=[
            {'columns': ['channel_id'], 'unique': true},
            {'columns': ['views_28d_rank']},
            {'columns': ['niche', 'views_28d_rank']},
        ],
    )
}}

-- Per channel, as of the newest metric day: views over the last 7/28/90
-- days, subscriber growth, engagement (over the tracked videos, the one
-- population of docs block engagement_rate), revenue, uploads and their cost
-- over 28 days, and rank.
with

daily as (
    select
        channel_id,
        metric_date,
        subscribers,
        subscribers_daily,
        views_daily,
        tracked_views_daily,
        likes_daily,
        comments_daily,
        shares_daily,
        revenue_estimate_usd,
        generation_cost_usd,
        videos_published
    from {{ ref('fct_channel_daily_metrics') }}
),

channels as (
    select
        channel_id,
        channel_title,
        niche
    from {{ ref('dim_channels') }}
    where is_current
),

as_of as (
    select max(metric_date) as as_of_date from daily
),

windowed as (
    select
        daily.channel_id,
        as_of.as_of_date,
        sum(daily.views_daily) filter (
            where daily.metric_date > as_of.as_of_date - 7
        ) as views_7d,
        sum(daily.views_daily) filter (
            where daily.metric_date > as_of.as_of_date - 28
        ) as views_28d,
        sum(daily.views_daily) as views_90d,
        sum(daily.subscribers_daily) filter (
            where daily.metric_date > as_of.as_of_date - 28
        ) as subscribers_gained_28d,
        sum(daily.tracked_views_daily) filter (
            where daily.metric_date > as_of.as_of_date - 28
        ) as tracked_views_28d,
        sum(daily.likes_daily) filter (
            where daily.metric_date > as_of.as_of_date - 28
        ) as likes_28d,
        sum(daily.comments_daily) filter (
            where daily.metric_date > as_of.as_of_date - 28
        ) as comments_28d,
        sum(daily.shares_daily) filter (
            where daily.metric_date > as_of.as_of_date - 28
        ) as shares_28d,
        sum(daily.revenue_estimate_usd) filter (
            where daily.metric_date > as_of.as_of_date - 28
        ) as revenue_28d_usd,
        sum(daily.generation_cost_usd) filter (
            where daily.metric_date > as_of.as_of_date - 28
        ) as generation_cost_28d_usd,
        sum(daily.videos_published) filter (
            where daily.metric_date > as_of.as_of_date - 28
        ) as videos_published_28d,
        max(daily.subscribers) filter (
            where daily.metric_date = as_of.as_of_date
        ) as subscribers
    from daily
    cross join as_of
    where daily.metric_date > as_of.as_of_date - 90
    group by daily.channel_id, as_of.as_of_date
),

final as (
    select
        windowed.channel_id::text as channel_id,
        channels.channel_title::text as channel_title,
        coalesce(channels.niche, 'unknown')::text as niche,
        windowed.as_of_date::date as as_of_date,
        windowed.subscribers::bigint as subscribers,
        coalesce(windowed.subscribers_gained_28d, 0)::bigint as subscribers_gained_28d,
        coalesce(windowed.views_7d, 0)::bigint as views_7d,
        coalesce(windowed.views_28d, 0)::bigint as views_28d,
        coalesce(windowed.views_90d, 0)::bigint as views_90d,
        ({{ engagement_rate(
            'coalesce(windowed.likes_28d, 0)',
            'coalesce(windowed.comments_28d, 0)',
            'coalesce(windowed.shares_28d, 0)',
            'windowed.tracked_views_28d',
        ) }})::numeric(12, 2) as engagement_rate_28d_pct,
        coalesce(windowed.revenue_28d_usd, 0)::numeric(18, 2) as revenue_28d_usd,
        coalesce(windowed.generation_cost_28d_usd, 0)::numeric(18, 4)
            as generation_cost_28d_usd,
        coalesce(windowed.videos_published_28d, 0)::bigint as videos_published_28d,
        rank() over (order by coalesce(windowed.views_28d, 0) desc)::bigint
            as views_28d_rank
    from windowed
    left join channels on windowed.channel_id = channels.channel_id
)

select * from final
