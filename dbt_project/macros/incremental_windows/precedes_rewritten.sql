{% macro precedes_rewritten(date_expression, window_start, late_days) -%}
    {%- set span = var('max_gap_days') -%}
    (
        not {{ rewritten(date_expression, window_start, late_days) }}
        and (
            {{ date_expression }} >= {{ window_start }} - {{ span }}
            or exists (
                select
                from unnest({{ late_days }}) as late (late_date)
                where
                    {{ date_expression }} >= late.late_date - {{ span }}
                    and {{ date_expression }} < late.late_date
            )
        )
    )
{%- endmacro %}
