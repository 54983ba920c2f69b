-- Estimated revenue by niche and day, split by component (ad, affiliate,
-- sponsorship) and by population (tracked videos, untracked catalog). The
-- niche is the channel's as of each day (dim_channels' business-date
-- validity), so a channel that changed niche counts in the right one. No
-- joins and no grouping: mv_niche_revenue_daily holds a row per day and niche,
-- summed from mv_channel_revenue_daily.
with

niche_days as (
    select
        metric_date,
        niche,
        channels,
        ad_revenue_usd,
        affiliate_revenue_usd,
        sponsorship_revenue_usd,
        tracked_revenue_usd,
        untracked_revenue_usd,
        revenue_estimate_usd,
        is_final
    from {{ ref('mv_niche_revenue_daily') }}
)

select * from niche_days
order by metric_date, niche
