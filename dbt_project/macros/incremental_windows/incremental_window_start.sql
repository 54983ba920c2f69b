{% macro incremental_window_start(date_column, relation=none) -%}
    {{ query_value(
        "select coalesce(max(" ~ date_column ~ "), '0001-01-01'::date) - "
        ~ var('lookback_days') ~ " from " ~ (relation or this),
        'date',
    ) }}
{%- endmacro %}
