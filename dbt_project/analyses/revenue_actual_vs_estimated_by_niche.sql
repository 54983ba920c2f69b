-- Ad revenue as YouTube reported it against the warehouse's estimate, by
-- niche, over every settled channel-day that has both (a channel's baseline
-- day, which measured nothing, is not scored): totals, the
-- estimate's bias (its total over the actual's, minus 1) and the median
-- absolute percentage error of a channel-day, after calibration (the CPM
-- the niche's other channels' actuals give) and before (the seed's tier);
-- beside the niche's calibrated and seed CPM. One join: the niche's CPM.
with

channel_days as (
    select
        niche,
        channel_id,
        estimated_ad_revenue_usd,
        ad_revenue_estimate_usd,
        seed_ad_revenue_estimate_usd,
        ad_revenue_estimate_abs_pct_error,
        seed_ad_revenue_estimate_abs_pct_error
    from {{ ref('fct_channel_daily_revenue_actuals') }}
    where
        is_settled
        and estimated_ad_revenue_usd > 0
        and ad_revenue_estimate_abs_pct_error is not null
),

niche_cpm as (
    select
        niche,
        seed_base_cpm_usd,
        calibrated_base_cpm_usd,
        cpm_source
    from {{ ref('fct_niche_cpm_calibration') }}
),

by_niche as (
    select
        niche,
        count(distinct channel_id) as channels,
        count(*) as channel_days,
        sum(estimated_ad_revenue_usd) as actual_ad_revenue_usd,
        sum(ad_revenue_estimate_usd) as estimated_ad_revenue_usd,
        sum(seed_ad_revenue_estimate_usd) as seed_estimated_ad_revenue_usd,
        percentile_cont(0.5) within group (
            order by ad_revenue_estimate_abs_pct_error
        ) as mdape_pct,
        percentile_cont(0.5) within group (
            order by seed_ad_revenue_estimate_abs_pct_error
        ) as seed_mdape_pct
    from channel_days
    group by niche
),

final as (
    select
        by_niche.niche,
        by_niche.channels,
        by_niche.channel_days,
        round(by_niche.actual_ad_revenue_usd, 2) as actual_ad_revenue_usd,
        round(by_niche.estimated_ad_revenue_usd, 2) as estimated_ad_revenue_usd,
        round(by_niche.seed_estimated_ad_revenue_usd, 2)
            as seed_estimated_ad_revenue_usd,
        round(
            100 * (
                by_niche.estimated_ad_revenue_usd
                / by_niche.actual_ad_revenue_usd - 1
            ),
            1
        ) as bias_pct,
        round(
            100 * (
                by_niche.seed_estimated_ad_revenue_usd
                / by_niche.actual_ad_revenue_usd - 1
            ),
            1
        ) as seed_bias_pct,
        round(by_niche.mdape_pct::numeric, 1) as mdape_pct,
        round(by_niche.seed_mdape_pct::numeric, 1) as seed_mdape_pct,
        niche_cpm.calibrated_base_cpm_usd,
        niche_cpm.seed_base_cpm_usd,
        niche_cpm.cpm_source
    from by_niche
    left join niche_cpm on by_niche.niche = niche_cpm.niche
)

select * from final
order by actual_ad_revenue_usd desc, niche asc
