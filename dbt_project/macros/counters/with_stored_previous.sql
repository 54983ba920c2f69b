{% macro with_stored_previous(changed, key_columns, date_column, columns, changed_from) -%}
    {%- set entity = key_columns[0] -%}
    {%- set gap_start = changed_from ~ ' - ' ~ var('max_gap_days') -%}
    select
        {%- for column in columns %}
        stored.{{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ this }} as stored
    where
        stored.{{ date_column }} >= {{ gap_start }}
        and stored.{{ date_column }} < {{ changed_from }}
        and stored.{{ entity }} in (
            select {{ entity }} from {{ changed }}
            where {{ date_column }} >= {{ changed_from }}
        )
    union all
    select
        {%- for column in columns %}
        changed.{{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ changed }} as changed
    where changed.{{ date_column }} >= {{ changed_from }}
{%- endmacro %}
