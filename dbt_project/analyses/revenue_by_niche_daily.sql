-- Estimated revenue by niche and day, split by component (ad, affiliate,
-- sponsorship) and by population (tracked videos, untracked catalog). The
-- niche is the channel's as of each day (dim_channels' business-date
-- validity), so a channel that changed niche counts in the right one. No
-- joins: mv_channel_revenue_daily carries the niche.
with

channel_days as (
    select
        metric_date,
        niche,
        is_final,
        ad_revenue_usd,
        affiliate_revenue_usd,
        sponsorship_revenue_usd,
        tracked_revenue_usd,
        untracked_revenue_usd,
        revenue_estimate_usd
    from {{ ref('mv_channel_revenue_daily') }}
),

final as (
    select
        metric_date,
        niche,
        count(*) as channels,
        sum(ad_revenue_usd) as ad_revenue_usd,
        sum(affiliate_revenue_usd) as affiliate_revenue_usd,
        sum(sponsorship_revenue_usd) as sponsorship_revenue_usd,
        sum(tracked_revenue_usd) as tracked_revenue_usd,
        sum(untracked_revenue_usd) as untracked_revenue_usd,
        sum(revenue_estimate_usd) as revenue_estimate_usd,
        bool_and(is_final) as is_final
    from channel_days
    group by metric_date, niche
)

select * from final
order by metric_date, niche
