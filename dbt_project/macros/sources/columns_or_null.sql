{% macro columns_or_null(relation, columns) -%}
    {%- set present = [] -%}
    {%- if execute -%}
        {%- for column in adapter.get_columns_in_relation(relation) -%}
            {%- do present.append(column.name | lower) -%}
        {%- endfor -%}
    {%- endif -%}
    {%- for name, data_type in columns.items() %}
        {%- if present and name not in present %}
        null::{{ data_type }} as {{ name }}
        {%- else %}
        {{ name }}
        {%- endif %}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}
