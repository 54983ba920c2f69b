{% macro landed_rows(relation, columns) -%}
    {%- if execute and load_relation(relation) is none -%}
        {{ log(
            relation ~ ' does not exist yet: read as no rows until a load creates it',
            info=false,
        ) }}
    select
        {%- for name, data_type in columns.items() %}
        null::{{ data_type }} as {{ name }}{{ ',' if not loop.last }}
        {%- endfor %}
    where false
    {%- else %}
    select
        {{- columns_or_null(relation, columns) }}
    from {{ relation }}
    {%- endif %}
{%- endmacro %}
