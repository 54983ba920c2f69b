{#
    Column comments from the model's yml descriptions, for relations whose
    columns dbt-postgres' persist_docs cannot see (materialized views are not
    in information_schema.columns). Used as a post-hook; one statement per
    described column, so psql's \d+ shows the same text as the docs site.
#}
{% macro comment_columns() -%}
    {%- for column in model.columns.values() if column.description %}
        comment on column {{ this }}.{{ adapter.quote(column.name) }}
        is {{ postgres_escape_comment(column.description) }};
    {%- endfor %}
{%- endmacro %}
