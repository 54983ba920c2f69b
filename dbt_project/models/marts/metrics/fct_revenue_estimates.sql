{{
    config(
        materialized='incremental',
        incremental_strategy='replace_window',
        unique_key=['channel_id', 'revenue_date'],
        on_schema_change='fail',
        window_column='revenue_date',
        indexes=[
            {'columns': ['revenue_date', 'channel_id'], 'unique': true},
        ],
    )
}}

-- The channel-day revenue estimate with the parameters that produced it, so
-- an estimate can be audited against the CPM overrides and tiers.
with

channel_days as (
    select
        channel_id,
        metric_date,
        views_daily,
        engagement_rate,
        base_cpm_usd,
        cpm_source,
        cpm_multiplier,
        cpm_usd,
        ad_revenue_usd,
        affiliate_revenue_usd,
        sponsorship_revenue_usd,
        revenue_estimate_usd,
        unknown_inputs
    from {{ ref('fct_channel_daily_metrics') }}
    {% if is_incremental() %}
        where metric_date >= {{ incremental_window_start('revenue_date') }}
    {% endif %}
),

final as (
    select
        channel_id,
        metric_date as revenue_date,
        {{ billable_views('views_daily') }}::bigint as billable_views,
        engagement_rate,
        base_cpm_usd,
        cpm_source,
        cpm_multiplier,
        cpm_usd,
        ad_revenue_usd,
        affiliate_revenue_usd,
        sponsorship_revenue_usd,
        revenue_estimate_usd,
        unknown_inputs
    from channel_days
)

select * from final
