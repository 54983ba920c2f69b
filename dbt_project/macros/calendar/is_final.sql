{% macro is_final(date_expression, newest_date) -%}
    ({{ date_expression }} < {{ newest_date }} - {{ var('lookback_days') }})
{%- endmacro %}
