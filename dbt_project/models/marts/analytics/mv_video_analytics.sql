{{
    config(
        indexes=[
            {'columns': ['video_id'], 'unique': true},
            {'columns': ['channel_id', 'views_7d']},
            {'columns': ['views_7d']},
        ],
    )
}}

-- Per video: lifetime and last-7-day performance next to what the video cost
-- to generate and how it scored.
with

daily as (
    select
        video_id,
        metric_date,
        views_daily,
        likes_daily,
        comments_daily,
        shares_daily,
        revenue_estimate_usd
    from {{ ref('fct_video_daily_metrics') }}
),

videos as (
    select
        video_id,
        channel_id,
        video_title,
        published_date,
        niche,
        quality_score,
        generation_cost_usd
    from {{ ref('dim_videos') }}
),

as_of as (
    select max(metric_date) as as_of_date from daily
),

totals as (
    select
        daily.video_id,
        sum(daily.views_daily) as views_lifetime,
        sum(daily.likes_daily) as likes_lifetime,
        sum(daily.comments_daily) as comments_lifetime,
        sum(daily.shares_daily) as shares_lifetime,
        sum(daily.revenue_estimate_usd) as revenue_lifetime_usd,
        sum(daily.views_daily) filter (
            where daily.metric_date > as_of.as_of_date - 7
        ) as views_7d,
        sum(daily.revenue_estimate_usd) filter (
            where daily.metric_date > as_of.as_of_date - 7
        ) as revenue_7d_usd
    from daily
    cross join as_of
    group by daily.video_id
),

final as (
    select
        videos.video_id,
        videos.channel_id,
        videos.video_title,
        videos.published_date,
        videos.niche,
        videos.quality_score,
        videos.generation_cost_usd,
        coalesce(totals.views_lifetime, 0) as views_lifetime,
        coalesce(totals.views_7d, 0) as views_7d,
        {{ engagement_rate(
            'coalesce(totals.likes_lifetime, 0)',
            'coalesce(totals.comments_lifetime, 0)',
            'coalesce(totals.shares_lifetime, 0)',
            'coalesce(totals.views_lifetime, 0)',
        ) }} as engagement_rate_lifetime,
        coalesce(totals.revenue_lifetime_usd, 0) as revenue_lifetime_usd,
        coalesce(totals.revenue_7d_usd, 0) as revenue_7d_usd,
        round(
            coalesce(totals.revenue_lifetime_usd, 0)
            / nullif(videos.generation_cost_usd, 0),
            4
        ) as revenue_per_generation_usd
    from videos
    left join totals on videos.video_id = totals.video_id
)

select * from final
