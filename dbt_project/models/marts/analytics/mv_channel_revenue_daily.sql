{{
    config(
        indexes=[
            {'columns': ['metric_date', 'channel_id'], 'unique': true},
            {'columns': ['channel_id', 'metric_date']},
            {'columns': ['niche', 'metric_date']},
        ],
    )
}}

-- Revenue per channel and day, split by component and by population (tracked
-- videos, untracked catalog), beside the generation cost of the day's uploads
-- and the channel's niche as of the day. One grain: weeks and months are the
-- week_start_date / month_start_date columns to group by, never extra rows.
with

revenue as (
    select
        channel_id,
        metric_date,
        is_baseline,
        billable_views,
        tracked_revenue_usd,
        untracked_revenue_usd,
        ad_revenue_usd,
        affiliate_revenue_usd,
        sponsorship_revenue_usd,
        revenue_estimate_usd,
        videos_published,
        generation_cost_usd
    from {{ ref('fct_channel_daily_metrics') }}
),

channel_versions as (
    select
        channel_id,
        niche,
        valid_from_date,
        valid_to_date
    from {{ ref('dim_channels') }}
),

newest as (
    select max(metric_date) as newest_metric_date from revenue
),

final as (
    select
        revenue.channel_id,
        revenue.metric_date,
        date_trunc('week', revenue.metric_date)::date as week_start_date,
        date_trunc('month', revenue.metric_date)::date as month_start_date,
        coalesce(channel_versions.niche, 'unknown') as niche,
        revenue.is_baseline,
        {{ is_final('revenue.metric_date', 'newest.newest_metric_date') }} as is_final,
        revenue.billable_views,
        revenue.tracked_revenue_usd,
        revenue.untracked_revenue_usd,
        revenue.ad_revenue_usd,
        revenue.affiliate_revenue_usd,
        revenue.sponsorship_revenue_usd,
        revenue.revenue_estimate_usd,
        revenue.videos_published,
        revenue.generation_cost_usd
    from revenue
    cross join newest
    left join channel_versions
        on
            revenue.channel_id = channel_versions.channel_id
            and revenue.metric_date >= channel_versions.valid_from_date
            and revenue.metric_date < channel_versions.valid_to_date
)

select * from final
