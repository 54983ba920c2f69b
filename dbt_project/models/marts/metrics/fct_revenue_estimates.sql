{{
    config(
        materialized='incremental',
        incremental_strategy='replace_window',
        unique_key=['channel_id', 'metric_date'],
        on_schema_change='fail',
        window_column='metric_date',
        indexes=[
            {'columns': ['metric_date', 'channel_id'], 'unique': true},
            {'columns': ['built_at']},
        ],
    )
}}

{%- if is_incremental() %}
    {#- The lookback window, and the older days its parent rewrote since. #}
    {%- set window_start = incremental_window_start('metric_date') %}
    {%- set late_days = rebuilt_days(
        [(ref('fct_channel_daily_metrics'), 'metric_date')], before=window_start
    ) %}
{%- endif %}

-- The channel-day revenue estimate with the parameters that produced it, so
-- an estimate can be audited against the CPM overrides and tiers, next to
-- the generation cost of the day's uploads.
with

channel_days as (
    select
        channel_id,
        metric_date,
        is_baseline,
        billable_views,
        tracked_views_daily,
        untracked_views_daily,
        engagement_rate_pct,
        base_cpm_usd,
        cpm_source,
        cpm_multiplier,
        cpm_usd,
        tracked_revenue_usd,
        untracked_revenue_usd,
        ad_revenue_usd,
        affiliate_revenue_usd,
        sponsorship_revenue_usd,
        revenue_estimate_usd,
        generation_cost_usd,
        unknown_inputs
    from {{ ref('fct_channel_daily_metrics') }}
    {% if is_incremental() %}
        where
            metric_date >= {{ rewrite_start(window_start, late_days) }}
            and {{ rewritten('metric_date', window_start, late_days) }}
    {% endif %}
),

final as (
    select
        *,
        {{ built_at() }} as built_at
    from channel_days
)

select * from final
