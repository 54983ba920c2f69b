-- One row per video and day the YouTube Analytics API reported revenue for
-- (its top-videos report of a channel in the Partner Program), beside the
-- warehouse's estimate of the same video-day where the video is tracked
-- (fct_video_daily_metrics prices only the videos the collector follows).
-- As for the channel-day (fct_channel_daily_revenue_actuals), the estimate's
-- error is against the ad revenue, at the resolved and at the seed's CPM.
with

actuals as (
    select * from {{ ref('stg_youtube_analytics__video_days') }}
),

estimates as (
    select
        video_id,
        metric_date,
        base_cpm_usd,
        cpm_source,
        ad_revenue_usd
    from {{ ref('fct_video_daily_metrics') }}
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
        e.base_cpm_usd,
        e.cpm_source,
        e.ad_revenue_usd as ad_revenue_estimate_usd,
        e.ad_revenue_usd * channel_cpm.seed_base_cpm_usd / nullif(e.base_cpm_usd, 0)
            as seed_ad_revenue_estimate_usd
    from actuals as a
    left join estimates as e
        on a.video_id = e.video_id and a.metric_date = e.metric_date
    left join channel_cpm
        on a.channel_id = channel_cpm.channel_id
),

final as (
    select
        video_id::text as video_id,
        metric_date::date as metric_date,
        channel_id::text as channel_id,
        coalesce(niche, 'unknown')::text as niche,
        views::bigint as views,
        engaged_views::bigint as engaged_views,
        estimated_revenue_usd::numeric(14, 4) as estimated_revenue_usd,
        estimated_ad_revenue_usd::numeric(14, 4) as estimated_ad_revenue_usd,
        gross_revenue_usd::numeric(14, 4) as gross_revenue_usd,
        estimated_red_partner_revenue_usd::numeric(14, 4)
            as estimated_red_partner_revenue_usd,
        cpm_usd::numeric(12, 4) as cpm_usd,
        playback_based_cpm_usd::numeric(12, 4) as playback_based_cpm_usd,
        monetized_playbacks::bigint as monetized_playbacks,
        is_settled::boolean as is_settled,
        base_cpm_usd::numeric(10, 4) as base_cpm_usd,
        cpm_source::text as cpm_source,
        ad_revenue_estimate_usd::numeric(18, 4) as ad_revenue_estimate_usd,
        (ad_revenue_estimate_usd - estimated_ad_revenue_usd)::numeric(18, 4)
            as ad_revenue_estimate_error_usd,
        round(
            100 * abs(ad_revenue_estimate_usd - estimated_ad_revenue_usd)
            / nullif(estimated_ad_revenue_usd, 0),
            2
        )::numeric(12, 2) as ad_revenue_estimate_abs_pct_error,
        seed_ad_revenue_estimate_usd::numeric(18, 4) as seed_ad_revenue_estimate_usd,
        round(
            100 * abs(seed_ad_revenue_estimate_usd - estimated_ad_revenue_usd)
            / nullif(estimated_ad_revenue_usd, 0),
            2
        )::numeric(12, 2) as seed_ad_revenue_estimate_abs_pct_error
    from joined
)

select * from final
