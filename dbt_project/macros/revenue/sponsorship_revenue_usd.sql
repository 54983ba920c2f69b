{% macro sponsorship_revenue_usd(views_daily) -%}
    (case
        when {{ views_daily }} > {{ var('sponsorship_min_daily_views') }}
            then {{ views_daily }}::numeric * {{ var('sponsorship_usd_per_view') }}
        else 0
    end)
{%- endmacro %}
