{#
    The select list of an import CTE over a landed table whose columns may be
    absent: `columns` maps each column to its SQL type. A column the table
    holds is selected as it is; one it lacks is selected as a typed null.
    dlt creates a column only when a load first brings a value for it, so a
    counter YouTube omitted from every item of the first loads (hidden likes,
    disabled comments) or a field added to the lander later has no column
    yet: the value is unknown, which is what null says. The table's catalog
    is read when dbt executes (a table it cannot find renders every name).
#}
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
