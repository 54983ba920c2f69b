{% macro billable_views(views_daily) -%}
    greatest({{ views_daily }}, 0)
{%- endmacro %}
