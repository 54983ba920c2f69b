-- The network's estimated revenue per week (Monday to Sunday), split by
-- component, with the channel-days it sums and whether every day of the week
-- is final. Reads mv_niche_revenue_daily (a row per day and niche), so it
-- stays fast however many channels the network has.
with

niche_days as (
    select
        week_start_date,
        metric_date,
        channels,
        is_final,
        ad_revenue_usd,
        affiliate_revenue_usd,
        sponsorship_revenue_usd,
        tracked_revenue_usd,
        untracked_revenue_usd,
        revenue_estimate_usd
    from {{ ref('mv_niche_revenue_daily') }}
),

final as (
    select
        week_start_date,
        count(distinct metric_date) as metric_days,
        sum(channels) as channel_days,
        sum(ad_revenue_usd) as ad_revenue_usd,
        sum(affiliate_revenue_usd) as affiliate_revenue_usd,
        sum(sponsorship_revenue_usd) as sponsorship_revenue_usd,
        sum(tracked_revenue_usd) as tracked_revenue_usd,
        sum(untracked_revenue_usd) as untracked_revenue_usd,
        sum(revenue_estimate_usd) as revenue_estimate_usd,
        bool_and(is_final) as is_final
    from niche_days
    group by week_start_date
)

select * from final
order by week_start_date
