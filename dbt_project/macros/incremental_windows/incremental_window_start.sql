{% macro incremental_window_start(date_column, relation=none) -%}
    {%- set window_start -%}
        select
            coalesce(max(newest_built.{{ date_column }}), '0001-01-01'::date)
            - {{ var('lookback_days') }}
        from {{ relation or this }} as newest_built
    {%- endset -%}
    {{ query_value(window_start, 'date') }}
{%- endmacro %}
