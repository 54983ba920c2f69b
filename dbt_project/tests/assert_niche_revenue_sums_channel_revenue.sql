-- The niche rollup is the channel grain summed: on every (metric_date, niche)
-- its channel count, baselines, finality, views, revenue components, uploads
-- and cost equal mv_channel_revenue_daily's rows of that day and niche, to
-- the cent. A (day, niche) on one side only is a mismatch too. Returns the
-- (day, niche) pairs where they differ.
with

niche_days as (
    select
        metric_date,
        niche,
        week_start_date,
        month_start_date,
        channels,
        baseline_channels,
        is_final,
        billable_views,
        tracked_revenue_usd,
        untracked_revenue_usd,
        ad_revenue_usd,
        affiliate_revenue_usd,
        sponsorship_revenue_usd,
        revenue_estimate_usd,
        videos_published,
        generation_cost_usd
    from {{ ref('mv_niche_revenue_daily') }}
),

channel_days as (
    select
        metric_date,
        niche,
        min(week_start_date) as week_start_date,
        min(month_start_date) as month_start_date,
        count(*) as channels,
        count(*) filter (where is_baseline) as baseline_channels,
        bool_and(is_final) as is_final,
        sum(billable_views) as billable_views,
        sum(tracked_revenue_usd) as tracked_revenue_usd,
        sum(untracked_revenue_usd) as untracked_revenue_usd,
        sum(ad_revenue_usd) as ad_revenue_usd,
        sum(affiliate_revenue_usd) as affiliate_revenue_usd,
        sum(sponsorship_revenue_usd) as sponsorship_revenue_usd,
        sum(revenue_estimate_usd) as revenue_estimate_usd,
        sum(videos_published) as videos_published,
        sum(generation_cost_usd) as generation_cost_usd
    from {{ ref('mv_channel_revenue_daily') }}
    group by metric_date, niche
),

final as (
    select
        coalesce(niche_days.metric_date, channel_days.metric_date) as metric_date,
        coalesce(niche_days.niche, channel_days.niche) as niche,
        niche_days.revenue_estimate_usd,
        channel_days.revenue_estimate_usd as channel_revenue_estimate_usd
    from niche_days
    full outer join channel_days
        on
            niche_days.metric_date = channel_days.metric_date
            and niche_days.niche = channel_days.niche
    where
        niche_days.metric_date is null
        or channel_days.metric_date is null
        or (
            niche_days.week_start_date,
            niche_days.month_start_date,
            niche_days.channels,
            niche_days.baseline_channels,
            niche_days.is_final,
            niche_days.billable_views,
            niche_days.tracked_revenue_usd,
            niche_days.untracked_revenue_usd,
            niche_days.ad_revenue_usd,
            niche_days.affiliate_revenue_usd,
            niche_days.sponsorship_revenue_usd,
            niche_days.revenue_estimate_usd,
            niche_days.videos_published,
            niche_days.generation_cost_usd
        ) is distinct from (
            channel_days.week_start_date,
            channel_days.month_start_date,
            channel_days.channels,
            channel_days.baseline_channels,
            channel_days.is_final,
            channel_days.billable_views,
            channel_days.tracked_revenue_usd,
            channel_days.untracked_revenue_usd,
            channel_days.ad_revenue_usd,
            channel_days.affiliate_revenue_usd,
            channel_days.sponsorship_revenue_usd,
            channel_days.revenue_estimate_usd,
            channel_days.videos_published,
            channel_days.generation_cost_usd
        )
)

select * from final
