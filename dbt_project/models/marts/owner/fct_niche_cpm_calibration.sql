-- One row per niche: the base CPM its channels' actual ad revenue calibrates
-- over the window (every earning channel of the niche counted: what a
-- channel without actuals reads), beside the seed's tier (docs block
-- cpm_calibration).
with

channels as (
    select
        channel_id,
        niche,
        has_actuals,
        channel_days,
        ad_revenue_usd,
        priced_views_k,
        window_start_date,
        window_end_date
    from {{ ref('int_channels_cpm_calibrated') }}
),

seed_cpm as (
    select
        scope_value as niche,
        base_cpm_usd
    from {{ ref('channel_cpm_overrides') }}
    where override_scope = 'niche'
),

niches as (
    select
        niche,
        count(*) as channels,
        count(*) filter (where has_actuals) as channels_with_actuals,
        sum(channel_days) as channel_days,
        sum(ad_revenue_usd) as ad_revenue_usd,
        sum(priced_views_k) as priced_views_k,
        min(window_start_date) as window_start_date,
        min(window_end_date) as window_end_date
    from channels
    group by niche
),

calibrated as (
    select
        niches.*,
        coalesce(seed_cpm.base_cpm_usd, {{ var('default_base_cpm_usd') }})
            as seed_base_cpm_usd,
        case
            when
                niches.channels_with_actuals
                >= {{ var('cpm_calibration_min_channels') }}
                and niches.channel_days >= {{ var('cpm_calibration_min_channel_days') }}
                and niches.priced_views_k > 0
                then niches.ad_revenue_usd / niches.priced_views_k
        end as calibrated_base_cpm_usd
    from niches
    left join seed_cpm on niches.niche = seed_cpm.niche
),

final as (
    select
        niche::text as niche,
        channels::integer as channels,
        channels_with_actuals::integer as channels_with_actuals,
        channel_days::integer as channel_days,
        ad_revenue_usd::numeric(18, 4) as ad_revenue_usd,
        seed_base_cpm_usd::numeric(10, 4) as seed_base_cpm_usd,
        calibrated_base_cpm_usd::numeric(10, 4) as calibrated_base_cpm_usd,
        coalesce(calibrated_base_cpm_usd, seed_base_cpm_usd)::numeric(10, 4)
            as base_cpm_usd,
        (case
            when calibrated_base_cpm_usd is null then 'seed' else 'calibrated'
        end)::text as cpm_source,
        window_start_date::date as window_start_date,
        window_end_date::date as window_end_date
    from calibrated
)

select * from final
