{% macro with_stored_previous(
    changed, key_columns, date_column, columns, changed_from, late_days="'{}'::date[]"
) -%}
    {%- set entity = key_columns[0] -%}
    {%- set is_rewritten = rewritten('changed_entities.' ~ date_column, changed_from, late_days) -%}
    {#- No late days: the window's own start, which may be any SQL expression. -#}
    {%- if late_days == "'{}'::date[]" -%}
        {%- set gap_start = changed_from ~ ' - ' ~ var('max_gap_days') -%}
    {%- else -%}
        {%- set gap_start = rewrite_start(changed_from, late_days, var('max_gap_days')) -%}
    {%- endif -%}
    select
        {%- for column in columns %}
        stored_rows.{{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ this }} as stored_rows
    where
        stored_rows.{{ date_column }} >= {{ gap_start }}
        and {{ precedes_rewritten('stored_rows.' ~ date_column, changed_from, late_days) }}
        and stored_rows.{{ entity }} in (
            select changed_entities.{{ entity }}
            from {{ changed }} as changed_entities
            where {{ is_rewritten }}
        )
    union all
    select
        {%- for column in columns %}
        changed_rows.{{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ changed }} as changed_rows
    where {{ rewritten('changed_rows.' ~ date_column, changed_from, late_days) }}
{%- endmacro %}
