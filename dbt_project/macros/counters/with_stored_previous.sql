{% macro with_stored_previous(changed, key_columns, date_column, columns, changed_from) -%}
    {%- set entity = key_columns[0] -%}
    {%- set gap_start = changed_from ~ ' - ' ~ var('max_gap_days') -%}
    select
        {%- for column in columns %}
        stored_rows.{{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ this }} as stored_rows
    where
        stored_rows.{{ date_column }} >= {{ gap_start }}
        and stored_rows.{{ date_column }} < {{ changed_from }}
        and stored_rows.{{ entity }} in (
            select changed_entities.{{ entity }}
            from {{ changed }} as changed_entities
            where changed_entities.{{ date_column }} >= {{ changed_from }}
        )
    union all
    select
        {%- for column in columns %}
        changed_rows.{{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ changed }} as changed_rows
    where changed_rows.{{ date_column }} >= {{ changed_from }}
{%- endmacro %}
