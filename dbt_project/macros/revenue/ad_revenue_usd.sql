{% macro ad_revenue_usd(views_daily, cpm_usd) -%}
    ({{ billable_views(views_daily) }}::numeric / 1000 * {{ cpm_usd }})
{%- endmacro %}
