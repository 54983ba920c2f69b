{% macro comment_columns() -%}
    {%- for column in model.columns.values() if column.description %}
        comment on column {{ this }}.{{ adapter.quote(column.name) }}
        is {{ postgres_escape_comment(column.description) }};
    {%- endfor %}
{%- endmacro %}
