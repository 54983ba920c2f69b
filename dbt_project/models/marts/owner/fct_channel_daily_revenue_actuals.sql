-- One row per channel and day the YouTube Analytics API reported revenue for
-- (channels in the Partner Program), beside the warehouse's own estimate of
-- the same day. Both ad revenues are what the channel earns from ads, so the
-- estimate's error is their difference; affiliate and sponsorship income,
-- which YouTube does not see, stay out of the comparison.
-- The estimate is priced at the channel's base CPM as resolved when its day
-- was built: calibrated from the niche's other channels' actuals (never the
-- channel's own, docs block cpm_calibration) or, without enough of them, the
-- seed's tier. The seed-tier estimate beside it is the same day priced at the
-- tier alone (the estimate is linear in the base CPM), so the two errors are
-- the estimate's error after and before calibration.
with

actuals as (
    select * from {{ ref('stg_youtube_analytics__channel_days') }}
),

estimates as (
    select
        channel_id,
        metric_date,
        is_baseline,
        base_cpm_usd,
        cpm_source,
        ad_revenue_usd
    from {{ ref('fct_channel_daily_metrics') }}
),

channel_cpm as (
    select
        channel_id,
        niche,
        seed_base_cpm_usd
    from {{ ref('int_channels_cpm_resolved') }}
),

joined as (
    select
        a.*,
        channel_cpm.niche,
        e.is_baseline,
        e.base_cpm_usd,
        e.cpm_source,
        e.ad_revenue_usd as ad_revenue_estimate_usd,
        e.ad_revenue_usd * channel_cpm.seed_base_cpm_usd / nullif(e.base_cpm_usd, 0)
            as seed_ad_revenue_estimate_usd
    from actuals as a
    left join estimates as e
        on a.channel_id = e.channel_id and a.metric_date = e.metric_date
    left join channel_cpm
        on a.channel_id = channel_cpm.channel_id
),

-- A baseline day's counters measured nothing: its estimate is not scored.
scored as (
    select
        *,
        case when not is_baseline then ad_revenue_estimate_usd end
            as scored_estimate_usd,
        case when not is_baseline then seed_ad_revenue_estimate_usd end
            as scored_seed_estimate_usd
    from joined
),

final as (
    select
        channel_id::text as channel_id,
        metric_date::date as metric_date,
        estimated_revenue_usd::numeric(14, 4) as estimated_revenue_usd,
        estimated_ad_revenue_usd::numeric(14, 4) as estimated_ad_revenue_usd,
        gross_revenue_usd::numeric(14, 4) as gross_revenue_usd,
        estimated_red_partner_revenue_usd::numeric(14, 4)
            as estimated_red_partner_revenue_usd,
        cpm_usd::numeric(12, 4) as cpm_usd,
        playback_based_cpm_usd::numeric(12, 4) as playback_based_cpm_usd,
        monetized_playbacks::bigint as monetized_playbacks,
        ad_impressions::bigint as ad_impressions,
        is_settled::boolean as is_settled,
        ad_revenue_estimate_usd::numeric(18, 4) as ad_revenue_estimate_usd,
        (scored_estimate_usd - estimated_ad_revenue_usd)::numeric(18, 4)
            as ad_revenue_estimate_error_usd,
        round(
            100 * abs(scored_estimate_usd - estimated_ad_revenue_usd)
            / nullif(estimated_ad_revenue_usd, 0),
            2
        )::numeric(12, 2) as ad_revenue_estimate_abs_pct_error,
        coalesce(niche, 'unknown')::text as niche,
        is_baseline::boolean as is_baseline,
        base_cpm_usd::numeric(10, 4) as base_cpm_usd,
        cpm_source::text as cpm_source,
        seed_ad_revenue_estimate_usd::numeric(18, 4) as seed_ad_revenue_estimate_usd,
        round(
            100 * abs(scored_seed_estimate_usd - estimated_ad_revenue_usd)
            / nullif(estimated_ad_revenue_usd, 0),
            2
        )::numeric(12, 2) as seed_ad_revenue_estimate_abs_pct_error
    from scored
)

select * from final
