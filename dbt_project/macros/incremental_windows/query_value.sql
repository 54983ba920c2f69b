{% macro query_value(sql, type) -%}
    {%- if execute and flags.WHICH in ['run', 'build'] -%}
        {%- set value = run_query(sql).columns[0].values()[0] -%}
        {{- 'null' if value is none else "'" ~ value ~ "'" }}::{{ type }}
    {%- else -%}
        ({{ sql }})::{{ type }}
    {%- endif -%}
{%- endmacro %}
