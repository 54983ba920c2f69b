{% macro query_value(sql, type) -%}
    {%- if execute and flags.WHICH in ['run', 'build', 'test'] -%}
        {#-
            Read as text, never as a Python value: PostgreSQL's dates and
            timestamps reach beyond Python's (`-infinity`, a date BC), and the
            literal is PostgreSQL's own spelling of the value.
        -#}
        {%- set as_text = 'select ((' ~ sql ~ '))::text as query_value' -%}
        {%- set value = run_query(as_text).columns[0].values()[0] -%}
        {{- 'null' if value is none else "'" ~ value ~ "'" }}::{{ type }}
    {%- else -%}
        ({{ sql }})::{{ type }}
    {%- endif -%}
{%- endmacro %}
