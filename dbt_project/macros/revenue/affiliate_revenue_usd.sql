{% macro affiliate_revenue_usd(ad_revenue) -%}
    ({{ ad_revenue }} * {{ var('affiliate_share_of_ad_revenue') }})
{%- endmacro %}
