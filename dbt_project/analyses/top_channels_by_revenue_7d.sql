-- Top channels by estimated revenue over the last 7 metric days (the newest
-- day in the warehouse and the 6 before it), with their views and engagement.
-- views_7d is the channel's own counter (all its videos); engagement is over
-- its tracked videos, the one population likes and comments exist for; a
-- baseline day adds no views and no revenue. One join: the current channel.
with

last_7_days as (
    select
        channel_id,
        views_daily,
        tracked_views_daily,
        likes_daily,
        comments_daily,
        shares_daily,
        revenue_estimate_usd
    from {{ ref('fct_channel_daily_metrics') }}
    where
        metric_date > (
            select max(newest.metric_date) - 7
            from {{ ref('fct_channel_daily_metrics') }} as newest
        )
),

per_channel as (
    select
        channel_id,
        sum(revenue_estimate_usd) as revenue_7d_usd,
        sum(views_daily) as views_7d,
        round(
            sum(likes_daily + comments_daily + shares_daily)::numeric
            / nullif(sum(tracked_views_daily), 0) * 100,
            2
        ) as engagement_rate_7d_pct
    from last_7_days
    group by channel_id
),

final as (
    select
        per_channel.channel_id,
        channels.channel_title,
        channels.niche,
        per_channel.revenue_7d_usd,
        per_channel.views_7d,
        per_channel.engagement_rate_7d_pct
    from per_channel
    left join {{ ref('dim_channels') }} as channels
        on per_channel.channel_id = channels.channel_id and channels.is_current
)

select * from final
order by revenue_7d_usd desc, channel_id asc
limit 20
