{{
    config(
        indexes=[
            {'columns': ['period_grain', 'period_start', 'channel_id'], 'unique': true},
            {'columns': ['channel_id', 'period_grain', 'period_start']},
        ],
    )
}}

-- Revenue by day, ISO week and month per channel, split into components.
with

revenue as (
    select
        channel_id,
        revenue_date,
        billable_views,
        ad_revenue_usd,
        affiliate_revenue_usd,
        sponsorship_revenue_usd,
        revenue_estimate_usd
    from {{ ref('fct_revenue_estimates') }}
),

grains as (
    select grain
    from (values ('day'), ('week'), ('month')) as grain_values (grain)
),

bucketed as (
    select
        grains.grain as period_grain,
        date_trunc(grains.grain, revenue.revenue_date)::date as period_start,
        revenue.channel_id,
        revenue.billable_views,
        revenue.ad_revenue_usd,
        revenue.affiliate_revenue_usd,
        revenue.sponsorship_revenue_usd,
        revenue.revenue_estimate_usd
    from revenue
    cross join grains
),

final as (
    select
        period_grain,
        period_start,
        channel_id,
        count(*) as days_with_data,
        sum(billable_views) as billable_views,
        sum(ad_revenue_usd) as ad_revenue_usd,
        sum(affiliate_revenue_usd) as affiliate_revenue_usd,
        sum(sponsorship_revenue_usd) as sponsorship_revenue_usd,
        sum(revenue_estimate_usd) as revenue_estimate_usd
    from bucketed
    group by period_grain, period_start, channel_id
)

select * from final
