{% macro revenue_columns(views_daily, engagement_rate, base_cpm_usd) -%}
    {%- set cpm = base_cpm_usd ~ ' * ' ~ cpm_multiplier(engagement_rate) -%}
    {%- set ad = ad_revenue_usd(views_daily, cpm) -%}
    {{ cpm_multiplier(engagement_rate) }} as cpm_multiplier,
    ({{ cpm }})::numeric(10, 4) as cpm_usd,
    round({{ ad }}, 4)::numeric(18, 4) as ad_revenue_usd,
    round({{ affiliate_revenue_usd(ad) }}, 4)::numeric(18, 4) as affiliate_revenue_usd,
    round({{ sponsorship_revenue_usd(views_daily) }}, 4)::numeric(18, 4)
        as sponsorship_revenue_usd,
    round(
        {{ ad }} + {{ affiliate_revenue_usd(ad) }}
        + {{ sponsorship_revenue_usd(views_daily) }},
        2
    )::numeric(18, 2) as revenue_estimate_usd,
{%- endmacro %}
