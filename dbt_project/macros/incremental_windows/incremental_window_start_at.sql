{% macro incremental_window_start_at(timestamp_column, relation=none) -%}
    {{ query_value(
        "select coalesce(max(" ~ timestamp_column ~ "), '-infinity'::timestamptz)"
        ~ " - interval '" ~ var('lookback_days') ~ " days' from " ~ (relation or this),
        'timestamptz',
    ) }}
{%- endmacro %}
