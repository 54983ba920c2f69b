{% macro rewrite_start(window_start, late_days, span=0) -%}
    {%- set first_day -%}
        select least({{ window_start }}, min(late.late_date)) - {{ span }}
        from unnest({{ late_days }}) as late (late_date)
    {%- endset -%}
    {{ query_value(first_day, 'date') }}
{%- endmacro %}
