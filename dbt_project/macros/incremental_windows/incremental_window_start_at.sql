{% macro incremental_window_start_at(timestamp_column, relation=none) -%}
    {%- set window_start -%}
        select
            coalesce(
                max(newest_stamped.{{ timestamp_column }})
                - interval '{{ var("lookback_days") }} days',
                '-infinity'::timestamptz
            )
        from {{ relation or this }} as newest_stamped
    {%- endset -%}
    {{ query_value(window_start, 'timestamptz') }}
{%- endmacro %}
