{% macro incremental_window_start(date_column, relation=none) -%}
    {%- set window_start -%}
        select
            coalesce(
                max(newest_built.{{ date_column }}) - {{ var('lookback_days') }},
                '-infinity'::date
            )
        from {{ relation or this }} as newest_built
    {%- endset -%}
    {{ query_value(window_start, 'date') }}
{%- endmacro %}
