{{
    config(
        indexes=[
            {'columns': ['metric_date', 'niche'], 'unique': true},
        ],
    )
}}

-- Revenue per niche and day: mv_channel_revenue_daily summed over its
-- channel-days, so the niche as of the day and is_final are the channel
-- grain's, never derived again. The network's weekly or monthly revenue reads
-- a few rows per day (one per niche) instead of every channel-day. One grain:
-- weeks and months are the week_start_date / month_start_date columns to
-- group by, never extra rows.
--
-- The sums' types hold 100,000 channel-days of the channel grain's widest
-- values (5 more digits than its numeric(18, s) columns; bigint for counts
-- and views), so no network of 25,000 channels overflows a day's row.
with

channel_days as (
    select
        metric_date,
        week_start_date,
        month_start_date,
        niche,
        is_baseline,
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
    from {{ ref('mv_channel_revenue_daily') }}
),

final as (
    select
        metric_date,
        week_start_date,
        month_start_date,
        niche,
        count(*)::bigint as channels,
        -- A boolean cannot say how many of a niche's channels were on their
        -- baseline (their catalog earned nothing that day): a count can.
        (count(*) filter (where is_baseline))::bigint as baseline_channels,
        -- is_final is a function of the day: every channel-day of it agrees.
        bool_and(is_final) as is_final,
        sum(billable_views)::bigint as billable_views,
        sum(tracked_revenue_usd)::numeric(23, 2) as tracked_revenue_usd,
        sum(untracked_revenue_usd)::numeric(23, 2) as untracked_revenue_usd,
        sum(ad_revenue_usd)::numeric(23, 4) as ad_revenue_usd,
        sum(affiliate_revenue_usd)::numeric(23, 4) as affiliate_revenue_usd,
        sum(sponsorship_revenue_usd)::numeric(23, 4) as sponsorship_revenue_usd,
        sum(revenue_estimate_usd)::numeric(23, 2) as revenue_estimate_usd,
        sum(videos_published)::bigint as videos_published,
        sum(generation_cost_usd)::numeric(23, 4) as generation_cost_usd
    from channel_days
    group by metric_date, week_start_date, month_start_date, niche
)

select * from final
