-- One row per channel and day the YouTube Analytics API reported revenue for
-- (channels in the Partner Program), beside the warehouse's own estimate of
-- the same day. Both ad revenues are what the channel earns from ads, so the
-- estimate's error is their difference; affiliate and sponsorship income,
-- which YouTube does not see, stay out of the comparison.
with

actuals as (
    select * from {{ ref('stg_youtube_analytics__channel_days') }}
),

estimates as (
    select
        channel_id,
        metric_date,
        ad_revenue_usd
    from {{ ref('fct_channel_daily_metrics') }}
),

final as (
    select
        a.channel_id::text as channel_id,
        a.metric_date::date as metric_date,
        a.estimated_revenue_usd::numeric(14, 4) as estimated_revenue_usd,
        a.estimated_ad_revenue_usd::numeric(14, 4) as estimated_ad_revenue_usd,
        a.gross_revenue_usd::numeric(14, 4) as gross_revenue_usd,
        a.estimated_red_partner_revenue_usd::numeric(14, 4)
            as estimated_red_partner_revenue_usd,
        a.cpm_usd::numeric(12, 4) as cpm_usd,
        a.playback_based_cpm_usd::numeric(12, 4) as playback_based_cpm_usd,
        a.monetized_playbacks::bigint as monetized_playbacks,
        a.ad_impressions::bigint as ad_impressions,
        a.is_settled::boolean as is_settled,
        e.ad_revenue_usd::numeric(18, 4) as ad_revenue_estimate_usd,
        (e.ad_revenue_usd - a.estimated_ad_revenue_usd)::numeric(18, 4)
            as ad_revenue_estimate_error_usd,
        round(
            100 * abs(e.ad_revenue_usd - a.estimated_ad_revenue_usd)
            / nullif(a.estimated_ad_revenue_usd, 0),
            2
        )::numeric(12, 2) as ad_revenue_estimate_abs_pct_error
    from actuals as a
    left join estimates as e
        on a.channel_id = e.channel_id and a.metric_date = e.metric_date
)

select * from final
